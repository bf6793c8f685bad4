/**
 * Reading instants typed in commands. A date-time without an offset is read in the given IANA zone
 * (the team's), so "2026-12-01T09:00" means nine in the morning where the team works. A time in a
 * DST gap moves forward by the gap; a time in a fold is the first occurrence (the same rule as
 * rotation boundaries, see resolveWallClock). Luxon's own `fromISO(text, { zone })` is not used for
 * this: it resolves a fold with an offset it guessed from the machine's current date, so the same
 * text meant different instants in July and in November.
 */
import { DateTime, IANAZone } from 'luxon';
import { parseDuration } from './duration';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** How far around a wall-clock time we look for the offsets that apply before and after it. */
const OFFSET_PROBE_MS = 36 * 3_600_000;

/**
 * resolveWallClock turns a wall-clock time in `zone` (given as milliseconds as if it were UTC) into
 * an instant: the earlier instant in a fold, the time moved forward by the gap length in a gap.
 * Assumes the zone changes its offset at most once within 36 hours (true of today's tz database).
 */
export function resolveWallClock(zone: IANAZone, localMs: number): number {
  // The instant lies within 14 hours of localMs, so these two offsets are the ones in force just
  // before and just after it (given at most one change within 36 hours).
  const before = zone.offset(localMs - OFFSET_PROBE_MS);
  const after = zone.offset(localMs + OFFSET_PROBE_MS);
  if (before === after) return localMs - before * MINUTE_MS;
  const early = localMs - before * MINUTE_MS;
  const late = localMs - after * MINUTE_MS;
  const earlyValid = zone.offset(early) === before;
  const lateValid = zone.offset(late) === after;
  if (earlyValid && lateValid) return Math.min(early, late); // a fold: the first occurrence
  if (earlyValid) return early;
  if (lateValid) return late;
  // A gap: the clock jumped forward, so the offset before the jump is the smaller one. Reading the
  // wall time with it lands after the jump, at the wall time plus the gap length.
  return localMs - Math.min(before, after) * MINUTE_MS;
}

/** wallClockMs: the wall-clock reading of `dt` in its own zone, as milliseconds as if it were UTC. */
function wallClockMs(dt: DateTime): number {
  return dt.toMillis() + dt.offset * MINUTE_MS;
}

/**
 * parseInstantArg reads `now`, an ISO date-time with an offset (`Z`, `+02:00`, `+0200`), or one
 * without, read in `zone` (gap forward, fold first); null when the text is not one of these.
 */
export function parseInstantArg(text: string, zone: string, now: DateTime): DateTime | null {
  if (text.toLowerCase() === 'now') return now;
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  if (hasOffset) {
    const dt = DateTime.fromISO(text, { setZone: true });
    return dt.isValid ? dt.setZone(zone) : null;
  }
  const iana = IANAZone.create(zone);
  // Read the fields alone (as UTC: no offset guess), then place them in the zone by our rule.
  const fields = DateTime.fromISO(text, { zone: 'utc' });
  if (!iana.isValid || !fields.isValid) return null;
  return DateTime.fromMillis(resolveWallClock(iana, fields.toMillis()), { zone });
}

/**
 * parseEndArg: an instant, or a duration after `start`: weeks and days on the zone's wall clock
 * (gap forward, fold first), then hours and below as elapsed time.
 */
export function parseEndArg(text: string, start: DateTime, zone: string, now: DateTime): DateTime | null {
  const d = parseDuration(text);
  if (d.ok) {
    const { weeks, days, hours, minutes, seconds, milliseconds } = d.value;
    let end = start.setZone(zone);
    if (weeks !== 0 || days !== 0) {
      end = DateTime.fromMillis(resolveWallClock(IANAZone.create(zone), wallClockMs(end) + (weeks * 7 + days) * DAY_MS), { zone });
    }
    return end.plus({ hours, minutes, seconds, milliseconds });
  }
  return parseInstantArg(text, zone, now);
}
