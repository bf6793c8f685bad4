/**
 * OnehandApp is the running bot: the command entry point, the timer loop, and the chat adapters.
 * Built by `buildApp` in container.ts; started and stopped by the CLI and the test harness.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import { SYSTEM } from '../core/incident/types';
import type { Message } from '../core/messages/message';
import type { World } from '../core/model';
import type { ChatAdapter, InboundCommand } from '../ports/chat-adapter';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { OutboxStats, Recipient, Store, UnreachedPages } from '../ports/store';
import { AdapterRegistry, adapterNamespace } from './adapters';
import { CommandService } from './command-service';
import { DeliveryWorker } from './delivery-worker';
import { Engine } from './engine';
import { ESCALATION_TIMER, IncidentService, type EscalationPayload } from './incident-service';
import { InsightsService } from './insights-service';
import { IntakeService } from './intake-service';
import { Metrics } from './metrics';
import { PLUGIN_TIMER, PluginHost, pluginNamespace } from './plugin-host';
import { Scheduler } from './scheduler';
import { HANDOVER_TIMER, SHIFT_TIMER, ShiftWatch } from './shift-watch';
import { StoreMonitor } from './store-monitor';
import { TOKENS } from './tokens';
import { UNREACHED_HEALTH_MS, Unreached } from './unreached';

export { SYSTEM };

/** A due delivery that has waited longer than this makes /healthz fail (the worker is stuck or overwhelmed). */
const DELIVERY_LAG_LIMIT_S = 120;

/** /healthz waits this long for the store's probe; a store that has not answered by then is failing. */
export const HEALTH_STORE_WAIT_MS = 5_000;

export interface HealthReport {
  readonly ok: boolean;
  /** "ok" or "failing: <why>". */
  readonly database: string;
  /** "ok" or "behind: <why>". */
  readonly deliveries: string;
  /**
   * "ok"; "behind: <why>": a due timer (an escalation step, a shift change) waits longer than
   * Scheduler.lateLimitMs (shown, `ok` unaffected: every replica reads the same timers, and a
   * restart does not make a failing step fire); "failing: <why>": this replica's timer loop has
   * made no progress for Scheduler.stallLimitMs (fails the probe).
   */
  readonly timers: string;
  /** "ok", or "failing: <n> pages reached nobody in the last hour; last: ..." (see Unreached; shown, `ok` unaffected). */
  readonly pages: string;
  readonly outboxDepth: number | null;
  readonly outbox: { readonly pending: number; readonly waiting: number; readonly givenUpLastHour: number; readonly oldestDueLagSeconds: number } | null;
  /**
   * Each platform: "ok", "ok: <note>" (e.g. members not reachable yet), "degraded: <why>" (shown,
   * `ok` unaffected; "degraded: not running: ..." for a platform asked for that did not start) or
   * "failing: <why>".
   */
  readonly adapters: Record<string, string>;
  readonly plugins: Record<string, string>;
}

@injectable()
export class OnehandApp {
  private started = false;
  /** The store probe of /healthz in flight (see probeStore). */
  private probe: Promise<StoreProbe> | null = null;

  constructor(
    @inject(TOKENS.World) readonly world: World,
    @inject(TOKENS.Store) readonly store: Store,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(AdapterRegistry) readonly adapters: AdapterRegistry,
    @inject(CommandService) readonly commands: CommandService,
    @inject(Scheduler) readonly scheduler: Scheduler,
    @inject(Engine) private readonly engine: Engine,
    @inject(IncidentService) private readonly incidents: IncidentService,
    /** The alert intake (monitoring webhooks); its routes are registered by the CLI. */
    @inject(IntakeService) readonly intake: IntakeService,
    @inject(ShiftWatch) private readonly shiftWatch: ShiftWatch,
    @inject(PluginHost) readonly plugins: PluginHost,
    /** Team insights (report API, calendars, dashboard); routes registered by the CLI. */
    @inject(InsightsService) readonly insights: InsightsService,
    /** Prometheus metrics; the CLI serves them on /metrics, the intake observes its latency. */
    @inject(Metrics) readonly metrics: Metrics,
    @inject(StoreMonitor) private readonly storeErrors: StoreMonitor,
    @inject(DeliveryWorker) private readonly delivery: DeliveryWorker,
    @inject(Unreached) private readonly unreached: Unreached,
  ) {
    this.scheduler.on(SHIFT_TIMER, (tx, timer, now) => this.shiftWatch.fire(tx, timer, now));
    this.scheduler.on(HANDOVER_TIMER, (tx, timer, now) => this.shiftWatch.continueHandOver(tx, timer, now));
    this.scheduler.on(PLUGIN_TIMER, async (tx, timer, now) => {
      const { plugin, key, data } = timer.payload as { plugin: string; key: string; data: Record<string, unknown> };
      const team = [...this.world.teams.values()][0];
      if (!team) return;
      await this.engine.within(tx, SYSTEM, team, now, (ctx) =>
        this.plugins.onTimer(plugin, key, data ?? {}, (name) => this.plugins.buildCall(name, ctx.tx, now, ctx.tell)));
      // The lock below leaves an empty row where the plugin keeps nothing (PostgreSQL): not kept.
      if (typeof plugin === 'string' && typeof key === 'string' && (await tx.kvPeek(pluginNamespace(plugin), key)) === undefined) await tx.kvSet(pluginNamespace(plugin), key, undefined);
    }, {
      // The plugin's storage under the timer's own key before the timer's row: a hook that keeps
      // state for a timer there (quiet hours' digests) writes that state first and schedules the
      // timer after, so it takes the two rows in that order too.
      lock: async (tx, timer) => {
        const { plugin, key } = timer.payload as { plugin?: unknown; key?: unknown };
        if (typeof plugin === 'string' && typeof key === 'string') await tx.kvGet(pluginNamespace(plugin), key);
      },
    });
    this.scheduler.on(ESCALATION_TIMER, async (tx, timer, now) => {
      const payload = timer.payload as unknown as EscalationPayload;
      const incident = await tx.getIncident(payload.incidentId);
      const team = incident ? this.world.teams.get(incident.team) : undefined;
      if (!incident || !team) return;
      await this.engine.within(tx, SYSTEM, team, now, (ctx) => this.incidents.runEscalationStep(ctx, incident, payload));
    }, {
      // The incident before the timer's row: an acknowledgement takes them in that order too.
      lock: (tx, timer) => tx.getIncident((timer.payload as unknown as EscalationPayload).incidentId),
    });
  }

  /** handle runs one command and returns the caller's reply. */
  handle(command: InboundCommand): Promise<import('../core/messages/message').Message> {
    return this.commands.handle(command);
  }

  /** start: migrations, adapters, then the timer loop (`loop: false` leaves ticking to the caller). */
  async start(options: { loop?: boolean } = {}): Promise<void> {
    await this.store.serveAlone?.();
    await this.store.migrate();
    await this.store.recoverAtStart?.();
    const running: ChatAdapter[] = [];
    try {
      await this.startAdapters(running);
      await this.shiftWatch.ensureScheduled();
    } catch (err) {
      // A start that fails half way stops what it started (a connected gateway would keep the
      // process alive, taking commands with no timers running): the caller sees the error and exits.
      for (const adapter of running.reverse()) await adapter.stop().catch(() => undefined);
      throw err;
    }
    this.started = true;
    if (options.loop !== false) this.scheduler.start();
  }

  private async startAdapters(running: ChatAdapter[]): Promise<void> {
    for (const adapter of this.adapters.all()) {
      running.push(adapter);
      await adapter.start({
        onCommand: (cmd) => this.handle(cmd),
        commands: this.commands.commands,
        kv: {
          // A read of its own: no lock (on PostgreSQL kvGet is an upsert, a write to commit).
          get: (key) => this.store.transaction((tx) => tx.kvPeek(adapterNamespace(adapter.name), key)),
          set: (key, value) => this.store.transaction((tx) => tx.kvSet(adapterNamespace(adapter.name), key, value)),
        },
        logger: this.log,
        clock: this.clock,
        openIncidents: (team) => this.commands.openIncidents(team),
        incidentFor: (id, viewer) => this.commands.incidentFor(id, viewer),
        reachable: (recipient) => this.delivery.rearm(adapter.name, recipient),
        replyLater: (recipient, reply, inboundId) => this.replyLater(adapter.name, recipient, reply, inboundId),
      });
      // An adapter that started without its platform (Discord out of reach: it runs on and tries
      // again) says so here too, not "started" alone after its error.
      const health = adapter.health?.() ?? { ok: true };
      if (health.ok && health.degraded !== true) this.log.info('adapter started', { adapter: adapter.name });
      else if (health.lasting === true) this.log.warn('adapter started', { adapter: adapter.name, state: health.detail ?? 'degraded' });
      else this.log.warn('adapter started without its platform; it keeps trying (see /healthz)', { adapter: adapter.name, state: health.detail ?? (health.ok ? 'degraded' : 'failing') });
    }
  }

  /** replyLater: a reply an adapter could not send in its turn becomes an outbox row (one per inbound event). */
  private async replyLater(adapter: string, recipient: Recipient, reply: Message, inboundId: string): Promise<void> {
    const now = this.clock.now();
    await this.store.transaction((tx) => tx.enqueue([{ key: `reply:${inboundId}@${adapter}`, adapter, recipient, message: reply, incidentId: null, notBefore: now }]));
  }

  /**
   * health, for /healthz: the store (a write goes through, and no store call failed in the last
   * minute), each platform (its own view, and the delivery worker's: calls failing in a row), the
   * plugins, and the outbox (pending, waiting for a recipient, given up in the last hour, how late
   * the oldest due delivery is). Not ok when the store or a platform fails, or deliveries lag.
   */
  async health(storeWaitMs = HEALTH_STORE_WAIT_MS): Promise<HealthReport> {
    const now = this.clock.now();
    let database = 'ok';
    let outbox: HealthReport['outbox'] = null;
    let unreachedStored: StoreProbe['unreached'] | null = null;
    let timers = 'ok';
    try {
      const { stats, unreached, timer } = await this.probeStore(now, storeWaitMs);
      unreachedStored = unreached;
      const timerLagMs = timer ? now.toMillis() - timer.dueAt.toMillis() : 0;
      if (timer && timerLagMs > this.scheduler.lateLimitMs) {
        timers = `behind: the oldest due timer (${timerText(timer.kind, timer.key)}) waits ${Math.round(timerLagMs / 1000)} s; the log says why (a step's handler keeps failing: retried each time its lease ends; or no replica's timer loop runs)`;
      }
      const lagMs = stats.oldestDue ? Math.max(0, now.toMillis() - stats.oldestDue.toMillis()) : 0;
      outbox = { pending: stats.pending, waiting: stats.waiting, givenUpLastHour: stats.deadSince, oldestDueLagSeconds: Math.round(lagMs / 1000) };
    } catch (err) {
      database = `failing: ${err instanceof Error ? err.message : String(err)}`;
    }
    const stalled = this.scheduler.stalledMs(now);
    if (stalled > this.scheduler.stallLimitMs) timers = `failing: this replica's timer loop has made no progress for ${Math.round(stalled / 1000)} s (a timer's handler or transaction that does not return; the log says which)`;
    const storeError = this.storeErrors.recent();
    if (database === 'ok' && storeError) database = `failing: ${storeError}`;
    const adapters: Record<string, string> = {};
    for (const a of this.adapters.all()) {
      const own = a.health?.() ?? { ok: true };
      const seen = this.delivery.platformHealth(a.name);
      adapters[a.name] = !own.ok ? `failing${own.detail ? `: ${own.detail}` : ''}` : !seen.ok ? `failing: ${seen.detail ?? ''}`
        : own.degraded ? `degraded: ${own.detail ?? ''}` : own.detail ? `ok: ${own.detail}` : 'ok';
    }
    // A platform asked for (a token set) that does not run pages nobody: shown, as the console's
    // "nobody reads this" is, without failing the probe (a restart does not add a missing id).
    for (const off of this.adapters.notRunning()) {
      adapters[off.platform] ??= `degraded: not running: ${off.problem}; ${off.fix}`;
    }
    const plugins = this.plugins.status();
    const lagging = outbox !== null && outbox.oldestDueLagSeconds > DELIVERY_LAG_LIMIT_S;
    const deliveries = lagging ? `behind: the oldest due delivery waits ${outbox?.oldestDueLagSeconds ?? 0} s` : 'ok';
    const unreached = this.unreached.health(unreachedStored);
    const pages = unreached.ok ? (unreached.detail ? `ok; ${unreached.detail}` : 'ok') : `failing: ${unreached.detail ?? ''}`;
    // `pages`, and timers behind, are shown, not a failure of the probe: every replica reads them
    // from the same store, and a readiness probe taking them all out would stop the webhooks too.
    const ok = database === 'ok' && deliveries === 'ok' && !timers.startsWith('failing') && Object.values(adapters).every((v) => !v.startsWith('failing')) && Object.values(plugins).every((v) => v === 'ok');
    return { ok, database, deliveries, timers, pages, outboxDepth: outbox?.pending ?? null, outbox, adapters, plugins };
  }

  /**
   * probeStore: a real write (a full disk or a broken file fails here even when reads still work)
   * and the outbox's figures. /healthz must answer even when the store does not (a transaction
   * holds it): past `waitMs` the probe is failing. Callers meanwhile share the probe in flight, so
   * a held store does not pile up probes behind it.
   */
  private probeStore(now: DateTime, waitMs: number): Promise<StoreProbe> {
    const probe = this.probe ??= this.store.transaction(async (tx) => {
      // The write and the reads need nothing of each other: one wait for the store, not three
      // (the probe holds the store meanwhile, and load balancers ask often). All settle before
      // the transaction ends either way: a ROLLBACK must not overtake the write.
      const [written, stats, unreached, timer] = await Promise.allSettled([
        tx.kvSet('health', 'probe', now.toMillis()),
        tx.outboxStats(now.minus({ hours: 1 })),
        tx.pagesUnreachedSince(now.minus({ milliseconds: UNREACHED_HEALTH_MS })),
        tx.oldestDueTimer(),
      ]);
      if (written.status === 'rejected') throw written.reason;
      if (stats.status === 'rejected') throw stats.reason;
      if (unreached.status === 'rejected') throw unreached.reason;
      if (timer.status === 'rejected') throw timer.reason;
      return { stats: stats.value, unreached: unreached.value, timer: timer.value };
    }).finally(() => {
      this.probe = null;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${waitMs / 1000} s (a long or stuck transaction holds the store; see the log)`)), waitMs);
    });
    return Promise.race([probe, late]).finally(() => clearTimeout(timer));
  }

  async stop(): Promise<void> {
    this.store.stopping?.();
    await this.scheduler.stop();
    if (this.started) for (const adapter of this.adapters.all()) await adapter.stop();
    this.started = false;
    await this.store.close();
  }
}

/** What the /healthz probe reads in its transaction. */
interface StoreProbe {
  readonly stats: OutboxStats;
  readonly unreached: UnreachedPages;
  readonly timer: { readonly dueAt: DateTime; readonly kind: string; readonly key: string } | null;
}

/** timerText: "the escalation of #12", or the timer's kind and key. */
function timerText(kind: string, key: string): string {
  const incident = /^esc:(\d+):/.exec(key);
  return incident ? `the escalation of #${incident[1]}` : `${kind} ${key}`;
}
