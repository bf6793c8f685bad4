/**
 * Layered schedules: the built-in "layered" rotation policy. A team has several layers, each its
 * own rotation (members, shift, handoff, start, read in the team's zone, with rotation.ts's rules
 * for DST, absences and the skip rule within the layer's members), and optional restrictions: the
 * weekly windows in which the layer covers (all the time when there are none).
 *
 * The rules:
 * - Priority. At each instant the first listed non-shadow layer that covers it and has someone is
 *   on call. Where no layer covers, the schedule has a gap (member null); the core lets the team
 *   lead hold it (schedule.ts) and check-config names it.
 * - Restrictions. A window starts at a weekday and wall-clock time and ends at the first later
 *   occurrence of its end weekday and time (a window whose end equals its start lasts a week).
 *   A daily window ("days: [Mon, Fri], from 18:00, to 09:00") is one weekly window per listed day,
 *   ending the same day when `to` is after `from`, the next day otherwise. Window edges are wall
 *   clock in the team's zone with the gap/fold rules of rotation boundaries (resolveWallClock: a
 *   time in a spring-forward gap moves forward by the gap, a time in a fold is its first
 *   occurrence), each computed from its own local date, so a window keeps its wall-clock times
 *   across DST (a Sat 09:00 to Mon 09:00 window lasts 47 or 49 hours over a change). A window
 *   that comes out empty (both edges in one gap) is skipped. Overlapping windows of one layer
 *   simply cover their union.
 * - Shift keys. A stretch of layer L's shift k is keyed "L#k": a layer's shift that is interrupted
 *   by a higher layer and comes back is the same shift again, but its pieces are separate
 *   stretches because something else lies between them.
 * - Shadow layers (someone learning) never take part in who is on call: they have their own
 *   schedule, the first covering shadow layer wins, and they are told about pages, never paged.
 *
 * Limits: as rotation.ts (millisecond instants; one offset change within 36 hours of an edge).
 * The cost is linear in the layer shifts and windows the asked window touches, times the layers.
 */
import { DateTime, IANAZone } from 'luxon';
import type { RotationSpec } from '../model';
import { resolveWallClock } from '../time/instant';
import type { LocalTime, Weekday } from '../time/weekday-time';
import { rotationPieces, shiftBounds, shiftIndexAt } from './rotation';
import type { Absence, ScheduleSpan } from './types';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** WeeklyWindow: from a weekday and time to the next occurrence of another (see the file comment). */
export interface WeeklyWindow {
  readonly from: { readonly weekday: Weekday; readonly time: LocalTime };
  readonly to: { readonly weekday: Weekday; readonly time: LocalTime };
}

export interface Layer {
  /** Unique in the team; shown in schedules ("weeknights"). */
  readonly name: string;
  /** The layer's own rotation, in the team's zone. */
  readonly rotation: RotationSpec;
  /** When the layer covers; empty: all the time. */
  readonly restrictions: readonly WeeklyWindow[];
  /** A shadow layer: told about each page of the team, never paged, never escalated to. */
  readonly shadow: boolean;
}

/** LayeredSettings: the "layered" policy's settings, in priority order (first listed wins). */
export interface LayeredSettings {
  readonly layers: readonly Layer[];
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly member: string | null;
  readonly key: string;
  readonly layer?: string;
}

/**
 * layeredSpans returns the base schedule of the on-call layers for [from, to): spans tiling it
 * exactly, in order, `member` null where no layer covers. DateTimes are in `timeZone`.
 */
export function layeredSpans(settings: LayeredSettings, timeZone: string, absences: readonly Absence[], from: DateTime, to: DateTime): ScheduleSpan[] {
  return combine(settings.layers.filter((l) => !l.shadow), timeZone, absences, from, to);
}

/** shadowSpans: the same for the shadow layers (member null where no shadow layer covers). */
export function shadowSpans(settings: LayeredSettings, timeZone: string, absences: readonly Absence[], from: DateTime, to: DateTime): ScheduleSpan[] {
  return combine(settings.layers.filter((l) => l.shadow), timeZone, absences, from, to);
}

/**
 * layerCoverage returns the instants [start, end) (epoch ms, merged, in order) within [a, b) in
 * which `layer` covers: its restriction windows, or all of [a, b) when it has none.
 */
export function layerCoverage(layer: Pick<Layer, 'restrictions'>, timeZone: string, a: number, b: number): Array<[number, number]> {
  if (b <= a) return [];
  if (layer.restrictions.length === 0) return [[a, b]];
  const zone = zoneOf(timeZone);
  const intervals: Array<[number, number]> = [];
  // Windows last at most a week, so one starting up to 8 days before a may still be open at a.
  const firstDay = localDay(zone, a) - 8 * DAY_MS;
  const lastDay = localDay(zone, b) + DAY_MS;
  for (let day = firstDay; day <= lastDay; day += DAY_MS) {
    const weekday = isoWeekday(day);
    for (const w of layer.restrictions) {
      if (w.from.weekday !== weekday) continue;
      const fromMin = w.from.time.hour * 60 + w.from.time.minute;
      const toMin = w.to.time.hour * 60 + w.to.time.minute;
      let days = (w.to.weekday - w.from.weekday + 7) % 7;
      if (days === 0 && toMin <= fromMin) days = 7;
      const s = resolveWallClock(zone, day + fromMin * MINUTE_MS);
      const e = resolveWallClock(zone, day + days * DAY_MS + toMin * MINUTE_MS);
      const start = Math.max(a, s);
      const end = Math.min(b, e);
      if (start < end) intervals.push([start, end]);
    }
  }
  intervals.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const iv of intervals) {
    const last = merged[merged.length - 1];
    if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
    else merged.push([iv[0], iv[1]]);
  }
  return merged;
}

/**
 * layeredStateWindow: the window whose absences can change [from, to): widened to whole shifts of
 * every layer (the skip rule looks at a whole shift).
 */
export function layeredStateWindow(settings: LayeredSettings, from: DateTime, to: DateTime): { from: DateTime; to: DateTime } {
  let first = from;
  let last = to;
  for (const layer of settings.layers) {
    const s = shiftBounds(layer.rotation, shiftIndexAt(layer.rotation, from)).start;
    const e = shiftBounds(layer.rotation, shiftIndexAt(layer.rotation, to)).end;
    if (s < first) first = s;
    if (e > last) last = e;
  }
  return { from: first, to: last };
}

/** combine: the layers' covered shifts over [from, to), first listed layer first, holes as gaps. */
function combine(layers: readonly Layer[], timeZone: string, absences: readonly Absence[], from: DateTime, to: DateTime): ScheduleSpan[] {
  const a = from.toMillis();
  const b = to.toMillis();
  if (!(b > a)) return [];
  // Each layer's covered pieces: its rotation shifts cut to its windows.
  const covered: Span[][] = layers.map((layer) => {
    const pieces = rotationPieces(layer.rotation, absences, a, b);
    const windows = layerCoverage(layer, timeZone, a, b);
    const out: Span[] = [];
    let w = 0;
    for (const p of pieces) {
      while (w < windows.length && (windows[w] as [number, number])[1] <= p.start) w++;
      for (let j = w; j < windows.length && (windows[j] as [number, number])[0] < p.end; j++) {
        const [ws, we] = windows[j] as [number, number];
        const start = Math.max(ws, p.start);
        const end = Math.min(we, p.end);
        if (start < end) out.push({ start, end, member: p.member, key: `${layer.name}#${p.k}`, layer: layer.name });
      }
    }
    return out;
  });
  const points = new Set<number>([a, b]);
  for (const list of covered) for (const s of list) {
    points.add(s.start);
    points.add(s.end);
  }
  const cuts = [...points].sort((x, y) => x - y);
  const cursor = covered.map(() => 0);
  const spans: Span[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i] as number;
    const end = cuts[i + 1] as number;
    let found: Span | null = null;
    for (let l = 0; l < covered.length && found === null; l++) {
      const list = covered[l] as Span[];
      let c = cursor[l] as number;
      while (c < list.length && (list[c] as Span).end <= start) c++;
      cursor[l] = c;
      const s = list[c];
      if (s && s.start <= start) found = s;
    }
    const piece: Span = found ? { start, end, member: found.member, key: found.key, layer: found.layer } : { start, end, member: null, key: 'gap' };
    const last = spans[spans.length - 1];
    if (last && last.end === start && last.key === piece.key && last.member === piece.member) spans[spans.length - 1] = { ...last, end };
    else spans.push(piece);
  }
  const zone = zoneOf(timeZone);
  return spans.map((s) => ({
    start: DateTime.fromMillis(s.start, { zone }),
    end: DateTime.fromMillis(s.end, { zone }),
    member: s.member,
    key: s.key,
    ...(s.layer !== undefined ? { layer: s.layer } : {}),
  }));
}

function zoneOf(timeZone: string): IANAZone {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new RangeError(`unknown time zone "${timeZone}"`);
  return zone;
}

/** localDay: the start of the local date of `t` in `zone`, as milliseconds as if that wall clock were UTC. */
function localDay(zone: IANAZone, t: number): number {
  const local = t + zone.offset(t) * MINUTE_MS;
  return Math.floor(local / DAY_MS) * DAY_MS;
}

/** isoWeekday of a UTC midnight in milliseconds: 1 = Monday ... 7 = Sunday. */
function isoWeekday(dayMs: number): Weekday {
  return ((((new Date(dayMs).getUTCDay() + 6) % 7) + 1) as Weekday);
}
