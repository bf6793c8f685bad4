/**
 * Schedule: who is on call, for any rotation policy. A policy gives the base schedule (who its
 * rules put on call, absences applied); the functions here put the overrides on top, let the team
 * lead hold any gap, and answer the questions the app asks: the stretches between two instants,
 * the stretch at an instant, the next handoff, the gaps. Pure: no I/O, no clock.
 *
 * Why overrides live here and not in each policy: "an override always wins" is a promise to the
 * people who set them (`oncall override`, `oncall swap`), so it must hold whatever policy a team
 * picks, including a plugin's. A policy cannot forget it, or apply it differently.
 *
 * Why the lead holds gaps: a layered schedule may leave an instant uncovered (a weeknight layer
 * with no daytime layer under it), and a plugin policy may name nobody. An incident still needs an
 * owner, and DESIGN.md's chain must never end with nobody, so the lead is on call there; the
 * stretch says so (`gap: true`), and `oncall schedule`, `oncall who` and check-config show it.
 *
 * The rules for overrides and stretches are rotation.ts's (higher seq wins, then the later one;
 * empty overrides ignored; two adjacent pieces are one stretch only when they come from the same
 * override id, or the same base shift key with the same member and both or neither a gap).
 *
 * A base schedule that breaks its contract (spans outside the window, overlapping, with holes, or
 * empty) is repaired rather than trusted: spans are clipped to the window, an overlap goes to the
 * span that starts first, and a hole is a gap.
 */
import { DateTime, IANAZone } from 'luxon';
import type { MemberId } from '../model';
import { liveOverrides, overrideLayer, winnerAt, type Handoff, type LiveOverride } from './rotation';
import type { RotationState, ScheduleSpan, Shift } from './types';

const DAY_MS = 86_400_000;
/** How far `onCallAt` and `nextHandoffAfter` look around an instant (about three years). */
const SEARCH_LIMIT_MS = 3 * 366 * DAY_MS;

/**
 * BaseSchedule: a policy's base schedule, ready to ask. `spans(from, to)` tiles [from, to);
 * `spanAt(at)`, when the policy knows it directly, is the whole base span containing `at`.
 */
export interface BaseSchedule {
  spans(from: DateTime, to: DateTime): readonly ScheduleSpan[];
  spanAt?(at: DateTime): ScheduleSpan;
}

/** ScheduleFrame: what the core adds to a base schedule: the team's zone and who holds gaps. */
export interface ScheduleFrame {
  readonly timeZone: string;
  /** Who is on call where the base schedule has nobody (the team lead). */
  readonly gapHolder: MemberId;
}

interface MsSpan {
  readonly start: number;
  readonly end: number;
  readonly member: MemberId | null;
  readonly key: string;
  readonly layer?: string;
}

interface Piece {
  start: number;
  end: number;
  readonly member: MemberId | null;
  readonly override: LiveOverride | null;
  readonly key: string;
  readonly layer?: string;
}

/**
 * scheduleShifts returns the stretches that tile [from, to) exactly, overrides on top, gaps held
 * by `frame.gapHolder` (marked `gap: true`); [] when `to <= from`. DateTimes are in the team zone.
 */
export function scheduleShifts(base: BaseSchedule, state: RotationState, frame: ScheduleFrame, from: DateTime, to: DateTime): Shift[] {
  const a = millisOf(from, 'from');
  const b = millisOf(to, 'to');
  if (b <= a) return [];
  return stretches(base, liveOverrides(state.overrides), a, b).map((p) => toShift(p, frame));
}

/**
 * scheduleOnCallAt returns the stretch containing `at`, as scheduleShifts would show it in a window
 * wide enough not to clip it (a base span longer than about three years is clipped there).
 */
export function scheduleOnCallAt(base: BaseSchedule, state: RotationState, frame: ScheduleFrame, at: DateTime): Shift {
  const t = millisOf(at, 'instant');
  const overrides = liveOverrides(state.overrides);
  const winner = winnerAt(overrides, t);
  let window: [number, number];
  if (winner) window = [winner.start, winner.end];
  else {
    const span = baseSpanAt(base, t);
    window = [span.start, span.end];
  }
  const piece = stretches(base, overrides, window[0], window[1]).find((p) => p.start <= t && t < p.end);
  // Unreachable: the stretches tile the window, which contains t.
  if (!piece) throw new Error(`onCallAt: no stretch contains ${at.toISO()}`);
  return toShift(piece, frame);
}

/**
 * scheduleNextHandoff returns the first instant strictly after `after` at which the on-call member
 * changes (overrides and gap holders included), or null if none within about three years.
 */
export function scheduleNextHandoff(base: BaseSchedule, state: RotationState, frame: ScheduleFrame, after: DateTime): Handoff | null {
  const t = millisOf(after, 'instant');
  const limit = t + SEARCH_LIMIT_MS;
  const overrides = liveOverrides(state.overrides);
  let chunk = 4 * DAY_MS;
  let from = t;
  let current: MemberId | null = null;
  while (from < limit) {
    const to = Math.min(limit, from + chunk);
    for (const piece of stretches(base, overrides, from, to)) {
      const member = piece.member ?? frame.gapHolder;
      if (current === null) current = member;
      else if (member !== current) return { at: DateTime.fromMillis(piece.start, { zone: frame.timeZone }), outgoing: current, incoming: member };
    }
    from = to;
    chunk *= 2;
  }
  return null;
}

/** Gap: a window in which nobody but the gap holder is on call. */
export interface Gap {
  readonly start: DateTime;
  readonly end: DateTime;
}

/** scheduleGaps returns the gaps of [from, to) that no override covers, merged, in order. */
export function scheduleGaps(base: BaseSchedule, state: RotationState, frame: ScheduleFrame, from: DateTime, to: DateTime): Gap[] {
  const gaps: Gap[] = [];
  for (const s of scheduleShifts(base, state, frame, from, to)) {
    if (!s.gap) continue;
    const last = gaps[gaps.length - 1];
    if (last && last.end.toMillis() === s.start.toMillis()) gaps[gaps.length - 1] = { start: last.start, end: s.end };
    else gaps.push({ start: s.start, end: s.end });
  }
  return gaps;
}

/**
 * memberAt: the member a schedule of spans (shadows, say) names at `at`; overrides never apply.
 * Null when the schedule has nobody there.
 */
export function memberAt(spans: (from: DateTime, to: DateTime) => readonly ScheduleSpan[], at: DateTime): MemberId | null {
  const t = millisOf(at, 'instant');
  const found = normalize(spans(at, at.plus({ milliseconds: 1 })), t, t + 1).find((s) => s.start <= t && t < s.end);
  return found?.member ?? null;
}

/** normalizedSpans: a base schedule's spans for [from, to), repaired to tile it (see the file comment). */
export function normalizedSpans(spans: readonly ScheduleSpan[], from: DateTime, to: DateTime): ScheduleSpan[] {
  const zone = from.zone;
  return normalize(spans, from.toMillis(), to.toMillis()).map((s) => ({
    start: DateTime.fromMillis(s.start, { zone }),
    end: DateTime.fromMillis(s.end, { zone }),
    member: s.member,
    key: s.key,
    ...(s.layer !== undefined ? { layer: s.layer } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------

/** baseSpanAt: the whole base span containing t (merged with neighbours of the same key). */
function baseSpanAt(base: BaseSchedule, t: number): MsSpan {
  if (base.spanAt) {
    const s = base.spanAt(DateTime.fromMillis(t, { zone: 'utc' }));
    const start = s.start.toMillis();
    const end = s.end.toMillis();
    if (start <= t && t < end) return { start, end, member: s.member, key: s.key, layer: s.layer };
  }
  for (let w = DAY_MS; ; w *= 4) {
    const a = t - w;
    const b = t + w;
    const spans = merged(normalize(base.spans(dt(a), dt(b)), a, b));
    const found = spans.find((s) => s.start <= t && t < s.end) as MsSpan;
    if ((found.start > a && found.end < b) || w >= SEARCH_LIMIT_MS) return found;
  }
}

function dt(ms: number): DateTime {
  return DateTime.fromMillis(ms, { zone: 'utc' });
}

/** merged joins adjacent spans of the same key and member. */
function merged(spans: readonly MsSpan[]): MsSpan[] {
  const out: MsSpan[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && last.end === s.start && last.key === s.key && last.member === s.member) out[out.length - 1] = { ...last, end: s.end };
    else out.push(s);
  }
  return out;
}

/** normalize clips, orders and repairs spans so they tile [a, b) (holes become gaps). */
function normalize(spans: readonly ScheduleSpan[], a: number, b: number): MsSpan[] {
  const raw: MsSpan[] = [];
  for (const s of spans) {
    if (!s.start.isValid || !s.end.isValid) continue;
    const start = Math.max(a, s.start.toMillis());
    const end = Math.min(b, s.end.toMillis());
    if (start < end) raw.push({ start, end, member: s.member ?? null, key: String(s.key), ...(s.layer !== undefined ? { layer: s.layer } : {}) });
  }
  raw.sort((x, y) => x.start - y.start);
  const out: MsSpan[] = [];
  let at = a;
  for (const s of raw) {
    if (s.end <= at) continue;
    if (s.start > at) out.push({ start: at, end: s.start, member: null, key: 'gap' });
    out.push({ ...s, start: Math.max(at, s.start) });
    at = s.end;
  }
  if (at < b) out.push({ start: at, end: b, member: null, key: 'gap' });
  return out;
}

/** stretches: the override layer over the base spans of [a, b), merged into stretches. */
function stretches(base: BaseSchedule, all: readonly LiveOverride[], a: number, b: number): Piece[] {
  const layer = overrideLayer(all, a, b);
  const pieces: Piece[] = [];
  const push = (p: Piece): void => {
    const last = pieces[pieces.length - 1];
    const same = last && last.end === p.start && (p.override
      ? last.override === p.override
      : last.override === null && last.key === p.key && last.member === p.member);
    if (same) last.end = p.end;
    else pieces.push(p);
  };
  // The base spans are asked once, for the parts no override covers.
  const open = layer.filter((seg) => seg.winner === null);
  const spans = open.length === 0 ? [] : normalize(base.spans(dt(open[0]!.start), dt(open[open.length - 1]!.end)), open[0]!.start, open[open.length - 1]!.end);
  let i = 0;
  for (const seg of layer) {
    if (seg.winner) {
      push({ start: seg.start, end: seg.end, member: seg.winner.member, override: seg.winner, key: `o:${seg.winner.id}` });
      continue;
    }
    while (i < spans.length && (spans[i] as MsSpan).end <= seg.start) i++;
    for (let j = i; j < spans.length && (spans[j] as MsSpan).start < seg.end; j++) {
      const s = spans[j] as MsSpan;
      push({ start: Math.max(s.start, seg.start), end: Math.min(s.end, seg.end), member: s.member, override: null, key: s.key, ...(s.layer !== undefined ? { layer: s.layer } : {}) });
    }
  }
  return pieces;
}

function toShift(p: Piece, frame: ScheduleFrame): Shift {
  const zone = IANAZone.create(frame.timeZone);
  const start = DateTime.fromMillis(p.start, { zone });
  const end = DateTime.fromMillis(p.end, { zone });
  if (p.override) return { member: p.override.member, start, end, override: true, overrideId: p.override.id };
  if (p.member === null) return { member: frame.gapHolder, start, end, override: false, gap: true, key: p.key };
  return { member: p.member, start, end, override: false, key: p.key, ...(p.layer !== undefined ? { layer: p.layer } : {}) };
}

function millisOf(d: DateTime, name: string): number {
  if (!d.isValid) throw new RangeError(`${name} is an invalid DateTime (${d.invalidReason ?? 'unknown reason'})`);
  return d.toMillis();
}
