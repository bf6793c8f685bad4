/**
 * Webhook bodies cost memory only once the sender is known: a bearer token is checked on the
 * request head (401 before any body byte is read), and the bodies that must be read before they can
 * be checked (HMAC-signed ones) share one budget: past it, 503 with Retry-After. A client that goes
 * away mid-body is not an error in the log.
 */
import * as net from 'node:net';
import { HttpServer } from '../../src/http/server';
import { readIntegrationSecrets, registerWebhooks } from '../../src/intake/webhooks';
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';
import { AM_TOKEN, ENV, INTEGRATIONS } from './intake-harness';

const BUDGET = 256 * 1024;
let h: Harness;
let server: HttpServer;
let port: number;

beforeAll(async () => {
  h = await Harness.start({ config: TEST_CONFIG + INTEGRATIONS });
  server = new HttpServer(h.logger, { unauthenticatedBodyBytes: BUDGET, requestTimeoutMs: 60_000 });
  registerWebhooks(server, { intake: h.app.intake, integrations: h.config.integrations, secrets: readIntegrationSecrets(h.config.integrations, ENV), clock: h.clock, logger: h.logger });
  port = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server.close();
  await h.stop();
});

/** RawClient: one connection on which a test writes a request piece by piece. */
class RawClient {
  readonly socket: net.Socket;
  private received = '';
  private waiters: Array<() => void> = [];

  constructor() {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.received += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('error', () => undefined);
  }

  head(path: string, length: number, headers: Record<string, string>): void {
    const lines = [`POST ${path} HTTP/1.1`, 'Host: onehand', 'Content-Type: application/json', `Content-Length: ${length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  }

  /** status: the status line of the answer, once its head has arrived. */
  async status(): Promise<string> {
    while (!this.received.includes('\r\n\r\n')) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received.split('\r\n')[0] as string;
  }

  get answer(): string {
    return this.received;
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('webhook bodies and the token', () => {
  it('a wrong bearer token is refused on the head: 401 while the 1 MiB body is still unsent', async () => {
    const client = new RawClient();
    client.head('/webhooks/prom-grouped', 1024 * 1024, { Authorization: 'Bearer wrong' });
    expect(await client.status()).toBe('HTTP/1.1 401 Unauthorized');
    expect(server.unauthenticatedBytesInFlight).toBe(0);
    client.socket.destroy();
  });

  it('a right token with a declared length over max_body gets 413 at once', async () => {
    const client = new RawClient();
    client.head('/webhooks/prom', 65 * 1024, { Authorization: `Bearer ${AM_TOKEN}` });
    expect(await client.status()).toBe('HTTP/1.1 413 Payload Too Large');
    client.socket.destroy();
  });

  it('signed bodies read before their check share a budget: 503 with Retry-After past it; disconnects are not errors', async () => {
    const chunk = Buffer.alloc(100 * 1024, 0x20);
    const holders = [new RawClient(), new RawClient()];
    for (const c of holders) {
      c.head('/webhooks/hook', 200 * 1024, { 'X-Onehand-Signature': 'sha256=00' });
      c.socket.write(chunk);
    }
    await until(() => server.unauthenticatedBytesInFlight >= 200 * 1024);
    const third = new RawClient();
    third.head('/webhooks/hook', 200 * 1024, { 'X-Onehand-Signature': 'sha256=00' });
    third.socket.write(chunk);
    expect(await third.status()).toBe('HTTP/1.1 503 Service Unavailable');
    expect(third.answer.toLowerCase()).toContain('retry-after: 5');
    // The two senders give up: their bytes are released, and nothing is logged as an error.
    for (const c of holders) c.socket.destroy();
    third.socket.destroy();
    await until(() => server.unauthenticatedBytesInFlight === 0);
    expect(h.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    expect(h.logger.entries.some((e) => e.msg.startsWith('http client went away'))).toBe(true);
  });
});
