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
  /** notYetReachable: members this platform will reach only later (deliveries to them are `waiting`). */
  readonly notYetReachable = new Set<string>();
  /** remembers: delivered messages come back with a key to keep (as Discord's and Teams' message ids do, for edits). */
  remembers = false;
  /** hanging: addresses whose calls never answer (until the worker's timeout aborts them). */
  readonly hanging = new Set<string>();
  /** gates: addresses whose calls wait for the promise before they are delivered (a slow platform). */
  readonly gates = new Map<string, Promise<void>>();
  /** What happened, in order: "start <to>", "delivered <to>", "aborted <to>" (for ordering assertions). */
  readonly events: string[] = [];
  private context: AdapterContext | null = null;

  /** becomeReachable: `member` can now be reached (as a Teams member's first message would). */
  async becomeReachable(member: string): Promise<void> {
    this.notYetReachable.delete(member);
    await this.context?.reachable({ kind: 'member', id: member });
  }

  canReach(recipient: Recipient): boolean {
    if (recipient.kind === 'guest') return recipient.adapter === this.name;
    if (recipient.kind === 'member') return this.world.members.has(recipient.id) && !this.unlinked.has(recipient.id);
    return this.world.teams.has(recipient.team);
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    this.attempts++;
    const to = addressOf(delivery.recipient);
    this.events.push(`start ${to}`);
    if (this.hanging.has(to)) {
      await new Promise<void>((resolve) => delivery.signal?.addEventListener('abort', () => resolve()));
      this.events.push(`aborted ${to}`);
      throw new Error('aborted');
    }
    const gate = this.gates.get(to);
    if (gate) await gate;
    if (this.notYetReachable.has(to)) return { status: 'waiting', reason: `simulated: ${to} has not talked to the bot yet` };
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
    this.events.push(`delivered ${to}`);
    return this.remembers ? { status: 'delivered', remember: { key: `message:${delivery.key}`, value: `posted-${this.delivered.length}` } } : { status: 'delivered' };
  }

  async start(context: AdapterContext): Promise<void> {
    this.context = context;
  }
  async stop(): Promise<void> {}
}

export function addressOf(r: Recipient): string {
  if (r.kind === 'member') return r.id;
  if (r.kind === 'guest') return r.address;
  return `#${r.team}`;
}

export { toPlain };
