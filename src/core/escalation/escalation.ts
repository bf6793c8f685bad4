/**
 * Escalation, as pure functions over a frozen policy.
 *
 * After the first page to the on-call, the plan is: the on-call again `renotify` times, then each
 * target of `policy.then` in order (mentor, lead), each step `ackTimeoutMs` after the previous one
 * fired. A huddle is never part of a plan. A step whose person is missing (no mentor), is the
 * assignee themself, or was already paged (an early manual escalation) is skipped: the next step
 * fires in its place, so nobody waits a timeout for a step that cannot page anyone.
 */
import type { EscalationPolicy, EscalationTarget, MemberId, World } from '../model';
import type { Incident } from '../incident/types';

export type PlanStep = 'oncall' | EscalationTarget;

export function escalationPlan(policy: EscalationPolicy): PlanStep[] {
  return [...Array.from({ length: policy.renotify }, () => 'oncall' as const), ...policy.then];
}

/** levelOf: 1 for the first target of policy.then, 2 for the second; 0 for the on-call. */
export function levelOf(policy: EscalationPolicy, step: PlanStep): number {
  return step === 'oncall' ? 0 : policy.then.indexOf(step) + 1;
}

/** personFor names who a target means for this incident: the assignee's mentor, or the team lead. */
export function personFor(world: World, incident: Incident, step: PlanStep): MemberId | null {
  if (step === 'oncall') return incident.assignee;
  if (step === 'mentor') return world.members.get(incident.assignee)?.mentor ?? null;
  return world.teams.get(incident.team)?.lead ?? null;
}

export interface StepDecision {
  /** The plan index that pages someone now, or null when the plan is exhausted. */
  readonly index: number | null;
  readonly step: PlanStep | null;
  readonly person: MemberId | null;
  /** Plan steps passed over, with the reason, for the timeline. */
  readonly skipped: ReadonlyArray<{ step: PlanStep; reason: string }>;
}

/** decideStep finds the first plan step from `from` on that can page someone. */
export function decideStep(world: World, incident: Incident, from: number): StepDecision {
  const plan = escalationPlan(incident.policy);
  const skipped: Array<{ step: PlanStep; reason: string }> = [];
  for (let i = from; i < plan.length; i++) {
    const step = plan[i] as PlanStep;
    const person = personFor(world, incident, step);
    const level = levelOf(incident.policy, step);
    if (step !== 'oncall' && level <= incident.escalationLevel) {
      skipped.push({ step, reason: `already escalated to the ${step}` });
    } else if (person === null) {
      skipped.push({ step, reason: `the assignee has no ${step}` });
    } else if (step !== 'oncall' && person === incident.assignee) {
      skipped.push({ step, reason: `the ${step} is the assignee` });
    } else {
      return { index: i, step, person, skipped };
    }
  }
  return { index: null, step: null, person: null, skipped };
}

/**
 * nextManualTarget: the target an `incident escalate ID` without a target means: the first of
 * policy.then not reached yet that has a person other than the assignee.
 */
export function nextManualTarget(world: World, incident: Incident): EscalationTarget | null {
  for (const target of ['mentor', 'lead'] as const) {
    if (levelOf(incident.policy, target) > 0 && levelOf(incident.policy, target) <= incident.escalationLevel) continue;
    const person = personFor(world, incident, target);
    if (person !== null && person !== incident.assignee) return target;
  }
  return null;
}
