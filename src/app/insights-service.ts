/**
 * InsightsService loads what the insights need from the store (every incident of a team with its
 * timeline, the shifts around the window, the coming shifts) and asks the pure figures in
 * src/core/insights; shifts come through the team's rotation policy (PolicyBook). It serves `oncall stats`, `onehand report`, the report API and the dashboard.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import { shiftEvents, renderCalendar } from '../core/calendar/ics';
import type { IncidentHistory } from '../core/insights/facts';
import { computeInsights, interruptionsByHour, previousWindow, weeklySeries, type InsightsSettings, type TeamInsights } from '../core/insights/figures';
import { statsMessage } from '../core/insights/stats-view';
import type { Incident } from '../core/incident/types';
import type { Message } from '../core/messages/message';
import type { MemberId, Team, World } from '../core/model';
import type { Shift } from '../core/rotation/types';
import { formatDuration, parseDuration, toMillis } from '../core/time/duration';
import type { Store, StoreTx } from '../ports/store';
import { Refusal, type UseCaseContext } from './context';
import { PolicyBook } from './policies';
import { onCallNow, shiftsBetween } from './rotation-reader';
import { TOKENS } from './tokens';

/** Default window of `oncall stats` and the report. */
export const DEFAULT_SINCE = '30d';
const MAX_SINCE_MS = 366 * 86_400_000;
/** How far ahead suggestions look for the next on-call. */
const UPCOMING_WEEKS = 12;

/**
 * parseSince reads "30d", "2w", "12h" as elapsed milliseconds, or returns an error sentence that
 * names the setting as the caller knows it (`--since` on the command line, `since` in a URL).
 */
export function parseSince(text: string | undefined, name = '--since'): { ms: number; label: string } | { error: string } {
  const raw = text ?? DEFAULT_SINCE;
  const parsed = parseDuration(raw);
  if (!parsed.ok) return { error: `${name}: ${parsed.error}` };
  const ms = toMillis(parsed.value);
  if (ms <= 0) return { error: `${name} must be longer than nothing, e.g. 30d` };
  if (ms > MAX_SINCE_MS) return { error: `${name} is at most 366d` };
  return { ms, label: formatDuration(ms) };
}

/** DashboardTeam: everything the dashboard shows for one team. */
export interface DashboardTeam {
  readonly team: Team;
  readonly now: DateTime;
  readonly onCall: Shift;
  readonly next: Shift | null;
  readonly schedule: readonly Shift[];
  readonly open: readonly Incident[];
  readonly insights: TeamInsights;
  readonly weekly: ReturnType<typeof weeklySeries>;
  readonly byHour: readonly number[];
}

/** loadHistories: every incident of `team`, oldest first, each with its timeline. */
export async function loadHistories(tx: StoreTx, team: Team): Promise<IncidentHistory[]> {
  const incidents = (await tx.listIncidents({ team: team.id })).reverse();
  const timelines = await tx.timelines(incidents.map((i) => i.id));
  return incidents.map((incident, i) => ({ incident, timeline: timelines[i] ?? [] }));
}

/** teamInsights: the figures of `team` for [now - sinceMs, now) and the window before it. */
export async function teamInsights(tx: StoreTx, policies: PolicyBook, world: World, team: Team, now: DateTime, sinceMs: number, settings: InsightsSettings): Promise<{ insights: TeamInsights; histories: IncidentHistory[] }> {
  const window = { from: now.minus({ milliseconds: sinceMs }), to: now };
  const previous = previousWindow(window);
  const histories = await loadHistories(tx, team);
  const shifts = await shiftsBetween(policies, tx, team, previous.from, window.to);
  const upcoming = await shiftsFromNow(policies, tx, team, now, UPCOMING_WEEKS);
  return { insights: computeInsights({ world, team, histories, shifts, upcoming, window, settings }), histories };
}

@injectable()
export class InsightsService {
  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Insights) readonly settings: InsightsSettings,
    @inject(PolicyBook) private readonly policies: PolicyBook,
  ) {}

  /** stats answers `oncall stats [--since 30d]` inside the command's transaction. */
  async stats(ctx: UseCaseContext, since: string | undefined): Promise<Message> {
    const parsed = parseSince(since);
    if ('error' in parsed) throw new Refusal(parsed.error);
    const { insights } = await teamInsights(ctx.tx, this.policies, this.world, ctx.team, ctx.now, parsed.ms, this.settings);
    return statsMessage(this.world, insights, parsed.label);
  }

  /** report: the figures as plain data (the JSON of the API and of `onehand report --json`). */
  async report(teamId: string, now: DateTime, sinceMs: number): Promise<TeamInsights | null> {
    const team = this.world.teams.get(teamId);
    if (!team) return null;
    return this.store.transaction(async (tx) => (await teamInsights(tx, this.policies, this.world, team, now, sinceMs, this.settings)).insights);
  }

  /** calendar: the .ics feed of `team` (or of one member's shifts in it), 4 weeks back to 26 ahead. */
  async calendar(teamId: string, now: DateTime, member?: MemberId): Promise<string | null> {
    const team = this.world.teams.get(teamId);
    if (!team || (member !== undefined && !this.world.members.has(member))) return null;
    // The shift that overlaps the window's start is read whole (the schedule cuts shifts at its
    // window's edges): a start cut at "now minus 4 weeks" would move, and its event's UID with it,
    // every time a calendar client polls. The shift on call then says where it began.
    // So is the one that overlaps its end: cut at "now plus 26 weeks", its end (and UID) moved at
    // every poll, and calendar apps deleted and added a short shift each time.
    const from = now.minus({ weeks: 4 });
    const to = now.plus({ weeks: 26 });
    const shifts = (await this.store.transaction(async (tx) => {
      const first = await onCallNow(this.policies, tx, team, from);
      const last = await onCallNow(this.policies, tx, team, to);
      return shiftsBetween(this.policies, tx, team, first.start < from ? first.start : from, last.end > to ? last.end : to);
    })).filter((s) => s.end > from && s.start < to);
    const who = member === undefined ? '' : `${this.world.members.get(member)?.name ?? member}: `;
    return renderCalendar({ name: `${who}${team.name} on call`, stamp: now, events: shiftEvents(this.world, team, shifts, member) });
  }

  /** dashboard: per team, who is on call now and next, the coming weeks, open incidents, figures and charts. */
  async dashboard(now: DateTime, sinceMs: number): Promise<DashboardTeam[]> {
    return this.store.transaction(async (tx) => {
      const out: DashboardTeam[] = [];
      for (const team of this.world.teams.values()) {
        const { insights, histories } = await teamInsights(tx, this.policies, this.world, team, now, sinceMs, this.settings);
        const onCall = await onCallNow(this.policies, tx, team, now);
        const schedule = await shiftsFromNow(this.policies, tx, team, now, 4);
        const input = { world: this.world, team, histories, shifts: await shiftsBetween(this.policies, tx, team, now.minus({ weeks: 8 }), now), upcoming: [], window: insights.window, settings: this.settings };
        out.push({
          team, now, onCall,
          next: schedule.find((s) => s.start >= onCall.end) ?? null,
          schedule,
          open: await tx.listIncidents({ team: team.id, states: ['open', 'acknowledged'], limit: 50 }),
          insights,
          weekly: weeklySeries(input, now, 8),
          byHour: interruptionsByHour(histories, insights.window, team.timeZone),
        });
      }
      return out;
    });
  }
}

/**
 * shiftsFromNow: the current shift (with its real start, not now) and those of the next `weeks`
 * ("for their shift from Mon 07 Dec 09:00", not the minute the page was asked for).
 */
async function shiftsFromNow(policies: PolicyBook, tx: StoreTx, team: Team, now: DateTime, weeks: number): Promise<Shift[]> {
  return (await shiftsBetween(policies, tx, team, now.minus({ weeks: 8 }), now.plus({ weeks }))).filter((s) => s.end > now);
}
