/**
 * Big webhook bodies are read on a worker thread (src/intake/big-parse.ts): the same alerts and the
 * same errors as the main thread's reading, label maps without a prototype, and the main thread
 * takes over when the worker is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startBot, type RunningBot } from '../../src/cli/start';
import { parseConfig } from '../../src/config';
import type { IntegrationConfig } from '../../src/config/types';
import { BIG_BODY_BYTES, BigBodyParser } from '../../src/intake/big-parse';
import { parsePayload } from '../../src/intake/payloads';
import { SystemClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { freePort } from '../scale/replicas';
import { amAlert, amPayload } from './intake-harness';

const CONFIG = `
members:
  - { id: alice, time_zone: Europe/Berlin }
teams:
  - { id: payments, time_zone: Europe/Berlin, lead: alice, members: [alice], rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 } }
integrations:
  - id: prom
    type: alertmanager
    team: payments
    token_env: T
    max_body: 16MiB
    severity: { label: severity, map: { critical: sev1 } }
`;

function integration(): IntegrationConfig {
  const parsed = parseConfig(CONFIG);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config.integrations[0] as IntegrationConfig;
}

function body(n: number, patch: (i: number, alert: Record<string, unknown>) => void = () => undefined): Buffer {
  const alerts = Array.from({ length: n }, (_, i) => {
    const a = amAlert({ alertname: 'DiskFull', instance: `host-${i}.example.invalid:9100`, severity: i % 7 === 0 ? 'critical' : 'warning' }, 'firing', { fingerprint: `fp-${i}` });
    patch(i, a);
    return a;
  });
  const out = Buffer.from(JSON.stringify(amPayload(alerts)));
  expect(out.length).toBeGreaterThanOrEqual(BIG_BODY_BYTES);
  return out;
}

describe('big webhook bodies on the parse worker', () => {
  let parser: BigBodyParser;
  let log: MemoryLogger;
  beforeEach(() => {
    log = new MemoryLogger();
    parser = new BigBodyParser(log);
  });
  afterEach(() => parser.close());

  it('gives the alerts the main thread would, in order, with maps that have no prototype', async () => {
    const raw = body(3000, (i, a) => {
      if (i === 5) Object.defineProperty(a.labels, 'constructor', { value: 'web', enumerable: true });
    });
    const reference = parsePayload(integration(), raw);
    const mine = await parser.parse(integration(), Buffer.from(raw));
    expect(mine.ok && reference.ok).toBe(true);
    if (!mine.ok || !reference.ok) return;
    expect(mine.alerts).toHaveLength(3000);
    expect(JSON.stringify(mine.alerts)).toBe(JSON.stringify(reference.alerts));
    expect(mine.alerts[0]?.severity).toBe('sev1');
    expect(Object.getPrototypeOf(mine.alerts[1]?.labels)).toBeNull();
    expect(Object.getPrototypeOf(mine.alerts[1]?.annotations)).toBeNull();
    expect(mine.alerts[5]?.labels.constructor).toBe('web');
    expect(mine.alerts[6]?.labels.constructor).toBeUndefined();
    expect(log.entries).toEqual([]);
  });

  it("answers a bad body with the sender's error, naming the field", async () => {
    const bad = body(3000, (i, a) => {
      if (i === 2500) a.status = 'burning';
    });
    expect(await parser.parse(integration(), bad)).toEqual({ ok: false, error: 'alerts[2500].status: expected "firing" or "resolved", got "burning"' });
    const notJson = Buffer.concat([body(3000).subarray(0, BIG_BODY_BYTES), Buffer.from('}')]);
    const answer = await parser.parse(integration(), notJson);
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error).toMatch(/^body: not valid JSON/);
    // Several at once are answered each with its own alerts.
    const results = await Promise.all([1000, 2000, 3000].map((n) => parser.parse(integration(), body(n))));
    expect(results.map((r) => (r.ok ? r.alerts.length : r.error))).toEqual([1000, 2000, 3000]);
  });

  it('starts the worker whatever the working directory (a supervisor may start the bot from /)', async () => {
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    const elsewhere = new BigBodyParser(log);
    try {
      const answer = await elsewhere.parse(integration(), body(3000));
      expect(answer.ok && answer.alerts.length).toBe(3000);
      expect(log.entries).toEqual([]);
    } finally {
      process.chdir(cwd);
      await elsewhere.close();
    }
  });

  it('says so for /healthz when the worker died, and reads big bodies on the main thread meanwhile', async () => {
    expect((await parser.parse(integration(), body(3000))).ok).toBe(true);
    expect(parser.health()).toBe('ok');
    // The worker dies (as on a crash of its thread): what the main thread sees is its exit.
    await workerOf(parser).terminate();
    await waitUntil(() => parser.health() !== 'ok');
    expect(parser.health()).toMatch(/^degraded: the parse worker stopped \(it exited with code 1; the log has the error\); bodies of 256 KiB or more are read on the main thread, holding up other requests while they are, until a new worker is tried after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(log.entries.map((e) => `${e.level} ${e.msg}`)).toEqual([expect.stringMatching(/^warn the parse worker for big webhook bodies is not available/)]);
    const answer = await parser.parse(integration(), body(3000));
    expect(answer.ok && answer.alerts.length).toBe(3000);
  });

  it('reads on the main thread once the worker is closed', async () => {
    await parser.close();
    const answer = await parser.parse(integration(), body(3000));
    expect(answer.ok && answer.alerts.length).toBe(3000);
  });
});

/** The parser's worker thread (private: a test reaches in only to make it die). */
function workerOf(parser: BigBodyParser): Worker {
  const worker = (parser as unknown as { worker: Worker | null }).worker;
  if (!worker) throw new Error('no parse worker running');
  return worker;
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('/healthz of a started bot shows the parse worker', () => {
  let bot: RunningBot | null = null;
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-parse-health-'));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await bot?.stop();
    bot = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('"ok" while it runs, "degraded" with the reason once it died, and still 200: nothing is lost', async () => {
    const port = await freePort();
    const parsed = parseConfig(`${CONFIG}\nhttp: { port: ${port} }\n`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    // The webhook routes' parser, caught as they warm it (its worker is what the test makes die).
    const warmed: BigBodyParser[] = [];
    const warm = BigBodyParser.prototype.warm;
    jest.spyOn(BigBodyParser.prototype, 'warm').mockImplementation(function (this: BigBodyParser) {
      warmed.push(this);
      warm.call(this);
    });
    const log = new MemoryLogger();
    bot = await startBot({
      config: parsed.config, dataPath: path.join(dir, 'onehand.db'), clock: new SystemClock(), simulated: null, json: true,
      logger: log, input: new PassThrough(), headless: true, output: () => undefined, env: { T: 'token' },
    });
    const healthz = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: res.status, body: await res.json() as { ok: boolean; parseWorker?: string } };
    };
    expect(await healthz()).toMatchObject({ status: 200, body: { ok: true, parseWorker: 'ok' } });
    const parser = warmed[0];
    if (parser === undefined) throw new Error('the webhook routes did not start the parse worker');
    await workerOf(parser).terminate();
    await waitUntil(() => parser.health() !== 'ok');
    const after = await healthz();
    expect(after.status).toBe(200);
    expect(after.body.ok).toBe(true);
    // terminate() gives exit code 1, or 0 when the worker had not started its script yet.
    expect(after.body.parseWorker).toMatch(/^degraded: the parse worker stopped \(it exited with code [01]; the log has the error\)/);
    // A big webhook is still taken, read on the main thread.
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/prom`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer token' }, body: body(3000),
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { accepted: number }).accepted).toBe(3000);
  });

  it('is left out when no integration takes big bodies (no worker runs)', async () => {
    const port = await freePort();
    const parsed = parseConfig(`${CONFIG.replace('max_body: 16MiB', 'max_body: 100KiB')}\nhttp: { port: ${port} }\n`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    bot = await startBot({
      config: parsed.config, dataPath: path.join(dir, 'onehand.db'), clock: new SystemClock(), simulated: null, json: true,
      logger: new MemoryLogger(), input: new PassThrough(), headless: true, output: () => undefined, env: { T: 'token' },
    });
    const body = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as Record<string, unknown>;
    expect(body.ok).toBe(true);
    expect(body).not.toHaveProperty('parseWorker');
  });
});
