/**
 * Unreached: the end of the fallback ladder. A page (or an urgent channel post standing in for
 * one) that no platform and no team channel could take has reached nobody: the worst failure an
 * on-call tool has. It is never silent, and the incident is never left waiting for it:
 *
 * - an error in the log, naming the member, the incident and why;
 * - a `page-unreached` event on the incident's timeline;
 * - the incident's escalation chain moves on now: its next step (a reminder, the mentor, the lead)
 *   becomes due at once instead of after the ack timeout that a page nobody saw would wait out
 *   (the unowned alert keeps its own pace: hurrying it would repeat a post that cannot go out);
 * - /healthz shows it for an hour (`pages`: "failing: ..."), without failing the probe (a
 *   readiness probe taking the only replica out for a page that already failed would stop its
 *   webhooks too), and `onehand_pages_unreached_total` counts it, for alerting. /healthz reads
 *   the timeline for it, so every replica shows it, and a restart (kill -9 included) does not
 *   hide it; this process's own memory of it answers only when the store does not.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import type { MemberId } from '../core/model';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { TimelineEvent } from '../core/incident/types';
import type { StoreTx } from '../ports/store';
import { escalationKeyPrefix, type EscalationPayload } from './incident-service';
import { Metrics } from './metrics';
import { TOKENS } from './tokens';

/** How long a page that reached nobody keeps /healthz from being ok. */
export const UNREACHED_HEALTH_MS = 3600_000;

export interface UnreachedPage {
  readonly incidentId: number;
  /** Who the page was for (null: a channel post with nobody to stand in for). */
  readonly member: MemberId | null;
  readonly reason: string;
  /** The platform of the last attempt, when there was one. */
  readonly adapter?: string;
  /** The message's kind: only a page ('page') moves the chain on (not a huddle call). */
  readonly kind: string;
  /** When the page was made (its outbox row's creation): an old one (an earlier round, given up after a day) does not move the chain. */
  readonly madeAt: DateTime;
}

@injectable()
export class Unreached {
  /** Pages that reached nobody (committed), newest last, within UNREACHED_HEALTH_MS. */
  private recent: Array<{ readonly at: number; readonly text: string }> = [];

  constructor(
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** record: `page` reached nobody; in the caller's transaction (see the file comment). */
  async record(tx: StoreTx, page: UnreachedPage, now: DateTime): Promise<void> {
    // Only a page of the chain's current step moves it on: the incident still unacknowledged, the
    // page no older than one ack timeout (the step after it is what waits for it).
    const incident = await tx.getIncident(page.incidentId);
    const current = incident !== null && incident.state === 'open' && page.kind === 'page' && now.diff(page.madeAt).as('milliseconds') <= incident.policy.ackTimeoutMs;
    const moved = current ? await tx.hurryTimers(escalationKeyPrefix(page.incidentId), now, (t) => (t.payload as Partial<EscalationPayload>).unowned === undefined) : 0;
    this.log.error('page reached nobody: no platform and no team channel took it', {
      incident: page.incidentId, member: page.member, adapter: page.adapter ?? null, kind: page.kind, reason: page.reason, chain: moved > 0 ? 'moves on now' : 'unchanged',
    });
    await tx.appendTimeline({
      incidentId: page.incidentId, at: now, kind: 'page-unreached', actor: null,
      data: { member: page.member, adapter: page.adapter ?? null, reason: page.reason, hurried: moved > 0 },
    });
    const text = unreachedText(page.incidentId, page.member, page.reason);
    tx.afterCommit(() => {
      this.recent.push({ at: this.clock.now().toMillis(), text });
      this.metrics.pageUnreached(page.kind);
    });
  }

  /**
   * health: not ok while a page reached nobody within the last hour: from the store's timeline
   * (`stored`, what pagesUnreachedSince answered), or this process's memory when the store could
   * not answer.
   */
  health(stored?: { readonly count: number; readonly last: TimelineEvent | null } | null): { ok: boolean; detail?: string } {
    const since = this.clock.now().toMillis() - UNREACHED_HEALTH_MS;
    this.recent = this.recent.filter((r) => r.at > since);
    let n = this.recent.length;
    let text = this.recent[n - 1]?.text;
    if (stored) {
      n = stored.count;
      const data = stored.last?.data ?? {};
      text = stored.last ? unreachedText(stored.last.incidentId, typeof data.member === 'string' ? data.member : null, typeof data.reason === 'string' ? data.reason : 'no reason recorded') : undefined;
    }
    if (n === 0 || text === undefined) return { ok: true };
    return { ok: false, detail: `${n} page${n === 1 ? '' : 's'} reached nobody in the last hour; last: ${text}` };
  }
}

function unreachedText(incidentId: number, member: string | null, reason: string): string {
  return `#${incidentId}${member ? ` (${member})` : ''}: ${reason}`;
}
