/**
 * Replicas for scale-out tests: real `onehand start` processes on loopback ports sharing one
 * database, each recording its deliveries as JSON lines (the console adapter with --json, stdin
 * kept open until the test stops it), with the generic webhook integration signed by HMAC.
 */
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as net from 'node:net';
import { spawnCli, type Delivery } from '../cli/run-cli';

export const HMAC_SECRET = 'scale-test-secret';

/** SCALE_CONFIG: payments with a 2 s ack timeout (on-call, re-page once, mentor, lead), a 100 ms timer loop. */
export function scaleConfig(options: { ackTimeout?: string; leaseMs?: number } = {}): string {
  return `
members:
  - { id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob }
  - { id: bob, name: Bob, time_zone: Europe/Berlin, mentor: dave }
  - { id: carol, name: Carol, time_zone: Europe/Berlin }
  - { id: dave, name: Dave, time_zone: Europe/London, mentor: alice }
teams:
  - id: payments
    name: Payments
    time_zone: Europe/Berlin
    lead: carol
    members: [alice, bob, dave]
    rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }
    # One pass of the chain, so each incident has exactly page, reminder, mentor and lead steps.
    escalation: { ack_timeout: ${options.ackTimeout ?? '2s'}, renotify: 1, then: [mentor, lead], repeat: 0, unowned_every: 24h }
timers: { period: 100ms, lease: ${options.leaseMs ?? 3000}ms }
# A lease this short needs a short call timeout (the stdout adapter answers at once).
delivery: { timeout: 1s }
http: { host: 127.0.0.1 }
integrations:
  - id: alerts
    type: generic
    team: payments
    hmac_secret_env: SCALE_HMAC
    rate_limit: { requests: 1000000, per: 1s }
    storm: { threshold: 100000, window: 1m }
`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class Replica {
  readonly lines: Delivery[] = [];
  stderr = '';
  private buffer = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly name: string, readonly port: number, private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line) this.lines.push(JSON.parse(line) as Delivery);
      }
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** start spawns `onehand start --json --console` and waits until /healthz answers 200. */
  static async start(name: string, config: string, env: Record<string, string>, timeoutMs = 20_000): Promise<Replica> {
    const port = await freePort();
    const child = spawnCli(['start', '--config', config, '--json', '--console'], {
      SCALE_HMAC: HMAC_SECRET, ONEHAND_HTTP_PORT: String(port), ONEHAND_LOG_LEVEL: 'warn', ...env,
    });
    const replica = new Replica(name, port, child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`replica ${name} exited (${child.exitCode}) before it answered: ${replica.stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) return replica;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`replica ${name} did not answer /healthz within ${timeoutMs} ms: ${replica.stderr}`);
      }
      await sleep(100);
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill: SIGKILL, no cleanup: leases it held run out by themselves. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** stop: end of console input, a clean stop; resolves with the exit code. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** report posts one generic alert, signed; resolves with the HTTP status. */
  async report(alert: { title: string; fingerprint: string; severity?: string }): Promise<number> {
    const body = JSON.stringify({ title: alert.title, status: 'firing', fingerprint: alert.fingerprint, severity: alert.severity ?? 'sev2' });
    const signature = `sha256=${createHmac('sha256', HMAC_SECRET).update(body).digest('hex')}`;
    const res = await fetch(`http://127.0.0.1:${this.port}/webhooks/alerts`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-onehand-signature': signature }, body,
    });
    await res.arrayBuffer();
    return res.status;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** waitFor polls `check` until it returns true, failing with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** STEPS: how each paging delivery is recognised in its text. */
export function stepOf(d: Delivery): 'page' | 'reminder' | 'mentor' | 'lead' | null {
  if (d.kind !== 'direct' || d.reply) return null;
  const first = d.text.split('\n')[0] ?? '';
  if (/New incident #\d+/.test(first)) return 'page';
  if (/Reminder: #\d+/.test(first)) return 'reminder';
  if (/Escalated to you as mentor/.test(first)) return 'mentor';
  if (/Escalated to you as lead/.test(first)) return 'lead';
  return null;
}
