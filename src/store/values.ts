/**
 * Value checks and conversions both Store implementations share: instants cross the port as luxon
 * DateTimes and are stored as epoch milliseconds (UTC); limits and intervals are checked the same
 * way on SQLite and PostgreSQL, so the contract suite sees the same errors from both.
 */
import { DateTime } from 'luxon';
import { isSeverity, type Incident, type IncidentState, type NewIncident, type Principal, type Severity, type TimelineEvent } from '../core/incident/types';
import type { EscalationPlan } from '../core/model';
import type { StormRow } from '../ports/store';

export function toMs(dt: DateTime, what: string): number {
  if (!dt.isValid) throw new RangeError(`${what} is an invalid DateTime (${dt.invalidReason ?? 'unknown reason'})`);
  return dt.toMillis();
}

export function fromMs(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: 'utc' });
}

/** interval: [start, end) in ms, refusing an empty or reversed one. */
export function interval(start: DateTime, end: DateTime, what: string): [number, number] {
  const s = toMs(start, `${what} start`);
  const e = toMs(end, `${what} end`);
  if (e <= s) throw new RangeError(`${what} must end after it starts (${start.toISO()} .. ${end.toISO()})`);
  return [s, e];
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  return limit;
}

/** leaseParams: [owner, leaseUntil ms, now ms, limit] for the claim statements, or null for limit 0. */
export function leaseParams(now: DateTime, limit: number, owner: string, leaseUntil: DateTime): [string, number, number, number] | null {
  if (checkLimit(limit) === 0) return null;
  const nowMs = toMs(now, 'now');
  const untilMs = toMs(leaseUntil, 'leaseUntil');
  if (untilMs <= nowMs) throw new RangeError(`leaseUntil (${leaseUntil.toISO()}) must be after now (${now.toISO()})`);
  return [owner, untilMs, nowMs, limit];
}

/** INCIDENT_COLUMNS: the incidents table's columns besides id, in the order incidentParams gives. */
export const INCIDENT_COLUMNS =
  'team, title, severity, source, service, fingerprint, state, assignee, reporter, escalation_level, policy, opened_at, acknowledged_at, resolved_at, updated_at';

/** incidentParams: an incident's values in INCIDENT_COLUMNS order (JSON columns as text, written by `json`). */
export function incidentParams(i: NewIncident, json: (value: unknown) => string): Array<string | number | null> {
  return [
    i.team, i.title, i.severity, i.source, i.service, i.fingerprint, i.state, i.assignee, json(i.reporter), i.escalationLevel,
    json(i.policy), toMs(i.openedAt, 'openedAt'), i.acknowledgedAt === null ? null : toMs(i.acknowledgedAt, 'acknowledgedAt'),
    i.resolvedAt === null ? null : toMs(i.resolvedAt, 'resolvedAt'), toMs(i.updatedAt, 'updatedAt'),
  ];
}

/** IncidentDbRow: an incidents row; `Json` is how the driver returns JSON columns (text or decoded). */
export interface IncidentDbRow<Json> {
  id: number;
  team: string;
  title: string;
  severity: string;
  source: string;
  service: string | null;
  fingerprint: string | null;
  state: string;
  assignee: string;
  reporter: Json;
  escalation_level: number;
  policy: Json;
  opened_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
  updated_at: number;
}

/** toIncident: a row back into an Incident; `decode` turns a JSON column into its value. */
export function toIncident<Json>(r: IncidentDbRow<Json>, decode: (v: Json) => unknown): Incident {
  return {
    id: r.id, team: r.team, title: r.title, severity: r.severity as Severity, source: r.source, service: r.service, fingerprint: r.fingerprint,
    state: r.state as IncidentState, assignee: r.assignee, reporter: decode(r.reporter) as Principal, escalationLevel: r.escalation_level,
    policy: decode(r.policy) as EscalationPlan, openedAt: fromMs(r.opened_at), acknowledgedAt: r.acknowledged_at === null ? null : fromMs(r.acknowledged_at),
    resolvedAt: r.resolved_at === null ? null : fromMs(r.resolved_at), updatedAt: fromMs(r.updated_at),
  };
}

export interface StormDbRow {
  id: number;
  team: string;
  member: string;
  integration: string;
  started_at: number;
  last_at: number;
  incidents: number;
  version: number;
  ended_at: number | null;
  severity: string | null;
}

export function toStorm(r: StormDbRow): StormRow {
  return {
    id: r.id, team: r.team, member: r.member, integration: r.integration, startedAt: fromMs(r.started_at), lastAt: fromMs(r.last_at),
    incidents: r.incidents, version: r.version, endedAt: r.ended_at === null ? null : fromMs(r.ended_at),
    severity: isSeverity(r.severity) ? r.severity : null,
  };
}

/**
 * prefixUpperBound returns the least string greater than every string starting with `prefix`
 * (comparing by code point, which is SQLite's BINARY order on UTF-8), or null when there is none.
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix].map((c) => c.codePointAt(0) as number);
  while (points.length > 0) {
    const last = points.pop() as number;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

/** deliveryState: a delivery's state from its row's sent_at, dead_at and waiting_since. */
export function deliveryState(r: { sent_at: unknown; dead_at: unknown; waiting_since: unknown }): 'pending' | 'waiting' | 'sent' | 'dead' {
  if (r.sent_at !== null) return 'sent';
  if (r.dead_at !== null) return 'dead';
  return r.waiting_since !== null ? 'waiting' : 'pending';
}

/** versionsOf: the distinct (lane, updateKey) pairs of rows being enqueued whose message is a version of another. */
export function versionsOf(rows: readonly { readonly l: string; readonly m: { readonly updateKey?: string } }[]): Array<[string, string]> {
  const seen = new Map<string, [string, string]>();
  for (const r of rows) {
    if (r.m.updateKey !== undefined) seen.set(`${r.l}\u0000${r.m.updateKey}`, [r.l, r.m.updateKey]);
  }
  return [...seen.values()];
}

/** byIncident: events read for many incidents, as one list per id of `ids`, in that order (Store.timelines). */
export function byIncident(ids: readonly number[], events: readonly TimelineEvent[]): TimelineEvent[][] {
  const lists = new Map<number, TimelineEvent[]>();
  for (const e of events) {
    const list = lists.get(e.incidentId);
    if (list) list.push(e);
    else lists.set(e.incidentId, [e]);
  }
  return ids.map((id) => lists.get(id) ?? []);
}

/**
 * runAfterCommit: a committed transaction's afterCommit callbacks, in order (see
 * StoreTx.afterCommit). One that throws does not stop the others, and its error is dropped: the
 * commit stands, and the caller that needs to know catches its own.
 */
export function runAfterCommit(fns: ReadonlyArray<() => void>): void {
  for (const fn of fns) {
    try {
      fn();
    } catch {
      // dropped: see above
    }
  }
}
