/**
 * Policy ports: the two strategies a team picks in config. A RotationPolicy decides who holds
 * which shift; an EscalationPolicy decides the plan of an incident's chain. The built-ins
 * ("single", "layered"; "default") implement these ports like any plugin's policy does (see
 * src/app/policies.ts); a plugin contributes more by name (Plugin.policies), a team picks one with
 * `rotation.policy` / `escalation.policy`, and the container binds the lot (src/app/container.ts).
 *
 * The contract, for both:
 * - Pure and deterministic: the answer depends only on the arguments. No clock (instants are
 *   given), no I/O, no randomness, no state kept between calls. Onehand asks the same question
 *   several times (a restart, a replica, check-config), and must get the same answer.
 * - Settings: a team's block (`rotation:` or `escalation:`) carries the policy's own section under
 *   `settings:`. checkConfig sees it when the config is loaded (onehand start, check-config) and
 *   returns a normalized copy or problems; paths are relative to `settings` and are shown as
 *   "teams[0].rotation.settings.<path>: <message>", so say what is wrong and how to fix it.
 *   checkConfig runs again when the app is built and must give the same settings.
 * - Failure: a policy that throws or answers nonsense never leaves an incident without an owner:
 *   a rotation's bad or missing spans are gaps, held by the team lead; an escalation plan that
 *   breaks its bounds is replaced by the team's base plan, and the incident's timeline says so.
 */
import type { DateTime } from 'luxon';
import type { NewIncident } from '../core/incident/types';
import type { EscalationPlan, Team, World } from '../core/model';
import type { Absence, ScheduleSpan } from '../core/rotation/types';
import type { PluginConfigCheck } from './plugin';

export type { ScheduleSpan } from '../core/rotation/types';

/** PolicyCheckContext: what a policy's checkConfig may look at: the team (members, lead, zone) and the world. */
export interface PolicyCheckContext {
  readonly team: Team;
  readonly world: World;
}

/** RotationInput: what a rotation policy is asked with: the team, its checked settings, the absences. */
export interface RotationInput<S> {
  readonly team: Team;
  readonly settings: S;
  /**
   * Absences (`oncall away`, quiet-hours time_off) overlapping the window the app loaded for the
   * question (at least the policy's stateWindow). Apply them as the built-ins do (skip an away
   * member), or not at all; never to decide about overrides, which the core puts on top.
   */
  readonly absences: readonly Absence[];
}

/**
 * RotationPolicy is responsible for the base schedule of a team: who its rules put on call, from
 * one instant to another. It never sees overrides: the core puts them on top for every policy, so
 * "an override always wins" holds whatever the team picks (src/core/rotation/schedule.ts).
 */
export interface RotationPolicy<S = unknown> {
  /** One line for people, e.g. "one rotation: members take turns". */
  readonly summary: string;
  /** Validates and normalizes the team's `rotation.settings` (see the file comment). */
  checkConfig(raw: unknown, context: PolicyCheckContext): PluginConfigCheck<S>;
  /**
   * schedule returns spans that tile [from, to) exactly, in order: the first starts at `from`,
   * the last ends at `to`, each ends where the next starts. `member` null is a gap (the lead
   * holds it). `key` names the shift a span belongs to: spans of one shift share it, so a shift
   * cut by the window edge or by another span stays recognizable (the handoff summary, insights'
   * "shifts served" and `oncall swap` count shifts by it). Any DateTime zone is fine.
   */
  schedule(input: RotationInput<S>, from: DateTime, to: DateTime): readonly ScheduleSpan[];
  /**
   * spanAt (optional): the whole base span containing `at`, unclipped, when the policy knows it
   * directly (exact and faster for long shifts). Default: found by asking `schedule` for growing
   * windows around `at` (up to about three years).
   */
  spanAt?(input: RotationInput<S>, at: DateTime): ScheduleSpan;
  /**
   * shadows (optional): the same for people shadowing the on-call (someone learning): told about
   * each page of the team, never paged, never escalated to. Member null: no shadow then.
   */
  shadows?(input: RotationInput<S>, from: DateTime, to: DateTime): readonly ScheduleSpan[];
  /**
   * stateWindow (optional): the window whose absences can change the answer for [from, to), e.g.
   * widened to whole shifts. Default: eight weeks either side.
   */
  stateWindow?(input: Omit<RotationInput<S>, 'absences'>, from: DateTime, to: DateTime): { from: DateTime; to: DateTime };
}

/** PlanInput: what an escalation policy plans from: the team, its settings, its base plan and the new incident. */
export interface PlanInput<S> {
  readonly team: Team;
  readonly settings: S;
  /** The plan the team's `escalation:` keys describe (ack_timeout, renotify, then, repeat, unowned_every, handoff). */
  readonly base: EscalationPlan;
  /** The incident being opened (or moved to this team): severity, title, service, source, openedAt. */
  readonly incident: Omit<NewIncident, 'policy'>;
}

/**
 * EscalationPolicy is responsible for the plan of an incident's chain. It is asked once, when the
 * incident opens (or moves to another team); the plan is then frozen onto the incident, so a
 * restart, a config change or a removed plugin never changes an incident in flight. The plan's
 * bounds are the config's: ackTimeoutMs 1 s to 7 days, renotify and repeat 0 to 10, `then` a
 * subset of mentor and lead in any order, unownedEveryMs 5 minutes to 24 hours. The chain's
 * mechanics (durable timers, quiet hours, skipping a missing mentor, the unowned alert) are the
 * core's and the same for every policy: a policy chooses the plan, never who is told.
 */
export interface EscalationPolicy<S = unknown> {
  readonly summary: string;
  /** Validates and normalizes the team's `escalation.settings` (see the file comment). */
  checkConfig(raw: unknown, context: PolicyCheckContext): PluginConfigCheck<S>;
  /** plan returns the incident's plan (start from `input.base` and change what the policy is about). */
  plan(input: PlanInput<S>): EscalationPlan;
}

/**
 * PolicySet: rotation and escalation policies by name, as a plugin contributes them. A name must
 * not be a built-in's ("single", "layered", "default") nor another enabled plugin's.
 */
export interface PolicySet {
  readonly rotation?: Readonly<Record<string, RotationPolicy>>;
  readonly escalation?: Readonly<Record<string, EscalationPolicy>>;
}
