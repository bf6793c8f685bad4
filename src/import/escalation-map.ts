/**
 * Escalation mapping shared by the importers: a tool's escalation levels (already reduced to
 * steps: who each level pages and how long it waits) onto Onehand's on-call, mentor, lead.
 *
 * The choice, stated once:
 *  - the level that pages the schedule is the on-call; its wait before the next level becomes
 *    `ack_timeout`; `renotify: 0` (the tools escalate after the wait, they do not page the same
 *    level again);
 *  - each later level that pages exactly one person is a person step. With one such level, that
 *    person is the team's lead (`then: [lead]`). With two or more, the first is the mentor of
 *    every member who takes shifts and the last is the lead (`then: [mentor, lead]`); the ones in
 *    between are printed;
 *  - a level that pages several people, a team, another schedule or a group is printed: Onehand
 *    adds one person at a time;
 *  - the tool's repeat count becomes `repeat` (at most 10).
 */
import { defaultLead, type ImportedMember, type ImportedTeam } from './model';

export interface StepTarget {
  readonly kind: 'schedule' | 'user' | 'other';
  /** The tool's id of the schedule or user (for users: resolved to an Onehand member by `memberFor`). */
  readonly id: string;
  /** How the target is named in messages, e.g. `user Kyler Kuhn`. */
  readonly label: string;
}

export interface EscalationStep {
  readonly targets: readonly StepTarget[];
  /** Minutes this level waits for an acknowledgement before the next level; undefined when unknown. */
  readonly waitMinutes?: number;
  /** How the level is named in messages, e.g. `rule 2` or `step 3 (notify_persons)`. */
  readonly label: string;
  /** Extra notes about the level that cannot be carried over (printed as is). */
  readonly notes?: readonly string[];
}

export interface PolicyForSchedule {
  /** e.g. `PagerDuty escalation policy "Engineering" (PT20YPA)`. */
  readonly label: string;
  readonly steps: readonly EscalationStep[];
  /** How many times the policy runs again after its last level (undefined: the tool's default, 0). */
  readonly repeat?: number;
  readonly repeatSource?: string;
}

/**
 * mapEscalation applies the policy that pages `scheduleId` at its first level to `team`: lead,
 * mentor and the escalation settings. `others` are further policies that use the schedule (printed).
 * `memberFor` returns the Onehand member for a tool user id (adding them to `members` when needed).
 */
export function mapEscalation(
  team: ImportedTeam,
  scheduleId: string,
  policies: readonly PolicyForSchedule[],
  members: Map<string, ImportedMember>,
  memberFor: (userId: string, label: string) => ImportedMember | undefined,
  unmapped: string[],
): void {
  const first = policies.find((p) => p.steps[0]?.targets.some((t) => t.kind === 'schedule' && t.id === scheduleId));
  for (const p of policies) {
    if (p === first) continue;
    const level = p.steps.findIndex((s) => s.targets.some((t) => t.kind === 'schedule' && t.id === scheduleId));
    unmapped.push(
      first === undefined || level > 0
        ? `team ${team.id}: ${p.label} pages this schedule at ${p.steps[level]?.label ?? 'a later level'}, not first: not imported (Onehand escalates from the on-call to a mentor and the lead; set "escalation" by hand if it should differ)`
        : `team ${team.id}: ${p.label} also pages this schedule first: not imported (a team has one escalation policy; the first one found is used)`,
    );
  }
  if (!first) return;
  const steps = first.steps;
  const onCall = steps[0] as EscalationStep;
  for (const t of onCall.targets) {
    if (t.kind === 'schedule' && t.id === scheduleId) continue;
    unmapped.push(`team ${team.id}: ${first.label}, ${onCall.label} also pages ${t.label}: not imported (Onehand pages only the on-call first; one hand by default)`);
  }
  for (const note of onCall.notes ?? []) unmapped.push(`team ${team.id}: ${first.label}, ${onCall.label}: ${note}`);

  const people: { member: ImportedMember; step: EscalationStep }[] = [];
  steps.slice(1).forEach((step) => {
    for (const note of step.notes ?? []) unmapped.push(`team ${team.id}: ${first.label}, ${step.label}: ${note}`);
    const users = step.targets.filter((t) => t.kind === 'user');
    if (step.targets.length === 1 && users.length === 1) {
      const member = memberFor((users[0] as StepTarget).id, (users[0] as StepTarget).label);
      if (member) people.push({ member, step });
      else unmapped.push(`team ${team.id}: ${first.label}, ${step.label} pages ${(users[0] as StepTarget).label}, who is not in the users given: not imported (add the users response to the input)`);
      return;
    }
    if (step.targets.length === 0) return;
    unmapped.push(`team ${team.id}: ${first.label}, ${step.label} pages ${step.targets.map((t) => t.label).join(', ')}: not imported (Onehand adds one person per step: the mentor, then the lead)`);
  });

  const comments: Record<string, string> = {};
  let then: ('mentor' | 'lead')[] = ['lead'];
  if (people.length >= 1) {
    const lead = people[people.length - 1] as { member: ImportedMember; step: EscalationStep };
    team.lead = lead.member.id;
    team.leadNote = `${first.label}, ${lead.step.label} (the last level that pages one person)`;
  }
  if (people.length >= 2) {
    const mentor = (people[0] as { member: ImportedMember; step: EscalationStep }).member;
    then = ['mentor', 'lead'];
    comments.then = `${first.label}: ${people[0]?.step.label} -> mentor (${mentor.id}), ${people[people.length - 1]?.step.label} -> lead`;
    for (const p of people.slice(1, -1)) {
      unmapped.push(`team ${team.id}: ${first.label}, ${p.step.label} pages ${p.member.id}: not imported (Onehand has one mentor step and one lead step; the first person level became the mentor, the last the lead)`);
    }
    const rotating = new Set(team.layers.flatMap((l) => l.members));
    for (const id of rotating) {
      const m = members.get(id);
      if (!m) continue;
      if (m.id === mentor.id) {
        unmapped.push(`member ${m.id}: is the mentor of team ${team.id} and takes shifts there too; nobody mentors them on their own shifts (set "mentor" for them by hand)`);
      } else if (m.mentor !== undefined && m.mentor !== mentor.id) {
        unmapped.push(`member ${m.id}: mentor ${mentor.id} (from team ${team.id}) not set: already mentored by ${m.mentor} from another team (a member has one mentor)`);
      } else m.mentor = mentor.id;
    }
  } else if (people.length === 1) {
    comments.then = `${first.label}: ${people[0]?.step.label} -> lead`;
  } else {
    comments.then = `${first.label} pages nobody after the schedule; Onehand still ends with the lead`;
  }

  let ackTimeout: string | undefined;
  if (onCall.waitMinutes !== undefined && onCall.waitMinutes > 0) {
    ackTimeout = `${Math.round(onCall.waitMinutes)}m`;
    comments.ack_timeout = `${onCall.label} waits ${onCall.waitMinutes} min before the next level`;
    if (onCall.waitMinutes > 7 * 24 * 60) {
      ackTimeout = '7d';
      unmapped.push(`team ${team.id}: ${first.label}, ${onCall.label} waits ${onCall.waitMinutes} min; Onehand's ack_timeout is at most 7d: written as 7d`);
    }
    const used = new Set([onCall, ...people.slice(0, -1).map((p) => p.step)]);
    for (const s of used) {
      if (s !== onCall && s.waitMinutes !== undefined && s.waitMinutes !== onCall.waitMinutes) {
        unmapped.push(`team ${team.id}: ${first.label}, ${s.label} waits ${s.waitMinutes} min; Onehand waits the same ack_timeout (${ackTimeout}) at every step`);
      }
    }
  } else if (onCall.waitMinutes === 0) {
    unmapped.push(`team ${team.id}: ${first.label}, ${onCall.label} escalates at once (no wait); Onehand gives the on-call ack_timeout (default 5m) first`);
  }

  let repeat: number | undefined;
  if (first.repeat !== undefined) {
    repeat = Math.min(10, Math.max(0, Math.floor(first.repeat)));
    comments.repeat = first.repeatSource ?? `${first.label} repeats ${first.repeat} times`;
    if (first.repeat > 10) unmapped.push(`team ${team.id}: ${first.label} repeats ${first.repeat} times; Onehand repeats at most 10: written as 10`);
  }
  comments.renotify = 'the on-call is paged once, then the next level after ack_timeout';
  team.escalation = {
    ...(ackTimeout !== undefined ? { ackTimeout } : {}),
    renotify: 0,
    then,
    ...(repeat !== undefined ? { repeat } : {}),
    source: first.label,
    comments,
  };
}

/**
 * fileBySchedule notes `policy` under each imported schedule it pages (once per schedule), or says
 * it is not imported when it pages none of them. Called once per policy, in the input's order.
 */
export function fileBySchedule(
  forSchedule: Map<string, PolicyForSchedule[]>,
  policy: PolicyForSchedule,
  imported: ReadonlyMap<string, ImportedTeam>,
  unmapped: string[],
): void {
  let used = false;
  for (const step of policy.steps) {
    for (const t of step.targets) {
      if (t.kind !== 'schedule' || !imported.has(t.id)) continue;
      used = true;
      const list = forSchedule.get(t.id) ?? [];
      if (!list.includes(policy)) list.push(policy);
      forSchedule.set(t.id, list);
    }
  }
  if (!used) unmapped.push(`${policy.label}: pages none of the imported schedules: not imported`);
}

/**
 * escalateTeams gives each imported schedule's team its escalation (mapEscalation), says when no
 * policy of the input pages the schedule (Onehand's defaults are then written; `policyTerm` is the
 * tool's word for a policy) and fills in a missing lead (defaultLead).
 */
export function escalateTeams(
  scheduleTeams: Iterable<[string, ImportedTeam]>,
  forSchedule: ReadonlyMap<string, readonly PolicyForSchedule[]>,
  members: Map<string, ImportedMember>,
  memberFor: (userId: string, label: string, team: ImportedTeam) => ImportedMember | undefined,
  unmapped: string[],
  tool: { readonly name: string; readonly policyTerm: string },
): void {
  for (const [sid, team] of scheduleTeams) {
    mapEscalation(team, sid, forSchedule.get(sid) ?? [], members, (uid, label) => memberFor(uid, label, team), unmapped);
    if (!forSchedule.has(sid)) unmapped.push(`team ${team.id}: no ${tool.policyTerm} in the input pages this schedule: Onehand's defaults are written (ack_timeout 5m, then mentor, lead)`);
    defaultLead(team, unmapped, tool.name);
  }
}
