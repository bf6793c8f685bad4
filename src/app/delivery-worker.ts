/**
 * DeliveryWorker drains the outbox: it leases due rows, hands each to its adapter, and records the
 * outcome. Transient failures are retried with exponential backoff (5 s doubling, at most 5 min
 * apart) for up to 24 hours; a page that cannot be delivered directly (no such user, DMs closed)
 * falls back to the team channel, mentioning only that member, and the timeline records it.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import { memberName } from '../core/messages/incident-views';
import type { World } from '../core/model';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { OutboxRow, Store } from '../ports/store';
import { AdapterRegistry } from './adapters';
import { Metrics } from './metrics';
import { channelFallback, planDeliveries } from './notifications';
import { TOKENS, type Settings } from './tokens';

const BASE_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const GIVE_UP_AFTER_MS = 24 * 3600_000;
const LEASE_MS = 60_000;
const BATCH = 100;
/** At most this many sends wait for one "sent" commit. */
const MARK_BATCH = 25;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts));
}

@injectable()
export class DeliveryWorker {
  private sent = 0;
  private failed = 0;

  constructor(
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Settings) private readonly settings: Settings,
    @inject(AdapterRegistry) private readonly adapters: AdapterRegistry,
    @inject(Metrics) private readonly metrics: Metrics,
  ) {}

  get stats(): { sent: number; failed: number } {
    return { sent: this.sent, failed: this.failed };
  }

  /** rearm: deliveries on `adapter` waiting for `recipient` become due now. */
  async rearm(_adapter: string, _recipient: import('../ports/store').Recipient): Promise<void> {
    // Implemented with the waiting state of the outbox (issue 11).
  }

  /** drain delivers every due row, batch after batch; returns how many were attempted. */
  async drain(): Promise<number> {
    let attempted = 0;
    for (;;) {
      const now = this.clock.now();
      const lease = this.settings.leaseMs ?? LEASE_MS;
      const rows = await this.store.transaction((tx) => tx.claimOutbox(now, BATCH, this.settings.instanceId, now.plus({ milliseconds: lease })));
      if (rows.length === 0) return attempted;
      // Sent rows are marked in one transaction per few sends, not one each: a burst of pages costs
      // a handful of commits. A crash between a send and its mark resends it (at least once).
      let sent: number[] = [];
      const markSent = async (): Promise<void> => {
        if (sent.length === 0) return;
        const ids = sent;
        sent = [];
        const at = this.clock.now();
        await this.store.transaction(async (tx) => {
          for (const id of ids) await tx.markSent(id, at);
        });
      };
      for (const row of rows) {
        if (await this.deliver(row, now)) sent.push(row.id);
        if (sent.length >= MARK_BATCH) await markSent();
      }
      await markSent();
      attempted += rows.length;
    }
  }

  /** deliver hands one row to its adapter; true when it was delivered (the caller marks it sent). */
  private async deliver(row: OutboxRow, now: DateTime): Promise<boolean> {
    const adapter = this.adapters.get(row.adapter);
    try {
      if (!adapter) throw new Error(`the ${row.adapter} adapter is not running`);
      const outcome = await adapter.deliver({ key: row.key, recipient: row.recipient, message: row.message, incidentId: row.incidentId });
      if (outcome.status === 'delivered') {
        this.sent++;
        this.metrics.delivery(row.adapter, row.message.kind, 'sent');
        return true;
      }
      this.failed++;
      this.metrics.delivery(row.adapter, row.message.kind, 'undeliverable');
      await this.undeliverable(row, outcome.reason, now);
      return false;
    } catch (err) {
      this.failed++;
      this.metrics.delivery(row.adapter, row.message.kind, 'failed');
      const reason = err instanceof Error ? err.message : String(err);
      const giveUp = now.diff(row.createdAt).as('milliseconds') > GIVE_UP_AFTER_MS;
      const retryAt = giveUp ? null : now.plus({ milliseconds: backoffMs(row.attempts) });
      this.log.warn('delivery failed', { adapter: row.adapter, key: row.key, attempts: row.attempts + 1, reason, retryAt: retryAt?.toISO() ?? 'never' });
      await this.store.transaction(async (tx) => {
        await tx.markFailed(row.id, reason, retryAt);
        if (retryAt === null && row.incidentId !== null) {
          await tx.appendTimeline({ incidentId: row.incidentId, at: now, kind: 'delivery-failed', actor: null, data: { member: row.recipient.kind === 'member' ? row.recipient.id : null, recipient: row.recipient.kind, reason } });
        }
      });
      return false;
    }
  }

  /**
   * undeliverable: give the row up and record it; a page (or huddle call) to a member falls back to
   * the team channel on the same platform, mentioning only that member.
   */
  private async undeliverable(row: OutboxRow, reason: string, now: DateTime): Promise<void> {
    this.log.warn('delivery undeliverable', { adapter: row.adapter, key: row.key, reason });
    await this.store.transaction(async (tx) => {
      await tx.markFailed(row.id, reason, null);
      if (row.recipient.kind !== 'member' || row.incidentId === null) return;
      const incident = await tx.getIncident(row.incidentId);
      if (!incident) return;
      const member = row.recipient.id;
      const fallback = channelFallback({ ...row, incidentId: incident.id }, member, memberName(this.world, member), incident.team);
      await tx.appendTimeline({ incidentId: incident.id, at: now, kind: fallback ? 'delivery-fallback' : 'delivery-failed', actor: null, data: { member, reason, adapter: row.adapter } });
      if (fallback) await tx.enqueue(planDeliveries(this.adapters, [fallback], now).filter((r) => r.adapter === row.adapter));
    });
  }
}
