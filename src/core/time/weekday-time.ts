/**
 * Wall-clock value types: a time of day ("09:00") and a weekday with a time ("Mon 09:00").
 * They carry no zone; a rotation or a member supplies the IANA zone they are read in.
 */
export interface LocalTime {
  readonly hour: number;
  readonly minute: number;
}

/** Weekday numbers follow ISO 8601 and luxon: 1 = Monday ... 7 = Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface WeekdayTime {
  readonly weekday: Weekday | null; // null: every day (day and hour shifts)
  readonly time: LocalTime;
}

export const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export function parseLocalTime(input: string): LocalTime | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(input.trim());
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}

/** parseWeekdayTime accepts "Mon 09:00", "monday 9:00" or a bare "09:00" (weekday null). */
export function parseWeekdayTime(input: string): WeekdayTime | null {
  const parts = input.trim().split(/\s+/);
  if (parts.length === 1) {
    const time = parseLocalTime(parts[0] as string);
    return time ? { weekday: null, time } : null;
  }
  if (parts.length !== 2) return null;
  const weekday = parseWeekday(parts[0] as string);
  const time = parseLocalTime(parts[1] as string);
  return weekday && time ? { weekday, time } : null;
}

export function parseWeekday(input: string): Weekday | null {
  const key = input.trim().slice(0, 3).toLowerCase();
  if (input.trim().length < 3) return null;
  const index = WEEKDAY_NAMES.findIndex((name) => name.toLowerCase() === key);
  const full = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  if (index < 0 || !(full[index] as string).startsWith(input.trim().toLowerCase())) return null;
  return (index + 1) as Weekday;
}

export function formatLocalTime(t: LocalTime): string {
  return `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

export function formatWeekdayTime(w: WeekdayTime): string {
  const time = formatLocalTime(w.time);
  return w.weekday === null ? time : `${WEEKDAY_NAMES[w.weekday - 1]} ${time}`;
}
