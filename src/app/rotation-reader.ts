/**
 * RotationReader loads the overrides and absences a question needs from the store and asks the pure
 * rotation functions. It is the only place that joins rotation state with the rotation spec.
 */
import type { DateTime } from 'luxon';
import type { Team } from '../core/model';
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
