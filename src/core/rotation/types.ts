import type { DateTime } from 'luxon';
import type { MemberId } from '../model';

/**
 * Override: `member` is on call from `start` to `end` (half-open), whoever the rotation says.
 * When overrides overlap, the one with the higher `seq` (created later) wins.
 */
export interface Override {
  readonly id: string;
  readonly member: MemberId;
  readonly start: DateTime;
  readonly end: DateTime;
  readonly seq: number;
}

/** Absence: `member` is away from `start` to `end` (half-open); see rotation.ts for the skip rule. */
export interface Absence {
  readonly member: MemberId;
  readonly start: DateTime;
  readonly end: DateTime;
}

/** Shift: one stretch of on-call, half-open [start, end), in the rotation's zone. */
export interface Shift {
  readonly member: MemberId;
  readonly start: DateTime;
  readonly end: DateTime;
  readonly override: boolean;
  /** The override that produced this stretch, when `override` is true. */
  readonly overrideId?: string;
  /**
   * Set when no layer of the team's rotation has anyone here (a gap in a layered schedule, or a
   * policy that named nobody): `member` is then the team lead, who holds the gap so that an
   * incident is never left without an owner. Absent otherwise.
   */
  readonly gap?: true;
  /** The layer this stretch comes from (layered rotations); absent for overrides and gaps. */
  readonly layer?: string;
  /**
   * The base shift this stretch belongs to (the policy's span key, e.g. "r:12" or "primary#3"),
   * when it came through a rotation policy (src/core/rotation/schedule.ts); absent for overrides.
   */
  readonly key?: string;
}

/**
 * ScheduleSpan: one stretch of a rotation policy's base schedule (absences applied, overrides not).
 * `member` null is a gap. `key` names the shift the span belongs to: adjacent spans with the same
 * key and member are one stretch (and spans of different keys stay separate stretches, even with
 * the same member). `layer` is shown to people (e.g. "weeknights").
 */
export interface ScheduleSpan {
  readonly start: DateTime;
  readonly end: DateTime;
  readonly member: MemberId | null;
  readonly key: string;
  readonly layer?: string;
}

export interface RotationState {
  readonly overrides: readonly Override[];
  readonly absences: readonly Absence[];
}
