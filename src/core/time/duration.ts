/**
 * Duration parsing for config and commands: "90s", "15m", "1h30m", "2d", "1w" (and "250ms", for
 * short timer periods in tests and benchmarks).
 *
 * parseDuration returns the parts as written (so "1d" stays a calendar day and is not turned into
 * 24 hours) or a precise error. Callers decide whether a part means wall-clock (days, weeks) or
 * elapsed time (hours and below); see `toMillis` for the elapsed reading.
 */
export interface DurationParts {
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
  readonly milliseconds: number;
}

export type DurationResult =
  | { readonly ok: true; readonly value: DurationParts }
  | { readonly ok: false; readonly error: string; /** The text is a duration of zero (a caller with a range may say the range instead). */ readonly zero?: true };

const UNIT_PATTERN = /(\d+)\s*(ms|w|d|h|m|s)/gy;
const UNIT_NAMES: Record<string, keyof DurationParts> = {
  w: 'weeks',
  d: 'days',
  h: 'hours',
  m: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
};

/** MAX_DURATION_MS: the longest duration parseDuration accepts (520 weeks, about ten years). */
export const MAX_DURATION_MS = 520 * 7 * 86_400_000;

/** DURATION_HINT is the fix shown with every duration error. */
export const DURATION_HINT = 'a duration such as "90s", "15m", "1h30m", "2d" or "1w"';

export function parseDuration(input: string): DurationResult {
  const text = input.trim().toLowerCase();
  if (text === '') return { ok: false, error: `"" is not ${DURATION_HINT}` };
  const parts = { weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0, milliseconds: 0 };
  const seen = new Set<string>();
  UNIT_PATTERN.lastIndex = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = UNIT_PATTERN.exec(text)) !== null) {
    const [, amount, unit] = match;
    const name = UNIT_NAMES[unit as string] as keyof DurationParts;
    if (seen.has(name)) return { ok: false, error: `"${input}" names ${name} twice; write ${DURATION_HINT}` };
    seen.add(name);
    parts[name] = Number(amount);
    consumed = UNIT_PATTERN.lastIndex;
    while (text[consumed] === ' ') consumed++;
    UNIT_PATTERN.lastIndex = consumed;
  }
  if (consumed !== text.length || seen.size === 0) {
    return { ok: false, error: `"${input}" is not ${DURATION_HINT}` };
  }
  if (Object.values(parts).every((v) => v === 0)) {
    return { ok: false, zero: true, error: `"${input}" is zero; write a longer one: ${DURATION_HINT}` };
  }
  // Beyond ten years no duration means anything here, and larger numbers lose precision.
  if (toMillis(parts) > MAX_DURATION_MS) {
    return { ok: false, error: `"${input}" is longer than ten years; write ${DURATION_HINT}` };
  }
  return { ok: true, value: parts };
}

/** toMillis reads a duration as elapsed time (a day as 24 hours). Use luxon for wall-clock days. */
export function toMillis(d: DurationParts): number {
  return ((((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000 + d.milliseconds;
}

/** formatDuration writes milliseconds back in the short form, e.g. 5400000 -> "1h30m". */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / 1000));
  const out: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out.push(`${n}${unit}`);
    rest -= n * size;
  }
  return out.length === 0 ? '0s' : out.join('');
}
