/**
 * Policies: the built-in rotation and escalation policies, and the PolicyBook that finds each
 * team's policy (built-in or a plugin's) and asks it. The container binds one PolicyBook; every
 * question about who is on call, who shadows and what an incident's plan is goes through it (via
 * rotation-reader.ts for the questions that need stored overrides and absences).
 *
 * The built-ins implement the ports in src/ports/policy.ts like any plugin's policy. Their
 * settings are checked by src/config when the file loads (with key paths and fixes), so their
 * checkConfig returns them as they are.
 */
import { DateTime } from 'luxon';
import type { ConfigProblem } from '../config/problems';
import { checkPlan } from '../core/escalation/escalation';
import type { NewIncident } from '../core/incident/types';
import {
  DEFAULT_ESCALATION, LAYERED_ROTATION, rotationPolicyName, SINGLE_ROTATION,
  type EscalationPlan, type MemberId, type RotationSpec, type Team, type World,
} from '../core/model';
import { layeredSpans, layeredStateWindow, shadowSpans, type LayeredSettings } from '../core/rotation/layered';
import { rotationPieces, rotationShiftAt, shiftBounds, shiftIndexAt, type Handoff } from '../core/rotation/rotation';
import {
  memberAt, normalizedSpans, scheduleGaps, scheduleNextHandoff, scheduleOnCallAt, scheduleShifts,
  type BaseSchedule, type Gap, type ScheduleFrame,
} from '../core/rotation/schedule';
import type { Absence, RotationState, ScheduleSpan, Shift } from '../core/rotation/types';
import type { PluginConfigCheck } from '../ports/plugin';
import type { EscalationPolicy, PolicySet, RotationInput, RotationPolicy } from '../ports/policy';

/** singleRotation: today's one rotation (members take turns; src/core/rotation/rotation.ts). */
export const singleRotation: RotationPolicy<RotationSpec> = {
  summary: 'one rotation: the members take turns',
  checkConfig: (raw) => ({ ok: true, config: raw as RotationSpec }),
  schedule: ({ settings, absences }, from, to) => rotationPieces(settings, absences, from.toMillis(), to.toMillis()).map((p) => span(p, from)),
  spanAt: ({ settings, absences }, at) => span(rotationShiftAt(settings, absences, at.toMillis()), at),
  stateWindow: ({ settings }, from, to) => ({
    from: shiftBounds(settings, shiftIndexAt(settings, from)).start,
    to: shiftBounds(settings, shiftIndexAt(settings, to)).end,
  }),
};

/** layeredRotation: layers with restrictions, first listed wins, shadows (src/core/rotation/layered.ts). */
export const layeredRotation: RotationPolicy<LayeredSettings> = {
  summary: 'layered schedule: the first listed layer that has someone wins; shadow layers learn',
  checkConfig: (raw) => ({ ok: true, config: raw as LayeredSettings }),
  schedule: ({ team, settings, absences }, from, to) => layeredSpans(settings, team.timeZone, absences, from, to),
  shadows: ({ team, settings, absences }, from, to) => shadowSpans(settings, team.timeZone, absences, from, to),
  stateWindow: ({ settings }, from, to) => layeredStateWindow(settings, from, to),
};

/** defaultEscalation: today's chain: the team's plan as configured, the same for every incident. */
export const defaultEscalation: EscalationPolicy<null> = {
  summary: 'the team\'s plan as configured, for every incident',
  checkConfig: () => ({ ok: true, config: null }),
  plan: ({ base }) => base,
};

export const BUILTIN_ROTATION_POLICIES: ReadonlyMap<string, RotationPolicy> = new Map<string, RotationPolicy>([
  [SINGLE_ROTATION, singleRotation as RotationPolicy],
  [LAYERED_ROTATION, layeredRotation as RotationPolicy],
]);

export const BUILTIN_ESCALATION_POLICIES: ReadonlyMap<string, EscalationPolicy> = new Map<string, EscalationPolicy>([
  [DEFAULT_ESCALATION, defaultEscalation as EscalationPolicy],
]);

/** PolicySource: an enabled plugin's name and the policies it contributes. */
export interface PolicySource {
  readonly name: string;
  readonly policies?: PolicySet;
}

interface Chosen<P> {
  readonly name: string;
  readonly policy: P;
  readonly settings: unknown;
  /** The plugin that contributed the policy, or "built-in". */
  readonly from: string;
}

/**
 * PolicyFailure: one question a team's policy threw at, and what Onehand answered instead.
 * `call` is the policy method ("schedule", "spanAt", "shadows", "stateWindow", "plan");
 * `outcome` says what happened instead (e.g. "a gap: the lead (carol) is on call there").
 */
export interface PolicyFailure {
  readonly team: string;
  readonly kind: 'rotation' | 'escalation';
  readonly policy: string;
  /** The plugin that contributed the policy ("built-in" for the built-ins). */
  readonly plugin: string;
  readonly call: string;
  readonly error: string;
  readonly outcome: string;
}

/** policyFailureText: one line for people: which policy failed, with what, and what applied instead. */
export function policyFailureText(f: PolicyFailure): string {
  const source = f.plugin === 'built-in' ? 'built-in' : `plugin ${f.plugin}`;
  return `the ${f.kind} policy "${f.policy}" (${source}) of team ${f.team} threw in ${f.call}(): ${f.error}; answered with ${f.outcome}`;
}

/** FAILURE_LOG_EVERY_MS: how often the same failure of the same policy is logged again (once a minute). */
export const FAILURE_LOG_EVERY_MS = 60_000;

/** PlanChoice: an incident's plan, and why the policy's own plan was refused, when it was. */
export interface PlanChoice {
  readonly plan: EscalationPlan;
  readonly refused?: string;
}

/**
 * checkTeamPolicies: every problem with the policies the teams pick: an unknown name, a name two
 * plugins contribute, settings a plugin policy refuses. Paths are config key paths
 * ("teams[0].rotation.settings.zones"). Empty when every team's choice is usable.
 */
export function checkTeamPolicies(world: World, plugins: readonly PolicySource[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const rotation = catalog('rotation', BUILTIN_ROTATION_POLICIES, plugins, problems);
  const escalation = catalog('escalation', BUILTIN_ESCALATION_POLICIES, plugins, problems);
  [...world.teams.values()].forEach((team, i) => {
    const choices: Array<['rotation' | 'escalation', string, unknown, Map<string, { policy: RotationPolicy | EscalationPolicy; from: string }>, ReadonlyMap<string, unknown>]> = [
      ['rotation', rotationPolicyName(team.rotation), team.rotation.policy === undefined ? null : (team.rotation as { settings: unknown }).settings, rotation, BUILTIN_ROTATION_POLICIES],
      ['escalation', team.escalation.policy ?? DEFAULT_ESCALATION, team.escalation.settings, escalation, BUILTIN_ESCALATION_POLICIES],
    ];
    for (const [kind, name, settings, known, builtins] of choices) {
      if (builtins.has(name)) continue; // checked by src/config
      const found = known.get(name);
      if (!found) {
        const fromPlugins = [...known.entries()].filter(([n]) => !builtins.has(n)).map(([n, v]) => `${n} (plugin ${v.from})`);
        problems.push({
          path: `teams[${i}].${kind}.policy`,
          message: `no ${kind} policy named "${name}" (built-in: ${[...builtins.keys()].join(', ')}${fromPlugins.length > 0 ? `; from plugins: ${fromPlugins.join(', ')}` : ''}); ` +
            'a plugin\'s policy is available once the plugin is enabled under plugins: (with module: for a third-party one)',
        });
        continue;
      }
      let checked: PluginConfigCheck<unknown>;
      try {
        checked = found.policy.checkConfig(settings, { team, world });
      } catch (err) {
        problems.push({ path: `teams[${i}].${kind}.settings`, message: `the ${kind} policy "${name}" (plugin ${found.from}) failed to check its settings: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
      if (!checked.ok) {
        for (const p of checked.problems) problems.push({ path: `teams[${i}].${kind}.settings${p.path ? `.${p.path}` : ''}`, message: p.message });
      }
    }
  });
  return problems;
}

function catalog<P extends RotationPolicy | EscalationPolicy>(kind: 'rotation' | 'escalation', builtins: ReadonlyMap<string, P>, plugins: readonly PolicySource[], problems: ConfigProblem[]): Map<string, { policy: P; from: string }> {
  const out = new Map<string, { policy: P; from: string }>();
  for (const [name, policy] of builtins) out.set(name, { policy, from: 'built-in' });
  for (const plugin of plugins) {
    for (const [name, policy] of Object.entries((plugin.policies?.[kind] ?? {}) as Record<string, P>)) {
      const taken = out.get(name);
      if (taken) {
        const article = kind === 'escalation' ? 'an' : 'a';
        problems.push({
          path: `plugins.${plugin.name}`,
          message: taken.from === 'built-in'
            ? `contributes ${article} ${kind} policy named "${name}", which is the name of a built-in policy; rename the policy in the plugin (the built-in names are ${[...builtins.keys()].join(', ')})`
            : `contributes ${article} ${kind} policy named "${name}", which plugin ${taken.from} contributes too; rename the policy in one of the plugins, or enable only one of the two plugins`,
        });
        continue;
      }
      out.set(name, { policy, from: plugin.name });
    }
  }
  return out;
}

/**
 * PolicyBook answers, for any team, with the policy it picked: the stretches (overrides on top,
 * gaps held by the lead), the stretch at an instant, the next handoff, the gaps, the shadow, and
 * an incident's plan. Pure given a RotationState; it builds from the world and the enabled
 * plugins, and refuses (throws) a world whose choices checkTeamPolicies would refuse.
 * A policy that throws at run time is reported to `onFailure` and answered as a gap (rotation) or
 * with the team's base plan (escalation): a broken plugin never stops a page. The same failure
 * (team, method, error message) is reported once per FAILURE_LOG_EVERY_MS of `now()`, with how
 * many times it happened since, so a broken policy asked on every call does not flood the log.
 */
export class PolicyBook {
  private readonly rotations = new Map<string, Chosen<RotationPolicy>>();
  private readonly escalations = new Map<string, Chosen<EscalationPolicy>>();

  private readonly reported = new Map<string, { at: number; repeats: number }>();

  constructor(
    world: World,
    plugins: readonly PolicySource[] = [],
    private readonly onFailure: (failure: PolicyFailure, repeats: number) => void = () => undefined,
    private readonly now: () => number = () => 0,
  ) {
    const problems = checkTeamPolicies(world, plugins);
    if (problems.length > 0) throw new Error(`the teams' policies are not usable:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
    const rotation = catalog('rotation', BUILTIN_ROTATION_POLICIES, plugins, []);
    const escalation = catalog('escalation', BUILTIN_ESCALATION_POLICIES, plugins, []);
    for (const team of world.teams.values()) {
      const rName = rotationPolicyName(team.rotation);
      const r = rotation.get(rName)?.policy as RotationPolicy;
      const rRaw = team.rotation.policy === undefined ? team.rotation : team.rotation.settings;
      const rChecked = r.checkConfig(rRaw, { team, world });
      this.rotations.set(team.id, { name: rName, policy: r, settings: rChecked.ok ? rChecked.config : rRaw, from: rotation.get(rName)?.from ?? 'built-in' });
      const eName = team.escalation.policy ?? DEFAULT_ESCALATION;
      const e = escalation.get(eName)?.policy as EscalationPolicy;
      const eChecked = e.checkConfig(team.escalation.settings, { team, world });
      this.escalations.set(team.id, { name: eName, policy: e, settings: eChecked.ok ? eChecked.config : team.escalation.settings, from: escalation.get(eName)?.from ?? 'built-in' });
    }
  }

  /** rotationName / escalationName: the policy a team picked ("single", "layered", "default", or a plugin's). */
  rotationName(team: Team): string {
    return this.rotation(team).name;
  }

  escalationName(team: Team): string {
    return this.escalation(team).name;
  }

  /** hasShadows: whether the team's rotation policy can name a shadow at all. */
  hasShadows(team: Team): boolean {
    return typeof this.rotation(team).policy.shadows === 'function';
  }

  shifts(team: Team, state: RotationState, from: DateTime, to: DateTime): Shift[] {
    return scheduleShifts(this.base(team, state.absences), state, frame(team), from, to);
  }

  onCallAt(team: Team, state: RotationState, at: DateTime): Shift {
    return scheduleOnCallAt(this.base(team, state.absences), state, frame(team), at);
  }

  nextHandoffAfter(team: Team, state: RotationState, after: DateTime): Handoff | null {
    return scheduleNextHandoff(this.base(team, state.absences), state, frame(team), after);
  }

  gaps(team: Team, state: RotationState, from: DateTime, to: DateTime): Gap[] {
    return scheduleGaps(this.base(team, state.absences), state, frame(team), from, to);
  }

  /** shadowAt: who shadows the on-call at `at` (never an override), or null. */
  shadowAt(team: Team, state: RotationState, at: DateTime): MemberId | null {
    const shadows = this.shadowSpans(team, state.absences);
    return shadows ? memberAt(shadows, at) : null;
  }

  /** shadowShifts: the stretches of [from, to) in which someone shadows, in order. */
  shadowShifts(team: Team, state: RotationState, from: DateTime, to: DateTime): ScheduleSpan[] {
    const shadows = this.shadowSpans(team, state.absences);
    if (!shadows || to <= from) return [];
    return normalizedSpans(shadows(from, to), from.setZone(team.timeZone), to.setZone(team.timeZone)).filter((s) => s.member !== null);
  }

  /** stateWindow: the window whose overrides and absences a question about [from, to) needs. */
  stateWindow(team: Team, from: DateTime, to: DateTime): { from: DateTime; to: DateTime } {
    const { policy, settings } = this.rotation(team);
    if (policy.stateWindow) {
      try {
        return policy.stateWindow({ team, settings }, from, to);
      } catch (err) {
        this.failed(team, 'rotation', 'stateWindow', err, 'the default window (eight weeks either side)');
      }
    }
    return { from: from.minus({ weeks: 8 }), to: to.plus({ weeks: 8 }) };
  }

  /** planFor: the plan of an incident opened for `team` now; the base plan when the policy's breaks its bounds. */
  planFor(team: Team, incident: Omit<NewIncident, 'policy'>): PlanChoice {
    const { name, policy, settings } = this.escalation(team);
    const { settings: _settings, policy: _name, ...base } = team.escalation;
    if (name === DEFAULT_ESCALATION) return { plan: base };
    let plan: EscalationPlan;
    try {
      plan = policy.plan({ team, settings, base, incident });
    } catch (err) {
      this.failed(team, 'escalation', 'plan', err, 'the team\'s base plan');
      return { plan: base, refused: `the escalation policy "${name}" failed (${err instanceof Error ? err.message : String(err)}); the team's base plan applies` };
    }
    const problem = checkPlan(plan);
    if (problem !== null) return { plan: base, refused: `the escalation policy "${name}" made a plan whose ${problem}; the team's base plan applies` };
    return { plan: { ...stripSettings(plan), policy: name } };
  }

  private base(team: Team, absences: readonly Absence[]): BaseSchedule {
    const { policy, settings } = this.rotation(team);
    const input: RotationInput<unknown> = { team, settings, absences };
    return {
      spans: (from, to) => this.guard(team, 'schedule', () => policy.schedule(input, from, to)),
      ...(policy.spanAt ? {
        spanAt: (at: DateTime): ScheduleSpan => {
          try {
            return (policy.spanAt as NonNullable<RotationPolicy['spanAt']>)(input, at);
          } catch (err) {
            this.failed(team, 'rotation', 'spanAt', err, this.gapOutcome(team));
            return { start: at, end: at.plus({ milliseconds: 1 }), member: null, key: 'gap' };
          }
        },
      } : {}),
    };
  }

  private shadowSpans(team: Team, absences: readonly Absence[]): ((from: DateTime, to: DateTime) => readonly ScheduleSpan[]) | null {
    const { policy, settings } = this.rotation(team);
    if (!policy.shadows) return null;
    const shadows = policy.shadows.bind(policy);
    return (from, to) => this.guard(team, 'shadows', () => shadows({ team, settings, absences }, from, to));
  }

  private guard(team: Team, call: 'schedule' | 'shadows', ask: () => readonly ScheduleSpan[]): readonly ScheduleSpan[] {
    try {
      return ask();
    } catch (err) {
      this.failed(team, 'rotation', call, err, call === 'shadows' ? 'no shadow' : this.gapOutcome(team));
      return [];
    }
  }

  private gapOutcome(team: Team): string {
    return `a gap: the lead (${team.lead}) is on call there`;
  }

  private failed(team: Team, kind: 'rotation' | 'escalation', call: string, err: unknown, outcome: string): void {
    const { name, from } = kind === 'rotation' ? this.rotation(team) : this.escalation(team);
    const error = err instanceof Error ? err.message : String(err);
    const key = JSON.stringify([team.id, kind, call, error]);
    const now = this.now();
    const last = this.reported.get(key);
    if (last && now - last.at < FAILURE_LOG_EVERY_MS && now >= last.at) {
      last.repeats += 1;
      return;
    }
    this.reported.set(key, { at: now, repeats: 0 });
    this.onFailure({ team: team.id, kind, policy: name, plugin: from, call, error, outcome }, last?.repeats ?? 0);
  }

  private rotation(team: Team): Chosen<RotationPolicy> {
    const chosen = this.rotations.get(team.id);
    if (!chosen) throw new Error(`no rotation policy for team ${team.id}`);
    return chosen;
  }

  private escalation(team: Team): Chosen<EscalationPolicy> {
    const chosen = this.escalations.get(team.id);
    if (!chosen) throw new Error(`no escalation policy for team ${team.id}`);
    return chosen;
  }
}

function frame(team: Team): ScheduleFrame {
  return { timeZone: team.timeZone, gapHolder: team.lead };
}

function span(p: { start: number; end: number; member: MemberId; k: number }, like: DateTime): ScheduleSpan {
  return { start: DateTime.fromMillis(p.start, { zone: like.zone }), end: DateTime.fromMillis(p.end, { zone: like.zone }), member: p.member, key: `r:${p.k}` };
}

function stripSettings(plan: EscalationPlan): EscalationPlan {
  const { settings: _s, ...rest } = plan as EscalationPlan & { settings?: unknown };
  return rest;
}
