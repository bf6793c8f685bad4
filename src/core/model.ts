/**
 * The configured world as the core sees it: members, teams, their rotations and escalation
 * policies. Values here are already validated and normalized by src/config; the core trusts them.
 * Platform identities are opaque strings keyed by adapter name (e.g. identities.discord): the core
 * never interprets them.
 */
import type { LocalTime, WeekdayTime } from './time/weekday-time';

export type MemberId = string;
export type TeamId = string;

export interface QuietHours {
  /** Daily quiet window in the member's zone, e.g. 22:00-07:00 (may cross midnight). */
  readonly from: LocalTime;
  readonly to: LocalTime;
}

export interface Member {
  readonly id: MemberId;
  readonly name: string;
  readonly timeZone: string;
  readonly mentor: MemberId | null;
  /** Adapter name -> that platform's user id ("discord" -> "8123..."). */
  readonly identities: Readonly<Record<string, string>>;
}

/** ShiftLength: days and weeks follow the rotation zone's wall clock; hours are elapsed time. */
export interface ShiftLength {
  readonly unit: 'hours' | 'days' | 'weeks';
  readonly amount: number;
}

/**
 * RotationSpec: one rotation (the built-in "single" policy, and each layer of a "layered" one).
 * `policy` is never set on it: a team's rotation without a `policy` field is a single rotation.
 */
export interface RotationSpec {
  readonly policy?: undefined;
  readonly members: readonly MemberId[];
  readonly shift: ShiftLength;
  /** Handoff wall-clock time (and weekday for week shifts) in `timeZone`. */
  readonly handoff: WeekdayTime;
  /** First day of the rotation, ISO date "2026-01-05", read in `timeZone`. */
  readonly start: string;
  readonly timeZone: string;
}

/** SINGLE_ROTATION: the built-in rotation policy of one rotation (members, shift, handoff, start). */
export const SINGLE_ROTATION = 'single';
/** LAYERED_ROTATION: the built-in rotation policy of layers with restrictions (src/core/rotation/layered.ts). */
export const LAYERED_ROTATION = 'layered';
/** DEFAULT_ESCALATION: the built-in escalation policy: the team's plan as configured, the same for every incident. */
export const DEFAULT_ESCALATION = 'default';

/**
 * PolicyRotation: a rotation computed by a named policy other than the built-in single rotation:
 * "layered" (settings: LayeredSettings) or a plugin's (settings: what the plugin's policy checked).
 * The single-rotation keys are declared absent so that code reading `team.rotation.shift` gets
 * undefined for these teams instead of a value it would misread.
 */
export interface PolicyRotation {
  readonly policy: string;
  /** Everyone who may hold or shadow a shift of this rotation, in config order. */
  readonly members: readonly MemberId[];
  readonly timeZone: string;
  /** The policy's settings, checked (built-ins by src/config, plugin policies by their checkConfig). */
  readonly settings: unknown;
  readonly shift?: undefined;
  readonly handoff?: undefined;
  readonly start?: undefined;
}

/** TeamRotation: a team's `rotation:` block, normalized. A RotationSpec is the single policy. */
export type TeamRotation = RotationSpec | PolicyRotation;

/** rotationPolicyName: the policy that computes this rotation ("single" for a RotationSpec). */
export function rotationPolicyName(rotation: TeamRotation): string {
  return rotation.policy ?? SINGLE_ROTATION;
}

export type EscalationTarget = 'mentor' | 'lead';

/**
 * EscalationPlan: the plan of one incident's chain (timeouts, reminders, who comes after the
 * on-call, repeats). An escalation policy makes it when the incident opens and it is frozen onto
 * the incident (Incident.policy), so editing the config, or removing a plugin, never changes an
 * incident in flight, and a restart continues the same plan. (Called EscalationPolicy before
 * policies became ports; the port in src/ports/policy.ts now has that name.)
 */
export interface EscalationPlan {
  /** Milliseconds the on-call has to acknowledge before the next step. */
  readonly ackTimeoutMs: number;
  /** How many times the on-call is paged again before escalating beyond them. */
  readonly renotify: number;
  /** Who comes after the on-call, in order. Never includes a huddle. */
  readonly then: readonly EscalationTarget[];
  /**
   * How many times the whole chain (page, reminders, mentor, lead) runs again after its last step
   * before the unowned-incident alert (default DEFAULT_REPEAT). Absent on policies frozen before it existed.
   */
  readonly repeat?: number;
  /** Milliseconds between unowned-incident alerts in the team channel (default DEFAULT_UNOWNED_EVERY_MS). */
  readonly unownedEveryMs?: number;
  /** What a handoff does with unacknowledged incidents of the outgoing on-call (default "reassign"). */
  readonly handoff?: HandoffPolicy;
  /** The escalation policy that made this plan; absent for the built-in "default". */
  readonly policy?: string;
}

/**
 * TeamEscalation: a team's `escalation:` block: the base plan its keys describe, and the policy
 * (absent: "default") that turns the base plan into each incident's plan, with the plugin policy's
 * checked settings.
 */
export interface TeamEscalation extends EscalationPlan {
  readonly settings?: unknown;
}

/** HandoffPolicy: "reassign" moves unacknowledged incidents to the incoming on-call; "keep" leaves them. */
export type HandoffPolicy = 'reassign' | 'keep';

export const DEFAULT_REPEAT = 1;
export const DEFAULT_UNOWNED_EVERY_MS = 3_600_000;

export interface Team {
  readonly id: TeamId;
  readonly name: string;
  readonly timeZone: string;
  readonly lead: MemberId;
  readonly members: readonly MemberId[];
  /** Adapter name -> that platform's channel id for the team's quiet record. */
  readonly channels: Readonly<Record<string, string>>;
  readonly rotation: TeamRotation;
  readonly escalation: TeamEscalation;
}

export interface World {
  readonly members: ReadonlyMap<MemberId, Member>;
  readonly teams: ReadonlyMap<TeamId, Team>;
  /** Members allowed to change any rotation, besides each team's lead. */
  readonly admins: ReadonlySet<MemberId>;
  /** Team used when a command names none and the caller's team is ambiguous. */
  readonly defaultTeam: TeamId;
}

export function teamsOf(world: World, member: MemberId): Team[] {
  return [...world.teams.values()].filter((t) => t.members.includes(member) || t.lead === member);
}
