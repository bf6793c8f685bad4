/**
 * HttpServer: Onehand's one HTTP listener (Teams /api/messages, webhooks, /healthz, later metrics
 * and calendars). Routes are registered by the parts that own them; the server only reads bodies
 * (with a size limit), dispatches, and turns failures into short JSON errors, never stack traces.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../ports/logger';

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  /** The raw body (empty for GET). */
  readonly body: Buffer;
  /** The underlying request, for libraries that need it (botbuilder). */
  readonly raw: http.IncomingMessage;
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
}

export const DEFAULT_MAX_BODY = 1024 * 1024;

export class HttpServer {
  private readonly routes: Route[] = [];
  private server: http.Server | null = null;

  constructor(private readonly log: Logger) {}

  /** route registers a handler; `path` may end in "/*" to match a prefix. */
  route(method: string, path: string, handler: HttpHandler, maxBodyBytes = DEFAULT_MAX_BODY): void {
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*$/, '(.+)');
    this.routes.push({ method: method.toUpperCase(), pattern: new RegExp(`^${escaped}$`), handler, maxBodyBytes });
  }

  get hasRoutes(): boolean {
    return this.routes.length > 0;
  }

  async listen(port: number, host: string): Promise<number> {
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    const route = matching.find((r) => r.method === method);
    try {
      if (!route) {
        send(res, matching.length > 0 ? { status: 405, body: { error: `use ${matching.map((r) => r.method).join(' or ')} for ${url.pathname}` } } : { status: 404, body: { error: `no route for ${url.pathname}` } });
        return;
      }
      const body = await readBody(req, route.maxBodyBytes);
      if (body === null) {
        send(res, { status: 413, body: { error: `the body is larger than ${route.maxBodyBytes} bytes` } });
        return;
      }
      const result = await route.handler({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body, raw: req }, res);
      if (result) send(res, result);
    } catch (err) {
      this.log.error('http handler failed', { path: url.pathname, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) send(res, { status: 500, body: { error: 'internal error; see the Onehand log' } });
      else res.end();
    }
  }
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

/** readBody collects the body, or returns null once it exceeds `limit` (the rest is discarded). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
