/**
 * Team insights: is one-hand working? Pure figures over incident histories, the rotation's
 * shifts and a window, so every number can be checked by hand.
 *
 * Definitions (the README repeats them):
 * - An incident belongs to a window when it was **reported** in it, [from, to); all of its
 *   timeline counts with it (an ack after the window's end still counts for that incident).
 * - **Shifts served**: rotation shifts (overrides and absences applied) overlapping the window.
 *   A rotation shift cut by an override counts once for its owner; each override counts once for
 *   whoever covers it. `hoursOnCall` is the on-call time inside the window.
 * - **Incidents handled** by M: incidents M acknowledged or that a person resolved while M was
 *   the assignee. An incident its alert resolved (Alertmanager sent "resolved": the resolve's
 *   actor is an integration, Onehand, or none) credits nobody by that resolve; M's ack still counts.
 * - **Solo rate** of M: among the incidents M handled that a person resolved (last), the share with
 *   no escalation (automatic or manual) and no huddle. null when there are none.
 * - **Escalations to mentor / lead** of M: escalation events while M was the assignee.
 * - **Huddles called**: huddle events M called.
 * - **Median time to ack / resolve** of M: from the report (or last reopening) to M's ack, and
 *   to a person's resolution while M was the assignee (the mean of the two middle values for even counts).
 * - **Sleep interruptions** of M: pages to M (notified events, every step) that reached M during
 *   the night in M's own zone (`night`, default 22:00-07:00), counting a deferred page at the
 *   instant its deferral ended, plus every page a plugin let through M's quiet hours
 *   (notification-bypassed), whatever the hour.
 * - **Huddle rate**: huddles per 100 incidents; a warning when it is above `huddleWarning`.
 * - **Escalation rate**: share of incidents with at least one escalation.
 * - **Focus protected**: incidents whose pages reached one person only and that had no huddle;
 *   and the notifications plugins deferred (quiet hours), skipped, dropped or let through.
 * - **Load balance**: each rotation member's share of the pages to rotation members; `imbalance`
 *   is the largest share divided by an even share (1 = perfectly even).
 * - **Single-person dependencies**: per service, who resolved its incidents (a person's resolve,
 *   credited to the assignee; an alert's resolve names nobody) in the window and ever; a service
 *   that exactly one person has ever resolved is flagged, with a suggestion: make that person the
 *   mentor of the next on-call (in `upcoming`) who has never handled it.
 */
import type { DateTime } from 'luxon';
import type { MemberId, Team, World } from '../model';
import type { Shift } from '../rotation/types';
import { shiftIndexAt } from '../rotation/rotation';
import type { LocalTime } from '../time/weekday-time';
import { factsOf, type IncidentFacts, type IncidentHistory } from './facts';

export interface InsightsWindow {
  readonly from: DateTime;
  readonly to: DateTime;
}

export interface InsightsSettings {
  /** Huddles per 100 incidents above which the team is warned. */
  readonly huddleWarning: number;
  /** The night, read in each member's zone, for sleep interruptions. */
  readonly night: { readonly from: LocalTime; readonly to: LocalTime };
}

export const DEFAULT_INSIGHTS_SETTINGS: InsightsSettings = {
  huddleWarning: 5,
  night: { from: { hour: 22, minute: 0 }, to: { hour: 7, minute: 0 } },
};

export interface InsightsInput {
  readonly world: World;
  readonly team: Team;
  /** Every incident of the team (the whole history: "ever" needs it), with timelines. */
  readonly histories: readonly IncidentHistory[];
  /** The team's shifts covering at least [previous.from, window.to). */
  readonly shifts: readonly Shift[];
  /** Shifts from now on, for suggestions. */
  readonly upcoming: readonly Shift[];
  readonly window: InsightsWindow;
  readonly settings: InsightsSettings;
}

export interface MemberFigures {
  readonly member: MemberId;
  readonly shiftsServed: number;
  readonly hoursOnCall: number;
  readonly incidentsHandled: number;
  /** Incidents handled whose last resolve a person made (not their alert): the solo rate's base. */
  readonly resolvedHandled: number;
  readonly solo: number;
  /** solo / resolvedHandled, 0..1, or null. */
  readonly soloRate: number | null;
  readonly escalationsToMentor: number;
  readonly escalationsToLead: number;
  readonly huddlesCalled: number;
  readonly medianAckMs: number | null;
  readonly medianResolveMs: number | null;
  readonly pages: number;
  readonly sleepInterruptions: number;
}

export interface MemberTrend {
  readonly incidentsHandled: number;
  /** Difference of the solo rates (0..1 scale), null when either window has none. */
  readonly soloRate: number | null;
  readonly medianAckMs: number | null;
  readonly sleepInterruptions: number;
}

export interface TeamFigures {
  readonly incidents: number;
  readonly resolved: number;
  readonly escalated: number;
  /** escalated / incidents, or null without incidents. */
  readonly escalationRate: number | null;
  readonly huddles: number;
  /** Huddles per 100 incidents, or null without incidents. */
  readonly huddleRate: number | null;
  readonly huddleWarning: number;
  /** True when huddleRate > huddleWarning. */
  readonly huddleAlarm: boolean;
  readonly pages: number;
  readonly sleepInterruptions: number;
  /** Incidents the whole chain ran out on (nobody acknowledged), and the unowned alerts posted for them. */
  readonly unowned: { readonly incidents: number; readonly alerts: number };
  /** Incidents opened quietly in a maintenance window (no page). */
  readonly maintenanceSilenced: number;
  readonly focus: {
    readonly onlyOnCall: number;
    readonly onlyOnCallRate: number | null;
    readonly deferred: number;
    readonly bypassed: number;
    readonly skipped: number;
    readonly dropped: number;
  };
  readonly load: {
    readonly shares: ReadonlyArray<{ readonly member: MemberId; readonly pages: number; readonly share: number | null }>;
    /** Largest share / even share; null without pages. */
    readonly imbalance: number | null;
  };
}

export interface ServiceDependency {
  readonly service: string;
  readonly incidents: number;
  readonly resolversInWindow: readonly MemberId[];
  readonly resolversEver: readonly MemberId[];
  /** Exactly one person has ever resolved this service's incidents. */
  readonly single: boolean;
  readonly suggestion: { readonly mentor: MemberId; readonly mentee: MemberId; readonly shiftStart: DateTime } | null;
}

export interface TeamInsights {
  readonly team: string;
  readonly window: InsightsWindow;
  readonly previous: InsightsWindow;
  readonly totals: TeamFigures;
  readonly previousTotals: TeamFigures;
  readonly members: ReadonlyArray<MemberFigures & { readonly previous: MemberFigures; readonly trend: MemberTrend }>;
  readonly dependencies: readonly ServiceDependency[];
}

/** previousWindow: the window of the same length just before `w`. */
export function previousWindow(w: InsightsWindow): InsightsWindow {
  const ms = w.to.toMillis() - w.from.toMillis();
  return { from: w.from.minus({ milliseconds: ms }), to: w.from };
}

/** reportedIn: the facts of incidents reported in `w`. */
export function reportedIn(facts: readonly IncidentFacts[], w: InsightsWindow): IncidentFacts[] {
  return facts.filter((f) => f.reportedAt >= w.from && f.reportedAt < w.to);
}

/** median of the values, the mean of the two middle ones for an even count; null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** isNight: whether `at`, read in `zone`, falls in the night window (which may cross midnight). */
export function isNight(at: DateTime, zone: string, night: InsightsSettings['night']): boolean {
  const local = at.setZone(zone);
  const m = local.hour * 60 + local.minute;
  const from = night.from.hour * 60 + night.from.minute;
  const to = night.to.hour * 60 + night.to.minute;
  return from < to ? m >= from && m < to : m >= from || m < to;
}

/** personResolutions: the resolutions a person made (an alert's resolve credits nobody: see ResolveFact.byPerson). */
function personResolutions(f: IncidentFacts): IncidentFacts['resolutions'] {
  return f.resolutions.filter((r) => r.byPerson);
}

function handledBy(f: IncidentFacts, member: MemberId): boolean {
  return f.acks.some((a) => a.member === member) || personResolutions(f).some((r) => r.assignee === member);
}

function isSolo(f: IncidentFacts): boolean {
  return f.escalations.length === 0 && f.huddles.length === 0;
}

/**
 * sleepInterruptionsOf: pages that reached `member` (or anyone) at night, as of `asOf` (the report's
 * end): a page that quiet hours deferred past it has not reached anybody yet, and is not counted.
 */
function sleepInterruptionsOf(facts: readonly IncidentFacts[], world: World, member: MemberId | null, night: InsightsSettings['night'], asOf: DateTime): number {
  let n = 0;
  // Pages deferred to the same instant reach their person together (released at the end of their
  // quiet hours, with the digest): one interruption.
  const digests = new Set<string>();
  for (const f of facts) {
    for (const p of f.pages) {
      if (member !== null && p.member !== member) continue;
      if (p.deliveredAt > asOf) continue;
      const zone = world.members.get(p.member)?.timeZone ?? 'utc';
      if (!p.bypassed && !isNight(p.deliveredAt, zone, night)) continue;
      if (p.deferred && !p.bypassed) {
        const key = `${p.member}@${p.deliveredAt.toMillis()}`;
        if (digests.has(key)) continue;
        digests.add(key);
      }
      n++;
    }
  }
  return n;
}

/** shiftsServedBy counts shifts and on-call hours of `member` inside `w` (see the definitions above). */
export function shiftsServedBy(team: Team, shifts: readonly Shift[], member: MemberId, w: InsightsWindow): { shifts: number; hours: number } {
  const seen = new Set<string>();
  let ms = 0;
  for (const s of shifts) {
    if (s.member !== member || s.end <= w.from || s.start >= w.to) continue;
    const start = s.start < w.from ? w.from : s.start;
    const end = s.end > w.to ? w.to : s.end;
    ms += end.toMillis() - start.toMillis();
    // A stretch names its base shift (key) when it came through the team's rotation policy.
    seen.add(s.override ? `o:${s.overrideId ?? s.start.toMillis()}` : `r:${s.key ?? (team.rotation.policy === undefined ? shiftIndexAt(team.rotation, s.start) : s.start.toMillis())}`);
  }
  return { shifts: seen.size, hours: ms / 3_600_000 };
}

/** memberFigures: one member's figures over the incidents of a window. */
export function memberFigures(input: Pick<InsightsInput, 'world' | 'team' | 'shifts' | 'settings' | 'window'>, facts: readonly IncidentFacts[], member: MemberId, w: InsightsWindow): MemberFigures {
  const handled = facts.filter((f) => handledBy(f, member));
  // An incident an alert resolved is no evidence of who fixed it: not in the solo base.
  const resolvedHandled = handled.filter((f) => f.resolvedByPerson);
  const solo = resolvedHandled.filter(isSolo).length;
  const escalations = facts.flatMap((f) => f.escalations).filter((e) => e.assignee === member);
  const served = shiftsServedBy(input.team, input.shifts, member, w);
  return {
    member,
    shiftsServed: served.shifts,
    hoursOnCall: Math.round(served.hours * 100) / 100,
    incidentsHandled: handled.length,
    resolvedHandled: resolvedHandled.length,
    solo,
    soloRate: resolvedHandled.length === 0 ? null : solo / resolvedHandled.length,
    escalationsToMentor: escalations.filter((e) => e.target === 'mentor').length,
    escalationsToLead: escalations.filter((e) => e.target === 'lead').length,
    huddlesCalled: facts.flatMap((f) => f.huddles).filter((h) => h.by === member).length,
    medianAckMs: median(facts.flatMap((f) => f.acks).filter((a) => a.member === member).map((a) => a.afterMs)),
    medianResolveMs: median(facts.flatMap(personResolutions).filter((r) => r.assignee === member).map((r) => r.afterMs)),
    pages: facts.flatMap((f) => f.pages).filter((p) => p.member === member).length,
    sleepInterruptions: sleepInterruptionsOf(facts, input.world, member, input.settings.night, input.window.to),
  };
}

/** teamFigures: the team's figures over the incidents of a window. */
export function teamFigures(input: Pick<InsightsInput, 'world' | 'team' | 'settings' | 'window'>, facts: readonly IncidentFacts[]): TeamFigures {
  const incidents = facts.length;
  const escalated = facts.filter((f) => f.escalations.length > 0).length;
  const huddles = facts.reduce((n, f) => n + f.huddles.length, 0);
  const huddleRate = incidents === 0 ? null : (huddles * 100) / incidents;
  const onlyOnCall = facts.filter((f) => f.huddles.length === 0 && new Set(f.pages.map((p) => p.member)).size <= 1).length;
  const sum = (k: 'deferred' | 'bypassed' | 'skipped' | 'dropped'): number => facts.reduce((n, f) => n + f.decisions[k], 0);
  const rotation = input.team.rotation.members;
  const pagesOf = (m: MemberId): number => facts.reduce((n, f) => n + f.pages.filter((p) => p.member === m).length, 0);
  const rotationPages = rotation.map((m) => ({ member: m, pages: pagesOf(m) }));
  const total = rotationPages.reduce((n, p) => n + p.pages, 0);
  const shares = rotationPages.map((p) => ({ ...p, share: total === 0 ? null : p.pages / total }));
  const maxShare = Math.max(0, ...shares.map((s) => s.share ?? 0));
  return {
    incidents,
    resolved: facts.filter((f) => f.resolved).length,
    escalated,
    escalationRate: incidents === 0 ? null : escalated / incidents,
    huddles,
    huddleRate,
    huddleWarning: input.settings.huddleWarning,
    huddleAlarm: huddleRate !== null && huddleRate > input.settings.huddleWarning,
    pages: facts.reduce((n, f) => n + f.pages.length, 0),
    sleepInterruptions: sleepInterruptionsOf(facts, input.world, null, input.settings.night, input.window.to),
    unowned: { incidents: facts.filter((f) => f.unownedAlerts > 0).length, alerts: facts.reduce((n, f) => n + f.unownedAlerts, 0) },
    maintenanceSilenced: facts.filter((f) => f.maintenance).length,
    focus: {
      onlyOnCall,
      onlyOnCallRate: incidents === 0 ? null : onlyOnCall / incidents,
      deferred: sum('deferred'),
      bypassed: sum('bypassed'),
      skipped: sum('skipped'),
      dropped: sum('dropped'),
    },
    load: { shares, imbalance: total === 0 || rotation.length === 0 ? null : maxShare * rotation.length },
  };
}

/** dependencies: per service with incidents in the window, who resolved them; flags and suggestions. */
export function dependencies(all: readonly IncidentFacts[], inWindow: readonly IncidentFacts[], upcoming: readonly Shift[]): ServiceDependency[] {
  const services = [...new Set(inWindow.map((f) => f.service).filter((s): s is string => s !== null && s !== ''))].sort();
  return services.map((service) => {
    const ofService = (list: readonly IncidentFacts[]) => list.filter((f) => f.service === service);
    const resolvers = (list: readonly IncidentFacts[]) => [...new Set(ofService(list).flatMap((f) => personResolutions(f).map((r) => r.assignee)))].sort();
    const ever = resolvers(all);
    const single = ever.length === 1;
    let suggestion: ServiceDependency['suggestion'] = null;
    if (single) {
      const mentor = ever[0] as MemberId;
      const handlers = new Set(ofService(all).flatMap((f) => [...f.acks.map((a) => a.member), ...personResolutions(f).map((r) => r.assignee)]));
      const next = upcoming.find((s) => s.member !== mentor && !handlers.has(s.member));
      if (next) suggestion = { mentor, mentee: next.member, shiftStart: next.start };
    }
    return { service, incidents: ofService(inWindow).length, resolversInWindow: resolvers(inWindow), resolversEver: ever, single, suggestion };
  });
}

function trendOf(cur: MemberFigures, prev: MemberFigures): MemberTrend {
  return {
    incidentsHandled: cur.incidentsHandled - prev.incidentsHandled,
    soloRate: cur.soloRate === null || prev.soloRate === null ? null : cur.soloRate - prev.soloRate,
    medianAckMs: cur.medianAckMs === null || prev.medianAckMs === null ? null : cur.medianAckMs - prev.medianAckMs,
    sleepInterruptions: cur.sleepInterruptions - prev.sleepInterruptions,
  };
}

/** teamMembersOf: the team's people in a stable order: rotation order, then other members, then the lead. */
export function teamMembersOf(team: Team): MemberId[] {
  return [...new Set([...team.rotation.members, ...team.members, team.lead])];
}

/** computeInsights: every figure for the window and the one before it. */
export function computeInsights(input: InsightsInput): TeamInsights {
  const all = input.histories.map(factsOf);
  const previous = previousWindow(input.window);
  const cur = reportedIn(all, input.window);
  const prev = reportedIn(all, previous);
  const members = teamMembersOf(input.team).map((m) => {
    const now = memberFigures(input, cur, m, input.window);
    const before = memberFigures(input, prev, m, previous);
    return { ...now, previous: before, trend: trendOf(now, before) };
  });
  return {
    team: input.team.id,
    window: input.window,
    previous,
    totals: teamFigures(input, cur),
    previousTotals: teamFigures(input, prev),
    members,
    dependencies: dependencies(all, cur, input.upcoming),
  };
}

/** weeklySeries: solo rate per member and huddle rate per week, for the `weeks` weeks ending at `to`. */
export function weeklySeries(input: InsightsInput, to: DateTime, weeks: number): Array<{ from: DateTime; to: DateTime; huddleRate: number | null; incidents: number; soloRate: Record<MemberId, number | null> }> {
  const all = input.histories.map(factsOf);
  const out = [];
  for (let i = weeks - 1; i >= 0; i--) {
    const w = { from: to.minus({ weeks: i + 1 }), to: to.minus({ weeks: i }) };
    const facts = reportedIn(all, w);
    const soloRate: Record<MemberId, number | null> = {};
    for (const m of input.team.rotation.members) soloRate[m] = memberFigures(input, facts, m, w).soloRate;
    out.push({ from: w.from, to: w.to, huddleRate: teamFigures(input, facts).huddleRate, incidents: facts.length, soloRate });
  }
  return out;
}

/** interruptionsByHour: pages reported in `w`, by the hour of day they reached their person in `zone`. */
export function interruptionsByHour(histories: readonly IncidentHistory[], w: InsightsWindow, zone: string): number[] {
  const hours = new Array<number>(24).fill(0);
  for (const f of reportedIn(histories.map(factsOf), w)) {
    for (const p of f.pages) {
      // Deferred past the window's end (the dashboard's now): not delivered yet.
      if (p.deliveredAt > w.to) continue;
      const h = p.deliveredAt.setZone(zone).hour;
      hours[h] = (hours[h] ?? 0) + 1;
    }
  }
  return hours;
}
