/**
 * PluginHost runs the enabled plugins' hooks, each isolated: a hook that throws is logged, counted,
 * shown as failing on /healthz, and treated as having no opinion, so the event goes on.
 */
import { inject, injectable, optional } from 'inversify';
import type { DateTime } from 'luxon';
import type { CommandSpec } from '../core/commands/spec';
import type { Incident, TimelineEvent } from '../core/incident/types';
import type { World } from '../core/model';
import type { Logger } from '../ports/logger';
import type { DeclaredAbsence, NotifyDecision, PluginCall, PluginHooks, PluginStorage, ShiftChange } from '../ports/plugin';
import type { PolicySet } from '../ports/policy';
import type { StoreTx } from '../ports/store';
import type { Notification } from './notifications';
import { PolicyBook } from './policies';
import { onCallNow, shiftsBetween } from './rotation-reader';
import { Refusal } from './context';
import { isTransientStoreError } from './store-monitor';
import { TOKENS, type Settings } from './tokens';

export const PLUGIN_TIMER = 'plugin';

/** pluginNamespace: where a plugin's storage lives (and the prefix of its timers' and notifications' keys). */
export function pluginNamespace(plugin: string): string {
  return `plugin:${plugin}`;
}

/**
 * declaredAbsences: the absences the plugins declare (quiet-hours `time_off`), for the running bot
 * (PluginHost.absences) and the CLI's who and schedule alike. A plugin whose hook throws declares
 * none; `failed` hears of it (and may throw to stop).
 */
export function declaredAbsences(plugins: readonly ActivePlugin[], world: World, failed: (plugin: string, err: unknown) => void): Array<DeclaredAbsence & { plugin: string }> {
  const out: Array<DeclaredAbsence & { plugin: string }> = [];
  for (const p of plugins) {
    if (!p.hooks.absences) continue;
    try {
      for (const a of p.hooks.absences(world)) out.push({ ...a, plugin: p.name });
    } catch (err) {
      failed(p.name, err);
    }
  }
  return out;
}

/** absenceKey: an absence's identity (member, start, end): how a declared absence's stored copy is found again. */
export function absenceKey(a: { readonly member: string; readonly start: DateTime; readonly end: DateTime }): string {
  return `${a.member}:${a.start.toMillis()}:${a.end.toMillis()}`;
}

export interface ActivePlugin {
  readonly name: string;
  readonly hooks: PluginHooks;
  /** The rotation and escalation policies the plugin contributes (the container's PolicyBook finds them). */
  readonly policies?: PolicySet;
}

interface PluginHealth {
  failures: number;
  lastError: string | null;
  lastFailureAt: string | null;
}

const DELIVER: NotifyDecision = { action: 'deliver' };

/**
 * How long a plugin hook (or command) may take. Hooks run inside the transaction of the event
 * they hear of: one that never returns (awaiting a network call with no timeout, say) held that
 * transaction, and with it the store, the timer loop and every page after it. Past this the event
 * goes on without the plugin (as when a hook throws: logged, counted, /healthz), and the call the
 * hook was given is closed, so a late write cannot land in somebody else's transaction.
 */
export const HOOK_DEADLINE_MS = 3_000;

@injectable()
export class PluginHost {
  private readonly health = new Map<string, PluginHealth>();
  private readonly failureListeners: Array<(plugin: string, hook: string) => void> = [];
  private readonly deadlineMs: number;

  constructor(
    @inject(TOKENS.Plugins) private readonly plugins: readonly ActivePlugin[],
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(PolicyBook) private readonly policies: PolicyBook,
    @inject(TOKENS.Settings) @optional() settings?: Settings,
  ) {
    this.deadlineMs = settings?.hookDeadlineMs ?? HOOK_DEADLINE_MS;
    for (const p of plugins) this.health.set(p.name, { failures: 0, lastError: null, lastFailureAt: null });
  }

  /** watchesIncidentEvents: whether any plugin has onIncidentEvent (else the Engine skips the work). */
  get watchesIncidentEvents(): boolean {
    return this.plugins.some((p) => p.hooks.onIncidentEvent !== undefined);
  }

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /** commands: the specs plugins add to the grammar, with their owner. */
  commands(): Array<{ plugin: string; spec: CommandSpec }> {
    return this.plugins.flatMap((p) => (p.hooks.commands ?? []).map((c) => ({ plugin: p.name, spec: c.spec })));
  }

  command(spec: CommandSpec): { plugin: string; run: NonNullable<PluginHooks['commands']>[number]['run'] } | null {
    for (const p of this.plugins) {
      const found = p.hooks.commands?.find((c) => c.spec === spec);
      if (found) return { plugin: p.name, run: (...args) => found.run(...args) };
    }
    return null;
  }

  /** absences: what every plugin declares (a plugin whose hook throws declares none). */
  absences(): Array<DeclaredAbsence & { plugin: string }> {
    return declaredAbsences(this.plugins, this.world, (plugin, err) => {
      this.log.error('plugin hook failed; the event goes on without it', { plugin, hook: 'absences', error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** availableAt: the latest instant any plugin asks to wait for before disturbing `member` (null: now). */
  async availableAt(member: string, about: { severity: string; onCall: boolean }, call: (plugin: string) => PluginCall): Promise<DateTime | null> {
    let latest: DateTime | null = null;
    for (const p of this.plugins) {
      if (!p.hooks.availableAt) continue;
      const at = await this.guard(p.name, 'availableAt', call, (c) => p.hooks.availableAt!(member, about, c));
      if (at && (latest === null || at > latest)) latest = at;
    }
    return latest;
  }

  /** onFailure: `listener` is told of every hook that throws (metrics count them). */
  onFailure(listener: (plugin: string, hook: string) => void): void {
    this.failureListeners.push(listener);
  }

  status(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, h] of this.health) out[name] = h.failures === 0 ? 'ok' : `failing: ${h.failures} error(s), last at ${h.lastFailureAt}: ${h.lastError}`;
    return out;
  }

  /**
   * decide runs every plugin's beforeNotify; the first non-deliver answer wins (in config order).
   * A "deliver" with a reason (a bypass) is returned when no plugin objects.
   */
  async decide(n: Notification, call: (plugin: string) => PluginCall): Promise<NotifyDecision & { plugin?: string }> {
    let bypass: (NotifyDecision & { plugin?: string }) | null = null;
    for (const p of this.plugins) {
      if (!p.hooks.beforeNotify) continue;
      const decision = await this.guard(p.name, 'beforeNotify', call, (c) =>
        p.hooks.beforeNotify!({ key: n.key, recipient: n.recipient, message: n.message, incidentId: n.incidentId, role: n.role ?? 'member', severity: n.severity, ...(n.dueBy ? { dueBy: n.dueBy } : {}), ...(n.chainStep ? { chainStep: true } : {}) }, c),
      );
      if (!decision) continue;
      if (decision.action !== 'deliver') return { ...decision, plugin: p.name };
      if (decision.reason && !bypass) bypass = { ...decision, plugin: p.name };
    }
    return bypass ?? DELIVER;
  }

  async onShiftChange(change: ShiftChange, call: (plugin: string) => PluginCall): Promise<void> {
    for (const p of this.plugins) {
      if (p.hooks.onShiftChange) await this.guard(p.name, 'onShiftChange', call, (c) => p.hooks.onShiftChange!(change, c));
    }
  }

  async onIncidentEvent(event: TimelineEvent, incident: Incident, call: (plugin: string) => PluginCall): Promise<void> {
    for (const p of this.plugins) {
      if (p.hooks.onIncidentEvent) await this.guard(p.name, 'onIncidentEvent', call, (c) => p.hooks.onIncidentEvent!(event, incident, c));
    }
  }

  async onTimer(plugin: string, key: string, payload: Record<string, unknown>, call: (plugin: string) => PluginCall): Promise<void> {
    const p = this.plugins.find((x) => x.name === plugin);
    if (!p?.hooks.onTimer) {
      this.log.warn('timer for a plugin that is not enabled; dropped', { plugin, key });
      return;
    }
    // Not swallowed: the timer's whole transaction rolls back, the hook's writes with it (quiet
    // hours deletes a digest's held pages before it releases them: a failure half way must not lose
    // them), and the timer is tried again when its lease ends, as any failed timer (logged,
    // counted, /healthz). Swallowing it committed whatever the hook had written until it failed.
    await this.guard(p.name, 'onTimer', call, (c) => p.hooks.onTimer!(key, payload, c), true);
  }

  /**
   * guard runs one hook; a throw is recorded and swallowed (undefined). A deadlock or
   * serialization failure is not the plugin's: it is thrown on, and the transaction runs again.
   * (Any other statement error has aborted a PostgreSQL transaction too: the store then fails the
   * whole transaction with it rather than commit half an event; see PostgresStore.attempt.)
   */
  private async guard<T>(plugin: string, hook: string, call: (plugin: string) => PluginCall, fn: (call: PluginCall) => Promise<T>, rethrow = false): Promise<T | undefined> {
    try {
      return await this.inTime(plugin, hook, call, fn);
    } catch (err) {
      if (isTransientStoreError(err)) throw err;
      const h = this.health.get(plugin);
      const message = err instanceof Error ? err.message : String(err);
      if (h) {
        h.failures++;
        h.lastError = `${hook}: ${message}`;
        h.lastFailureAt = new Date().toISOString();
      }
      this.log.error(rethrow ? 'plugin hook failed; its timer is tried again later' : 'plugin hook failed; the event goes on without it', { plugin, hook, error: message });
      for (const listener of this.failureListeners) listener(plugin, hook);
      if (rethrow) throw err;
      return undefined;
    }
  }

  /**
   * inTime runs `fn` with a call closed when it ends, failing it (PluginLate) past the deadline
   * (HOOK_DEADLINE_MS). A hook that is still running then is left to itself: nothing waits for
   * it, and what it does with its closed call throws.
   */
  private async inTime<T>(plugin: string, hook: string, call: (plugin: string) => PluginCall, fn: (call: PluginCall) => Promise<T>): Promise<T> {
    const fence = { open: true };
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = Promise.resolve().then(() => fn(fenced(call(plugin), fence, plugin, hook)));
      running.catch(() => undefined); // past the deadline, its end is nobody's
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PluginLate(`did not return within ${this.deadlineMs / 1000} s (a hook must not wait for anything slow: the event's transaction waits with it); the event went on without it`)), this.deadlineMs);
      });
      return await Promise.race([running, late]);
    } finally {
      clearTimeout(timer);
      fence.open = false;
    }
  }

  /** runCommand runs a plugin's command in time (see inTime); past the deadline the caller hears so. */
  async runCommand<T>(plugin: string, call: (plugin: string) => PluginCall, fn: (call: PluginCall) => Promise<T>): Promise<T> {
    try {
      return await this.inTime(plugin, 'command', call, fn);
    } catch (err) {
      if (!(err instanceof PluginLate)) throw err;
      this.log.error('plugin command did not answer in time; its transaction is rolled back', { plugin, error: err.message });
      throw new Refusal(`The ${plugin} plugin's command did not answer within ${this.deadlineMs / 1000} s; nothing was changed. Try again later; an admin finds the details in Onehand's log.`);
    }
  }

  /** buildCall makes the per-call context a plugin sees, bound to one transaction. */
  buildCall(plugin: string, tx: StoreTx, now: DateTime, tell: (n: Notification) => void): PluginCall {
    const ns = pluginNamespace(plugin);
    const world = this.world;
    return {
      now,
      world,
      logger: this.log,
      storage: {
        get: async <T>(key: string) => (await tx.kvGet(ns, key)) as T | undefined,
        peek: async <T>(key: string) => (await tx.kvPeek(ns, key)) as T | undefined,
        set: (key, value) => tx.kvSet(ns, key, value),
        delete: (key) => tx.kvSet(ns, key, undefined),
      },
      notify: (n) => tell({ key: `${ns}:${n.key}`, recipient: n.recipient, message: n.message, incidentId: n.incidentId ?? null, role: n.role ?? 'member', ...(n.severity !== undefined ? { severity: n.severity } : {}) }),
      schedule: async (key, at, payload = {}) => {
        await tx.scheduleTimer({ key: `${ns}:${key}`, kind: PLUGIN_TIMER, dueAt: at, payload: { plugin, key, data: payload } });
      },
      recordOnIncident: async (incidentId, kind, data) => {
        await tx.appendTimeline({ incidentId, at: now, kind, actor: null, data: { ...data, plugin } });
      },
      incidents: (ids) => tx.listIncidents({ ids }),
      incidentsBetween: async (teamId, from, to) => {
        // Also the incidents moved to another team meanwhile: what happened while they were this
        // team's is this team's to hand over.
        const active = [
          ...await tx.listIncidents({ team: teamId, activeBetween: { from, to } }),
          ...await tx.listIncidents({ movedFrom: { team: teamId, from, to }, activeBetween: { from, to } }),
        ];
        const timelines = await tx.timelines(active.map((i) => i.id));
        return active.map((incident, i) => ({ incident, timeline: timelines[i] ?? [] }));
      },
      shifts: async (teamId, from, to) => {
        const team = world.teams.get(teamId);
        return team ? shiftsBetween(this.policies, tx, team, from, to) : [];
      },
      onCall: async (teamId, at) => {
        const team = world.teams.get(teamId);
        if (!team) throw new Error(`no team ${teamId}`);
        return (await onCallNow(this.policies, tx, team, at)).member;
      },
    };
  }
}

/** PluginLate: a hook or command ran past HOOK_DEADLINE_MS. */
class PluginLate extends Error {}

/**
 * fenced: `call` for one hook, closed once the hook has ended (or ran out of time): a call kept
 * past that (a promise left running, a deadline missed) would write into whichever transaction
 * the store runs then, or tell a notification nobody sends; it throws instead, naming the plugin.
 */
function fenced(call: PluginCall, fence: { readonly open: boolean }, plugin: string, hook: string): PluginCall {
  const check = (): void => {
    if (!fence.open) throw new Error(`plugin ${plugin}: this call ended with its ${hook} hook; a hook must await its work before it returns`);
  };
  const guard = <A extends unknown[], R>(f: (...args: A) => R) => (...args: A): R => {
    check();
    return f(...args);
  };
  const s = call.storage;
  return {
    now: call.now,
    world: call.world,
    logger: call.logger,
    storage: { get: guard(s.get.bind(s)), peek: guard(s.peek.bind(s)), set: guard(s.set.bind(s)), delete: guard(s.delete.bind(s)) } as PluginStorage,
    notify: guard(call.notify.bind(call)),
    schedule: guard(call.schedule.bind(call)),
    recordOnIncident: guard(call.recordOnIncident.bind(call)),
    incidents: guard(call.incidents.bind(call)),
    incidentsBetween: guard(call.incidentsBetween.bind(call)),
    shifts: guard(call.shifts.bind(call)),
    onCall: guard(call.onCall.bind(call)),
  };
}
