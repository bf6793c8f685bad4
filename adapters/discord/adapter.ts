/**
 * DiscordAdapter: Onehand on Discord through discord.js v14. Pages are direct messages with an
 * incident embed and buttons; the team channel gets the same record without buttons or mentions;
 * a change on an incident edits the messages already sent instead of posting new ones, and news
 * (acknowledged, resolved, reassigned, a reporter's note) also posts a short notice. Commands
 * arrive as slash commands (generated from COMMANDS, registered per guild at start) and buttons,
 * over the gateway or the optional HTTP interactions endpoint, and are handled the same way.
 *
 * Only the Guilds intent is used. Messages are sent through the client's REST manager with bodies
 * built by render.ts, so every body carries an explicit `allowed_mentions`. discord.js retries rate
 * limits and 5xx itself; what still fails is thrown (the outbox retries it), except errors that no
 * retry can fix (DMs closed, unknown user or channel, missing access), which are `undeliverable`.
 */
import { createHash } from 'node:crypto';
import { Client, DiscordAPIError, Events, GatewayIntentBits, Routes } from 'discord.js';
import type { Principal } from '../../src/core/incident/types';
import { message, type Message } from '../../src/core/messages/message';
import type { MemberId, World } from '../../src/core/model';
import type { AdapterContext, ChatAdapter, Delivery, DeliveryOutcome } from '../../src/ports/chat-adapter';
import type { Logger } from '../../src/ports/logger';
import type { Recipient } from '../../src/ports/store';
import { truncate } from './escape';
import { parseCustomId, renderDiscord, type DiscordMessageBody } from './render';
import { editKey, editsEarlier, newsNotice, remembers } from '../shared/edits';
import { buildSlashCommands, focusedOption, toCommandText, type CommandData } from './slash-commands';

export const DISCORD = 'discord';

/** Interaction types and response types (https://discord.com/developers/docs/interactions/receiving-and-responding). */
export const INTERACTION = { PING: 1, APPLICATION_COMMAND: 2, MESSAGE_COMPONENT: 3, AUTOCOMPLETE: 4 } as const;
export const RESPONSE = { PONG: 1, MESSAGE: 4, DEFERRED_MESSAGE: 5, DEFERRED_UPDATE: 6, UPDATE: 7, AUTOCOMPLETE_RESULT: 8 } as const;
export const EPHEMERAL = 64;

/**
 * Discord error codes after which retrying cannot help: unknown channel (10003), unknown user
 * (10013), missing access (50001), cannot send messages to this user (50007), missing permissions
 * (50013), invalid form body (50035: a body over one of Discord's limits; render.ts cuts every
 * body to fit, so this is a bug, and sending the same body again would fail again).
 */
const UNDELIVERABLE_CODES = new Set<number | string>([10003, 10013, 50001, 50007, 50013, 50035]);
const UNKNOWN_MESSAGE = 10008;
/** The fix named when Discord cannot be reached. */
const REACH_FIX = 'check that this host reaches discord.com (or DISCORD_API_BASE); pages still go out by REST or down the fallback ladder meanwhile';
/** Why a start stops when Discord refuses the token. */
const TOKEN_REFUSED = 'Discord refuses the bot token (HTTP 401); set a valid token (DISCORD_TOKEN or discord.token_file)';
/** How long a replica's failed try at the gateway shows in its /healthz (with a gate): past the lease's longest pause before trying again (60 s). */
const CONNECT_FAILURE_SHOWN_MS = 90_000;
/** While the gateway keeps failing to come back, its tries are told at most this often (see watchGateway). */
const OUTAGE_LOG_EVERY_MS = 60_000;

/**
 * Gateway close codes after which discord.js does not reconnect
 * (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes),
 * with what an operator has to do.
 */
export const FATAL_CLOSES: Readonly<Record<number, string>> = {
  4004: 'authentication failed: the bot token is wrong or was reset; set a new token (DISCORD_TOKEN or discord.token_file) and restart',
  4010: 'invalid shard: restart Onehand',
  4011: 'sharding required: the bot is in too many guilds for one connection',
  4012: 'invalid API version: upgrade Onehand',
  4013: 'invalid intents: upgrade Onehand',
  4014: 'disallowed intents: enable the intents Onehand needs for the application in the Discord developer portal, then restart',
};

/** nonceOf: a Discord message nonce (at most 25 characters) derived from a delivery's stable key. */
export function nonceOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 25);
}

/** The fields of an interaction payload the adapter reads (gateway and HTTP deliver the same JSON). */
export interface RawInteraction {
  readonly id: string;
  readonly application_id?: string;
  readonly type: number;
  readonly token: string;
  readonly channel_id?: string;
  readonly channel?: { readonly id: string };
  readonly member?: { readonly user?: RawUser };
  readonly user?: RawUser;
  readonly data?: CommandData & { readonly custom_id?: string };
}

interface RawUser {
  readonly id: string;
  readonly username?: string;
  readonly global_name?: string | null;
}

/** InteractionResponse: the body of an interaction callback. */
export interface InteractionResponse {
  readonly type: number;
  readonly data?: Record<string, unknown>;
}

/**
 * Responder answers one interaction: by a REST callback (gateway) or in the HTTP response
 * (interactions endpoint). It must be called once, within 3 seconds.
 */
export type Responder = (response: InteractionResponse) => Promise<void>;

export interface DiscordAdapterOptions {
  readonly world: World;
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  /** Base URL without the version, e.g. "https://discord.com/api" (tests: a loopback fake). */
  readonly apiBase: string | null;
  readonly logger: Logger;
  /** discord.js REST retries for 5xx and timeouts (default 3). */
  readonly restRetries?: number;
  /** discord.js REST request timeout (default 15 s). */
  readonly restTimeoutMs?: number;
  /** How long a command may run before the interaction is deferred (default 2.5 s; Discord allows 3). */
  readonly deferAfterMs?: number;
  /** How long to wait for the gateway to be ready at start (default 60 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Without a gate: how long to wait before trying the gateway again after a start that could not
   * reach it, doubling per attempt up to 60 s (default 5 s).
   */
  readonly reconnectMs?: number;
  /**
   * With several replicas, the gate (a LeaderLease) says when this one may hold the gateway
   * session; until then the adapter only sends through REST, which any replica may do. Without a
   * gate the adapter connects at start.
   */
  readonly gateway?: GatewayGate;
}

/** GatewayGate decides when this process may hold the gateway session (see LeaderLease). */
export interface GatewayGate {
  start(role: { gained(): Promise<void>; lost(): Promise<void> }): void;
  stop(): Promise<void>;
}

export class DiscordAdapter implements ChatAdapter {
  readonly name = DISCORD;
  private client: Client | null = null;
  /** The client holding the gateway session, when this process holds it. */
  private gatewayClient: Client | null = null;
  private context: AdapterContext | null = null;
  private ready = false;
  private readonly memberByUser = new Map<string, MemberId>();
  private readonly teamByChannel = new Map<string, string>();
  private readonly dmChannels = new Map<string, string>();
  /** Why Discord refuses the bot now (a 401 even after the token was applied again), or null. */
  private authFailure: string | null = null;
  /** Why the gateway session ended for good (a fatal close code), or null. */
  private gatewayFailure: string | null = null;
  /** Without a gate: the next try at a gateway the start could not reach. */
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Without a gate: why the gateway could not be reached since start (pages go by REST meanwhile), or null. */
  private unreached: string | null = null;
  /** The last gateway start that failed here (with a gate: shown in /healthz for a while); `fatal`: Discord refused the bot or its setup. */
  private connectFailure: { reason: string; at: number; fatal: boolean } | null = null;
  private stopping = false;

  constructor(private readonly options: DiscordAdapterOptions) {
    for (const m of options.world.members.values()) {
      const id = m.identities[DISCORD];
      if (id) this.memberByUser.set(id, m.id);
    }
    for (const t of options.world.teams.values()) {
      const ch = t.channels[DISCORD];
      if (ch) this.teamByChannel.set(ch, t.id);
    }
  }

  private get log(): Logger {
    return this.options.logger;
  }

  canReach(recipient: Recipient): boolean {
    if (recipient.kind === 'guest') return recipient.adapter === DISCORD;
    if (recipient.kind === 'member') return Boolean(this.options.world.members.get(recipient.id)?.identities[DISCORD]);
    return Boolean(this.options.world.teams.get(recipient.team)?.channels[DISCORD]);
  }

  health(): { ok: boolean; detail?: string; degraded?: boolean } {
    if (this.authFailure) return { ok: false, detail: this.authFailure };
    if (this.gatewayFailure) return { ok: false, detail: this.gatewayFailure };
    if (this.ready && this.client?.isReady()) return { ok: true };
    // A gateway out of reach is shown, not a failed probe: pages still go out by REST (when REST
    // fails too, the delivery worker's view fails it), and a readiness probe taking every replica
    // out during a Discord outage would stop the webhooks too.
    if (this.unreached) return { ok: true, degraded: true, detail: this.unreached };
    // With a gate, a replica whose try at the gateway failed says so until a replica's next try
    // (the lease's rounds) would have shown otherwise; then it is standby again.
    if (this.options.gateway && !this.connected && this.connectFailure && performance.now() - this.connectFailure.at < CONNECT_FAILURE_SHOWN_MS) {
      const { reason, fatal } = this.connectFailure;
      return fatal
        ? { ok: false, detail: `Discord refuses the bot: ${reason}` }
        : { ok: true, degraded: true, detail: `the Discord gateway could not be reached (${reason}); trying again; pages go by REST` };
    }
    if (this.options.gateway && this.client && !this.connected) return { ok: true, detail: 'standby: another replica holds the gateway' };
    return { ok: false, detail: this.client ? 'the Discord gateway is not connected' : 'not started' };
  }

  /**
   * start: log in, wait for the gateway to be ready, then register the slash commands. With a
   * gateway gate, it only readies REST sending and lets the gate connect when this replica leads.
   */
  async start(context: AdapterContext): Promise<void> {
    this.context = context;
    this.stopping = false;
    if (!this.options.gateway) {
      try {
        await this.connect();
      } catch (err) {
        // A token or a setup Discord refuses stops the start with one clear line. A Discord that
        // cannot be reached now (network, outage, a gateway that is not ready in time) must not
        // stop the rest of Onehand (webhooks, Teams, timers, escalation): it runs on, Discord
        // failing in /healthz, pages sent by REST (or down the fallback ladder when that fails
        // too), and the gateway is tried again until it answers.
        if (!(err instanceof DiscordStartError) || err.fatal) throw err;
        this.client ??= this.restOnlyClient();
        this.unreached = `the Discord gateway could not be reached at start (${err.reason}); trying again; pages go by REST`;
        this.log.error('discord gateway not reachable at start; Onehand runs on without Discord commands and tries again', {
          error: err.reason, guild: this.options.guildId, fix: REACH_FIX,
        });
        this.scheduleReconnect(1);
      }
      return;
    }
    this.client = this.restOnlyClient();
    // The gate connects later, whenever this replica leads: a token or setup Discord refuses must
    // still stop the start now, with one clear line; a Discord that cannot be reached now does not
    // (the gate tries the gateway whenever this replica leads; REST sending goes on meanwhile).
    try {
      await this.client.rest.get(Routes.user('@me'));
    } catch (err) {
      if (refusesSetup(err)) {
        const client = this.client;
        this.client = null;
        await client.destroy();
        throw new Error(`Discord did not start: ${tokenRefused(err) ? TOKEN_REFUSED : errorText(err)}`);
      }
      this.connectFailure = { reason: reachText(err), at: performance.now(), fatal: false };
      this.log.error('discord not reachable at start; Onehand runs on, and the replica that leads tries the gateway', {
        error: reachText(err), guild: this.options.guildId, fix: REACH_FIX,
      });
    }
    this.options.gateway.start({ gained: () => this.connect(), lost: () => this.disconnect() });
  }

  /** scheduleReconnect tries the gateway again, after a pause that doubles per attempt (at most 60 s). */
  private scheduleReconnect(attempt: number): void {
    if (this.stopping) return;
    const base = this.options.reconnectMs ?? 5_000;
    const delay = Math.min(60_000, base * 2 ** Math.min(attempt - 1, 10));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect(attempt);
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private async reconnect(attempt: number): Promise<void> {
    if (this.stopping) return;
    const standby = this.client;
    try {
      await this.connect();
    } catch (err) {
      if (this.stopping) {
        // stop() ran meanwhile and could not see the client connect() put back: end it here.
        const left = this.client;
        this.client = null;
        await left?.destroy();
        return;
      }
      // connect() put the REST client back on failure: sending goes on through it.
      this.client ??= standby ?? this.restOnlyClient();
      const reason = err instanceof DiscordStartError ? err.reason : errorText(err);
      if (err instanceof DiscordStartError && err.fatal) {
        // Discord answers now, and refuses the bot or its setup: no try can fix that; the fix is
        // the operator's (a token, an intent, the bot's access to the guild), then a restart.
        this.unreached = null;
        this.gatewayFailure = `Discord refuses the bot: ${reason}; fix it and restart Onehand`;
        this.log.error('discord refuses the bot; no more tries until a restart', { error: reason, guild: this.options.guildId });
        return;
      }
      this.unreached = `the Discord gateway could not be reached since start (${reason}); trying again; pages go by REST`;
      this.log.warn('discord gateway still not reachable; trying again', { attempt, error: reason, guild: this.options.guildId });
      this.scheduleReconnect(attempt + 1);
      return;
    }
    this.unreached = null;
    if (this.stopping) {
      await this.stop();
      return;
    }
    this.log.info('discord gateway reached after a start without it; commands arrive again', { attempts: attempt, guild: this.options.guildId });
  }

  /** connected: whether this process holds a gateway session (logged in). */
  get connected(): boolean {
    return this.gatewayClient !== null;
  }

  private newClient(): Client {
    const { apiBase, restRetries, restTimeoutMs } = this.options;
    return new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: {
        ...(apiBase ? { api: apiBase.replace(/\/+$/, '').replace(/\/v\d+$/, '') } : {}),
        ...(restRetries !== undefined ? { retries: restRetries } : {}),
        ...(restTimeoutMs !== undefined ? { timeout: restTimeoutMs } : {}),
      },
      // Belt and braces: anything discord.js itself would send pings nobody.
      allowedMentions: { parse: [] },
    });
  }

  /** restOnlyClient: a client that sends through REST without a gateway session. */
  private restOnlyClient(): Client {
    const client = this.newClient();
    client.rest.setToken(this.options.token);
    return client;
  }

  /** connect: the gateway session (login, ready), then the slash commands. */
  private async connect(): Promise<void> {
    const client = this.newClient();
    client.rest.setToken(this.options.token);
    const previous = this.client;
    this.client = client;
    this.gatewayClient = client;
    client.on(Events.Raw, (packet: { t?: string | null; d?: unknown }) => {
      if (packet.t === 'INTERACTION_CREATE' && packet.d) void this.onGatewayInteraction(packet.d as RawInteraction);
    });
    this.watchGateway(client);
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the Discord gateway was not ready after ${Math.round(this.readyTimeout / 1000)} s`)), this.readyTimeout);
      client.once(Events.ClientReady, () => {
        clearTimeout(timer);
        resolve();
      });
      // A fatal close before ready (e.g. 4004) ends the start at once instead of at the timeout.
      client.once(Events.ShardDisconnect, (event: { code: number }) => reject(new DiscordStartError(`the Discord gateway closed with ${event.code}: ${FATAL_CLOSES[event.code] ?? 'it will not reconnect'}`, Boolean(FATAL_CLOSES[event.code]))));
    });
    ready.catch(() => undefined); // settled below or abandoned when login fails: never unhandled
    try {
      await client.login(this.options.token);
      await ready;
      this.ready = true;
      this.gatewayFailure = null;
      await this.registerCommands();
      this.connectFailure = null;
    } catch (err) {
      clearTimeout(timer);
      this.ready = false;
      this.gatewayClient = null;
      // What sent before goes on sending (a standby's or a retry's REST client; none at the start).
      this.client = previous;
      // With a gate, a try's failure shows as connectFailure (below) for a while, not for good.
      if (this.options.gateway) this.gatewayFailure = null;
      await client.destroy();
      this.connectFailure = {
        reason: err instanceof DiscordStartError ? err.reason : reachText(err), at: performance.now(),
        fatal: err instanceof DiscordStartError ? err.fatal : refusesSetup(err),
      };
      if (err instanceof DiscordStartError) throw err;
      const reason = tokenRefused(err) ? TOKEN_REFUSED : reachText(err);
      throw new DiscordStartError(reason, refusesSetup(err));
    }
    if (previous && previous !== client) await previous.destroy();
    this.log.info('discord ready', { user: client.user?.tag ?? null, guild: this.options.guildId });
  }

  /**
   * watchGateway logs what happens to the gateway session: reconnects (with the close code),
   * resumes, errors, and fatal closes, after which the adapter reports failing in /healthz with
   * the fix; REST sending goes on (pages fall back to other platforms when it fails too).
   */
  private watchGateway(client: Client): void {
    const watched = new WeakSet<object>();
    // One outage, told once: discord.js retries every few hundred ms while Discord is away, and a
    // warning at every try buried the log (about 640 lines in 2.5 minutes). Later tries are told
    // at most once a minute, and the way back says how many it took.
    let outage: { since: number; tries: number; toldAt: number; told: Set<string> } | null = null;
    const lost = (msg: string, fields: Record<string, unknown>, counts: boolean): void => {
      const now = performance.now();
      outage ??= { since: now, tries: 0, toldAt: now, told: new Set() };
      if (counts) outage.tries++;
      if (!outage.told.has(msg)) {
        outage.told.add(msg);
        this.log.warn(msg, fields);
      } else if (now - outage.toldAt >= OUTAGE_LOG_EVERY_MS) {
        outage.toldAt = now;
        this.log.warn('discord gateway still reconnecting', { ...fields, tries: outage.tries, for: `${Math.round((now - outage.since) / 1000)} s` });
      }
    };
    const back = (): Record<string, unknown> => {
      const over = outage;
      outage = null;
      return over === null ? {} : { tries: over.tries, after: `${Math.round((performance.now() - over.since) / 1000)} s` };
    };
    const watchShards = (): void => {
      for (const shard of client.ws.shards.values()) {
        if (watched.has(shard)) continue;
        watched.add(shard);
        shard.on('close', (event: { code?: number }) => {
          if (client !== this.gatewayClient || event.code === undefined || FATAL_CLOSES[event.code]) return;
          lost('discord gateway closed; discord.js reconnects', { shard: shard.id, code: event.code, guild: this.options.guildId }, true);
        });
      }
    };
    client.on(Events.Error, (err) => this.log.error('discord client error', { error: err.message }));
    client.on(Events.ShardError, (err, shard) => this.log.warn('discord gateway connection error', { shard, error: err.message }));
    client.on(Events.ShardReconnecting, (shard) => {
      this.ready = false;
      lost('discord gateway reconnecting', { shard }, false);
    });
    client.on(Events.ShardDisconnect, (event: { code: number }, shard: number) => {
      this.ready = false;
      const fix = FATAL_CLOSES[event.code] ?? 'discord.js will not reconnect';
      // Only the session this process holds: a try that failed (its client destroyed) is told by connect().
      if (client !== this.gatewayClient) return;
      this.gatewayFailure = `the Discord gateway closed with ${event.code} and will not reconnect: ${fix}`;
      this.log.error('discord gateway closed for good; commands no longer arrive', { shard, code: event.code, fix });
    });
    client.on(Events.ShardResume, (shard, replayed) => {
      this.ready = true;
      this.log.info('discord gateway resumed', { shard, replayed, ...back() });
    });
    client.on(Events.ShardReady, (shard) => {
      this.ready = true;
      this.gatewayFailure = null;
      watchShards();
      this.log.info('discord gateway ready', { shard, ...back() });
    });
    client.on(Events.Invalidated, () => {
      this.ready = false;
      this.gatewayFailure = 'the Discord session was invalidated';
      this.log.error('discord session invalidated; restart Onehand', {});
    });
  }

  /** disconnect: ends the gateway session; REST sending goes on with a fresh client. */
  private async disconnect(): Promise<void> {
    const client = this.gatewayClient;
    if (!client) return;
    this.gatewayClient = null;
    this.ready = false;
    this.client = this.restOnlyClient();
    await client.destroy();
    this.log.info('discord gateway session closed (another replica may take it)', { guild: this.options.guildId });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    await this.options.gateway?.stop();
    const client = this.client;
    this.client = null;
    this.gatewayClient = null;
    this.ready = false;
    if (client) await client.destroy();
  }

  private get readyTimeout(): number {
    return this.options.readyTimeoutMs ?? 60_000;
  }

  private get rest(): Client['rest'] {
    if (!this.client) throw new Error('the Discord adapter is not running');
    return this.client.rest;
  }

  /** registerCommands: bulk-overwrites the guild's commands, so they match COMMANDS exactly. */
  private async registerCommands(): Promise<void> {
    const body = buildSlashCommands([...this.options.world.teams.keys()], this.context?.commands);
    await this.rest.put(Routes.applicationGuildCommands(this.options.applicationId, this.options.guildId), { body });
    this.log.info('discord commands registered', { guild: this.options.guildId, commands: body.map((c) => c.name) });
  }

  // ---- delivery ---------------------------------------------------------------------------------

  /**
   * deliver posts (or edits) one message. Every new message carries a nonce derived from the
   * delivery key with `enforce_nonce`, so Discord drops a repeat of a send whose success Onehand
   * could not record (a crash, a timeout). A 401 makes discord.js forget the token: the token is
   * applied again and the call retried once; a second 401 means the token is really refused: the
   * platform is unavailable (the worker's fallback ladder takes over at once, /healthz says why,
   * and the delivery is retried, so it goes out once Discord takes the token again).
   */
  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    for (let tries = 1; ; tries++) {
      try {
        const outcome = await this.deliverOnce(delivery);
        if (this.authFailure !== null) this.log.info('discord accepts the bot token again', {});
        this.authFailure = null;
        return outcome;
      } catch (err) {
        if (!isAuthError(err)) return this.failure(err);
        // discord.js dropped the token after the 401: apply it again, for a retry and for later calls.
        this.rest.setToken(this.options.token);
        if (tries < 2) continue;
        const reason = 'Discord refuses the bot token (HTTP 401): set a valid token (DISCORD_TOKEN or discord.token_file) and restart';
        if (this.authFailure === null) this.log.error('discord authentication failed; pages go to other platforms and team channels', { fix: reason });
        this.authFailure = reason;
        return { status: 'unavailable', reason };
      }
    }
  }

  private failure(err: unknown): DeliveryOutcome {
    if (err instanceof DiscordAPIError && UNDELIVERABLE_CODES.has(err.code)) {
      return { status: 'undeliverable', reason: `Discord error ${String(err.code)}: ${err.message}` };
    }
    throw new Error(`Discord delivery failed: ${errorText(err)}`);
  }

  private async deliverOnce(delivery: Delivery): Promise<DeliveryOutcome> {
    const { recipient, message: msg, incidentId, signal } = delivery;
    const body = renderDiscord(msg, { discordIdOf: (m) => this.discordIdOf(m), buttons: recipient.kind !== 'channel' });
    const channelId = await this.channelFor(recipient, signal);
    if (channelId === null) return { status: 'undeliverable', reason: `no Discord ${recipient.kind === 'channel' ? 'channel' : 'user'} is configured for ${describe(recipient)}` };
    // Edit rather than post again where the shared rule says so (adapters/shared/edits.ts).
    const key = editKey(recipient, msg, incidentId);
    if (key && editsEarlier(msg)) {
      const existing = await this.stored(key);
      if (existing && (await this.edit(existing, body, signal))) {
        // An edit notifies nobody: news also goes out as a short new message.
        const notice = newsNotice(recipient, msg);
        if (notice) {
          await this.rest.post(Routes.channelMessages(channelId), {
            body: { ...this.body(notice, false), nonce: nonceOf(`${delivery.key}:news`), enforce_nonce: true }, ...(signal ? { signal } : {}),
          });
        }
        return { status: 'delivered' };
      }
    }
    const posted = (await this.rest.post(Routes.channelMessages(channelId), {
      body: { ...body, nonce: nonceOf(delivery.key), enforce_nonce: true }, ...(signal ? { signal } : {}),
    })) as { id: string };
    // Its id, to edit it later: kept with the delivery's mark (one transaction, not two).
    if (key && remembers(recipient, msg)) return { status: 'delivered', remember: { key, value: { channelId, messageId: posted.id } } };
    return { status: 'delivered' };
  }

  /** edit: PATCH the stored message; false when it no longer exists (then a new one is posted). */
  private async edit(at: { channelId: string; messageId: string }, body: DiscordMessageBody, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.rest.patch(Routes.channelMessage(at.channelId, at.messageId), { body, ...(signal ? { signal } : {}) });
      return true;
    } catch (err) {
      if (err instanceof DiscordAPIError && (err.code === UNKNOWN_MESSAGE || err.code === 10003)) return false;
      throw err;
    }
  }

  private async stored(key: string): Promise<{ channelId: string; messageId: string } | null> {
    const v = (await this.kv().get(key)) as { channelId?: unknown; messageId?: unknown } | null | undefined;
    return v && typeof v.channelId === 'string' && typeof v.messageId === 'string' ? { channelId: v.channelId, messageId: v.messageId } : null;
  }

  private kv(): AdapterContext['kv'] {
    if (!this.context) throw new Error('the Discord adapter is not started');
    return this.context.kv;
  }

  /** channelFor: the team channel, or the DM channel with the user (created once, then cached). */
  private async channelFor(recipient: Recipient, signal?: AbortSignal): Promise<string | null> {
    if (recipient.kind === 'channel') return this.options.world.teams.get(recipient.team)?.channels[DISCORD] ?? null;
    const userId = recipient.kind === 'member' ? this.discordIdOf(recipient.id) : recipient.address;
    if (!userId) return null;
    const cached = this.dmChannels.get(userId);
    if (cached) return cached;
    const dm = (await this.rest.post(Routes.userChannels(), { body: { recipient_id: userId }, ...(signal ? { signal } : {}) })) as { id: string };
    this.dmChannels.set(userId, dm.id);
    return dm.id;
  }

  private discordIdOf(member: MemberId): string | null {
    return this.options.world.members.get(member)?.identities[DISCORD] ?? null;
  }

  // ---- interactions -----------------------------------------------------------------------------

  private async onGatewayInteraction(raw: RawInteraction): Promise<void> {
    try {
      await this.handleInteraction(raw, async (response) => {
        await this.rest.post(Routes.interactionCallback(raw.id, raw.token), { body: response, auth: false, query: new URLSearchParams({ with_response: 'false' }) });
      });
    } catch (err) {
      this.log.error('discord interaction failed', { interaction: raw.id, type: raw.type, error: errorText(err) });
    }
  }

  /**
   * handleInteraction answers one interaction through `respond`: a slash command runs as command
   * text, a button runs its incident command and updates the card, autocomplete offers open
   * incidents. Used by the gateway and by the HTTP endpoint alike.
   */
  async handleInteraction(raw: RawInteraction, respond: Responder): Promise<void> {
    if (raw.type === INTERACTION.PING) return respond({ type: RESPONSE.PONG });
    const context = this.context;
    if (!context) throw new Error('the Discord adapter is not started');
    const user = raw.member?.user ?? raw.user;
    if (!user) return respond(this.ephemeral('Onehand could not tell who sent this.'));
    const caller = this.principalOf(user);
    if (raw.type === INTERACTION.AUTOCOMPLETE) return this.autocomplete(raw, respond);
    if (raw.type === INTERACTION.MESSAGE_COMPONENT) return this.button(raw, caller, respond);
    if (raw.type !== INTERACTION.APPLICATION_COMMAND || !raw.data) return respond(this.ephemeral('Onehand does not handle this kind of interaction.'));

    const translated = toCommandText(raw.data, (id) => this.memberByUser.get(id) ?? null, context.commands);
    if (!translated.ok) return respond(this.ephemeral(translated.error));
    const channelId = raw.channel_id ?? raw.channel?.id;
    const team = channelId ? this.teamByChannel.get(channelId) : undefined;
    const work = context.onCommand({ text: translated.text, caller, id: `discord:${raw.id}`, ...(team ? { team } : {}) }).then((reply) => this.withLinkHint(reply, caller, user.id, translated.spec.permission));
    const reply = await this.within(work);
    if (reply) return respond({ type: RESPONSE.MESSAGE, data: this.replyData(reply) });
    // Slow: defer (for the caller's eyes), then edit or replace the deferred answer.
    await respond({ type: RESPONSE.DEFERRED_MESSAGE, data: { flags: EPHEMERAL } });
    const late = await work;
    await this.finishDeferred(raw, late);
  }

  private async button(raw: RawInteraction, caller: Principal, respond: Responder): Promise<void> {
    const context = this.context as AdapterContext;
    const parsed = parseCustomId(raw.data?.custom_id ?? '');
    if (!parsed) return respond(this.ephemeral('This button is not one of Onehand\'s, or it is out of date.'));
    const run = async (): Promise<Message> => {
      const reply = await context.onCommand({ text: `incident ${parsed.action} ${parsed.incidentId}`, caller, id: `discord:${raw.id}` });
      if (reply.private) return this.withLinkHint(reply, caller, caller.kind === 'guest' ? caller.address : '', 'responder');
      const card = await context.incidentFor(parsed.incidentId, caller);
      // The presser's view: their reply as the headline, the fresh card, only the actions they may take.
      return card ? { ...card, kind: 'reply', headline: reply.headline, lines: [], mentions: [] } : reply;
    };
    const work = run();
    const result = await this.within(work);
    if (result) {
      if (result.private) return respond({ type: RESPONSE.MESSAGE, data: this.replyData(result) });
      return respond({ type: RESPONSE.UPDATE, data: { ...this.body(result, true) } });
    }
    await respond({ type: RESPONSE.DEFERRED_UPDATE });
    const late = await work;
    const appId = raw.application_id ?? this.options.applicationId;
    if (late.private) await this.rest.post(Routes.webhook(appId, raw.token), { body: this.replyData(late), auth: false });
    else await this.rest.patch(Routes.webhookMessage(appId, raw.token, '@original'), { body: this.body(late, true), auth: false });
  }

  private async autocomplete(raw: RawInteraction, respond: Responder): Promise<void> {
    const context = this.context as AdapterContext;
    const typed = String(raw.data ? focusedOption(raw.data)?.value ?? '' : '').trim().replace(/^#/, '').toLowerCase();
    const open = await context.openIncidents();
    const matches = open.filter((i) => typed === '' || String(i.id).startsWith(typed) || i.title.toLowerCase().includes(typed));
    const choices = matches.slice(0, 25).map((i) => ({ name: truncate(`#${i.id} [${i.severity}] ${i.title.replace(/\s+/g, ' ')} (${i.state})`, 100), value: i.id }));
    return respond({ type: RESPONSE.AUTOCOMPLETE_RESULT, data: { choices } });
  }

  /** finishDeferred: a private answer replaces the deferred one; a public one is posted visibly. */
  private async finishDeferred(raw: RawInteraction, reply: Message): Promise<void> {
    const appId = raw.application_id ?? this.options.applicationId;
    if (reply.private) {
      await this.rest.patch(Routes.webhookMessage(appId, raw.token, '@original'), { body: this.body(reply, true), auth: false });
      return;
    }
    await this.rest.delete(Routes.webhookMessage(appId, raw.token, '@original'), { auth: false });
    await this.rest.post(Routes.webhook(appId, raw.token), { body: this.body(reply, false), auth: false });
  }

  /** within: the result if `work` finishes before the defer deadline, else null (work goes on). */
  private async within<T>(work: Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.options.deferAfterMs ?? 2500);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** replyData: a command reply; ephemeral (with its buttons) when private, else visible without buttons. */
  private replyData(reply: Message): Record<string, unknown> {
    const body = this.body(reply, reply.private === true);
    return reply.private ? { ...body, flags: EPHEMERAL } : { ...body };
  }

  private body(msg: Message, buttons: boolean): DiscordMessageBody {
    return renderDiscord(msg, { discordIdOf: (m) => this.discordIdOf(m), buttons });
  }

  private ephemeral(text: string): InteractionResponse {
    return { type: RESPONSE.MESSAGE, data: this.replyData(message('reply', [{ t: 'user', v: text }], { private: true })) };
  }

  /** withLinkHint: a refused guest learns that linking their account may be what is missing. */
  private withLinkHint(reply: Message, caller: Principal, userId: string, permission: string): Message {
    if (caller.kind !== 'guest' || !reply.private || permission === 'anyone') return reply;
    return {
      ...reply,
      lines: [...reply.lines, [`Your Discord account is not linked to an Onehand member. An admin links you by adding discord: "${userId.replace(/\D/g, '')}" to your member entry in the Onehand config.`]],
    };
  }

  private principalOf(user: RawUser): Principal {
    const member = this.memberByUser.get(user.id);
    if (member) return { kind: 'member', id: member };
    return { kind: 'guest', adapter: DISCORD, address: user.id, name: user.global_name || user.username || user.id };
  }
}

function describe(r: Recipient): string {
  if (r.kind === 'member') return `member ${r.id}`;
  if (r.kind === 'guest') return `guest ${r.name}`;
  return `team ${r.team}`;
}

/**
 * DiscordStartError: why the gateway session could not start; `fatal` when Discord refuses the bot
 * or its setup (trying again cannot help), not when Discord could not be reached.
 */
class DiscordStartError extends Error {
  constructor(readonly reason: string, readonly fatal: boolean) {
    super(`Discord did not start: ${reason}`);
  }
}

/**
 * refusesSetup: an error at start that no retry fixes: the token refused (401, discord.js's
 * TokenInvalid), or a request Discord refuses as made (403 missing access to the guild, 404 unknown
 * application or guild, 400). Network errors, timeouts, 429 and 5xx are not.
 */
function refusesSetup(err: unknown): boolean {
  if (tokenRefused(err)) return true;
  return err instanceof DiscordAPIError && err.status >= 400 && err.status < 500 && err.status !== 429 && err.status !== 408;
}

/** reachText: an error reaching Discord, with the HTTP status when there was an answer ("HTTP 502 Bad Gateway"). */
function reachText(err: unknown): string {
  const status = (err as { status?: unknown } | null)?.status;
  const text = errorText(err);
  return typeof status === 'number' && !text.includes(String(status)) ? `HTTP ${status} ${text}` : text;
}

/** tokenRefused: an error at start that says the token is refused (isAuthError, or discord.js's TokenInvalid after a 401 at login). */
function tokenRefused(err: unknown): boolean {
  return isAuthError(err) || (err as { code?: unknown }).code === 'TokenInvalid';
}

/** isAuthError: Discord answered 401, or discord.js dropped the token after an earlier 401. */
function isAuthError(err: unknown): boolean {
  if (err instanceof DiscordAPIError) return err.status === 401;
  return err instanceof Error && /Expected token to be set/.test(err.message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
