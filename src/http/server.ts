/**
 * HttpServer: Onehand's one HTTP listener (Teams /api/messages, webhooks, /healthz, metrics,
 * calendars). Routes are registered by the parts that own them; the server only reads bodies
 * (with a size limit), dispatches, and turns failures into short JSON errors, never stack traces.
 *
 * Bodies cost memory while they are read, so: a route may check a request's head (its token, its
 * declared length) before any of the body is read and answer at once (`RouteOptions.before`); and
 * bodies not yet authenticated share one budget (`unauthenticatedBodyBytes`): past it, a request
 * gets 503 with Retry-After instead of being held. A URL with bad percent-encoding gets 400; a
 * client that goes away mid-request is logged at debug level, not as an error.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../ports/logger';

/** RequestHead: what is known of a request before its body is read. */
export interface RequestHead {
  readonly method: string;
  /** The path as sent (percent-encoded); it is known to decode. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** The underlying request, for libraries that need it (botbuilder). */
  readonly raw: http.IncomingMessage;
}

export interface HttpRequest extends RequestHead {
  /** The raw body (empty for GET). */
  readonly body: Buffer;
}

/** BodyPlan: what `before` allows: the body limit for this request, and whether its sender is known. */
export interface BodyPlan {
  readonly maxBodyBytes?: number;
  /** True when the head already proved the sender (a bearer token): the body is not counted in the unauthenticated budget. */
  readonly authenticated: boolean;
}

export interface RouteOptions {
  /** The largest body this route reads (default 1 MiB); larger ones get 413. */
  readonly maxBodyBytes?: number;
  /**
   * before runs on the request head, before any byte of the body is read: it answers at once (a
   * bad token, an unknown id: the body is never read) or returns the plan for the body.
   */
  readonly before?: (head: RequestHead) => HttpResponse | BodyPlan;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown; // objects are sent as JSON, strings and Buffers as they are
}

export type HttpHandler = (req: HttpRequest, res: http.ServerResponse) => Promise<HttpResponse | void>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: HttpHandler;
  readonly maxBodyBytes: number;
  readonly before?: (head: RequestHead) => HttpResponse | BodyPlan;
}

export const DEFAULT_MAX_BODY = 1024 * 1024;

export interface HttpLimits {
  /** Bytes of not yet authenticated bodies held at once, over all requests (default 32 MiB). */
  readonly unauthenticatedBodyBytes: number;
  /** How long a client may take to send a whole request (default 60 s); then 408. */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { unauthenticatedBodyBytes: 32 * 1024 * 1024, requestTimeoutMs: 60_000 };

/** How many method-and-path route lookups the server remembers (see HttpServer.lookup). */
const ROUTE_MEMORY = 1000;

/**
 * A request target that is a plain path: segments of unreserved characters, none starting with a
 * dot (so no "." or ".." segments), no "//", no percent-encoding, no query. WHATWG URL parsing
 * leaves such a path as it is, so it needs no parse (the common case: a webhook sender's path).
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9_~.-]*)*\/?$/;

/** parseTarget: the request target's path and query, or null when it does not decode. */
function parseTarget(target: string | undefined): { pathname: string; searchParams: URLSearchParams } | null {
  const raw = target ?? '/';
  if (PLAIN_PATH.test(raw)) return { pathname: raw === '' ? '/' : raw, searchParams: new URLSearchParams() };
  try {
    const url = new URL(raw, 'http://localhost');
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return null;
  }
}

/** ClientGone: the client closed the connection before its request was read. */
class ClientGone extends Error {}

/** Busy: the unauthenticated body budget is spent. */
class Busy extends Error {}

export class HttpServer {
  private readonly routes: Route[] = [];
  private server: http.Server | null = null;
  private unauthenticatedBytes = 0;
  private readonly closers: Array<() => Promise<void> | void> = [];
  /** Route lookups by method and path (see lookup). */
  private readonly found = new Map<string, { matching: Route[]; route: Route | undefined }>();
  /** While false (see holdUntilReady), every request is answered 503: the app is still starting. */
  private ready = true;

  constructor(
    private readonly log: Logger,
    private readonly limits: HttpLimits = DEFAULT_HTTP_LIMITS,
  ) {}

  /** route registers a handler; `path` may end in "/*" to match a prefix. A number as `options` is the body limit. */
  route(method: string, path: string, handler: HttpHandler, options: number | RouteOptions = {}): void {
    const opts: RouteOptions = typeof options === 'number' ? { maxBodyBytes: options } : options;
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*$/, '(.+)');
    this.found.clear();
    this.routes.push({
      method: method.toUpperCase(), pattern: new RegExp(`^${escaped}$`), handler,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY, ...(opts.before ? { before: opts.before } : {}),
    });
  }

  /** unauthenticatedBytesInFlight: bytes of unauthenticated bodies held now (for tests and metrics). */
  get unauthenticatedBytesInFlight(): number {
    return this.unauthenticatedBytes;
  }

  get hasRoutes(): boolean {
    return this.routes.length > 0;
  }

  async listen(port: number, host: string): Promise<number> {
    this.server = http.createServer({ requestTimeout: this.limits.requestTimeoutMs }, (req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * holdUntilReady: requests are answered 503 (retry after 1 s) until `ready()`. The port is taken
   * first, so that a start that cannot have it fails before the app does any work.
   */
  holdUntilReady(): () => void {
    this.ready = false;
    return () => {
      this.ready = true;
    };
  }

  /** onClose: `fn` runs when the server closes (a route's helpers: workers, timers). */
  onClose(fn: () => Promise<void> | void): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.splice(0)) await fn();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * lookup: the routes whose pattern matches `path`, and the one for `method`. Remembered per
   * method and path (a webhook sender calls the same path again and again); the memory is emptied
   * when it grows past ROUTE_MEMORY entries (a scan of random paths).
   */
  private lookup(method: string, path: string): { matching: Route[]; route: Route | undefined } {
    const key = `${method} ${path}`;
    let found = this.found.get(key);
    if (found === undefined) {
      const matching = this.routes.filter((r) => r.pattern.test(path));
      found = { matching, route: matching.find((r) => r.method === method) };
      if (this.found.size >= ROUTE_MEMORY) this.found.clear();
      this.found.set(key, found);
    }
    return found;
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.ready) {
      refuse(res, { status: 503, headers: { 'retry-after': '1' }, body: { error: 'Onehand is starting; retry in a second' } });
      return;
    }
    const url = parseTarget(req.url);
    if (url === null) {
      refuse(res, { status: 400, body: { error: 'the URL is not valid (bad percent-encoding?)' } });
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const { matching, route } = this.lookup(method, url.pathname);
    let held = 0;
    try {
      if (!route) {
        refuse(res, matching.length > 0 ? { status: 405, body: { error: `use ${matching.map((r) => r.method).join(' or ')} for ${url.pathname}` } } : { status: 404, body: { error: `no route for ${url.pathname}` } });
        return;
      }
      const head: RequestHead = { method, path: url.pathname, query: url.searchParams, headers: req.headers, raw: req };
      const plan = route.before ? route.before(head) : { authenticated: false };
      if ('status' in plan) {
        refuse(res, plan);
        return;
      }
      const limit = Math.min(plan.maxBodyBytes ?? route.maxBodyBytes, route.maxBodyBytes);
      const reserve = plan.authenticated ? null : (bytes: number) => {
        if (this.unauthenticatedBytes + bytes > this.limits.unauthenticatedBodyBytes) throw new Busy();
        this.unauthenticatedBytes += bytes;
        held += bytes;
      };
      const body = await readBody(req, limit, reserve);
      if (body === null) {
        refuse(res, { status: 413, body: { error: `the body is larger than ${limit} bytes` } });
        return;
      }
      const result = await route.handler({ ...head, body }, res);
      if (result) send(res, result);
    } catch (err) {
      if (err instanceof ClientGone) {
        this.log.debug('http client went away before its request was read', { path: url.pathname });
        return;
      }
      if (err instanceof Busy) {
        this.log.warn('http: too many unauthenticated request bodies at once; answering 503', { path: url.pathname, limitBytes: this.limits.unauthenticatedBodyBytes });
        refuse(res, { status: 503, headers: { 'retry-after': '5' }, body: { error: 'too many requests in flight; retry later' } });
        return;
      }
      if (isConnectionReset(err) && (req.destroyed || res.destroyed)) {
        this.log.debug('http client went away', { path: url.pathname });
        return;
      }
      this.log.error('http handler failed', { path: url.pathname, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) send(res, { status: 500, body: { error: 'internal error; see the Onehand log' } });
      else res.end();
    } finally {
      this.unauthenticatedBytes -= held;
    }
  }
}

function isConnectionReset(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * refuse answers without reading the body: the connection is closed after the answer, so a client
 * still sending a large body is not read to its end.
 */
function refuse(res: http.ServerResponse, r: HttpResponse): void {
  send(res, { ...r, headers: { ...(r.headers ?? {}), connection: 'close' } });
}

function send(res: http.ServerResponse, r: HttpResponse): void {
  if (res.headersSent) return;
  let payload: Buffer | string = '';
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (Buffer.isBuffer(r.body) || typeof r.body === 'string') payload = r.body;
  else if (r.body !== undefined) {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

/**
 * readBody collects the body, or returns null once it exceeds `limit` (nothing more is kept).
 * `reserve` is called with each chunk's size before it is kept and may throw (Busy). Rejects with
 * ClientGone when the client closes the connection first.
 */
function readBody(req: http.IncomingMessage, limit: number, reserve: ((bytes: number) => void) | null): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (value: Buffer | null | Error) => {
      if (settled) return;
      settled = true;
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return; // past the limit: the rest is not kept
      size += chunk.length;
      if (size > limit) return finish(null);
      try {
        reserve?.(chunk.length);
      } catch (err) {
        return finish(err as Error);
      }
      chunks.push(chunk);
    });
    // A body that came in one chunk (nearly every webhook) is that chunk: no copy.
    req.on('end', () => finish(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', (err) => finish(isConnectionReset(err) || req.destroyed ? new ClientGone() : err));
    req.on('close', () => {
      if (!req.complete) finish(new ClientGone());
    });
  });
}
