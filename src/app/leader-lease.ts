/**
 * LeaderLease is responsible for deciding which one replica runs a singleton role (the Discord
 * gateway session) while several replicas share one database.
 *
 * The lease is a row in the store (`tryLease`): the holder renews it every `renewMs`, for `ttlMs`
 * from now. A replica that is not the holder tries to take it at the same pace, and gets it once
 * the holder released it (clean stop) or stopped renewing it for `ttlMs` (died, hung, lost the
 * database). So the role moves within ttlMs + renewMs after its holder died.
 *
 * The holder gives the role up (calls `lost`) as soon as a renewal fails or is refused, and also
 * when a renewal has not answered by the time its last confirmed lease runs out, less renewMs / 2
 * (a database that hangs instead of failing: a locked SQLite file, a PostgreSQL server that stopped
 * answering). So two replicas hold it at the same time only if a replica's clock runs ahead of the
 * holder's by more than renewMs / 2.
 */
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { Store } from '../ports/store';
import { errorText } from '../core/text/error-text';

export interface LeaderLeaseOptions {
  /** How long a taken or renewed lease lasts (default 10 s). */
  readonly ttlMs?: number;
  /** How often the holder renews and the others try to take over (default ttlMs / 3). */
  readonly renewMs?: number;
}

/** LeaderRole: what to do on becoming the holder and on ceasing to be it. */
export interface LeaderRole {
  gained(): Promise<void>;
  lost(): Promise<void>;
}

/** The longest a replica waits before trying a role again that failed to start here. */
const MAX_RETRY_PAUSE_MS = 60_000;

export class LeaderLease {
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private transition: Promise<void> = Promise.resolve();
  private holding = false;
  private stopped = true;
  private role: LeaderRole | null = null;
  /** Until when (performance.now() ms) the lease last taken or renewed is certainly held. */
  private confirmedUntil = 0;
  /** Role starts that failed in a row here, and until when (performance.now() ms) not to try again. */
  private failedStarts = 0;
  private retryAfter = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly name: string,
    readonly owner: string,
    options: LeaderLeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.renewMs = options.renewMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    if (this.renewMs >= this.ttlMs) throw new RangeError(`renewMs (${this.renewMs}) must be shorter than ttlMs (${this.ttlMs})`);
  }

  /** held: whether this replica holds the lease (and runs the role) now. */
  get held(): boolean {
    return this.holding;
  }

  /** start tries to take the lease now and then every renewMs; `role` runs while it is held. */
  start(role: LeaderRole): void {
    this.role = role;
    this.stopped = false;
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.round().finally(loop);
      }, this.renewMs);
    };
    this.running = this.round().finally(loop);
  }

  /** stop ends the role if held and releases the lease, so another replica takes it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (!this.holding) {
      await this.transition;
      return;
    }
    await this.drop();
    await this.store.transaction((tx) => tx.releaseLease(this.name, this.owner)).catch((err: unknown) => {
      this.log.warn('leader lease not released; it expires by itself', { lease: this.name, error: errorText(err) });
    });
  }

  /** abandon stops renewing without releasing or ending the role: what a crash looks like (tests). */
  abandon(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    // After the role failed to start here, other replicas get the lease first for a while (the
    // pause doubles per failure, up to a minute): a role that cannot start anywhere (Discord
    // down) is tried about once a minute per replica, not every round.
    if (!this.holding && performance.now() < this.retryAfter) return;
    const now = this.clock.now();
    const started = performance.now();
    // A renewal that hangs must not keep the role past the lease it last confirmed: another
    // replica may take the lease once it runs out.
    // It runs during a stop too (stop waits for this round).
    const watchdog = this.holding ? setTimeout(() => {
      if (!this.holding) return;
      this.log.warn('leader lease renewal has not answered and the lease runs out; giving the role up', { lease: this.name, owner: this.owner });
      void this.drop();
    }, Math.max(0, this.confirmedUntil - Math.floor(this.renewMs / 2) - started)) : null;
    let got = false;
    try {
      got = await this.store.transaction((tx) => tx.tryLease(this.name, this.owner, now, now.plus({ milliseconds: this.ttlMs })));
      // An answer that came too late is no lease: what it took or renewed (until now + ttl, from
      // the round's start) runs out before the next round could renew it, or has already.
      if (got && performance.now() >= started + this.ttlMs - Math.floor(this.renewMs / 2)) {
        this.log.warn('leader lease answer came too late to count; not taking the role on it', { lease: this.name, owner: this.owner, ms: Math.round(performance.now() - started) });
        got = false;
      }
      if (got) this.confirmedUntil = started + this.ttlMs;
    } catch (err) {
      this.log.warn('leader lease round failed', { lease: this.name, error: errorText(err) });
    } finally {
      if (watchdog) clearTimeout(watchdog);
    }
    if (this.stopped) return;
    if (got && !this.holding) {
      this.holding = true;
      this.log.info('leader lease taken', { lease: this.name, owner: this.owner });
      // The role starts in the background (a gateway login may take longer than the lease), while
      // the renewals go on; role changes run one after the other.
      this.transition = this.transition.then(async () => {
        if (!this.holding) return;
        try {
          await this.role?.gained();
          this.failedStarts = 0;
        } catch (err) {
          // The role could not start here: give the lease up so another replica tries.
          this.failedStarts++;
          const pauseMs = Math.min(MAX_RETRY_PAUSE_MS, this.renewMs * 2 ** Math.min(this.failedStarts, 16));
          this.retryAfter = performance.now() + pauseMs;
          this.log.error('leader role failed to start; releasing the lease', { lease: this.name, error: errorText(err), failures: this.failedStarts, retryInSeconds: Math.round(pauseMs / 1000) });
          this.holding = false;
          await this.store.transaction((tx) => tx.releaseLease(this.name, this.owner)).catch(() => undefined);
        }
      });
    } else if (!got && this.holding) {
      this.log.warn('leader lease lost', { lease: this.name, owner: this.owner });
      await this.drop();
    }
  }

  private async drop(): Promise<void> {
    this.holding = false;
    this.transition = this.transition.then(async () => {
      try {
        await this.role?.lost();
      } catch (err) {
        this.log.error('leader role failed to stop', { lease: this.name, error: errorText(err) });
      }
    });
    await this.transition;
  }
}

