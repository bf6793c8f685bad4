/**
 * FakeConnector: a Bot Connector service on loopback. Activities name it as their `serviceUrl`, so
 * everything botbuilder sends lands here: it records every /v3/conversations call and answers like
 * Teams does (ids for new activities and conversations, "<channel>;messageid=<id>" for a channel
 * thread). It can be told to fail the next calls (429 or 5xx) to exercise retries.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCall {
  readonly method: string;
  readonly path: string;
  /** The conversation id, decoded, when the path has one. */
  readonly conversation?: string;
  /** The activity id in the path (a reply target or the activity updated). */
  readonly activityId?: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
  readonly authorization?: string;
}

/** Teams refuses bot messages over about 100 KB, counted in UTF-16 (413 MessageSizeTooBig). */
export const TEAMS_MESSAGE_LIMIT_BYTES = 100 * 1024;

export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  private server: http.Server | null = null;
  private counter = 0;
  private failures: Array<{ status: number; remaining: number; retryAfter?: string }> = [];
  /** Conversations where every message is refused as too large (413), whatever its size. */
  readonly tooLargeIn = new Set<string>();
  /** Users Teams will not open a 1:1 chat with (the app is not installed for them): 403. */
  readonly refusesChatWith = new Set<string>();
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** failNext makes the next `count` calls answer `status` (with Retry-After when given). */
  failNext(count: number, status: number, retryAfter?: string): void {
    this.failures.push({ status, remaining: count, retryAfter });
  }

  /** Requests left unanswered (hangNext), with whether the client gave up on them. */
  readonly hung: Array<{ readonly path: string; clientClosed: boolean }> = [];
  private hangs = 0;
  private hungListeners: Array<() => void> = [];

  /** hangNext: the next `count` calls are never answered (a connector that stalls). */
  hangNext(count: number): void {
    this.hangs += count;
  }

  /** nextHang resolves when a call is left hanging. */
  nextHang(): Promise<void> {
    return new Promise((resolve) => this.hungListeners.push(resolve));
  }

  /** recover ends every failure still pending (the connector is back). */
  recover(): void {
    this.failures = [];
  }

  /** posts: successful new messages (to a conversation, as a reply, or creating a conversation with one). */
  posts(): ConnectorCall[] {
    return this.calls.filter((c) => c.status < 300 && c.method === 'POST' && (/\/activities/.test(c.path) || (c.path === '/v3/conversations' && c.body.activity !== undefined)));
  }

  updates(): ConnectorCall[] {
    return this.calls.filter((c) => c.status < 300 && c.method === 'PUT');
  }

  /** sentTo: successful posts into one conversation. */
  sentTo(conversation: string): ConnectorCall[] {
    return this.posts().filter((c) => c.conversation === conversation);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const m = /^\/v3\/conversations\/([^/]+)(?:\/(activities|members)(?:\/([^/]+))?)?$/.exec(path);
    const conversation = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    const activityId = m?.[2] === 'activities' && m[3] ? decodeURIComponent(m[3]) : undefined;

    if (this.hangs > 0 && path.startsWith('/v3/conversations')) {
      this.hangs--;
      const hang = { path, clientClosed: false };
      this.hung.push(hang);
      res.on('close', () => {
        hang.clientClosed = true;
      });
      for (const l of this.hungListeners.splice(0)) l();
      return;
    }
    const failure = this.failures.find((f) => f.remaining > 0);
    if (failure && path.startsWith('/v3/conversations')) {
      failure.remaining--;
      this.record({ method, path, conversation, activityId, body, status: failure.status, authorization: req.headers.authorization });
      res.writeHead(failure.status, { 'content-type': 'application/json', ...(failure.retryAfter ? { 'retry-after': failure.retryAfter } : {}) });
      res.end(JSON.stringify({ error: { code: 'Throttled', message: 'simulated' } }));
      return;
    }

    let status = 200;
    let answer: unknown = {};
    const members = (body.members as Array<{ id?: string }> | undefined) ?? [];
    const message = (body.activity as Record<string, unknown> | undefined) ?? body;
    const tooLarge = JSON.stringify(message).length * 2 > TEAMS_MESSAGE_LIMIT_BYTES || (conversation !== undefined && this.tooLargeIn.has(conversation));
    if ((method === 'POST' || method === 'PUT') && message.type === 'message' && tooLarge) {
      status = 413;
      answer = { error: { code: 'MessageSizeTooBig', message: 'Message size too big' } };
    } else if (method === 'POST' && path === '/v3/conversations' && !body.isGroup && members.some((m) => this.refusesChatWith.has(String(m.id)))) {
      status = 403;
      answer = { error: { code: 'Forbidden', message: 'The bot is not installed for this user' } };
    } else if (method === 'POST' && path === '/v3/conversations') {
      const id = ++this.counter;
      const channelData = (body.channelData ?? {}) as { channel?: { id?: string } };
      if (body.isGroup && channelData.channel?.id) answer = { id: `${channelData.channel.id};messageid=msg-${id}`, activityId: `msg-${id}` };
      else answer = { id: `a:created-${id}` };
      status = 201;
    } else if (method === 'POST' && m?.[2] === 'activities') {
      answer = { id: `msg-${++this.counter}` };
      status = 201;
    } else if (method === 'PUT' && activityId) {
      answer = { id: activityId };
    } else if (method === 'GET' && m?.[2] === 'members' && m[3]) {
      const memberId = decodeURIComponent(m[3]);
      answer = { id: memberId, name: memberId, aadObjectId: `aad-${memberId}`, userPrincipalName: `${memberId}@example.com` };
    } else {
      status = 404;
      answer = { error: { code: 'NotFound', message: `fake connector has no ${method} ${path}` } };
    }
    this.record({ method, path, conversation, activityId, body, status, authorization: req.headers.authorization });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  private record(call: ConnectorCall): void {
    this.calls.push(call);
  }
}
