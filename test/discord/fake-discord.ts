/**
 * FakeDiscord: a loopback Discord for tests, enough for a real discord.js Client: REST under
 * /api/v10 (gateway info, command registration, DM channels, messages, interaction callbacks and
 * webhooks), recording every call, and a gateway WebSocket (HELLO, HEARTBEAT_ACK, READY,
 * GUILD_CREATE, and INTERACTION_CREATE dispatched by the test). Failures can be scripted per route.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RestCall {
  readonly method: string;
  /** Path after /api/v10, decoded: "/channels/900/messages". */
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  readonly auth: string | null;
  /** What the fake answered (a message's id is `response.id`). */
  response?: unknown;
  /** The HTTP status the fake answered with. */
  status?: number;
}

export interface DiscordUser {
  readonly id: string;
  readonly username: string;
}

interface ScriptedFailure {
  readonly method: string;
  readonly path: RegExp;
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  remaining: number;
}

export const APP_ID = '100000000000000001';
export const GUILD_ID = '200000000000000002';
export const BOT_ID = '300000000000000003';

export class FakeDiscord {
  readonly calls: RestCall[] = [];
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  /** Gateway connections still to be dropped at once (dropGateway). */
  private gatewayDrops = 0;
  private readonly sockets = new Set<WebSocket>();
  private readonly failures: ScriptedFailure[] = [];
  private seq = 0;
  private nextId = 500000000000000000n;
  private interactionSeq = 0;
  private readonly byNonce = new Map<string, unknown>();
  port = 0;

  constructor(private readonly channels: readonly string[] = []) {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (ws) => this.onSocket(ws));
  }

  static async start(channels: readonly string[] = []): Promise<FakeDiscord> {
    const fake = new FakeDiscord(channels);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** apiBase: what the client's `rest.api` points at (discord.js appends /v10). */
  /** How many gateway sessions (WebSocket connections) are open now. */
  get gatewaySessions(): number {
    return this.sockets.size;
  }

  get apiBase(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** fail makes the next `times` calls matching method and path answer with `status` and `body`. */
  fail(method: string, path: RegExp, status: number, body: unknown, times = 1, headers: Record<string, string> = {}): void {
    this.failures.push({ method, path, status, body, headers, remaining: times });
  }

  /**
   * closeGateway closes every gateway connection with `code`: 4000 and most 4xxx codes make
   * discord.js reconnect and resume; 4004, 4010-4014 are fatal.
   */
  closeGateway(code: number): void {
    for (const ws of this.sockets) ws.close(code, 'closed by the fake');
  }

  /** dropGateway: the next `times` gateway connections are closed with 4000 as soon as they open (an outage discord.js keeps retrying). */
  dropGateway(times: number): void {
    this.gatewayDrops = times;
  }

  /** clearFailures: no scripted failure is left. */
  clearFailures(): void {
    this.failures.length = 0;
  }

  /** callsTo: recorded calls with this method whose path matches. */
  callsTo(method: string, path: RegExp): RestCall[] {
    return this.calls.filter((c) => c.method === method && path.test(c.path));
  }

  /** waitFor resolves with the first recorded call matching, polling for up to `ms`. */
  async waitFor(method: string, path: RegExp, ms = 5000, from = 0): Promise<RestCall> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.calls.slice(from).find((c) => c.method === method && path.test(c.path));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no ${method} ${String(path)} within ${ms} ms; calls:\n${this.calls.map((c) => `  ${c.method} ${c.path}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** dmChannelOf: the DM channel id the fake hands out for a user. */
  dmChannelOf(userId: string): string {
    return `7${userId.slice(1)}`;
  }

  // ---- interactions the test sends ---------------------------------------------------------------

  /** slash dispatches an APPLICATION_COMMAND from `user` in `channelId`; returns the interaction id. */
  slash(user: DiscordUser, channelId: string, data: Record<string, unknown>): { id: string; token: string } {
    return this.dispatchInteraction(2, user, channelId, { id: '400000000000000004', type: 1, ...data }, false);
  }

  /** autocomplete dispatches an APPLICATION_COMMAND_AUTOCOMPLETE interaction. */
  autocomplete(user: DiscordUser, channelId: string, data: Record<string, unknown>): { id: string; token: string } {
    return this.dispatchInteraction(4, user, channelId, { id: '400000000000000004', type: 1, ...data }, false);
  }

  /** press dispatches a button press on message `messageId` in a DM channel. */
  press(user: DiscordUser, channelId: string, messageId: string, customId: string): { id: string; token: string } {
    const message = {
      id: messageId, channel_id: channelId, type: 0, content: '', tts: false, mention_everyone: false, mentions: [], mention_roles: [],
      attachments: [], embeds: [], components: [], pinned: false, timestamp: new Date().toISOString(), edited_timestamp: null, flags: 0,
      author: { id: BOT_ID, username: 'onehand', discriminator: '0', global_name: null, avatar: null, bot: true },
    };
    return this.dispatchInteraction(3, user, channelId, { custom_id: customId, component_type: 2 }, true, message);
  }

  /** callbackFor: the interaction callback the bot sent for interaction `id`, waiting for it. */
  async callbackFor(id: string, ms = 5000): Promise<{ type: number; data?: Record<string, unknown> }> {
    const call = await this.waitFor('POST', new RegExp(`^/interactions/${id}/[^/]+/callback$`), ms);
    return call.body as { type: number; data?: Record<string, unknown> };
  }

  private dispatchInteraction(type: number, user: DiscordUser, channelId: string, data: Record<string, unknown>, dm: boolean, message?: unknown): { id: string; token: string } {
    const n = ++this.interactionSeq;
    const id = String(600000000000000000n + BigInt(n));
    const token = `interaction-token-${n}`;
    const apiUser = { id: user.id, username: user.username, discriminator: '0', global_name: user.username, avatar: null };
    const payload: Record<string, unknown> = {
      id, application_id: APP_ID, type, token, version: 1, data,
      channel_id: channelId,
      channel: { id: channelId, type: dm ? 1 : 0 },
      locale: 'en-US', entitlements: [], app_permissions: '2248473465835073', authorizing_integration_owners: { 0: GUILD_ID },
      attachment_size_limit: 10485760,
      ...(dm
        ? { user: apiUser, context: 1 }
        : { guild_id: GUILD_ID, guild_locale: 'en-US', context: 0, guild: { id: GUILD_ID, locale: 'en-US', features: [] },
          member: { user: apiUser, roles: [], permissions: '2248473465835073', joined_at: '2026-01-01T00:00:00.000Z', deaf: false, mute: false, flags: 0, nick: null, avatar: null, pending: false } }),
      ...(message ? { message } : {}),
    };
    this.dispatch('INTERACTION_CREATE', payload);
    return { id, token };
  }

  private dispatch(t: string, d: unknown): void {
    const frame = JSON.stringify({ op: 0, t, s: ++this.seq, d });
    for (const ws of this.sockets) ws.send(frame);
  }

  // ---- gateway ----------------------------------------------------------------------------------

  private onSocket(ws: WebSocket): void {
    if (this.gatewayDrops > 0) {
      this.gatewayDrops--;
      ws.close(4000, 'dropped by the fake');
      return;
    }
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41250 }, s: null, t: null }));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: unknown };
      if (msg.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      // RESUME: Discord replays what was missed (nothing here) and says RESUMED.
      if (msg.op === 6) ws.send(JSON.stringify({ op: 0, t: 'RESUMED', s: ++this.seq, d: {} }));
      if (msg.op === 2) {
        const ready = {
          v: 10, session_id: 'fake-session', resume_gateway_url: `ws://127.0.0.1:${this.port}`, shard: [0, 1],
          user: { id: BOT_ID, username: 'onehand', discriminator: '0', global_name: null, avatar: null, bot: true, flags: 0 },
          guilds: [{ id: GUILD_ID, unavailable: true }],
          application: { id: APP_ID, flags: 0 },
          private_channels: [], relationships: [], presences: [], guild_join_requests: [], geo_ordered_rtc_regions: [],
        };
        ws.send(JSON.stringify({ op: 0, t: 'READY', s: ++this.seq, d: ready }));
        const guild = {
          id: GUILD_ID, name: 'Onehand test', unavailable: false, owner_id: '1', afk_timeout: 300, verification_level: 0,
          default_message_notifications: 0, explicit_content_filter: 0, mfa_level: 0, premium_tier: 0, nsfw_level: 0,
          preferred_locale: 'en-US', features: [], roles: [], emojis: [], stickers: [], members: [], presences: [], voice_states: [],
          threads: [], stage_instances: [], guild_scheduled_events: [], member_count: 10, large: false,
          joined_at: '2026-01-01T00:00:00.000Z', system_channel_flags: 0,
          channels: this.channels.map((id, i) => ({ id, type: 0, name: `channel-${i}`, position: i, permission_overwrites: [], guild_id: GUILD_ID })),
        };
        ws.send(JSON.stringify({ op: 0, t: 'GUILD_CREATE', s: ++this.seq, d: guild }));
      }
    });
  }

  // ---- REST -------------------------------------------------------------------------------------

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v10/, ''));
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const call: RestCall = { method, path, query: url.search, body, auth: req.headers.authorization ?? null };
    const failure = this.failures.find((f) => f.remaining > 0 && f.method === method && f.path.test(path));
    if (failure) failure.remaining--;
    const [status, out] = failure ? [failure.status, failure.body] : this.answer(method, path, body as Record<string, unknown> | null);
    call.response = out;
    call.status = status;
    this.calls.push(call);
    send(res, status, out, failure?.headers);
  }

  private answer(method: string, path: string, body: Record<string, unknown> | null): [number, unknown] {
    const id = () => String(this.nextId++);
    // Like Discord: a message body over one of its limits is refused as a whole.
    const errors = limitErrors(method, path, body);
    if (errors) return [400, { message: 'Invalid Form Body', code: 50035, errors }];
    if (method === 'GET' && path === '/gateway/bot') {
      return [200, { url: `ws://127.0.0.1:${this.port}`, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } }];
    }
    if (method === 'GET' && path === '/gateway') return [200, { url: `ws://127.0.0.1:${this.port}` }];
    if (method === 'PUT' && /^\/applications\/\d+\/guilds\/\d+\/commands$/.test(path)) {
      return [200, (Array.isArray(body) ? body : []).map((c: Record<string, unknown>) => ({ ...c, id: id(), application_id: APP_ID, guild_id: GUILD_ID, version: '1' }))];
    }
    if (method === 'GET' && path === '/users/@me') return [200, { id: BOT_ID, username: 'onehand', discriminator: '0', global_name: null, avatar: null, bot: true }];
    if (method === 'POST' && path === '/users/@me/channels') {
      const recipient = String(body?.recipient_id ?? '');
      return [200, { id: this.dmChannelOf(recipient), type: 1, recipients: [{ id: recipient, username: `user${recipient}`, discriminator: '0' }] }];
    }
    const messages = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (method === 'POST' && messages) {
      // Like Discord: with enforce_nonce, a nonce seen recently returns the message it created.
      const nonce = body?.enforce_nonce === true && typeof body.nonce === 'string' ? `${messages[1]}:${body.nonce}` : null;
      const earlier = nonce ? this.byNonce.get(nonce) : undefined;
      if (earlier) return [200, earlier];
      const created = { id: id(), channel_id: messages[1], type: 0, ...body };
      if (nonce) this.byNonce.set(nonce, created);
      return [200, created];
    }
    const one = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (method === 'PATCH' && one) return [200, { id: one[2], channel_id: one[1], type: 0, ...body }];
    if (method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(path)) return [204, null];
    if (/^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.test(path)) return method === 'DELETE' ? [204, null] : [200, { id: id(), ...body }];
    if (method === 'POST' && /^\/webhooks\/\d+\/[^/]+$/.test(path)) return [200, { id: id(), ...body }];
    return [404, { message: `fake Discord has no route for ${method} ${path}`, code: 0 }];
  }
}

/** Discord's limits on a message body (https://discord.com/developers/docs/resources/message). */
const LIMITS = { content: 2000, embeds: 10, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, author: 256, embedTotal: 6000, rows: 5, buttons: 5, label: 80, customId: 100 };

type FormErrors = Record<string, unknown>;

/**
 * limitErrors: the errors Discord answers (400, code 50035, in its `errors` shape) for a message
 * body over one of its limits, or null. Checks messages posted or edited in channels, interaction
 * callbacks (the response's `data`) and webhook (follow-up) messages.
 */
export function limitErrors(method: string, path: string, body: Record<string, unknown> | null): FormErrors | null {
  if (!body || (method !== 'POST' && method !== 'PATCH')) return null;
  let message: Record<string, unknown> | null = null;
  let prefix = '';
  if (/^\/channels\/\d+\/messages(\/\d+)?$/.test(path) || /^\/webhooks\/\d+\/[^/]+(\/messages\/[^/]+)?$/.test(path)) message = body;
  else if (/^\/interactions\/\d+\/[^/]+\/callback$/.test(path) && body.data && typeof body.data === 'object') {
    message = body.data as Record<string, unknown>;
    prefix = 'data.';
  }
  if (!message) return null;
  const errors: FormErrors = {};
  const tooLong = (where: string, value: unknown, max: number): void => {
    if (typeof value === 'string' && value.length > max) errors[prefix + where] = { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` }] };
  };
  const tooMany = (where: string, value: unknown, max: number): void => {
    if (Array.isArray(value) && value.length > max) errors[prefix + where] = { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` }] };
  };
  tooLong('content', message.content, LIMITS.content);
  const embeds = Array.isArray(message.embeds) ? (message.embeds as Array<{ title?: unknown; description?: unknown; footer?: { text?: unknown }; author?: { name?: unknown }; fields?: unknown }>) : [];
  tooMany('embeds', embeds, LIMITS.embeds);
  let total = 0;
  embeds.forEach((e, i) => {
    const fields = Array.isArray(e.fields) ? (e.fields as Array<Record<string, unknown>>) : [];
    tooLong(`embeds.${i}.title`, e.title, LIMITS.title);
    tooLong(`embeds.${i}.description`, e.description, LIMITS.description);
    tooLong(`embeds.${i}.footer.text`, e.footer?.text, LIMITS.footer);
    tooLong(`embeds.${i}.author.name`, e.author?.name, LIMITS.author);
    tooMany(`embeds.${i}.fields`, fields, LIMITS.fields);
    fields.forEach((f, j) => {
      tooLong(`embeds.${i}.fields.${j}.name`, f.name, LIMITS.fieldName);
      tooLong(`embeds.${i}.fields.${j}.value`, f.value, LIMITS.fieldValue);
    });
    const len = (v: unknown): number => (typeof v === 'string' ? v.length : 0);
    total += len(e.title) + len(e.description) + len(e.footer?.text) + len(e.author?.name) + fields.reduce((n, f) => n + len(f.name) + len(f.value), 0);
  });
  if (total > LIMITS.embedTotal) errors[`${prefix}embeds`] = { _errors: [{ code: 'MAX_EMBED_SIZE_EXCEEDED', message: `Embed size exceeds maximum size of ${LIMITS.embedTotal}` }] };
  const rows = Array.isArray(message.components) ? (message.components as Array<{ components?: Array<Record<string, unknown>> }>) : [];
  tooMany('components', rows, LIMITS.rows);
  rows.forEach((row, i) => {
    tooMany(`components.${i}.components`, row.components, LIMITS.buttons);
    (row.components ?? []).forEach((b, j) => {
      tooLong(`components.${i}.components.${j}.label`, b.label, LIMITS.label);
      tooLong(`components.${i}.components.${j}.custom_id`, b.custom_id, LIMITS.customId);
    });
  });
  return Object.keys(errors).length > 0 ? errors : null;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === null) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
