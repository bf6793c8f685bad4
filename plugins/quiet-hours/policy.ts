/**
 * Quiet-hours policy, as pure functions of settings, a zone and an instant.
 *
 * A member is quiet during their nights (a daily window in their own zone, which may cross
 * midnight), on weekends (Saturday 00:00 to Monday 00:00, local), on days off (local dates,
 * inclusive), and during a declared focus block. `quietUntil` returns when the current quiet stretch
 * ends, joining back-to-back rules (a Friday night runs into the weekend), or null when the member
 * is not quiet.
 */
import { DateTime } from 'luxon';
import type { LocalTime } from '../../src/core/time/weekday-time';

export interface QuietSettings {
  readonly nights: { readonly from: LocalTime; readonly to: LocalTime } | null;
  readonly weekends: boolean;
  /** Inclusive local date ranges, ISO dates. */
  readonly timeOff: ReadonlyArray<{ readonly from: string; readonly to: string }>;
  /** Whether weekends hold non-urgent pages for the member's own shift (default false: the on-call is on call). */
  readonly oncallWeekends?: boolean;
}

/** quietEndAt: if `t` is inside one rule, the end of that rule's stretch; else null. */
function ruleEnd(s: QuietSettings, zone: string, t: DateTime, focusUntil: DateTime | null): DateTime | null {
  const local = t.setZone(zone);
  const ends: DateTime[] = [];
  if (focusUntil && t < focusUntil) ends.push(focusUntil);
  if (s.nights) {
    const minutes = local.hour * 60 + local.minute;
    const from = s.nights.from.hour * 60 + s.nights.from.minute;
    const to = s.nights.to.hour * 60 + s.nights.to.minute;
    const at = (day: DateTime) => DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: s.nights!.to.hour, minute: s.nights!.to.minute }, { zone });
    if (from < to) {
      if (minutes >= from && minutes < to) ends.push(at(local));
    } else if (from > to) {
      if (minutes >= from) ends.push(at(local.plus({ days: 1 })));
      else if (minutes < to) ends.push(at(local));
    }
  }
  if (s.weekends && local.weekday >= 6) {
    ends.push(local.startOf('day').plus({ days: 8 - local.weekday }).startOf('day'));
  }
  for (const off of s.timeOff) {
    const start = DateTime.fromISO(off.from, { zone }).startOf('day');
    const end = DateTime.fromISO(off.to, { zone }).plus({ days: 1 }).startOf('day');
    if (t >= start && t < end) ends.push(end);
  }
  const valid = ends.filter((e) => e > t);
  return valid.reduce<DateTime | null>((a, b) => (a === null || b > a ? b : a), null);
}

export function quietUntil(s: QuietSettings, zone: string, now: DateTime, focusUntil: DateTime | null = null): DateTime | null {
  let t = now;
  for (let i = 0; i < 50; i++) {
    const end = ruleEnd(s, zone, t, focusUntil);
    if (!end) break;
    t = end;
  }
  return t > now ? t.toUTC() : null;
}
