/**
 * ChatAdapter is responsible for one chat platform: turning its input into command text from a
 * known caller, and delivering the messages the core addressed. It never chooses recipients or
 * mentions: a Delivery names exactly one recipient and the members the message may ping.
 */
import type { Principal } from '../core/incident/types';
import type { Message } from '../core/messages/message';
import type { TeamId } from '../core/model';
import type { Recipient } from './store';

export interface InboundCommand {
  /** The command line, e.g. "incident ack 12" (platform syntax already translated). */
  readonly text: string;
  readonly caller: Principal;
  /** The team whose channel the command came from, when the adapter knows it. */
  readonly team?: TeamId;
}

export type CommandHandler = (command: InboundCommand) => Promise<Message>;

export interface Delivery {
  readonly key: string;
  readonly recipient: Recipient;
  readonly message: Message;
  readonly incidentId: number | null;
}

/**
 * DeliveryOutcome: `delivered`, or `undeliverable` when retrying cannot help (no such user, DMs
 * closed). Transient failures (rate limits, 5xx, timeouts) are thrown: the outbox retries them.
 */
export type DeliveryOutcome =
  | { readonly status: 'delivered' }
  | { readonly status: 'undeliverable'; readonly reason: string };

export interface ChatAdapter {
  /** Stable name, also the key of members' identities and teams' channels in config. */
  readonly name: string;
  /** Whether this adapter can address `recipient` at all (e.g. the member has a Discord id). */
  canReach(recipient: Recipient): boolean;
  deliver(delivery: Delivery): Promise<DeliveryOutcome>;
  start(onCommand: CommandHandler): Promise<void>;
  stop(): Promise<void>;
}
