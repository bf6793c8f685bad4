/**
 * The server the in-process benchmark measures, run in its own child process (forked by run.ts):
 *
 *   bot   the real Onehand app (composition root, SQLite in WAL mode on a temporary file, system
 *         clock, timer loop and outbox running) with the webhook routes on the shared HttpServer;
 *         a chat adapter that accepts every delivery. `bot URL`: the same on PostgreSQL at URL
 *         (several such children on one URL are replicas).
 *
 * Compiled with the bot into dist/bench/servers.js (bench/tsconfig.servers.json), and run from there.
 *
 * Protocol (IPC): the child sends {ready: port, readyRssMiB}; on {cmd: 'stats'} it answers {rss, maxRss, cpuMs,
 * durableAlerts, batches}; on {cmd: 'stop'} it exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from 'sqlite3';
import { buildApp } from '../src/app/container';
import { parseConfig } from '../src/config';
import { HttpServer } from '../src/http/server';
import { readIntegrationSecrets, registerWebhooks } from '../src/intake/webhooks';
import type { ChatAdapter } from '../src/ports/chat-adapter';
import type { Store } from '../src/ports/store';
import { SystemClock } from '../src/runtime/clock';
import { JsonLogger } from '../src/runtime/logger';
import { Client } from 'pg';
import type { OnehandConfig } from '../src/config';
import { openPostgresStore } from '../src/store/postgres/postgres-store';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';

export const BENCH_TOKEN = 'bench-token';

const CONFIG = `
members:
  - { id: alice, time_zone: Europe/Berlin, mentor: bob }
  - { id: bob, time_zone: Europe/Berlin }
  - { id: carol, time_zone: Europe/Berlin }
teams:
  - id: payments
    time_zone: Europe/Berlin
    lead: carol
    members: [alice, bob]
    rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }
integrations:
  - id: prom
    type: alertmanager
    team: payments
    token_env: BENCH_TOKEN
    rate_limit: { requests: 100000000, per: 1s }
`;

const sink: ChatAdapter = {
  name: 'sink',
  canReach: () => true,
  deliver: async () => ({ status: 'delivered' }),
  start: async () => undefined,
  stop: async () => undefined,
};

/** serveIntake: the real app on `store` with the webhook routes on a loopback port. */
async function serveIntake(config: OnehandConfig, store: Store, instanceId: string, clock: SystemClock, logger: JsonLogger) {
  const app = buildApp({
    world: config.world, store, clock, logger,
    settings: { timerPeriodMs: 1000, instanceId },
    adapters: [sink],
    integrations: config.integrations,
  });
  await app.start();
  const server = new HttpServer(logger);
  registerWebhooks(server, {
    intake: app.intake, integrations: config.integrations,
    secrets: readIntegrationSecrets(config.integrations, { BENCH_TOKEN }), clock, logger,
  });
  return { app, port: await server.listen(0, '127.0.0.1') };
}

/**
 * startBot: the bot on SQLite (a temporary file, or `sqlitePath` so several benchmark phases can
 * share one), or on PostgreSQL when `databaseUrl` is given (replicas: several children, one URL).
 */
async function startBot(databaseUrl?: string): Promise<{ port: number; stats: () => Promise<Record<string, number>>; dir?: string }> {
  const parsed = parseConfig(CONFIG);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const config = parsed.config;
  const clock = new SystemClock();
  const logger = new JsonLogger('error');
  if (databaseUrl) return startPgBot(config, databaseUrl, clock, logger);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-bench-'));
  const dbPath = path.join(dir, 'onehand.db');
  const { app, port } = await serveIntake(config, await openSqliteStore(dbPath, { clock }), 'bench', clock, logger);
  const reader = new Database(dbPath);
  const stats = async (): Promise<Record<string, number>> => {
    // A second connection reads what is committed: every firing alert answered 202 is counted here
    // (repeats the store has not folded into the counts yet are still in its repeat log).
    const durable = await new Promise<number>((resolve, reject) =>
      reader.get(`SELECT (SELECT COALESCE(SUM(count), 0) FROM intake_alerts)
          + (SELECT COALESCE(SUM(e.value ->> 3), 0) FROM intake_repeats AS r, json_each(r.data, '$.a') AS e)
          + (SELECT COALESCE(SUM(x.value ->> 1), 0) FROM intake_repeats AS r, json_each(r.data, '$.r') AS x) AS n`, (err: Error | null, row: { n: number }) => (err ? reject(err) : resolve(row.n))));
    const incidents = await new Promise<number>((resolve, reject) =>
      reader.get('SELECT COUNT(*) AS n FROM incidents', (err: Error | null, row: { n: number }) => (err ? reject(err) : resolve(row.n))));
    return { durableAlerts: durable, incidents, batches: app.intake.batchCount };
  };
  return { port, stats, dir };
}

async function startPgBot(config: OnehandConfig, url: string, clock: SystemClock, logger: JsonLogger): Promise<{ port: number; stats: () => Promise<Record<string, number>> }> {
  const { app, port } = await serveIntake(config, await openPostgresStore(url, { clock }), `bench-${process.pid}`, clock, logger);
  const reader = new Client({ connectionString: url });
  await reader.connect();
  const stats = async (): Promise<Record<string, number>> => {
    const durable = await reader.query<{ n: string }>('SELECT COALESCE(SUM(count), 0) AS n FROM intake_alerts');
    const incidents = await reader.query<{ n: string }>('SELECT COUNT(*) AS n FROM incidents');
    return { durableAlerts: Number(durable.rows[0]?.n ?? 0), incidents: Number(incidents.rows[0]?.n ?? 0), batches: app.intake.batchCount };
  };
  return { port, stats };
}

async function main(): Promise<void> {
  const running = await startBot(process.argv[3]);
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'stats') {
      void running.stats().then((s) => {
        const usage = process.resourceUsage();
        const cu = process.cpuUsage();
        process.send?.({ stats: { ...s, cpuMs: (cu.user + cu.system) / 1000, rssMiB: process.memoryUsage().rss / 1048576, maxRssMiB: usage.maxRSS / 1024 } });
      });
    } else if (msg.cmd === 'stop') {
      // The temporary database goes with the bench (Linux lets the open file be removed).
      if (running.dir) fs.rmSync(running.dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send?.({ ready: running.port, readyRssMiB: process.memoryUsage().rss / 1048576 });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
