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
 * - /healthz is not ok for an hour after it (`pages`), so monitoring sees it.
 */
import { inject, injectable } from 'inversify';
import type { DateTime } from 'luxon';
import type { MemberId } from '../core/model';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { StoreTx } from '../ports/store';
import { escalationKeyPrefix, type EscalationPayload } from './incident-service';
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
}

@injectable()
export class Unreached {
  /** Pages that reached nobody (committed), newest last, within UNREACHED_HEALTH_MS. */
  private recent: Array<{ readonly at: number; readonly text: string }> = [];

  constructor(
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.Clock) private readonly clock: Clock,
  ) {}

  /** record: `page` reached nobody; in the caller's transaction (see the file comment). */
  async record(tx: StoreTx, page: UnreachedPage, now: DateTime): Promise<void> {
    const moved = await tx.hurryTimers(escalationKeyPrefix(page.incidentId), now, (t) => (t.payload as Partial<EscalationPayload>).unowned === undefined);
    this.log.error('page reached nobody: no platform and no team channel took it', {
      incident: page.incidentId, member: page.member, adapter: page.adapter ?? null, reason: page.reason, chain: moved > 0 ? 'moves on now' : 'nothing left to hurry',
    });
    await tx.appendTimeline({
      incidentId: page.incidentId, at: now, kind: 'page-unreached', actor: null,
      data: { member: page.member, adapter: page.adapter ?? null, reason: page.reason, hurried: moved > 0 },
    });
    const text = `#${page.incidentId}${page.member ? ` (${page.member})` : ''}: ${page.reason}`;
    tx.afterCommit(() => this.recent.push({ at: this.clock.now().toMillis(), text }));
  }

  /** health: not ok while a page reached nobody within the last hour. */
  health(): { ok: boolean; detail?: string } {
    const since = this.clock.now().toMillis() - UNREACHED_HEALTH_MS;
    this.recent = this.recent.filter((r) => r.at > since);
    const last = this.recent[this.recent.length - 1];
    if (!last) return { ok: true };
    const n = this.recent.length;
    return { ok: false, detail: `${n} page${n === 1 ? '' : 's'} reached nobody in the last hour; last: ${last.text}` };
  }
}
