/**
 * ChatAdapter is responsible for one chat platform: turning its input into command text from a
 * known caller, and delivering the messages the core addressed. It never chooses recipients or
 * mentions: a Delivery names exactly one recipient and the members the message may ping.
 */
import type { CommandSpec } from '../core/commands/spec';
import type { Principal } from '../core/incident/types';
import type { Message } from '../core/messages/message';
import type { TeamId } from '../core/model';
import type { Clock } from './clock';
import type { Logger } from './logger';
import type { Recipient } from './store';

export interface InboundCommand {
  /** The command line, e.g. "incident ack 12" (platform syntax already translated). */
  readonly text: string;
  readonly caller: Principal;
  /** The team whose channel the command came from, when the adapter knows it. */
  readonly team?: TeamId;
  /**
   * The platform's unique id of this inbound event (Teams activity id, Discord interaction id),
   * prefixed with the adapter's name. A replay of an id already handled runs nothing and gets the
   * first answer again (remembered durably, shared by replicas).
   */
  readonly id?: string;
}

export type CommandHandler = (command: InboundCommand) => Promise<Message>;

/** OpenIncident: what a platform needs to offer an incident in a picker (e.g. autocomplete). */
export interface OpenIncident {
  readonly id: number;
  readonly team: TeamId;
  readonly title: string;
  readonly severity: string;
  readonly state: string;
}

/**
 * AdapterContext: the narrow view of Onehand an adapter gets at start. Not the container.
 * `kv` is the adapter's own durable namespace (e.g. message ids to edit later).
 */
export interface AdapterContext {
  readonly onCommand: CommandHandler;
  /** The whole command grammar (core and plugin commands), to generate platform command lists. */
  readonly commands: readonly CommandSpec[];
  readonly kv: {
    get(key: string): Promise<unknown>;
    set(key: string, value: unknown): Promise<void>;
  };
  readonly logger: Logger;
  readonly clock: Clock;
  /** Unresolved incidents, newest first (of one team, or all). */
  openIncidents(team?: TeamId): Promise<OpenIncident[]>;
  /** The incident as `viewer` should see it now: card, and only the actions they may take. */
  incidentFor(incidentId: number, viewer: Principal): Promise<Message | null>;
  /**
   * reachable: the adapter can now reach `recipient` (e.g. a Teams member's first activity gave
   * the bot their conversation). Deliveries that were `waiting` for them go out at once.
   */
  reachable(recipient: Recipient): Promise<void>;
  /**
   * replyLater: the reply to the inbound event `inboundId` could not be sent in its turn (the
   * platform's API failed after the command committed). It goes to `recipient` on this adapter
   * through the outbox instead, retried like any delivery; a second call for the same event adds
   * nothing. Always given by the app (optional only for hand-built contexts in tests).
   */
  replyLater?(recipient: Recipient, reply: Message, inboundId: string): Promise<void>;
}

export interface Delivery {
  /** Unique per delivery and stable across retries: an idempotency key for the platform (e.g. a Discord nonce). */
  readonly key: string;
  readonly recipient: Recipient;
  readonly message: Message;
  readonly incidentId: number | null;
  /**
   * Aborted when the call has run past the per-call timeout (`delivery.timeout`): the adapter
   * should pass it to its HTTP calls. The worker stops waiting then either way and retries later.
   */
  readonly signal?: AbortSignal;
}

/**
 * DeliveryOutcome: `delivered`, or `undeliverable` when retrying cannot help (no such user, DMs
 * closed), `waiting` or `unavailable` (below). Transient failures (rate limits, 5xx, timeouts) are
 * thrown: the outbox retries them.
 */
export type DeliveryOutcome =
  /**
   * `remember`: what the adapter keeps of the message it posted (its id, to edit it later), under
   * `key` in its own namespace (what `AdapterContext.kv` reads): written in the transaction that
   * marks the delivery sent, not in one of its own.
   */
  | { readonly status: 'delivered'; readonly remember?: { readonly key: string; readonly value: unknown } }
  | { readonly status: 'undeliverable'; readonly reason: string }
  /**
   * `waiting`: this platform cannot reach the recipient yet but will (a Teams member who has not
   * talked to the bot). The delivery waits until the adapter calls `AdapterContext.reachable`
   * (or 24 hours); meanwhile a page goes down the fallback ladder so someone is reached now.
   */
  | { readonly status: 'waiting'; readonly reason: string }
  /**
   * `unavailable`: the platform refuses every call for now, whoever it is for (the bot's token is
   * refused). Retried like a transient failure (so nothing is lost once the platform takes calls
   * again), but the platform counts as failing at once and a page goes down the fallback ladder
   * at once, without waiting for `delivery.fallback_after` failures.
   */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface ChatAdapter {
  /** Stable name, also the key of members' identities and teams' channels in config. */
  readonly name: string;
  /** Whether this adapter can address `recipient` at all (e.g. the member has a Discord id). */
  canReach(recipient: Recipient): boolean;
  deliver(delivery: Delivery): Promise<DeliveryOutcome>;
  start(context: AdapterContext): Promise<void>;
  /** Whether the platform connection works now (for /healthz); absent means always fine. */
  /**
   * health: `ok: false` fails /healthz (503); `degraded` (with ok) is shown without failing it:
   * part of the platform is out (the Discord gateway) while pages still go out. `lasting`: the
   * state comes from the configuration and will not mend by itself (no "keeps trying" in the log).
   */
  health?(): { readonly ok: boolean; readonly detail?: string; readonly degraded?: boolean; readonly lasting?: boolean };
  stop(): Promise<void>;
}
