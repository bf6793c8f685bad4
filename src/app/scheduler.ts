/**
 * Scheduler is the timer loop: the only code that reads the clock to decide that something is due.
 * Each tick fires every due durable timer, then hands due deliveries to the DeliveryWorker (which
 * also sends at once whenever a commit enqueues some).
 *
 * A timer fires exactly once: its handler's writes and the timer's completion commit in one
 * transaction, guarded by the lease taken when it was claimed. If the process stops at any point,
 * either the whole step happened or none of it did; at the next start the step is still due and
 * fires then, late by at most one timer period.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { Store, StoreTx, TimerRow } from '../ports/store';
import { DeliveryWorker } from './delivery-worker';
import { Metrics } from './metrics';
import { TOKENS, type Settings } from './tokens';

export type TimerHandler = (tx: StoreTx, timer: TimerRow, now: DateTime) => Promise<void>;

export interface TimerOptions {
  /**
   * lock takes the rows the handler will lock (on PostgreSQL `FOR UPDATE`: its incident, its
   * storm) before the timer's own row is completed. Other transactions lock such a row first and
   * then cancel or schedule its timers (an acknowledgement cancels the incident's escalation): were
   * the timer's row taken first here, each could wait for the other, a deadlock PostgreSQL breaks
   * only after its deadlock timeout, by aborting one of the two.
   */
  readonly lock?: (tx: StoreTx, timer: TimerRow) => Promise<unknown>;
}

const TIMER_LEASE_MS = 60_000;
/** Below these, a timer's wait or a loop's pause is ordinary (see lateLimitMs, stallLimitMs). */
const TIMER_LATE_MIN_MS = 120_000;

class LeaseLost extends Error {}

@injectable()
export class Scheduler {
  private readonly handlers = new Map<string, { readonly handler: TimerHandler; readonly options: TimerOptions }>();
  private loop: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private live = false;
  private fired = 0;
  /** When the running loop last made progress: a claim answered, a timer fired or failed (clock ms). */
  private progressAt: number | null = null;

  constructor(
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.Settings) private readonly settings: Settings,
    @inject(DeliveryWorker) private readonly delivery: DeliveryWorker,
    @inject(Metrics) private readonly metrics: Metrics,
  ) {}

  get timersFired(): number {
    return this.fired;
  }

  /**
   * lateLimitMs: a due timer waiting longer than this is behind. A timer waits its lease when the
   * replica that claimed it died (or when its handler failed: it is retried once the lease ends),
   * plus a timer period until the next claim: that much is how timers work, more is not.
   */
  get lateLimitMs(): number {
    return Math.max(TIMER_LATE_MIN_MS, (this.settings.leaseMs ?? TIMER_LEASE_MS) + this.settings.timerPeriodMs + 60_000);
  }

  /** stallLimitMs: this replica's running loop making no progress for longer than this is stuck. */
  get stallLimitMs(): number {
    return Math.max(TIMER_LATE_MIN_MS, 3 * this.settings.timerPeriodMs);
  }

  /**
   * stalledMs: how long this replica's running loop has made no progress (no claim answered, no
   * timer fired or failed): a handler or transaction that never returns holds every later step of
   * every incident on this replica. 0 while the loop does not run (tests, the console between lines).
   */
  stalledMs(now: DateTime): number {
    return this.live && this.progressAt !== null ? Math.max(0, now.toMillis() - this.progressAt) : 0;
  }

  on(kind: string, handler: TimerHandler, options: TimerOptions = {}): void {
    this.handlers.set(kind, { handler, options });
  }

  /**
   * start runs a tick now and then every timer period until stop. Deliveries go out as soon as
   * they are enqueued (the worker is woken by the store), not at the next tick.
   */
  start(): void {
    this.stopped = false;
    this.live = true;
    this.progressAt = this.clock.now().toMillis();
    this.delivery.start();
    const loop = (): void => {
      if (this.stopped) return;
      this.loop = setTimeout(() => void this.tick().finally(loop), this.settings.timerPeriodMs);
    };
    void this.tick().finally(loop);
  }

  /** stop ends the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.live = false;
    if (this.loop) clearTimeout(this.loop);
    // A tick in progress may wait for deliveries whose marks wait for an unavailable store.
    this.delivery.beginStop();
    await this.chain;
    await this.delivery.stop();
  }

  /**
   * tick fires due timers, then starts the due deliveries. With the loop running (`start`) it does
   * not wait for the sends, so a slow platform never holds up timers; without it (simulated clock,
   * tests) it waits until every due delivery was attempted. Ticks never overlap: they queue.
   */
  tick(): Promise<void> {
    return this.enqueueTick(!this.live);
  }

  /** flush is a tick that always waits for the due deliveries (the console, after each line). */
  flush(): Promise<void> {
    return this.enqueueTick(true);
  }

  private enqueueTick(wait: boolean): Promise<void> {
    const run = this.chain.then(async () => {
      // A tick asked for while the app stops (the console's flush after a line it was still
      // handling) has nothing to do: the store closes after stop.
      if (this.stopped) return;
      try {
        await this.fireDue();
        if (wait) await this.delivery.drain();
        else await this.delivery.pump();
      } catch (err) {
        this.log.error('timer loop tick failed', { error: err instanceof Error ? err.message : String(err) });
      }
    });
    this.chain = run;
    return run;
  }

  /**
   * advanceTo moves a simulated clock to `target`, stopping at each due timer on the way so every
   * step fires at its own instant. `setClock` is the simulated clock's setter.
   */
  async advanceTo(target: DateTime, setClock: (at: DateTime) => void): Promise<void> {
    // Work due at or before `stuck` made no progress when tried (leased elsewhere, a failed
    // handler, a delivery held behind a failed one): look past it instead of spinning.
    let stuck: DateTime | undefined;
    for (;;) {
      const next = await this.store.transaction(async (tx) => earliest(await tx.nextTimerDue(stuck), await tx.nextDeliveryDue(stuck)));
      if (next === null || next > target) break;
      if (next > this.clock.now()) setClock(next);
      const before = this.fired + this.delivery.stats.sent + this.delivery.stats.failed;
      await this.flush();
      stuck = this.fired + this.delivery.stats.sent + this.delivery.stats.failed === before ? this.clock.now() : undefined;
    }
    if (target > this.clock.now()) setClock(target);
    await this.flush();
  }

  private async fireDue(): Promise<void> {
    // A stop (SIGTERM) ends the work of the tick in progress after the batch being fired (at most
    // 50 steps, each a transaction: they are claimed, and a claim left unfired would wait out its
    // lease on PostgreSQL): a backlog of due steps must not keep a stopping process paging for
    // minutes. The next start, or another replica, fires the rest, each exactly once.
    while (!this.stopped) {
      const now = this.clock.now();
      const owner = this.settings.instanceId;
      const lease = this.settings.leaseMs ?? TIMER_LEASE_MS;
      const timers = await this.store.transaction((tx) => tx.claimDueTimers(now, 50, owner, now.plus({ milliseconds: lease })));
      this.progressAt = this.clock.now().toMillis();
      if (timers.length === 0) return;
      for (const timer of timers) await this.fire(timer, owner);
    }
  }

  private async fire(timer: TimerRow, owner: string): Promise<void> {
    const entry = this.handlers.get(timer.kind);
    try {
      await this.store.transaction(async (tx) => {
        if (entry?.options.lock) await entry.options.lock(tx, timer);
        if (!(await tx.completeTimer(timer.id, owner))) throw new LeaseLost();
        if (entry) await entry.handler(tx, timer, this.clock.now());
        else this.log.warn('no handler for timer kind; dropped', { kind: timer.kind, key: timer.key });
      });
      this.fired++;
    } catch (err) {
      if (err instanceof LeaseLost) return;
      // The transaction rolled back: the timer stays due and is retried when its lease expires.
      this.log.error('timer handler failed; will retry', { kind: timer.kind, key: timer.key, error: err instanceof Error ? err.message : String(err) });
      this.metrics.timerFailed(timer.kind);
    } finally {
      this.progressAt = this.clock.now().toMillis();
    }
  }
}

function earliest(a: DateTime | null, b: DateTime | null): DateTime | null {
  if (a === null) return b;
  if (b === null) return a;
  return a <= b ? a : b;
}
