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
 *
 * A page that reached nobody may still go out later: its delivery is retried for a day, so when
 * the platform that failed recovers (an outage, a token put right) the page is sent after all.
 * Then (`reachedLate`) the timeline says so (`page-reached-late`: "went out late"), the log too,
 * and /healthz stops counting it as outstanding: `pages` is "ok; N pages reached nobody for a
 * while in the last hour, then a late page reached the person" once all of them were answered. The chain is not wound back:
 * whoever it moved on to was paged and stays so.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import type { MemberId } from '../core/model';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { TimelineEvent } from '../core/incident/types';
import type { StoreTx, UnreachedPages } from '../ports/store';
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

/** LatePage: a page that went out after failing (see reachedLate). */
export interface LatePage {
  readonly incidentId: number;
  /** Whom it reached: the member paged, or those a team channel post mentions (null: none). */
  readonly members: ReadonlyArray<MemberId | null>;
  readonly adapter: string;
}

@injectable()
export class Unreached {
  /** Pages that reached nobody (committed), newest last, within UNREACHED_HEALTH_MS; `late` once one went out after all. */
  private recent: Array<{ readonly at: number; readonly text: string; readonly incidentId: number; readonly member: MemberId | null; late: boolean }> = [];

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
      this.recent.push({ at: this.clock.now().toMillis(), text, incidentId: page.incidentId, member: page.member, late: false });
      this.metrics.pageUnreached(page.kind);
    });
  }

  /**
   * reachedLate: a page of `late.incidentId` to (or, in the team channel, mentioning) `late.members`
   * went out on `late.adapter` after failing for a while. Those of its pages to them that reached
   * nobody (`page-unreached` events no `page-reached-late` answered yet) are answered: one event
   * per member, in the caller's transaction (the delivery's mark), logged.
   */
  async reachedLate(tx: StoreTx, late: LatePage, now: DateTime): Promise<void> {
    const events = await tx.timeline(late.incidentId);
    for (const member of late.members) {
      let since: TimelineEvent | null = null;
      let outstanding = 0;
      for (const e of events) {
        if ((e.data.member ?? null) !== member) continue;
        if (e.kind === 'page-unreached') {
          since ??= e;
          outstanding++;
        } else if (e.kind === 'page-reached-late') {
          since = null;
          outstanding = 0;
        }
      }
      if (since === null) continue;
      const afterMs = now.diff(since.at).as('milliseconds');
      this.log.info('page went out late, after reaching nobody', { incident: late.incidentId, member, adapter: late.adapter, unreached: outstanding, afterMs });
      await tx.appendTimeline({ incidentId: late.incidentId, at: now, kind: 'page-reached-late', actor: null, data: { member, adapter: late.adapter, unreached: outstanding, since: since.at.toISO() } });
      tx.afterCommit(() => {
        for (const r of this.recent) if (r.incidentId === late.incidentId && r.member === member) r.late = true;
      });
    }
  }

  /**
   * health: not ok while a page reached nobody within the last hour: from the store's timeline
   * (`stored`, what pagesUnreachedSince answered), or this process's memory when the store could
   * not answer.
   */
  health(stored?: UnreachedPages | null): { ok: boolean; detail?: string } {
    const since = this.clock.now().toMillis() - UNREACHED_HEALTH_MS;
    this.recent = this.recent.filter((r) => r.at > since);
    const outstanding = this.recent.filter((r) => !r.late);
    let n = outstanding.length;
    let late = this.recent.length - n;
    let text = outstanding[n - 1]?.text;
    if (stored) {
      n = stored.count;
      late = stored.late;
      const data = stored.last?.data ?? {};
      text = stored.last ? unreachedText(stored.last.incidentId, typeof data.member === 'string' ? data.member : null, typeof data.reason === 'string' ? data.reason : 'no reason recorded') : undefined;
    }
    // One late page answers every page to that person of the incident that reached nobody (the
    // page, its reminder): it is the person who was reached late, not each page.
    const wentOut = `${late} page${late === 1 ? '' : 's'} reached nobody for a while in the last hour, then a late page reached the person`;
    if (n === 0 || text === undefined) return late > 0 ? { ok: true, detail: wentOut } : { ok: true };
    return { ok: false, detail: `${n} page${n === 1 ? '' : 's'} reached nobody in the last hour; last: ${text}${late > 0 ? `; ${late} more did, then a late page reached the person` : ''}` };
  }
}

function unreachedText(incidentId: number, member: string | null, reason: string): string {
  return `#${incidentId}${member ? ` (${member})` : ''}: ${reason}`;
}
