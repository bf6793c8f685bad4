/**
 * Value checks and conversions both Store implementations share: instants cross the port as luxon
 * DateTimes and are stored as epoch milliseconds (UTC); limits and intervals are checked the same
 * way on SQLite and PostgreSQL, so the contract suite sees the same errors from both.
 */
import { DateTime } from 'luxon';

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
