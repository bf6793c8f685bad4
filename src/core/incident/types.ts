import type { DateTime } from 'luxon';
import type { EscalationPlan, MemberId, TeamId } from '../model';

export const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
/** Severity: sev1 is the most urgent. */
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}

/** moreSevere: whether `a` is more severe than `b` (sev1 is the most severe). */
export function moreSevere(a: Severity, b: Severity): boolean {
  return SEVERITIES.indexOf(a) < SEVERITIES.indexOf(b);
}
export const DEFAULT_SEVERITY: Severity = 'sev3';

export type IncidentState = 'open' | 'acknowledged' | 'resolved';

/**
 * Principal: who acts or is told. A member from config, or a guest known only to one adapter
 * (a product user reporting in a support channel). `adapter` and `address` are opaque to the core.
 */
export type Principal =
  | { readonly kind: 'member'; readonly id: MemberId }
  | { readonly kind: 'guest'; readonly adapter: string; readonly address: string; readonly name: string };

/** SYSTEM: the actor of what Onehand does by itself (escalation steps, handoffs, deliveries). */
export const SYSTEM: Principal = { kind: 'guest', adapter: 'onehand', address: 'system', name: 'Onehand' };

export interface Incident {
  readonly id: number;
  readonly team: TeamId;
  readonly title: string;
  readonly severity: Severity;
  /** "chat" for a person's report, "integration:<id>" for a webhook. */
  readonly source: string;
  readonly service: string | null;
  readonly fingerprint: string | null;
  readonly state: IncidentState;
  readonly assignee: MemberId;
  readonly reporter: Principal;
  /** 0 while only the on-call is involved; n after the n-th entry of policy.then was paged. */
  readonly escalationLevel: number;
  /** The escalation policy as it was when the incident opened. */
  readonly policy: EscalationPlan;
  readonly openedAt: DateTime;
  readonly acknowledgedAt: DateTime | null;
  readonly resolvedAt: DateTime | null;
  readonly updatedAt: DateTime;
}

export type NewIncident = Omit<Incident, 'id'>;

export type TimelineKind =
  | 'reported'
  | 'notified'
  | 'acknowledged'
  | 'reassigned'
  | 'note'
  | 'reply'
  | 'escalated'
  | 'huddle'
  | 'resolved'
  | 'reopened'
  | 'severity-raised'
  | 'delivery-failed'
  | 'delivery-retrying'
  | 'delivery-fallback';

export interface TimelineEvent {
  readonly incidentId: number;
  readonly seq: number;
  readonly at: DateTime;
  readonly kind: TimelineKind | string;
  readonly actor: Principal | null;
  readonly data: Readonly<Record<string, unknown>>;
}

export type NewTimelineEvent = Omit<TimelineEvent, 'seq'>;

/** isFlap: a reopening by an alert that flapped (see IncidentService.reopen): it paged nobody, and goes on with the round it flaps in. */
export function isFlap(e: TimelineEvent): boolean {
  return e.kind === 'reopened' && e.data.flapping !== undefined;
}

/** opensRound: the event (re)started the incident's round: its report, or a reopening that was not a flap. */
export function opensRound(e: TimelineEvent): boolean {
  return e.kind === 'reported' || (e.kind === 'reopened' && !isFlap(e));
}
