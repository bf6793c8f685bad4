/**
 * DeliveryWorker is responsible for the last mile: every outbox row reaches its platform promptly,
 * in order per recipient, and no failure is silent.
 *
 * - **Lanes.** A row's lane is its adapter and recipient. One lane sends one row at a time, in
 *   (notBefore, id) order; lanes run side by side, at most `delivery.concurrency` calls per
 *   platform, so one slow recipient or platform never holds up another's page. Across replicas a
 *   lane is sent by one process at a time (the store never claims from a lane while a lease in it
 *   runs, and on PostgreSQL claims take turns).
 * - **Timeouts.** Every platform call gets `delivery.timeout` (an AbortSignal). A timed-out call
 *   counts as a transient failure, unless it still lands within a short grace (a call the
 *   platform cannot abort): then it counts as sent.
 * - **One row, one send, one mark.** A row is marked sent right after the platform accepted it,
 *   and its lane sends nothing more until that mark committed, so a crash repeats at most the sends
 *   in flight at that instant (one per busy lane); platforms that offer idempotency (Discord's
 *   nonce) drop even those. Marks of several lanes made at once share a transaction. When the
 *   store takes no write (SQLite's file locked by another process, PostgreSQL unreachable), the
 *   marks wait for it (retried with backoff for MARK_RETRY_MS, and on a store replicas share
 *   only while their leases last) instead of failing, which would send every one of those pages
 *   again after its lease.
 * - **Immediate.** A commit that enqueued rows wakes the worker (Store.onEnqueued; on PostgreSQL
 *   through LISTEN/NOTIFY from any replica); the timer period only catches retries that come due.
 * - **Retries.** Transient failures are retried with backoff (5 s doubling, at most 5 min apart)
 *   for 24 hours; the rest of the lane waits behind the failed row, so order holds, until that row
 *   has failed `delivery.fallback_after` times (a poison message never blocks a lane). When a platform
 *   recovers, its backed-off rows are retried at once, in their original order.
 * - **The fallback ladder.** A page or huddle call that cannot reach a member (undeliverable,
 *   not reachable yet, failing past `delivery.fallback_after` attempts, or given up) goes to the
 *   member's other platforms (rows for each platform that can reach them are enqueued together),
 *   and when none of those reached them, to the team channel on every platform, mentioning only
 *   that member. Every step is logged and written to the incident's timeline.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import { DELIVERY_DEFAULTS, lateGraceMs, minLeaseMs } from '../config/types';
import { memberName } from '../core/messages/incident-views';
import type { World } from '../core/model';
import type { ChatAdapter, DeliveryOutcome } from '../ports/chat-adapter';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { lanesOf, type DeliveryState, type OutboxRow, type Recipient, type Store, type StoreTx } from '../ports/store';
import { AdapterRegistry, adapterNamespace } from './adapters';
import { Metrics } from './metrics';
import { channelFallback, isUrgent, planDeliveries, type Notification } from './notifications';
import { isStoreUnavailable } from './store-monitor';
import { TOKENS, type Settings } from './tokens';
import { Unreached, type LatePage } from './unreached';
import { errorText } from '../core/text/error-text';

const BASE_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 5 * 60_000;
export const GIVE_UP_AFTER_MS = 24 * 3600_000;
const LEASE_MS = 60_000;
/** How long a mark waits for a store that takes no write (see One row, one send, one mark), wall ms from its first try. */
export const MARK_RETRY_MS = 30_000;
/**
 * On a store other replicas share, a mark stops waiting this long before its row's lease ends (one
 * more try may take SQLite's busy_timeout or a connection attempt): another replica may claim the
 * row then, and sending it twice is what the wait is for avoiding.
 */
const MARK_LEASE_MARGIN_MS = 7_000;
/** The first wait before marks are tried again on such a store; it doubles up to MARK_RETRY_MAX_WAIT_MS. */
const MARK_RETRY_FIRST_WAIT_MS = 100;
const MARK_RETRY_MAX_WAIT_MS = 5_000;
const BATCH = 100;
/** The worker's transactions go before waiting intake batches and commands (see Store.transaction). */
const URGENT = { urgent: true } as const;
/** How often a delivery waiting for its recipient to become reachable is looked at again. */
export const WAITING_RECHECK_MS = 5 * 60_000;
/** A page older than this when its turn comes (it failed, or waited behind one that did) is checked for being moot first. */
const MOOT_AFTER_MS = 10_000;
/** kv namespace: urgent channel posts whose failing climbed the last rung already (see fallBack). */
const LADDER_NS = 'delivery-ladder';
/** Rows of one lane taken in one claim; their leases are extended while the lane works through them. */
const PER_LANE = 25;


export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts));
}

/** Remember: a key an adapter keeps of a message it posted (DeliveryOutcome.remember), with its namespace. */
interface Remember {
  readonly namespace: string;
  readonly key: string;
  readonly value: unknown;
}

/** Mark: a sent row waiting for its mark (see markSent). */
interface Mark {
  readonly id: number;
  readonly at: DateTime;
  readonly remember: Remember | null;
  /** When the row's lease ends (the app's clock, ms): on a shared store, another replica may send it again then. */
  readonly leaseUntil: number;
  /** A page that failed before it went out: what it answers of the pages that reached nobody (see Unreached.reachedLate). */
  readonly late: LatePage | null;
  /** When this mark was first tried (wall ms), once it has been. */
  triedSince?: number;
  readonly done: () => void;
  readonly failed: (err: unknown) => void;
}

/** Attempt: what one platform call came to. */
type Attempt = DeliveryOutcome | { readonly status: 'failed'; readonly reason: string };

/** PlatformState: the worker's view of one platform, for /healthz. */
interface PlatformState {
  /** Failed calls since the last success. */
  failures: number;
  lastError: string | null;
}

/** A counting semaphore: at most `size` holders at once, FIFO. */
class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async acquire(): Promise<() => void> {
    if (this.used >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.used--;
    };
  }
}

@injectable()
export class DeliveryWorker {
  private sent = 0;
  private failed = 0;
  /** Lanes this process is sending, with the rows claimed for them, in order, and their lease end (ms). */
  private readonly lanes = new Map<string, Array<{ row: OutboxRow; leaseUntil: number }>>();
  private readonly slots = new Map<string, Slots>();
  private readonly platforms = new Map<string, PlatformState>();
  private pumping: Promise<number> | null = null;
  private again = false;
  private live = false;
  private unsubscribe: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];
  /** When each lane was last said to be reachable (AdapterContext.reachable), wall ms. */
  private readonly rearmedAt = new Map<string, number>();
  /** Claims made so far, and the claim that started each lane sending (see runLane's end). */
  private claims = 0;
  private readonly laneClaim = new Map<string, number>();
  /** Sent rows waiting for their mark, and the transaction marking the previous ones (see markSent). */
  private marks: Mark[] = [];
  private marking: Promise<void> | null = null;
  /** Wakes the marks' wait for an unavailable store early (stop). */
  private wakeMarks: (() => void) | null = null;
  /** stop() was called: marks no longer wait for an unavailable store. */
  private stopping = false;

  constructor(
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Settings) private readonly settings: Settings,
    @inject(AdapterRegistry) private readonly adapters: AdapterRegistry,
    @inject(Metrics) private readonly metrics: Metrics,
    @inject(Unreached) private readonly unreached: Unreached,
  ) {}

  get stats(): { sent: number; failed: number } {
    return { sent: this.sent, failed: this.failed };
  }

  private get timeoutMs(): number {
    return this.settings.delivery?.timeoutMs ?? DELIVERY_DEFAULTS.timeoutMs;
  }

  private get fallbackAfter(): number {
    return this.settings.delivery?.fallbackAfter ?? DELIVERY_DEFAULTS.fallbackAfter;
  }

  /** start: send as soon as rows are enqueued (by this process or, on PostgreSQL, any replica). */
  start(): void {
    this.live = true;
    this.stopping = false;
    this.unsubscribe ??= this.store.onEnqueued(() => {
      if (this.live) void this.pump();
    });
  }

  /** beginStop: marks stop waiting for an unavailable store (the scheduler calls it before it waits for a tick in progress). */
  beginStop(): void {
    this.stopping = true;
    this.wakeMarks?.();
  }

  /** stop: no more wake-ups; waits for the sends in flight (each bounded by the call timeout). */
  async stop(): Promise<void> {
    this.live = false;
    this.beginStop();
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.pumping;
    await this.idle();
  }

  /**
   * platformHealth: a platform whose last `fallback_after` calls or more all failed, with no
   * success since, is failing; /healthz reports it with the last error.
   */
  platformHealth(adapter: string): { ok: boolean; detail?: string } {
    const state = this.platforms.get(adapter);
    if (!state || state.failures < this.fallbackAfter) return { ok: true };
    return { ok: false, detail: `${state.failures} deliveries in a row failed; last: ${state.lastError ?? 'unknown'}` };
  }

  /** rearm: deliveries on `adapter` waiting for `recipient` become due now. */
  async rearm(adapter: string, recipient: Recipient): Promise<void> {
    const lanes = lanesOf(adapter, recipient);
    for (const lane of lanes) this.rearmedAt.set(lane, Date.now());
    const n = await this.store.transaction(async (tx) => {
      let count = 0;
      for (const lane of lanes) count += await tx.rearmLane(lane, this.clock.now());
      return count;
    }, URGENT);
    if (n > 0) this.log.info('deliveries waiting for a recipient go out now', { adapter, recipient: lanes[0], deliveries: n });
  }

  /**
   * pump claims due rows (those of lanes this process is not already sending) and starts their
   * lanes; it returns how many rows it claimed, without waiting for the sends. Calls coalesce.
   */
  pump(): Promise<number> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    const run = (async (): Promise<number> => {
      let claimed = 0;
      try {
        do {
          this.again = false;
          const n = await this.claim();
          claimed += n;
          if (n === BATCH) this.again = true;
        } while (this.again);
      } catch (err) {
        this.log.error('delivery worker could not claim deliveries; retrying at the next period', { error: errorText(err) });
      } finally {
        this.pumping = null;
      }
      return claimed;
    })();
    this.pumping = run;
    return run;
  }

  /** drain delivers every due row and waits for the sends; returns how many rows it claimed. */
  async drain(): Promise<number> {
    let attempted = 0;
    for (;;) {
      await this.pumping;
      const n = await this.pump();
      await this.idle();
      attempted += n;
      if (n === 0) return attempted;
    }
  }

  /** idle resolves when no lane is sending. */
  idle(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async claim(): Promise<number> {
    const now = this.clock.now();
    const leaseUntil = now.plus({ milliseconds: this.leaseMs });
    const claim = ++this.claims;
    const rows = await this.store.transaction((tx) =>
      tx.claimOutbox(now, BATCH, this.settings.instanceId, leaseUntil, { perLane: PER_LANE, skipLanes: [...this.lanes.keys()], holdBehindFailures: this.fallbackAfter }), URGENT);
    const started: string[] = [];
    for (const row of rows) {
      const entry = { row, leaseUntil: leaseUntil.toMillis() };
      const queue = this.lanes.get(row.lane);
      if (queue) queue.push(entry);
      else {
        this.lanes.set(row.lane, [entry]);
        this.laneClaim.set(row.lane, claim);
        started.push(row.lane);
      }
    }
    for (const lane of started) void this.runLane(lane);
    return rows.length;
  }

  /**
   * runLane sends the lane's rows one after the other. A transient failure stops the lane: what was
   * queued behind it is released for the next claim, which holds it back until the failed row is
   * sent or has failed fallback_after times.
   */
  private async runLane(lane: string): Promise<void> {
    const queue = this.lanes.get(lane) ?? [];
    // A claim takes at most PER_LANE rows of a lane: a full queue may have more behind it. A row
    // that failed before held back the lane's later rows, which its claim left: once it is sent
    // they are due.
    const full = queue.length >= PER_LANE;
    const retried = queue.some((e) => e.row.attempts > 0);
    // The lane stopped on a failure that is retried later: what is behind it waits for that row.
    let heldBack = false;
    let dueAgain = false;
    try {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const row = entry.row;
        // A page that failed before, or waited behind one that did, may be moot by now.
        if ((row.attempts > 0 || this.clock.now().diff(row.createdAt).as('milliseconds') > MOOT_AFTER_MS) && (await this.moot(row))) continue;
        const release = await this.slotsOf(row.adapter).acquire();
        let attempt: Attempt;
        let startedAt = 0;
        try {
          // A lease that could run out during this call (or ran out while waiting for a slot) is
          // extended first, for the rest of the lane too; a row whose lease was lost is left alone.
          if (entry.leaseUntil - this.clock.now().toMillis() < minLeaseMs(this.timeoutMs) && !(await this.extend(entry, queue))) continue;
          startedAt = Date.now();
          attempt = await this.attempt(row);
        } finally {
          release();
        }
        const goOn = await this.record(row, attempt, startedAt, entry.leaseUntil);
        if (!goOn) {
          // A row waiting for a recipient who became reachable meanwhile is due again now.
          heldBack = attempt.status === 'failed' || attempt.status === 'unavailable';
          dueAgain = !heldBack;
          const rest = queue.map((e) => e.row.id);
          if (rest.length > 0) await this.store.transaction((tx) => tx.releaseLeases(rest, this.settings.instanceId), URGENT);
          break;
        }
      }
    } catch (err) {
      // Recording failed (the database): the rows stay leased and are retried when the lease ends.
      this.log.error('delivery worker could not record a delivery; it is retried when its lease ends', { lane, error: errorText(err) });
    } finally {
      queue.length = 0;
      this.lanes.delete(lane);
      // Rows of this lane due now that no claim took: more than its claim took, rows held behind a
      // retried one, or rows a later claim skipped because the lane was busy, whether this lane's
      // rows went out or not (one undeliverable, moot or waiting must not leave a page that came
      // meanwhile for the next period). Otherwise a claim now would find nothing here (rows
      // enqueued later wake the worker themselves), and it would cost a store transaction; so would
      // one after a failure that holds the lane's rows behind it.
      const skipped = this.claims > (this.laneClaim.get(lane) ?? 0);
      this.laneClaim.delete(lane);
      if (this.lanes.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
      if (this.live && !heldBack && (full || retried || skipped || dueAgain)) void this.pump();
    }
  }

  private get leaseMs(): number {
    return this.settings.leaseMs ?? LEASE_MS;
  }

  /** extend renews the leases of `entry` and the queued rows; rows whose lease was lost leave the queue. */
  private async extend(entry: { row: OutboxRow; leaseUntil: number }, queue: Array<{ row: OutboxRow; leaseUntil: number }>): Promise<boolean> {
    const until = this.clock.now().plus({ milliseconds: this.leaseMs });
    const held = new Set(await this.store.transaction((tx) => tx.extendLeases([entry.row.id, ...queue.map((e) => e.row.id)], this.settings.instanceId, until), URGENT));
    const kept = queue.filter((e) => held.has(e.row.id));
    queue.splice(0, queue.length, ...kept);
    for (const e of [entry, ...kept]) e.leaseUntil = until.toMillis();
    return held.has(entry.row.id);
  }

  private slotsOf(adapter: string): Slots {
    let slots = this.slots.get(adapter);
    if (!slots) {
      slots = new Slots(this.settings.delivery?.concurrency ?? DELIVERY_DEFAULTS.concurrency);
      this.slots.set(adapter, slots);
    }
    return slots;
  }

  /**
   * attempt: one platform call, bounded by the call timeout; never throws. A call that times out
   * is aborted; one the platform cannot abort (botbuilder creating a Teams conversation) may
   * still land, so the worker waits for it a little longer (lateGraceMs, holding its slot and its
   * lane): a late success counts as sent instead of being sent again after the backoff (Teams has
   * no idempotency key: that was a second card of the same page).
   */
  private async attempt(row: OutboxRow): Promise<Attempt> {
    const adapter = this.adapters.get(row.adapter);
    if (!adapter) return { status: 'failed', reason: `the ${row.adapter} adapter is not running in this process` };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const reason = `${row.adapter} did not answer within ${Math.round(this.timeoutMs / 100) / 10} s (delivery.timeout)`;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error(reason));
        resolve(null);
      }, this.timeoutMs);
    });
    const call = this.call(adapter, row, controller.signal);
    try {
      const answer = await Promise.race([call, timeout]);
      if (answer !== null) return answer;
    } finally {
      clearTimeout(timer);
    }
    let grace: NodeJS.Timeout | undefined;
    const late = await Promise.race([call, new Promise<null>((resolve) => (grace = setTimeout(() => resolve(null), this.lateGraceMs)))]);
    clearTimeout(grace);
    if (late?.status === 'delivered') {
      this.log.warn('delivery answered after its timeout: counted as sent, not sent again', { adapter: row.adapter, key: row.key, timeoutMs: this.timeoutMs });
      return late;
    }
    return { status: 'failed', reason };
  }

  /** lateGraceMs: how long a timed-out call may still land (see attempt). */
  private get lateGraceMs(): number {
    return lateGraceMs(this.timeoutMs);
  }

  private async call(adapter: ChatAdapter, row: OutboxRow, signal: AbortSignal): Promise<Attempt> {
    try {
      return await adapter.deliver({ key: row.key, recipient: row.recipient, message: row.message, incidentId: row.incidentId, signal });
    } catch (err) {
      return { status: 'failed', reason: errorText(err) };
    }
  }

  /** record writes what the attempt came to; false when the lane must stop (a transient failure). */
  private async record(row: OutboxRow, attempt: Attempt, startedAt: number, leaseUntil: number): Promise<boolean> {
    const now = this.clock.now();
    const platform = this.platformState(row.adapter);
    switch (attempt.status) {
      case 'delivered': {
        await this.markSent(row.id, now, attempt.remember ? { namespace: adapterNamespace(row.adapter), ...attempt.remember } : null, leaseUntil, latePage(row, (m) => this.pings(row.adapter, m)));
        this.sent++;
        this.metrics.delivery(row.adapter, row.message.kind, 'sent');
        // A platform that was failing as a whole (not one recipient) answers again.
        const recovered = platform.failures >= this.fallbackAfter;
        platform.failures = 0;
        if (recovered) await this.recovered(row.adapter, now);
        return true;
      }
      case 'undeliverable':
        this.failed++;
        this.metrics.delivery(row.adapter, row.message.kind, 'undeliverable');
        this.log.warn('delivery undeliverable', { adapter: row.adapter, key: row.key, reason: attempt.reason });
        await this.store.transaction(async (tx) => {
          await this.ladderTurn(tx, row);
          await tx.markFailed(row.id, attempt.reason, null);
          await this.fallBack(tx, row, attempt.reason, now, 'undeliverable');
        }, URGENT);
        return true;
      case 'waiting':
        // The recipient became reachable while this call was on its way: try again at once.
        if ((this.rearmedAt.get(row.lane) ?? 0) >= startedAt) {
          await this.store.transaction((tx) => tx.markFailed(row.id, attempt.reason, now), URGENT);
          return false;
        }
        this.metrics.delivery(row.adapter, row.message.kind, 'waiting');
        if (row.waitingSince === null) this.log.warn('delivery waits until the recipient is reachable', { adapter: row.adapter, key: row.key, reason: attempt.reason });
        await this.store.transaction(async (tx) => {
          await this.ladderTurn(tx, row);
          const deadline = row.createdAt.plus({ milliseconds: GIVE_UP_AFTER_MS });
          if (row.waitingSince !== null && now >= deadline) {
            this.log.error('delivery given up: the recipient did not become reachable within 24 hours', { adapter: row.adapter, key: row.key, reason: attempt.reason });
            await tx.markFailed(row.id, attempt.reason, null);
            await this.fallBack(tx, row, attempt.reason, now, 'given up');
            return;
          }
          // Rearmed when the recipient becomes reachable; looked at again every WAITING_RECHECK_MS
          // too (an adapter's check costs no platform call), in case that news reached another
          // replica while this one's call was on its way (the rearm then found nothing waiting).
          const recheck = now.plus({ milliseconds: WAITING_RECHECK_MS });
          await tx.markWaiting(row.id, attempt.reason, deadline <= now ? now.plus({ milliseconds: MAX_BACKOFF_MS }) : recheck < deadline ? recheck : deadline);
          if (row.waitingSince === null) await this.fallBack(tx, row, attempt.reason, now, 'waiting');
        }, URGENT);
        return true;
      case 'failed':
      case 'unavailable': {
        this.failed++;
        this.metrics.delivery(row.adapter, row.message.kind, 'failed');
        // A platform that refuses every call (its token) is failing as a whole from its first refusal.
        const unavailable = attempt.status === 'unavailable';
        platform.failures = unavailable ? Math.max(platform.failures + 1, this.fallbackAfter) : platform.failures + 1;
        platform.lastError = attempt.reason;
        const giveUp = now.diff(row.createdAt).as('milliseconds') > GIVE_UP_AFTER_MS;
        const retryAt = giveUp ? null : now.plus({ milliseconds: backoffMs(row.attempts) });
        const attempts = row.attempts + 1;
        (giveUp ? this.log.error : this.log.warn).call(this.log, giveUp ? 'delivery given up after 24 hours of failures' : 'delivery failed; will retry', {
          adapter: row.adapter, key: row.key, attempts, reason: attempt.reason, retryAt: retryAt?.toISO() ?? 'never',
        });
        await this.store.transaction(async (tx) => {
          const failing = attempts >= this.fallbackAfter || unavailable;
          if (retryAt === null || failing) await this.ladderTurn(tx, row);
          await tx.markFailed(row.id, attempt.reason, retryAt);
          if (retryAt === null) {
            await this.fallBack(tx, row, attempt.reason, now, 'given up');
            return;
          }
          if (attempts === 1 && row.recipient.kind === 'member' && row.incidentId !== null && isUrgent(row.message)) {
            // A page's first failure is on the timeline at once, not only when it falls back.
            await tx.appendTimeline({ incidentId: row.incidentId, at: now, kind: 'delivery-retrying', actor: null, data: { member: row.recipient.id, adapter: row.adapter, reason: attempt.reason } });
          }
          if (failing) await this.fallBack(tx, row, attempt.reason, now, 'failing');
        }, URGENT);
        return false;
      }
    }
  }

  /**
   * markSent: the row is marked sent once the returned promise resolves. Marks of rows sent while
   * an earlier mark's transaction runs share the next one: every lane still waits for its own mark
   * before its next send (so a crash repeats at most the sends in flight), but a thousand pages a
   * second take tens of transactions, not a thousand, and leave the store to intake and claims.
   */
  private markSent(id: number, at: DateTime, remember: Remember | null, leaseUntil: number, late: LatePage | null): Promise<void> {
    return new Promise((done, failed) => {
      this.marks.push({ id, at, remember, leaseUntil, late, done, failed });
      this.marking ??= this.markAll();
    });
  }

  private async markAll(): Promise<void> {
    // Whether the warning for this stretch of an unavailable store was logged, and the next pause.
    let told = false;
    let pause = MARK_RETRY_FIRST_WAIT_MS;
    try {
      while (this.marks.length > 0) {
        const marks = this.marks;
        this.marks = [];
        const triedAt = Date.now();
        for (const m of marks) m.triedSince ??= triedAt;
        try {
          await this.writeMarks(marks);
          if (told) {
            this.log.info('deliveries marked sent: the store takes writes again', { marks: marks.length, waitedMs: Date.now() - earliest(marks.map((m) => m.triedSince ?? triedAt)) });
            told = false;
            pause = MARK_RETRY_FIRST_WAIT_MS;
          }
          for (const m of marks) m.done();
        } catch (err) {
          if (!isStoreUnavailable(err)) {
            // One mark (or what its adapter keeps) that cannot be written does not cost the others
            // theirs: each is tried alone (a mark lost means a repeated send, and a message posted
            // again instead of edited where the platform has no idempotency key).
            for (const m of marks) await this.markAlone(m);
            continue;
          }
          // A store that takes no write at all: the marks (and those made meanwhile) wait for it,
          // each for MARK_RETRY_MS and, on a store replicas share, while its lease lasts. Failing
          // them would send each of those pages again once its lease ran out.
          const now = Date.now();
          const retryMs = this.settings.markRetryMs ?? MARK_RETRY_MS;
          const left = (m: Mark) => Math.min(retryMs - (now - (m.triedSince ?? now)), this.leaseLeftMs(m));
          const waiting: Mark[] = [];
          const late: Mark[] = [];
          for (const m of marks) (!this.stopping && left(m) > 0 ? waiting : late).push(m);
          this.marks = [...waiting, ...this.marks];
          if (waiting.length > 0 && !told) {
            told = true;
            this.log.warn('cannot mark deliveries sent: the store takes no write; trying again', { marks: waiting.length, retryForMs: retryMs, error: errorText(err) });
          }
          if (late.length > 0) await this.giveUpMarks(late, err);
          if (waiting.length > 0) {
            await this.pauseMarks(Math.min(pause, earliest(waiting.map(left))));
            pause = Math.min(MARK_RETRY_MAX_WAIT_MS, pause * 2);
          }
        }
      }
    } finally {
      this.marking = null;
    }
  }

  /** leaseLeftMs: how long a mark may still wait before its row's lease (less the margin) ends; unbounded on a store no other process shares. */
  private leaseLeftMs(m: Mark): number {
    if (this.store.singleProcess === true) return Infinity;
    return m.leaseUntil - this.clock.now().toMillis() - MARK_LEASE_MARGIN_MS;
  }

  /**
   * giveUpMarks: marks that waited for the store as long as they may: one more try without what
   * their adapters keep (a large value can be what a nearly full disk refuses), unless the worker
   * stops; then they fail, loudly, and their pages go out again after their leases.
   */
  private async giveUpMarks(marks: readonly Mark[], err: unknown): Promise<void> {
    await this.withoutRemember(marks, err, {
      tryAgain: !this.stopping,
      failing: (last) => this.log.error('deliveries could not be marked sent: the store took no write; they go out again after their lease', {
        marks: marks.length, waitedMs: Date.now() - earliest(marks.map((m) => m.triedSince ?? Date.now())), error: errorText(last),
      }),
    });
  }

  /** pauseMarks: `ms` of wall time, or less when the worker stops. */
  private pauseMarks(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeMarks = null;
        resolve();
      }, ms);
      this.wakeMarks = () => {
        clearTimeout(timer);
        this.wakeMarks = null;
        resolve();
      };
    });
  }

  /** writeMarks: the marks, and what their adapters keep of the messages, in one transaction. */
  private writeMarks(marks: readonly Mark[]): Promise<void> {
    return this.store.transaction(async (tx) => {
      for (const m of marks) {
        await tx.markSent(m.id, m.at);
        // What the adapter keeps of the message (DeliveryOutcome.remember) commits with its mark.
        if (m.remember) await tx.kvSet(m.remember.namespace, m.remember.key, m.remember.value);
        if (m.late) await this.unreached.reachedLate(tx, m.late, m.at);
      }
    }, URGENT);
  }

  /** markAlone: one mark of a failed batch (or a lone one that failed), tried alone (see withoutRemember). */
  private async markAlone(m: Mark): Promise<void> {
    try {
      await this.writeMarks([m]);
      m.done();
    } catch (err) {
      await this.withoutRemember([m], err);
    }
  }

  /**
   * withoutRemember settles marks whose transaction failed with `err`. Should what their adapters
   * keep be what fails, they go without it (unless `tryAgain` is false): a later version of a
   * message is then posted anew instead of edited, which beats sending this one again (on Teams, a
   * second card of the same page). Marks without such data, or that fail again, fail (`failing`
   * hears the last error first), and their rows are sent again after their leases.
   */
  private async withoutRemember(marks: readonly Mark[], err: unknown, options: { tryAgain?: boolean; failing?: (last: unknown) => void } = {}): Promise<void> {
    let last = err;
    if (options.tryAgain !== false && marks.some((m) => m.remember !== null)) {
      try {
        await this.writeMarks(marks.map((m) => ({ ...m, remember: null })));
        this.log.warn('delivery marked sent without what its adapter keeps of it', {
          marks: marks.length, keys: marks.flatMap((m) => (m.remember ? [m.remember.key] : [])), error: errorText(err),
        });
        for (const m of marks) m.done();
        return;
      } catch (again) {
        last = again;
      }
    }
    options.failing?.(last);
    for (const m of marks) m.failed(last);
  }

  private platformState(adapter: string): PlatformState {
    let state = this.platforms.get(adapter);
    if (!state) {
      state = { failures: 0, lastError: null };
      this.platforms.set(adapter, state);
    }
    return state;
  }

  /** recovered: after failures, a platform answered again; what backed off goes now, in order. */
  private async recovered(adapter: string, now: DateTime): Promise<void> {
    const n = await this.store.transaction((tx) => tx.retryNow(adapter, now), URGENT);
    this.log.info('platform delivers again', { adapter, retriedNow: n });
  }

  /**
   * moot: a page retried after failures, or held behind one that failed (a platform that refused
   * the bot for an hour, then took its token again), that is no longer needed: its incident was acknowledged or resolved
   * meanwhile. It is not sent (a burst of stale pages once the platform is back would be noise);
   * the log says so. A page whose incident still waits goes out, also where it reached the member
   * on another platform meanwhile (a member is paged on each of their platforms).
   */
  private async moot(row: OutboxRow): Promise<boolean> {
    if (row.incidentId === null || row.recipient.kind !== 'member' || !isUrgent(row.message)) return false;
    const incidentId = row.incidentId;
    return this.store.transaction(async (tx) => {
      const incident = await tx.getIncident(incidentId);
      const why = incident === null ? 'its incident is gone'
        : incident.state === 'resolved' ? `#${incident.id} was resolved meanwhile`
          : incident.state !== 'open' && row.message.kind === 'page' ? `#${incident.id} was acknowledged meanwhile` : null;
      if (why === null) return false;
      await tx.markFailed(row.id, `not sent any more: ${why}`, null);
      this.log.info('retried page not sent: no longer needed', { adapter: row.adapter, key: row.key, why });
      return true;
    }, URGENT);
  }

  /** siblingsOf: the notification's key (the row's without "@adapter") and its deliveries on the other platforms. */
  private async siblingsOf(tx: StoreTx, row: OutboxRow): Promise<{ base: string; siblings: DeliveryState[] }> {
    const at = row.key.lastIndexOf('@');
    const base = at > 0 ? row.key.slice(0, at) : row.key;
    return { base, siblings: (await tx.deliveryStates(`${base}@`)).filter((d) => d.id !== row.id) };
  }

  /**
   * mayStillGo: another platform's delivery of the same notification that may still reach its
   * recipient: pending, not failing yet, on a platform not failing as a whole (one that refuses
   * the bot, or whose last calls all failed, will not take it soon).
   */
  private mayStillGo(d: { state: string; attempts: number; adapter: string }): boolean {
    return d.state === 'pending' && d.attempts < this.fallbackAfter && (this.platforms.get(d.adapter)?.failures ?? 0) < this.fallbackAfter;
  }

  /**
   * ladderTurn: the fallback decisions about one incident's deliveries take turns. Each reads its
   * siblings (the same page on the other platforms) to decide whether anyone was reached: two
   * platforms refusing the same page at once, each reading the other as still pending, would both
   * stand back and nobody would be told. On PostgreSQL, reading the incident locks its row until
   * the commit; SQLite runs one transaction at a time anyway.
   */
  private async ladderTurn(tx: StoreTx, row: OutboxRow): Promise<void> {
    if (row.incidentId !== null && isUrgent(row.message)) await tx.getIncident(row.incidentId);
  }

  /**
   * fallBack: the ladder for a delivery that did not reach its recipient (see the file comment).
   * Messages that are not urgent, and deliveries to guests and channels, are recorded on the
   * incident's timeline: there is no other way to reach a guest, and a channel is the last rung.
   */
  private async fallBack(tx: StoreTx, row: OutboxRow, reason: string, now: DateTime, why: 'undeliverable' | 'waiting' | 'failing' | 'given up'): Promise<void> {
    const member = row.recipient.kind === 'member' ? row.recipient.id : null;
    const record = async (kind: string, data: Record<string, unknown>): Promise<void> => {
      if (row.incidentId === null) return;
      await tx.appendTimeline({ incidentId: row.incidentId, at: now, kind, actor: null, data: { member, recipient: row.recipient.kind, adapter: row.adapter, reason, why, ...data } });
    };
    const terminal = why === 'undeliverable' || why === 'given up';
    // An urgent channel post that cannot go out now (refused, waiting for a Teams channel the bot
    // has not seen yet, or failing: its platform refuses the bot or keeps erroring) is the last
    // rung of a page, or the unowned alert: see lastRungFailed. It climbs it once (a failing or
    // waiting one is retried all the same, and may still go out late): each later failure, and its
    // giving up after a day, is one more of the same, logged but not counted again.
    if (row.recipient.kind === 'channel' && row.incidentId !== null && isUrgent(row.message)) {
      if ((await tx.kvGet(LADDER_NS, row.key)) !== undefined) {
        if (terminal) this.log.error('urgent team channel post lost', { adapter: row.adapter, key: row.key, reason, why });
        return;
      }
      await tx.kvSet(LADDER_NS, row.key, now.toMillis());
      await this.lastRungFailed(tx, row, reason, now, why);
      return;
    }
    if (member === null || row.incidentId === null || !isUrgent(row.message)) {
      if (!terminal) return;
      this.log.error('delivery lost: no other way to reach the recipient', { adapter: row.adapter, key: row.key, recipient: row.recipient.kind, reason });
      await record('delivery-failed', {});
      return;
    }
    // Another platform's delivery of the same notification that reached them, or may still.
    const { base, siblings } = await this.siblingsOf(tx, row);
    const reached = siblings.find((d) => d.state === 'sent');
    if (reached) {
      if (terminal) await record('delivery-fallback', { reachedOn: reached.adapter });
      return;
    }
    // A delivery on another platform that has not failed fallback_after times yet may still reach
    // them: its own outcome decides. One failing as often as this one does not count.
    if (siblings.some((d) => this.mayStillGo(d))) {
      if (terminal) await record('delivery-failed', {});
      return;
    }
    const incident = await tx.getIncident(row.incidentId);
    if (!incident) return;
    const fallback = channelFallback({ key: base, recipient: row.recipient, message: row.message, incidentId: incident.id }, member, memberName(this.world, member), incident.team);
    if (!fallback) return;
    const rows = planDeliveries(this.adapters, [fallback], now);
    if (rows.length === 0) {
      if (!terminal) return;
      await record('delivery-failed', {});
      await this.unreached.record(tx, { incidentId: incident.id, member, adapter: row.adapter, kind: row.message.kind, madeAt: row.createdAt, reason: `${reason}; and team ${incident.team} has no channel on a running platform (teams[].channels)` }, now);
      return;
    }
    if ((await tx.enqueue(rows)) === 0) return; // this rung was taken already
    const via = rows.map((r) => r.adapter).join(', ');
    this.log.warn('page falls back to the team channel', { member, team: incident.team, incident: incident.id, adapter: row.adapter, reason, why, via: rows.map((r) => r.adapter) });
    await record('delivery-fallback', { via });
    // A channel where the platform does not know them (linked on another platform alone) shows
    // their name as plain text: the post pings nobody, so the page reached nobody all the same.
    if (!rows.some((r) => this.pings(r.adapter, member))) {
      await this.unreached.record(tx, { incidentId: incident.id, member, adapter: row.adapter, kind: row.message.kind, madeAt: row.createdAt, reason: `${reason}; the team channel has the page (${via}), but it cannot ping ${member} there` }, now);
    }
  }

  /** pings: whether a channel post on `adapter` that mentions `member` notifies them (the platform knows them). */
  private pings(adapter: string, member: string): boolean {
    return this.adapters.get(adapter)?.canReach({ kind: 'member', id: member }) === true;
  }

  /**
   * lastRungFailed: an urgent team channel post did not go out on `row.adapter`. When the same post
   * went out, or may still, on another platform's channel, that is all (the timeline says so).
   * Otherwise: the channel fallback of a page means the page reached nobody (see Unreached: the
   * chain moves on now); any other urgent post (the unowned-incident alert) goes to the people it
   * mentions directly, and reached nobody when no platform reaches them either.
   */
  private async lastRungFailed(tx: StoreTx, row: OutboxRow, reason: string, now: DateTime, why: 'undeliverable' | 'waiting' | 'failing' | 'given up'): Promise<void> {
    const incidentId = row.incidentId as number;
    const team = row.recipient.kind === 'channel' ? row.recipient.team : '';
    const { base, siblings } = await this.siblingsOf(tx, row);
    const people = row.message.mentions;
    // The same post on another platform's channel counts only where it pings someone it mentions
    // (a page's stand-in: the member; the unowned alert: the lead, the on-call): a name the
    // platform does not know is plain text there (a member linked on Teams alone).
    const stood = row.key.startsWith('fallback:');
    const pings = (adapter: string): boolean => people.length === 0 || people.some((m) => this.pings(adapter, m));
    const others = siblings.some((d) => (d.state === 'sent' || this.mayStillGo(d)) && pings(d.adapter));
    this.log.error(why === 'waiting' ? 'urgent team channel post waits: the channel is not reachable yet' : 'urgent team channel post lost', { adapter: row.adapter, key: row.key, team, reason, others });
    await tx.appendTimeline({ incidentId, at: now, kind: 'delivery-failed', actor: null, data: { member: null, recipient: 'channel', team, adapter: row.adapter, reason, why } });
    if (others) return;
    // A stand-in that cannot ping them here changes nothing by failing: when none of its platforms
    // could, it was counted as reaching nobody when posted (Engine.unreachable, fallBack); when one
    // can, that one's own failure counts (or its sending answers).
    if (stood && !pings(row.adapter)) return;
    if (stood) {
      await this.unreached.record(tx, { incidentId, member: people[0] ?? null, adapter: row.adapter, kind: row.message.kind, madeAt: row.createdAt, reason: `the team channel did not take the page either: ${reason}` }, now);
      return;
    }
    const direct = people.map((member): Notification => ({
      key: `${base}:dm:${member}`, recipient: { kind: 'member', id: member }, message: { ...row.message, mentions: [member] }, incidentId, role: 'member',
    }));
    const rows = planDeliveries(this.adapters, direct, now);
    const unplanned = people.filter((m) => !rows.some((r) => r.key.startsWith(`${base}:dm:${m}@`)));
    if (rows.length > 0 && (await tx.enqueue(rows)) > 0) {
      this.log.warn('urgent team channel post goes to the people it mentions', { team, incident: incidentId, members: people });
      await tx.appendTimeline({ incidentId, at: now, kind: 'channel-unreachable', actor: null, data: { team, reason, members: people } });
    }
    for (const member of unplanned) await this.unreached.record(tx, { incidentId, member, adapter: row.adapter, kind: row.message.kind, madeAt: row.createdAt, reason: `the team channel did not take it (${reason}), and no running platform can reach ${member} directly` }, now);
    if (people.length === 0) await this.unreached.record(tx, { incidentId, member: null, adapter: row.adapter, kind: row.message.kind, madeAt: row.createdAt, reason: `the team channel did not take it (${reason}), and it mentions nobody to tell directly` }, now);
  }
}

/**
 * latePage: a page (or an urgent channel post standing in for one) that goes out after failing or
 * waiting: it may answer pages that reached nobody meanwhile (see Unreached.reachedLate). Null for
 * a first try (the common case costs nothing more) and for anything else. A channel post answers
 * only for the people it pings there (`pings`): a name the platform does not know reached nobody.
 */
function latePage(row: OutboxRow, pings: (member: string) => boolean): LatePage | null {
  if (row.incidentId === null || !isUrgent(row.message) || (row.attempts === 0 && row.waitingSince === null)) return null;
  if (row.recipient.kind === 'member') return { incidentId: row.incidentId, members: [row.recipient.id], adapter: row.adapter };
  if (row.message.mentions.length === 0) return { incidentId: row.incidentId, members: [null], adapter: row.adapter };
  const members = row.message.mentions.filter(pings);
  return members.length > 0 ? { incidentId: row.incidentId, members, adapter: row.adapter } : null;
}

/** earliest: the smallest of `values` (Infinity for none), without spreading them into arguments. */
function earliest(values: readonly number[]): number {
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}
