/**
 * Facts read from one incident's timeline: who held it when, who acknowledged and resolved it and
 * how long that took, escalations, huddles, and every page with the instant it actually reached
 * its person. The figures (figures.ts) are sums and medians over these facts.
 *
 * The timeline kinds read here are those written by the app (src/app/incident-service.ts and
 * src/app/engine.ts): reported, notified {member, step}, acknowledged, reassigned {member},
 * escalated {target, member, manual}, huddle {reason, members}, resolved, reopened {member, flapping?},
 * notification-deferred / -bypassed / -skipped / -dropped {member, role, reason, until, plugin},
 * unowned {count, members} (the chain ran out and the team channel was told), maintenance
 * {reason, until} (opened quietly in a maintenance window).
 */
import { DateTime } from 'luxon';
import { isFlap, type Incident, type Principal, type TimelineEvent } from '../incident/types';
import type { EscalationTarget, MemberId } from '../model';

/** IncidentHistory: an incident and its whole timeline (oldest first). */
export interface IncidentHistory {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEvent[];
}

export interface AckFact {
  readonly member: MemberId;
  readonly at: DateTime;
  /** Since the incident was reported (or last reopened). */
  readonly afterMs: number;
}

export interface ResolveFact {
  /** The assignee when it was resolved (whoever typed the command). */
  readonly assignee: MemberId;
  /**
   * Whether a person resolved it (a member, or a guest in chat), not an alert that resolved
   * (an integration, Onehand itself, or no actor): only a person's resolution credits the assignee.
   */
  readonly byPerson: boolean;
  readonly at: DateTime;
  /** Since the incident was reported (or last reopened). */
  readonly afterMs: number;
}

export interface EscalationFact {
  readonly target: EscalationTarget;
  /** Who was paged. */
  readonly member: MemberId | null;
  /** The assignee at the time: the person who needed help. */
  readonly assignee: MemberId;
  readonly manual: boolean;
  readonly at: DateTime;
}

export interface HuddleFact {
  readonly by: MemberId | null;
  readonly at: DateTime;
  readonly members: readonly MemberId[];
}

export interface PageFact {
  readonly member: MemberId;
  /** page, reminder, mentor or lead. */
  readonly step: string;
  /** When the page was decided. */
  readonly at: DateTime;
  /** When it reached the member: `at`, or the end of a quiet-hours deferral. */
  readonly deliveredAt: DateTime;
  readonly deferred: boolean;
  /** A plugin let it through although the member was in quiet hours (an urgent page). */
  readonly bypassed: boolean;
}

export interface IncidentFacts {
  readonly incident: Incident;
  readonly reportedAt: DateTime;
  readonly service: string | null;
  readonly acks: readonly AckFact[];
  readonly resolutions: readonly ResolveFact[];
  readonly escalations: readonly EscalationFact[];
  readonly huddles: readonly HuddleFact[];
  readonly pages: readonly PageFact[];
  /** Notification decisions of plugins, counted by kind ("deferred", "bypassed", "skipped", "dropped"). */
  readonly decisions: Readonly<Record<'deferred' | 'bypassed' | 'skipped' | 'dropped', number>>;
  /** Unowned-incident alerts posted (the whole chain ran and nobody acknowledged). */
  readonly unownedAlerts: number;
  /** Opened (or reopened) quietly in a maintenance window. */
  readonly maintenance: boolean;
  /** True when resolved at the end of the timeline. */
  readonly resolved: boolean;
  /** True when resolved at the end of the timeline, and a person resolved it last (see ResolveFact.byPerson). */
  readonly resolvedByPerson: boolean;
}

/**
 * AUTOMATIC_ADAPTERS: the `adapter` of the principals that act for no person: a monitoring
 * integration (see integrationPrincipal in src/app/intake-service.ts) and Onehand itself (SYSTEM).
 */
const AUTOMATIC_ADAPTERS: ReadonlySet<string> = new Set(['integration', 'onehand']);

/** isPerson: whether a timeline event's actor is a person (a member, or a guest on a chat platform). */
export function isPerson(actor: Principal | null): boolean {
  if (actor === null) return false;
  return actor.kind === 'member' || !AUTOMATIC_ADAPTERS.has(actor.adapter);
}

/**
 * factsOf walks one timeline. The assignee starts as the member of the first page (else the
 * incident's current assignee, for incidents opened without a page) and follows acknowledgements
 * (the acker takes it), reassignments and reopenings.
 */
export function factsOf(history: IncidentHistory): IncidentFacts {
  const { incident, timeline } = history;
  const firstPage = timeline.find((e) => e.kind === 'notified' && e.data.step === 'page' && typeof e.data.member === 'string');
  let assignee: MemberId = firstPage ? String(firstPage.data.member) : incident.assignee;
  let since = incident.openedAt;
  let resolved = false;
  const acks: AckFact[] = [];
  const resolutions: ResolveFact[] = [];
  const escalations: EscalationFact[] = [];
  const huddles: HuddleFact[] = [];
  const pages: Array<{ member: MemberId; step: string; at: DateTime }> = [];
  const decisions = { deferred: 0, bypassed: 0, skipped: 0, dropped: 0 };
  let unownedAlerts = 0;
  let maintenance = false;
  const deferredUntil = new Map<string, DateTime>();
  const bypassed = new Set<string>();
  const actorMember = (e: TimelineEvent): MemberId | null => (e.actor?.kind === 'member' ? e.actor.id : null);

  for (const e of timeline) {
    const member = typeof e.data.member === 'string' ? e.data.member : null;
    switch (e.kind) {
      case 'reported':
        since = e.at;
        break;
      case 'reopened':
        // A flap (the alert fired again soon after a page, see IncidentService.reopen) goes on
        // with its round: the resolve it undid was no resolution, and the round's time runs on.
        if (isFlap(e) && resolved) resolutions.pop();
        else since = e.at;
        resolved = false;
        if (member) assignee = member;
        break;
      case 'acknowledged': {
        const by = actorMember(e) ?? assignee;
        assignee = by;
        acks.push({ member: by, at: e.at, afterMs: e.at.diff(since).as('milliseconds') });
        break;
      }
      case 'reassigned':
        if (member) assignee = member;
        break;
      case 'escalated':
        escalations.push({ target: e.data.target === 'lead' ? 'lead' : 'mentor', member, assignee, manual: e.data.manual === true, at: e.at });
        break;
      case 'huddle':
        huddles.push({ by: actorMember(e), at: e.at, members: Array.isArray(e.data.members) ? e.data.members.map(String) : [] });
        break;
      case 'resolved':
        resolved = true;
        resolutions.push({ assignee, byPerson: isPerson(e.actor), at: e.at, afterMs: e.at.diff(since).as('milliseconds') });
        break;
      case 'notified':
        if (member) pages.push({ member, step: String(e.data.step ?? 'page'), at: e.at });
        break;
      case 'notification-deferred':
        decisions.deferred++;
        if (member && typeof e.data.until === 'string') {
          const until = DateTime.fromISO(e.data.until, { zone: 'utc' });
          if (until.isValid) deferredUntil.set(`${member}@${e.at.toMillis()}`, until);
        }
        break;
      case 'notification-bypassed':
        decisions.bypassed++;
        if (member) bypassed.add(`${member}@${e.at.toMillis()}`);
        break;
      case 'notification-skipped':
        decisions.skipped++;
        break;
      case 'notification-dropped':
        decisions.dropped++;
        break;
      case 'unowned':
        unownedAlerts++;
        break;
      case 'maintenance':
        maintenance = true;
        break;
    }
  }
  return {
    incident,
    reportedAt: incident.openedAt,
    service: incident.service,
    acks,
    resolutions,
    escalations,
    huddles,
    // A plugin's decision is recorded at the same instant as the page it is about.
    pages: pages.map((p) => {
      const key = `${p.member}@${p.at.toMillis()}`;
      const until = deferredUntil.get(key);
      return { ...p, deliveredAt: until && until > p.at ? until : p.at, deferred: until !== undefined, bypassed: bypassed.has(key) };
    }),
    decisions,
    unownedAlerts,
    maintenance,
    resolved,
    resolvedByPerson: resolved && resolutions[resolutions.length - 1]?.byPerson === true,
  };
}
