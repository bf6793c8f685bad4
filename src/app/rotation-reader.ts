/**
 * RotationReader loads the overrides and absences a question needs from the store and asks the pure
 * rotation functions. It is the only place that joins rotation state with the rotation spec.
 */
import { DateTime } from 'luxon';
import type { MemberId, Team, World } from '../core/model';
import { onCallAt, shiftBounds, shiftIndexAt, shifts } from '../core/rotation/rotation';
import type { RotationState, Shift } from '../core/rotation/types';
import type { StoreTx } from '../ports/store';

export async function rotationStateFor(tx: StoreTx, team: Team, from: DateTime, to: DateTime): Promise<RotationState> {
  const spec = team.rotation;
  // Absences matter for every rotation shift that touches the window, so widen to whole shifts.
  const first = shiftBounds(spec, shiftIndexAt(spec, from)).start;
  const last = shiftBounds(spec, shiftIndexAt(spec, to)).end;
  const [overrides, absences] = await Promise.all([tx.listOverrides(team.id, first, last), tx.listAbsences(first, last)]);
  return { overrides, absences };
}

export async function onCallNow(tx: StoreTx, team: Team, at: DateTime): Promise<Shift> {
  const state = await rotationStateFor(tx, team, at, at.plus({ milliseconds: 1 }));
  return onCallAt(team.rotation, state, at);
}

export async function shiftsBetween(tx: StoreTx, team: Team, from: DateTime, to: DateTime): Promise<Shift[]> {
  const state = await rotationStateFor(tx, team, from, to);
  return shifts(team.rotation, state, from, to);
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
export async function shiftsGainedThrough(tx: StoreTx, world: World, member: MemberId, start: DateTime, end: DateTime, now: DateTime, change: () => Promise<void>): Promise<ShiftChangeOfHands[]> {
  const from = DateTime.max(now, start.minus({ weeks: 2 }));
  const to = end.plus({ weeks: 2 });
  const teams = to > from ? [...world.teams.values()].filter((t) => t.rotation.members.includes(member)) : [];
  const before = new Map<string, Shift[]>();
  for (const team of teams) before.set(team.id, await shiftsBetween(tx, team, from, to));
  await change();
  const gained: ShiftChangeOfHands[] = [];
  for (const team of teams) {
    const was = before.get(team.id) ?? [];
    for (const shift of await shiftsBetween(tx, team, from, to)) {
      const old = was.find((s) => s.start.toMillis() === shift.start.toMillis() && s.end.toMillis() === shift.end.toMillis());
      if (old && old.member !== shift.member && shift.member !== member) gained.push({ team, shift, from: old.member });
    }
  }
  return gained;
}
