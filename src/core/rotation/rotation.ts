/**
 * Rotation: who is on call, computed from a RotationSpec, the overrides and absences in a
 * RotationState, and instants passed in by the caller. Pure: luxon only, no I/O, no clock.
 *
 * The documented rules:
 *
 * - Anchor. The rotation's first handoff is the first local date on or after `spec.start` (an ISO
 *   date read in `spec.timeZone`) whose ISO weekday equals `spec.handoff.weekday` (any date when
 *   the weekday is null), at the wall-clock time `spec.handoff.time`, in `spec.timeZone`.
 * - Shifts. Shift k (any integer; negative k lie before the anchor, the rotation is periodic in both
 *   directions) is the half-open interval [boundary(k), boundary(k + 1)).
 *   - unit 'days' / 'weeks': boundary(k) is the anchor's local date plus k * amount days (or weeks),
 *     at the handoff wall-clock time, in the zone. A Monday 09:00 handoff stays Monday 09:00 across
 *     DST, so a week spanning a change lasts 167 or 169 hours (167.5 / 168.5 on Lord Howe).
 *   - unit 'hours': boundary(k) is the anchor instant plus k * amount hours of elapsed time, so the
 *     local handoff time moves by the DST change.
 *   - `amount` must be a positive integer.
 * - DST gaps and folds, for a wall-clock boundary (and for the anchor itself):
 *   - If the handoff time does not exist that day (spring-forward gap), the boundary is the local
 *     time moved forward by the gap length, which is the first instant after the gap for a time
 *     inside it (02:30 on Berlin's spring-forward day is 03:30+02:00).
 *   - If it exists twice (fold), the boundary is the earlier instant, the first occurrence (02:30
 *     on Berlin's fall-back day is 02:30+02:00).
 *   - Every boundary is computed from its own local date, never by stepping from a neighbouring
 *     boundary, so one odd day never drifts later shifts.
 * - Nominal member. Shift k belongs nominally to `spec.members[mod(k, n)]`.
 * - Absences (the skip rule). If the nominal member has an absence overlapping shift k's full
 *   interval (half-open: `a.start < shift.end && a.end > shift.start`), the shift goes to the next
 *   member in rotation order (members[mod(k + 1, n)], members[mod(k + 2, n)], ...) who has no absence
 *   overlapping that shift. It is a substitution: later shifts keep their nominal owners. If every
 *   member is away, the nominal member keeps the shift. Empty absences (end <= start) are ignored.
 * - Overrides. An override always wins over the rotation for its interval. Where overrides overlap,
 *   the higher `seq` wins for the overlapping part (equal `seq`: the one listed later in
 *   `state.overrides`). Outside an override's interval the rotation is back where it would have
 *   been. Empty overrides (end <= start) are ignored.
 * - Stretches. `shifts` and `onCallAt` describe on-call as stretches: a rotation shift cut by the
 *   overrides over it, or the part of an override where it wins. Two adjacent pieces form one
 *   stretch only when they come from the same rotation shift or the same override id; consecutive
 *   rotation shifts are separate stretches even when they have the same member.
 *
 * Limits: instants have millisecond precision; the gap/fold rule assumes a zone changes its UTC
 * offset at most once within 36 hours of a boundary (true of every zone in today's tz database).
 * A spec that breaks the contract (no members, bad amount, unknown zone, bad start date) makes every
 * function throw a RangeError.
 *
 * Luxon notes (why the zone arithmetic below does not use DateTime.fromObject / plus):
 * - DateTime.fromObject / fromISO resolve a fold with the zone's offset at the time luxon first
 *   used that zone in the process (a cached guess from Settings.now()), so the result depends on
 *   the wall clock of the machine. A gap is resolved deterministically (moved forward by the gap).
 * - DateTime.plus / minus with days or weeks keep the starting offset in a fold (so the answer
 *   depends on the direction you came from), and stepping from a gap-shifted 03:30 keeps 03:30 on
 *   the following days.
 */
import { DateTime, IANAZone } from 'luxon';
import { resolveWallClock } from '../time/instant';
import type { MemberId, RotationSpec } from '../model';
import type { Absence, Override, RotationState, Shift } from './types';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** How far nextHandoffAfter looks ahead before giving up. */
const HANDOFF_SEARCH_YEARS = 3;

/** Bounds of one stretch, as `shiftBounds` returns them. */
export interface ShiftBounds {
  readonly start: DateTime;
  readonly end: DateTime;
}

/** Handoff: the on-call member changes from `outgoing` to `incoming` at `at`. */
export interface Handoff {
  readonly at: DateTime;
  readonly outgoing: MemberId;
  readonly incoming: MemberId;
}

/**
 * rotationAnchor returns the rotation's first handoff (shift 0's start) in `spec.timeZone`: the
 * first date on or after `spec.start` with the handoff weekday, at the handoff time, with the gap
 * and fold rules of this file. Throws a RangeError for a spec that breaks the contract.
 */
export function rotationAnchor(spec: RotationSpec): DateTime {
  const c = compile(spec);
  return toDateTime(c, c.anchorMs);
}

/**
 * shiftIndexAt returns the index k of the rotation shift containing `instant`
 * (boundary(k) <= instant < boundary(k + 1)); negative before the anchor. Overrides and absences
 * do not matter here. Throws a RangeError for an invalid instant.
 */
export function shiftIndexAt(spec: RotationSpec, instant: DateTime): number {
  return indexAt(compile(spec), millisOf(instant, 'instant'));
}

/**
 * shiftBounds returns rotation shift k's half-open interval [start, end) in `spec.timeZone`.
 * k must be an integer (negative k lie before the anchor); otherwise a RangeError is thrown.
 */
export function shiftBounds(spec: RotationSpec, k: number): ShiftBounds {
  if (!Number.isSafeInteger(k)) throw new RangeError(`shift index ${k} is not an integer`);
  const c = compile(spec);
  return { start: boundaryTime(c, k), end: boundaryTime(c, k + 1) };
}

/**
 * onCallAt returns the stretch containing `instant`, exactly as `shifts` would show it in a window
 * wide enough not to clip it: for an override, the part of the override around `instant` where it
 * wins; for a rotation shift, the shift's bounds cut short by any overrides around `instant`.
 */
export function onCallAt(spec: RotationSpec, state: RotationState, instant: DateTime): Shift {
  const c = compile(spec);
  const t = millisOf(instant, 'instant');
  const overrides = liveOverrides(state.overrides);
  const winner = winnerAt(overrides, t);
  let window: [number, number];
  if (winner) {
    window = [winner.start, winner.end];
  } else {
    const k = indexAt(c, t);
    window = [boundary(c, k), boundary(c, k + 1)];
  }
  const piece = stretches(c, state, overrides, window[0], window[1]).find((p) => p.start <= t && t < p.end);
  // Unreachable: the stretches tile the window, which contains t.
  if (!piece) throw new Error(`onCallAt: no stretch contains ${instant.toISO()}`);
  return toShift(c, piece);
}

/**
 * shifts returns the stretches that tile [from, to) exactly, in order: the first starts at `from`,
 * the last ends at `to` (stretches are clipped to the window), each ends where the next starts, and
 * none is empty. Returns [] when `to <= from`. Every DateTime returned is in `spec.timeZone`.
 * Cost: linear in the rotation shifts and absences the window touches, plus the square of the
 * overrides overlapping it; the first shift is found directly from `from`, never by walking from
 * the anchor, so a far-off window costs the same as a near one (a year of weekly shifts with 50
 * overrides takes a few milliseconds).
 */
export function shifts(spec: RotationSpec, state: RotationState, from: DateTime, to: DateTime): Shift[] {
  const c = compile(spec);
  const a = millisOf(from, 'from');
  const b = millisOf(to, 'to');
  if (b <= a) return [];
  const pieces = stretches(c, state, liveOverrides(state.overrides), a, b);
  // Each stretch starts where the previous one ends: build that DateTime once (luxon asks Intl
  // for the zone offset on every construction, which dominates the cost of long windows).
  let previousEnd = toDateTime(c, a);
  return pieces.map((p) => {
    const shift = toShift(c, p, previousEnd);
    previousEnd = shift.end;
    return shift;
  });
}

/**
 * nextHandoffAfter returns the first instant strictly after `instant` at which the on-call member
 * changes (a rotation boundary, or an override's start or end), with who hands to whom. Boundaries
 * where the member stays the same are skipped. Looks ahead less than 3 years (calendar years from
 * `instant`) and returns null if the member does not change in that time (for example a one-member
 * rotation with no overrides). `at` is in `spec.timeZone`.
 */
export function nextHandoffAfter(spec: RotationSpec, state: RotationState, instant: DateTime): Handoff | null {
  const c = compile(spec);
  const t = millisOf(instant, 'instant');
  const limit = instant.plus({ years: HANDOFF_SEARCH_YEARS }).toMillis();
  const overrides = liveOverrides(state.overrides);
  let chunk = Math.max(DAY_MS, 4 * c.stepApproxMs);
  let from = t;
  let current: MemberId | null = null;
  while (from < limit) {
    const to = Math.min(limit, from + chunk);
    for (const piece of stretches(c, state, overrides, from, to)) {
      if (current === null) current = piece.member;
      else if (piece.member !== current) {
        return { at: toDateTime(c, piece.start), outgoing: current, incoming: piece.member };
      }
    }
    from = to;
    chunk *= 2;
  }
  return null;
}

/** RotationPiece: one rotation shift `k` (absences applied, no overrides), clipped to a window. */
export interface RotationPiece {
  readonly k: number;
  readonly member: MemberId;
  readonly start: number;
  readonly end: number;
}

/**
 * rotationPieces returns the rotation shifts (the skip rule applied for `absences`, overrides
 * ignored) that tile [from, to) in epoch milliseconds, each clipped to the window and tagged with
 * its shift index k. It is the base schedule the rotation policies build on (the single policy and
 * each layer of a layered one); `shifts` with no overrides gives the same stretches as DateTimes.
 */
export function rotationPieces(spec: RotationSpec, absences: readonly Absence[], from: number, to: number): RotationPiece[] {
  if (to <= from) return [];
  const c = compile(spec);
  return stretches(c, { overrides: [], absences }, [], from, to).map((p) => ({ k: p.k as number, member: p.member, start: p.start, end: p.end }));
}

/**
 * rotationShiftAt returns the whole rotation shift containing `instant` (absences applied,
 * overrides ignored), unclipped, in epoch milliseconds.
 */
export function rotationShiftAt(spec: RotationSpec, absences: readonly Absence[], instant: number): RotationPiece {
  const c = compile(spec);
  const k = indexAt(c, instant);
  const start = boundary(c, k);
  const end = boundary(c, k + 1);
  return { k, member: memberOf(c, absences, k, start, end), start, end };
}

// ---------------------------------------------------------------------------------------------
// Internals: everything is epoch milliseconds until the DateTimes are built at the very end.

interface Compiled {
  readonly spec: RotationSpec;
  readonly zone: IANAZone;
  readonly members: readonly MemberId[];
  readonly unit: 'hours' | 'days' | 'weeks';
  /** Days between wall-clock boundaries (days/weeks units). */
  readonly stepDays: number;
  /** Elapsed milliseconds between boundaries (hours unit). */
  readonly stepMs: number;
  /** A rough shift length, for sizing search windows. */
  readonly stepApproxMs: number;
  /** The anchor's local date and handoff time, as if that wall clock were UTC. */
  readonly anchorLocalMs: number;
  readonly anchorMs: number;
  /**
   * boundary(k) by k, for wall-clock shifts: each is a pure function of the spec, and resolving a
   * wall clock asks the zone for its offset four times (Intl, microseconds each); the on-call is
   * asked about the same few boundaries again and again. Bounded by BOUNDARY_MEMO.
   */
  readonly boundaries: Map<number, number>;
  /** The same boundaries as DateTimes in the zone (immutable values; building one asks the zone again). */
  readonly boundaryTimes: Map<number, DateTime>;
}

/**
 * Boundaries a compiled spec remembers before it starts over: numbers for eleven years of daily
 * shifts (the next handoff is looked for up to three years ahead), DateTimes for fewer.
 */
const BOUNDARY_MEMO = 4096;
const BOUNDARY_TIME_MEMO = 1024;

interface Piece {
  readonly start: number;
  readonly end: number;
  readonly member: MemberId;
  /** The winning override, or null for a rotation shift. */
  readonly override: LiveOverride | null;
  /** The rotation shift index, for rotation pieces. */
  readonly k: number | null;
}

/** LiveOverride: an override in epoch milliseconds (shared with schedule.ts). */
export interface LiveOverride {
  readonly id: string;
  readonly member: MemberId;
  readonly start: number;
  readonly end: number;
  readonly seq: number;
  /** Position in state.overrides, the tie-break for equal seq. */
  readonly order: number;
}

/**
 * compiled memoizes `compile` per spec object. Specs are readonly values, so the memo can never go
 * stale; it only saves re-validating the spec and re-resolving the anchor on every call.
 */
const compiled = new WeakMap<RotationSpec, Compiled>();

function compile(spec: RotationSpec): Compiled {
  let c = compiled.get(spec);
  if (!c) {
    c = compileUncached(spec);
    compiled.set(spec, c);
  }
  return c;
}

function compileUncached(spec: RotationSpec): Compiled {
  const members = spec.members;
  if (members.length === 0) throw new RangeError('rotation has no members');
  const { unit, amount } = spec.shift;
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw new RangeError(`shift amount ${amount} is not a positive integer`);
  }
  if (unit !== 'hours' && unit !== 'days' && unit !== 'weeks') {
    throw new RangeError(`unknown shift unit ${String(unit)}`);
  }
  // IANAZone.create is cached by luxon; IANAZone.isValidZone would build an Intl formatter per call.
  const zone = IANAZone.create(spec.timeZone);
  if (!zone.isValid) throw new RangeError(`unknown time zone "${spec.timeZone}"`);
  const { hour, minute } = spec.handoff.time;
  if (!Number.isInteger(hour) || !Number.isInteger(minute) || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    throw new RangeError(`handoff time ${hour}:${minute} is not a time of day`);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(spec.start);
  const startDay = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(startDay).toISOString().slice(0, 10) !== spec.start) {
    throw new RangeError(`rotation start "${spec.start}" is not an ISO date`);
  }
  const isoWeekday = ((new Date(startDay).getUTCDay() + 6) % 7) + 1;
  const wanted = spec.handoff.weekday;
  const skipDays = wanted === null ? 0 : (wanted - isoWeekday + 7) % 7;
  const anchorLocalMs = startDay + skipDays * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS;
  const stepDays = unit === 'weeks' ? 7 * amount : unit === 'days' ? amount : 0;
  const stepMs = unit === 'hours' ? amount * HOUR_MS : 0;
  return {
    spec,
    zone,
    members,
    unit,
    stepDays,
    stepMs,
    stepApproxMs: unit === 'hours' ? stepMs : stepDays * DAY_MS,
    anchorLocalMs,
    anchorMs: resolveWallClock(zone, anchorLocalMs),
    boundaries: new Map(),
    boundaryTimes: new Map(),
  };
}

function boundary(c: Compiled, k: number): number {
  if (c.unit === 'hours') return c.anchorMs + k * c.stepMs;
  let at = c.boundaries.get(k);
  if (at === undefined) {
    at = resolveWallClock(c.zone, c.anchorLocalMs + k * c.stepDays * DAY_MS);
    if (c.boundaries.size >= BOUNDARY_MEMO) c.boundaries.clear();
    c.boundaries.set(k, at);
  }
  return at;
}

function boundaryTime(c: Compiled, k: number): DateTime {
  let at = c.boundaryTimes.get(k);
  if (at === undefined) {
    at = toDateTime(c, boundary(c, k));
    if (c.boundaryTimes.size >= BOUNDARY_TIME_MEMO) c.boundaryTimes.clear();
    c.boundaryTimes.set(k, at);
  }
  return at;
}

function indexAt(c: Compiled, t: number): number {
  let k: number;
  if (c.unit === 'hours') {
    k = Math.floor((t - c.anchorMs) / c.stepMs);
  } else {
    const local = t + c.zone.offset(t) * MINUTE_MS;
    k = Math.floor((local - c.anchorLocalMs) / (c.stepDays * DAY_MS));
  }
  // The estimate can be one off near a DST change (or float rounding); settle it exactly.
  while (boundary(c, k) > t) k--;
  while (boundary(c, k + 1) <= t) k++;
  return k;
}

function mod(k: number, n: number): number {
  return ((k % n) + n) % n;
}

/** memberOf applies the skip rule to rotation shift k = [start, end). */
function memberOf(c: Compiled, absences: readonly Absence[], k: number, start: number, end: number): MemberId {
  const n = c.members.length;
  const nominal = c.members[mod(k, n)] as MemberId;
  if (absences.length === 0) return nominal;
  const away = (member: MemberId): boolean =>
    absences.some((a) => {
      if (a.member !== member) return false;
      const s = a.start.toMillis();
      const e = a.end.toMillis();
      return s < e && s < end && e > start;
    });
  for (let i = 0; i < n; i++) {
    const member = c.members[mod(k + i, n)] as MemberId;
    if (!away(member)) return member;
  }
  return nominal;
}

/** liveOverrides: the non-empty overrides in epoch milliseconds, with their order (shared with schedule.ts). */
export function liveOverrides(overrides: readonly Override[]): LiveOverride[] {
  const live: LiveOverride[] = [];
  overrides.forEach((o, order) => {
    const start = o.start.toMillis();
    const end = o.end.toMillis();
    if (start < end) live.push({ id: o.id, member: o.member, start, end, seq: o.seq, order });
  });
  return live;
}

function beats(a: LiveOverride, b: LiveOverride): boolean {
  return a.seq > b.seq || (a.seq === b.seq && a.order > b.order);
}

/** winnerAt: the override that wins at `t` (higher seq, then later in the list), or null. */
export function winnerAt(overrides: readonly LiveOverride[], t: number): LiveOverride | null {
  let winner: LiveOverride | null = null;
  for (const o of overrides) {
    if (o.start <= t && t < o.end && (winner === null || beats(o, winner))) winner = o;
  }
  return winner;
}

/** OverrideSegment: a part of a window with one winning override, or none (null). */
export interface OverrideSegment {
  readonly start: number;
  end: number;
  readonly winner: LiveOverride | null;
}

/**
 * overrideLayer tiles [a, b) (a < b) with the segments between override endpoints, each with its
 * winner, adjacent segments of the same winner merged (shared with schedule.ts).
 */
export function overrideLayer(all: readonly LiveOverride[], a: number, b: number): OverrideSegment[] {
  const overrides = all.filter((o) => o.start < b && o.end > a);
  const cuts = new Set<number>([a, b]);
  for (const o of overrides) {
    if (o.start > a && o.start < b) cuts.add(o.start);
    if (o.end > a && o.end < b) cuts.add(o.end);
  }
  const points = [...cuts].sort((x, y) => x - y);
  const layer: OverrideSegment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] as number;
    const end = points[i + 1] as number;
    const winner = winnerAt(overrides, start);
    const last = layer[layer.length - 1];
    if (last && last.winner === winner) last.end = end;
    else layer.push({ start, end, winner });
  }
  return layer;
}

/** stretches tiles [a, b) (a < b) with merged pieces; see the file comment for the merge rule. */
function stretches(c: Compiled, state: RotationState, all: readonly LiveOverride[], a: number, b: number): Piece[] {
  const layer = overrideLayer(all, a, b);
  // Fill the gaps with rotation shifts; their boundaries are computed once for the whole window.
  const pieces: Piece[] = [];
  let k = indexAt(c, a);
  let kStart = boundary(c, k);
  let kEnd = boundary(c, k + 1);
  let kMember: MemberId | null = null;
  for (const seg of layer) {
    if (seg.winner) {
      pieces.push({ start: seg.start, end: seg.end, member: seg.winner.member, override: seg.winner, k: null });
      continue;
    }
    let s = seg.start;
    while (s < seg.end) {
      while (kEnd <= s) {
        k++;
        kStart = kEnd;
        kEnd = boundary(c, k + 1);
        kMember = null;
      }
      kMember ??= memberOf(c, state.absences, k, kStart, kEnd);
      const e = Math.min(seg.end, kEnd);
      pieces.push({ start: s, end: e, member: kMember, override: null, k });
      s = e;
    }
  }
  return pieces;
}

function millisOf(d: DateTime, name: string): number {
  if (!d.isValid) throw new RangeError(`${name} is an invalid DateTime (${d.invalidReason ?? 'unknown reason'})`);
  return d.toMillis();
}

function toDateTime(c: Compiled, ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: c.zone });
}

function toShift(c: Compiled, p: Piece, start: DateTime = toDateTime(c, p.start)): Shift {
  const base = { member: p.member, start, end: toDateTime(c, p.end) };
  return p.override ? { ...base, override: true, overrideId: p.override.id } : { ...base, override: false };
}
