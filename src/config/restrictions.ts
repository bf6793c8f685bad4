/**
 * readRestriction: one `restrictions:` entry of a layer, read into weekly windows
 * (src/core/rotation/layered.ts), or the problem with the key it is about and its fix.
 *
 * Two forms:
 * - daily: `{ days: [Mon, Tue], from: "18:00", to: "09:00" }`: a window starting on each listed day
 *   (every day when `days` is absent), ending the same day when `to` is after `from`, the next day
 *   otherwise (`to` equal to `from`: 24 hours);
 * - weekly: `{ from: "Sat 09:00", to: "Mon 09:00" }`: from a weekday and time to the next
 *   occurrence of the other (equal: a whole week).
 */
import type { WeeklyWindow } from '../core/rotation/layered';
import { parseWeekday, parseWeekdayTime, type Weekday } from '../core/time/weekday-time';

export type RestrictionProblem = { readonly key: 'days' | 'from' | 'to'; readonly message: string };

const EXAMPLES = 'write { days: [Mon, Tue, Wed, Thu, Fri], from: "18:00", to: "09:00" } or { from: "Sat 09:00", to: "Mon 09:00" }';

/**
 * readRestriction returns the entry's weekly windows, or every problem with it (each of from, to
 * and days is checked, so one run of check-config lists them all).
 */
export function readRestriction(raw: Readonly<Record<string, unknown>>): WeeklyWindow[] | { readonly problems: RestrictionProblem[] } {
  const problems: RestrictionProblem[] = [];
  const fromText = typeof raw.from === 'string' ? raw.from : null;
  const toText = typeof raw.to === 'string' ? raw.to : null;
  const from = fromText === null ? null : parseWeekdayTime(fromText);
  const to = toText === null ? null : parseWeekdayTime(toText);
  if (fromText === null) problems.push({ key: 'from', message: `missing; ${EXAMPLES}` });
  else if (from === null) problems.push({ key: 'from', message: `"${fromText}" is not a time ("18:00") or a weekday and time ("Sat 09:00")` });
  if (toText === null) problems.push({ key: 'to', message: `missing; ${EXAMPLES}` });
  else if (to === null) problems.push({ key: 'to', message: `"${toText}" is not a time ("09:00") or a weekday and time ("Mon 09:00")` });
  const days = raw.days;
  const weekly = from !== null && to !== null && from.weekday !== null && to.weekday !== null;
  if (from !== null && to !== null && (from.weekday === null) !== (to.weekday === null)) {
    problems.push({ key: from.weekday === null ? 'from' : 'to', message: `"${from.weekday === null ? fromText : toText}" has no weekday while "${from.weekday === null ? toText : fromText}" has one; a weekly window names both (e.g. from "Sat 09:00" to "Mon 09:00"), a daily one neither (with days: [...])` });
  }
  let weekdays: Weekday[] = [1, 2, 3, 4, 5, 6, 7];
  if (weekly && days !== undefined && days !== null) {
    problems.push({ key: 'days', message: 'days go with a daily window (from "18:00" to "09:00"); a weekly window (from "Sat 09:00") already names its weekdays: remove days' });
  } else if (Array.isArray(days)) {
    weekdays = [];
    for (const d of days) {
      const w = typeof d === 'string' ? parseWeekday(d) : null;
      if (w === null) problems.push({ key: 'days', message: `${JSON.stringify(d)} is not a weekday; write Mon, Tue, Wed, Thu, Fri, Sat or Sun` });
      else if (weekdays.includes(w)) problems.push({ key: 'days', message: `${JSON.stringify(d)} is listed twice; list each weekday once` });
      else weekdays.push(w);
    }
    if (days.length === 0) problems.push({ key: 'days', message: 'is an empty list; list weekdays such as [Mon, Tue], or remove days for every day' });
  } else if (days !== undefined && days !== null) {
    problems.push({ key: 'days', message: 'expected a list of weekdays such as [Mon, Tue, Wed, Thu, Fri]' });
  }
  if (problems.length > 0 || from === null || to === null) return { problems };
  if (from.weekday !== null && to.weekday !== null) {
    return [{ from: { weekday: from.weekday, time: from.time }, to: { weekday: to.weekday, time: to.time } }];
  }
  const toMinutes = to.time.hour * 60 + to.time.minute;
  const fromMinutes = from.time.hour * 60 + from.time.minute;
  return weekdays.map((w) => ({
    from: { weekday: w, time: from.time },
    to: { weekday: (toMinutes > fromMinutes ? w : (w % 7) + 1) as Weekday, time: to.time },
  }));
}
