/**
 * RotationReader: loads the overrides and absences a question needs from the store and asks the
 * team's rotation policy through the PolicyBook (src/app/policies.ts). It is the only place that
 * joins stored rotation state with a team's rotation; every caller passes the container's book.
 */
import { DateTime } from 'luxon';
import type { MemberId, Team, World } from '../core/model';
import type { Handoff } from '../core/rotation/rotation';
import type { Gap } from '../core/rotation/schedule';
import type { RotationState, ScheduleSpan, Shift } from '../core/rotation/types';
import type { StoreTx } from '../ports/store';
import type { PolicyBook } from './policies';

export async function rotationStateFor(policies: PolicyBook, tx: StoreTx, team: Team, from: DateTime, to: DateTime): Promise<RotationState> {
  // Absences matter for every shift that touches the window, so the policy widens it (whole shifts).
  const { from: first, to: last } = policies.stateWindow(team, from, to);
  const [overrides, absences] = await Promise.all([tx.listOverrides(team.id, first, last), tx.listAbsences(first, last)]);
  return { overrides, absences };
}

export async function onCallNow(policies: PolicyBook, tx: StoreTx, team: Team, at: DateTime): Promise<Shift> {
  const state = await rotationStateFor(policies, tx, team, at, at.plus({ milliseconds: 1 }));
  return policies.onCallAt(team, state, at);
}

/** nominalOnCall: whom the rotation itself names at `at`, before overrides and absences (whom a covering shift covers for). */
export function nominalOnCall(policies: PolicyBook, team: Team, at: DateTime): MemberId {
  return policies.onCallAt(team, { overrides: [], absences: [] }, at).member;
}

export async function shiftsBetween(policies: PolicyBook, tx: StoreTx, team: Team, from: DateTime, to: DateTime): Promise<Shift[]> {
  const state = await rotationStateFor(policies, tx, team, from, to);
  return policies.shifts(team, state, from, to);
}

/** shadowNow: who shadows the team's on-call at `at` (a shadow layer), or null. */
export async function shadowNow(policies: PolicyBook, tx: StoreTx, team: Team, at: DateTime): Promise<MemberId | null> {
  if (!policies.hasShadows(team)) return null;
  const state = await rotationStateFor(policies, tx, team, at, at.plus({ milliseconds: 1 }));
  return policies.shadowAt(team, state, at);
}

/** shadowsBetween: the stretches of [from, to) in which someone shadows the on-call. */
export async function shadowsBetween(policies: PolicyBook, tx: StoreTx, team: Team, from: DateTime, to: DateTime): Promise<ScheduleSpan[]> {
  if (!policies.hasShadows(team)) return [];
  const state = await rotationStateFor(policies, tx, team, from, to);
  return policies.shadowShifts(team, state, from, to);
}

/** gapsBetween: the windows of [from, to) no layer covers and no override fills (the lead holds them). */
export async function gapsBetween(policies: PolicyBook, tx: StoreTx, team: Team, from: DateTime, to: DateTime): Promise<Gap[]> {
  const state = await rotationStateFor(policies, tx, team, from, to);
  return policies.gaps(team, state, from, to);
}

/** nextHandoffAfter: the first change of on-call member after `after` (looking up to 60 weeks of state ahead). */
export async function nextHandoffAfter(policies: PolicyBook, tx: StoreTx, team: Team, after: DateTime): Promise<Handoff | null> {
  const state = await rotationStateFor(policies, tx, team, after, after.plus({ weeks: 60 }));
  return policies.nextHandoffAfter(team, state, after);
}

/** ShiftChangeOfHands: a shift (clipped to the window looked at) that `from` had and `shift.member` has now. */
export interface ShiftChangeOfHands {
  readonly team: Team;
  readonly shift: Shift;
  readonly from: MemberId;
}

/**
 * shiftsGainedThrough runs `change` (which stores an absence of `member` from `start` to `end`) and
 * returns the shifts, in every rotation `member` takes part in, that someone else holds because of
 * it, from `now` on. Shifts are compared two weeks either side of the absence, which covers a whole
 * shift that overlaps it (the whole shift goes to the substitute) for shifts up to two weeks long.
 */
export async function shiftsGainedThrough(policies: PolicyBook, tx: StoreTx, world: World, who: MemberId | readonly MemberId[], start: DateTime, end: DateTime, now: DateTime, change: () => Promise<void>): Promise<ShiftChangeOfHands[]> {
  // Several absences at once (declared time off): compared once, before all and after all, so
  // overlapping ones give each shift to whoever really holds it in the end.
  const away = new Set(typeof who === 'string' ? [who] : who);
  const from = DateTime.max(now, start.minus({ weeks: 2 }));
  const to = end.plus({ weeks: 2 });
  const teams = to > from ? [...world.teams.values()].filter((t) => t.rotation.members.some((m) => away.has(m))) : [];
  const before = new Map<string, Shift[]>();
  for (const team of teams) before.set(team.id, await shiftsBetween(policies, tx, team, from, to));
  await change();
  const gained: ShiftChangeOfHands[] = [];
  for (const team of teams) {
    const was = before.get(team.id) ?? [];
    for (const shift of await shiftsBetween(policies, tx, team, from, to)) {
      const old = was.find((s) => s.start.toMillis() === shift.start.toMillis() && s.end.toMillis() === shift.end.toMillis());
      if (old && old.member !== shift.member && !away.has(shift.member)) gained.push({ team, shift, from: old.member });
    }
  }
  return gained;
}
