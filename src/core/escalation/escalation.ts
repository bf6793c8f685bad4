/**
 * Escalation, as pure functions over a frozen policy.
 *
 * The invariant: an open, unacknowledged incident always has a next step, until someone
 * acknowledges or resolves it. After the first page to the on-call, pass 0 of the chain is: the
 * on-call again `renotify` times, then each target of `policy.then` in order (mentor, lead), each
 * step `ackTimeoutMs` after the previous one reached its person. Then the whole chain runs again
 * `repeat` times (each later pass starts with a page to the on-call). After the last pass, the
 * unowned-incident alert goes to the team channel, mentioning the lead and the on-call, every
 * `unownedEveryMs`, until someone acknowledges. A huddle is never part of a plan.
 *
 * A step whose person is missing (no mentor), is the assignee themself, was already paged in
 * pass 0 by an early manual escalation, or was already paged in this pass under another role (a
 * mentor who is also the lead gets one page naming both roles) is skipped: the next step fires in
 * its place, so nobody waits a timeout for a step that cannot page anyone.
 */
import { DEFAULT_REPEAT, DEFAULT_UNOWNED_EVERY_MS, type EscalationPlan, type EscalationTarget, type MemberId, type World } from '../model';
import type { Incident } from '../incident/types';

export type PlanStep = 'oncall' | EscalationTarget;

/** escalationPlan: the steps of pass 0, after the first page: reminders, then `policy.then`. */
export function escalationPlan(policy: EscalationPlan): PlanStep[] {
  return [...Array.from({ length: policy.renotify }, () => 'oncall' as const), ...policy.then];
}

/** passPlan: the steps of pass `pass`; every pass after the first starts with a page to the on-call. */
export function passPlan(policy: EscalationPlan, pass: number): PlanStep[] {
  return pass === 0 ? escalationPlan(policy) : ['oncall', ...escalationPlan(policy)];
}

/** repeatsOf: how many passes run after pass 0 (a policy frozen before `repeat` existed: the default). */
export function repeatsOf(policy: EscalationPlan): number {
  return policy.repeat ?? DEFAULT_REPEAT;
}

export function unownedEveryMsOf(policy: EscalationPlan): number {
  return policy.unownedEveryMs ?? DEFAULT_UNOWNED_EVERY_MS;
}

/** levelOf: 1 for the first target of policy.then, 2 for the second; 0 for the on-call. */
export function levelOf(policy: EscalationPlan, step: PlanStep): number {
  return step === 'oncall' ? 0 : policy.then.indexOf(step) + 1;
}

/** personFor names who a target means for this incident: the assignee's mentor, or the team lead. */
export function personFor(world: World, incident: Incident, step: PlanStep): MemberId | null {
  if (step === 'oncall') return incident.assignee;
  if (step === 'mentor') return world.members.get(incident.assignee)?.mentor ?? null;
  return world.teams.get(incident.team)?.lead ?? null;
}

/**
 * rolesOf: every escalation role `person` holds for this incident, in policy order (or mentor,
 * lead when the policy names neither), e.g. ["mentor", "lead"] for a mentor who also leads the team.
 * One person, one page: a page to them names all of these.
 */
export function rolesOf(world: World, incident: Incident, person: MemberId): EscalationTarget[] {
  const order: EscalationTarget[] = [...incident.policy.then, ...(['mentor', 'lead'] as const).filter((t) => !incident.policy.then.includes(t))];
  return order.filter((t) => person !== incident.assignee && personFor(world, incident, t) === person);
}

/** rolesText: "mentor", or "mentor and lead". */
export function rolesText(roles: readonly EscalationTarget[]): string {
  return roles.join(' and ');
}

export interface StepDecision {
  /** The index in the pass's plan that pages someone now, or null when the pass is exhausted. */
  readonly index: number | null;
  readonly step: PlanStep | null;
  readonly person: MemberId | null;
  /** The roles the page names (a mentor who is also the lead: both); empty for the on-call. */
  readonly roles: readonly EscalationTarget[];
  /** The escalation level after this step (the highest level among `roles`). */
  readonly level: number;
  /** Plan steps passed over, with the reason, for the timeline. */
  readonly skipped: ReadonlyArray<{ step: PlanStep; reason: string }>;
}

/** decideStep finds the first step of pass `pass`, from index `from` on, that can page someone. */
export function decideStep(world: World, incident: Incident, from: number, pass = 0): StepDecision {
  const plan = passPlan(incident.policy, pass);
  const skipped: Array<{ step: PlanStep; reason: string }> = [];
  // People already paged under a role earlier in this pass (only targets; the on-call is re-paged on purpose).
  const pagedInPass = new Map<MemberId, EscalationTarget>();
  for (let i = 0; i < from && i < plan.length; i++) {
    const step = plan[i] as PlanStep;
    if (step === 'oncall') continue;
    const person = personFor(world, incident, step);
    if (person !== null && person !== incident.assignee && !pagedInPass.has(person)) pagedInPass.set(person, step);
  }
  for (let i = from; i < plan.length; i++) {
    const step = plan[i] as PlanStep;
    const person = personFor(world, incident, step);
    const level = levelOf(incident.policy, step);
    if (step === 'oncall') {
      return { index: i, step, person, roles: [], level: incident.escalationLevel, skipped };
    }
    const earlier = person === null ? undefined : pagedInPass.get(person);
    if (earlier !== undefined) {
      skipped.push({ step, reason: `the ${step} is also the ${earlier} and was paged once for both` });
    } else if (pass === 0 && level <= incident.escalationLevel) {
      skipped.push({ step, reason: `already escalated to the ${step}` });
    } else if (person === null) {
      skipped.push({ step, reason: `the assignee has no ${step}` });
    } else if (person === incident.assignee) {
      skipped.push({ step, reason: `the ${step} is the assignee` });
    } else {
      const roles = rolesOf(world, incident, person).filter((r) => plan.slice(i).includes(r) || r === step);
      const top = Math.max(level, ...roles.map((r) => levelOf(incident.policy, r)));
      return { index: i, step, person, roles, level: Math.max(incident.escalationLevel, top), skipped };
    }
  }
  return { index: null, step: null, person: null, roles: [], level: incident.escalationLevel, skipped };
}

/**
 * nextPosition: where the chain goes after index `index` of pass `pass`: the next index of the
 * same pass, the start of the next pass, or the unowned alert once every pass has run.
 */
export function nextPosition(policy: EscalationPlan, pass: number, index: number): { pass: number; index: number } | 'unowned' {
  if (index + 1 < passPlan(policy, pass).length) return { pass, index: index + 1 };
  if (pass < repeatsOf(policy)) return { pass: pass + 1, index: 0 };
  return 'unowned';
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

/**
 * checkPlan: null when `plan` keeps the config's bounds (ackTimeoutMs 1 s to 7 days, renotify and
 * repeat whole numbers 0 to 10, `then` mentor and lead at most once each, unownedEveryMs 5 minutes
 * to 24 hours, handoff "reassign" or "keep"), else what breaks them, e.g. "ackTimeoutMs is 0 (must
 * be from 1000 to 604800000)". A plugin's policy makes plans; the chain trusts only checked ones.
 */
export function checkPlan(plan: EscalationPlan): string | null {
  const p = plan as Partial<EscalationPlan> | null;
  if (!p || typeof p !== 'object') return 'value is not a plan object';
  const whole = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  if (!whole(p.ackTimeoutMs, 1_000, 7 * 86_400_000)) return `ackTimeoutMs is ${String(p.ackTimeoutMs)} (must be from 1000 to ${7 * 86_400_000})`;
  if (!whole(p.renotify, 0, 10)) return `renotify is ${String(p.renotify)} (must be a whole number from 0 to 10)`;
  if (!Array.isArray(p.then) || p.then.some((t) => t !== 'mentor' && t !== 'lead') || new Set(p.then).size !== p.then.length) {
    return `then is ${JSON.stringify(p.then)} (must list "mentor" and "lead" at most once each)`;
  }
  if (p.repeat !== undefined && !whole(p.repeat, 0, 10)) return `repeat is ${String(p.repeat)} (must be a whole number from 0 to 10)`;
  if (p.unownedEveryMs !== undefined && !whole(p.unownedEveryMs, 300_000, 86_400_000)) return `unownedEveryMs is ${String(p.unownedEveryMs)} (must be from 300000 to 86400000)`;
  if (p.handoff !== undefined && p.handoff !== 'reassign' && p.handoff !== 'keep') return `handoff is ${JSON.stringify(p.handoff)} (must be "reassign" or "keep")`;
  return null;
}
