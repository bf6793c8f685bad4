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
}

export interface RotationState {
  readonly overrides: readonly Override[];
  readonly absences: readonly Absence[];
}
