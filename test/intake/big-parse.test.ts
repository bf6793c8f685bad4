/**
 * Big webhook bodies are read on a worker thread (src/intake/big-parse.ts): the same alerts and the
 * same errors as the main thread's reading, label maps without a prototype, and the main thread
 * takes over when the worker is gone.
 */
import os from 'node:os';
import { parseConfig } from '../../src/config';
import type { IntegrationConfig } from '../../src/config/types';
import { BIG_BODY_BYTES, BigBodyParser } from '../../src/intake/big-parse';
import { parsePayload } from '../../src/intake/payloads';
import { MemoryLogger } from '../../src/runtime/logger';
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

  it('reads on the main thread once the worker is closed', async () => {
    await parser.close();
    const answer = await parser.parse(integration(), body(3000));
    expect(answer.ok && answer.alerts.length).toBe(3000);
  });
});
