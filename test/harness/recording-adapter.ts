/**
 * RecordingAdapter: a chat platform for tests that records every delivery, reaches every member,
 * its own guests and every team channel, and can be told to fail (transiently or for good).
 */
import type { Message } from '../../src/core/messages/message';
import type { World } from '../../src/core/model';
import { toPlain } from '../../src/core/text/rich-text';
import type { AdapterContext, ChatAdapter, Delivery, DeliveryOutcome } from '../../src/ports/chat-adapter';
import type { Clock } from '../../src/ports/clock';
import type { Recipient } from '../../src/ports/store';
import { renderText } from '../../adapters/console/render';

export const RECORDING = 'recording';

export interface Recorded {
  /** A member id, a guest's address, or "#team" for a team channel. */
  readonly to: string;
  readonly kind: 'direct' | 'channel';
  readonly message: Message;
  /** Plain text: headline and lines. */
  readonly text: string;
  readonly at: string;
  readonly key: string;
}

type FailureMode = 'throw' | 'undeliverable';

export class RecordingAdapter implements ChatAdapter {
  readonly name: string = RECORDING;
  readonly delivered: Recorded[] = [];
  attempts = 0;
  private failures: Array<{ mode: FailureMode; to?: string; remaining: number }> = [];

  constructor(
    private readonly world: World,
    private readonly clock: Clock,
  ) {}

  /** failNext makes the next `count` deliveries (to `to`, if given) fail in the given way. */
  failNext(count: number, mode: FailureMode, to?: string): void {
    this.failures.push({ mode, to, remaining: count });
  }

  /** unlinked: members this platform has no identity for (as if their id were missing in config). */
  readonly unlinked = new Set<string>();

  canReach(recipient: Recipient): boolean {
    if (recipient.kind === 'guest') return recipient.adapter === this.name;
    if (recipient.kind === 'member') return this.world.members.has(recipient.id) && !this.unlinked.has(recipient.id);
    return this.world.teams.has(recipient.team);
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    this.attempts++;
    const to = addressOf(delivery.recipient);
    const failure = this.failures.find((f) => f.remaining > 0 && (f.to === undefined || f.to === to));
    if (failure) {
      failure.remaining--;
      if (failure.mode === 'throw') throw new Error('simulated platform outage (HTTP 503)');
      return { status: 'undeliverable', reason: 'simulated: direct messages closed' };
    }
    this.delivered.push({
      to,
      kind: delivery.recipient.kind === 'channel' ? 'channel' : 'direct',
      message: delivery.message,
      text: renderText(delivery.message),
      at: this.clock.now().toISO() as string,
      key: delivery.key,
    });
    return { status: 'delivered' };
  }

  async start(_context: AdapterContext): Promise<void> {}
  async stop(): Promise<void> {}
}

export function addressOf(r: Recipient): string {
  if (r.kind === 'member') return r.id;
  if (r.kind === 'guest') return r.address;
  return `#${r.team}`;
}

export { toPlain };
