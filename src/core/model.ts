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

export interface RotationSpec {
  readonly members: readonly MemberId[];
  readonly shift: ShiftLength;
  /** Handoff wall-clock time (and weekday for week shifts) in `timeZone`. */
  readonly handoff: WeekdayTime;
  /** First day of the rotation, ISO date "2026-01-05", read in `timeZone`. */
  readonly start: string;
  readonly timeZone: string;
}

export type EscalationTarget = 'mentor' | 'lead';

/** EscalationPolicy is frozen onto each incident when it opens (see Incident.policy). */
export interface EscalationPolicy {
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
  readonly rotation: RotationSpec;
  readonly escalation: EscalationPolicy;
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
