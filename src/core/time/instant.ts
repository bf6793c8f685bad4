/**
 * Reading instants typed in commands. A date-time without an offset is read in the given IANA zone
 * (the team's), so "2026-12-01T09:00" means nine in the morning where the team works. A time in a
 * DST gap moves forward by the gap (luxon's rule); in a fold it is the earlier instant.
 */
import { DateTime } from 'luxon';
import { parseDuration } from './duration';

export function parseInstantArg(text: string, zone: string, now: DateTime): DateTime | null {
  if (text.toLowerCase() === 'now') return now;
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  const dt = hasOffset ? DateTime.fromISO(text, { setZone: true }) : DateTime.fromISO(text, { zone });
  return dt.isValid ? dt.setZone(zone) : null;
}

/** parseEndArg: an instant, or a duration after `start` (days and weeks on the zone's wall clock). */
export function parseEndArg(text: string, start: DateTime, zone: string, now: DateTime): DateTime | null {
  const d = parseDuration(text);
  if (d.ok) return start.setZone(zone).plus(d.value);
  return parseInstantArg(text, zone, now);
}
