/**
 * `npm run bench`: alert intake throughput and latency over loopback, each server in its own
 * child process, with the load generator in this process.
 *
 * - side by side (bench/compare.ts): bare node, Prometheus Alertmanager and the compiled bot under
 *   one load generator (autocannon), interleaved rounds, with the ratios and the durability check;
 * then, on the app run in process (bench/servers.ts, compiled with the bot into dist/bench/):
 * - throughput: C concurrent keep-alive connections send Alertmanager webhooks (version 4, 10 alerts
 *   each over 1,000 fingerprints) as fast as they are answered, for D seconds; alerts/s counts
 *   alerts answered 202 (the bot answers 202 only after they are committed);
 * - latency: an open-loop run at 1,000 alerts/s (100 requests/s), p50/p99 from request to 202;
 * - throughput with 1, 10 and 100 alerts per request;
 * - peak RSS of the bot process, and a durability check: the alerts the database holds equal the
 *   alerts answered 202;
 * - the same on PostgreSQL with 1, 2 and 3 replicas (and SQLite for reference).
 * - delivery latency (bench/delivery.ts): report and alert to the chat platform's receipt of the
 *   page, sparse and at a steady alert rate, on SQLite and PostgreSQL with one and two replicas.
 * - a 10,000-alert request and the compiled bot's footprint (bench/intake-big.ts).
 * Prints the tables and writes bench/results.json. `npm run bench -- --only intake` (or `delivery`, `big`)
 * runs one part; the other part's figures in results.json are kept.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { deliveryRuns, printDelivery } from './delivery';
import { compareRuns, printCompare } from './compare';
import { bigRuns, buildBot, printBig, type BigResults } from './intake-big';
import { BENCH_TOKEN } from './servers';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 6) * 1000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FINGERPRINTS = 1000;

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  /** Its RSS when it was ready, before any load. */
  readonly readyRssMiB: number;
}

/** The in-process servers, compiled with the bot by buildBot (bench/tsconfig.servers.json). */
const SERVERS_JS = path.join(__dirname, '..', 'dist', 'bench', 'servers.js');

function startChild(kind: 'bot', databaseUrl?: string): Promise<Child> {
  if (!fs.existsSync(SERVERS_JS)) throw new Error('dist/bench/servers.js is missing: run the bench without BENCH_NO_BUILD=1 once (it compiles bench/tsconfig.servers.json)');
  const proc = fork(SERVERS_JS, [kind, ...(databaseUrl ? [databaseUrl] : [])], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    proc.on('message', (m: { ready?: number; readyRssMiB?: number }) => {
      if (m.ready !== undefined) resolve({ proc, port: m.ready, readyRssMiB: m.readyRssMiB ?? NaN });
    });
  });
}

function ask(child: Child): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    const on = (m: { stats?: Record<string, number> }): void => {
      if (!m.stats) return;
      child.proc.off('message', on);
      resolve(m.stats);
    };
    child.proc.on('message', on);
    child.proc.send({ cmd: 'stats' });
  });
}

async function stop(child: Child): Promise<void> {
  child.proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.proc.once('exit', resolve));
  child.proc.send({ cmd: 'stop' });
  await exited;
}

/** payloads: realistic Alertmanager groups of `size` alerts over 1,000 fingerprints. */
function payloads(size: number, count: number): Buffer[] {
  const out: Buffer[] = [];
  let n = 0;
  for (let p = 0; p < count; p++) {
    const alerts = [];
    for (let i = 0; i < size; i++) {
      const fp = (n++ * 7919) % FINGERPRINTS;
      const labels = { alertname: `Alert${fp % 37}`, instance: `host-${fp}.prod.example.invalid:9100`, job: 'node', service: `svc-${fp % 23}`, severity: fp % 5 === 0 ? 'critical' : 'warning' };
      alerts.push({
        status: 'firing', labels,
        annotations: { summary: `${labels.alertname} on ${labels.instance}`, description: `Value ${fp}.5 is above the threshold for 5m on ${labels.instance}.`, runbook_url: `https://runbooks.example.invalid/${labels.alertname}` },
        startsAt: '2026-11-27T23:22:33.123Z', endsAt: '0001-01-01T00:00:00Z',
        generatorURL: `http://prometheus.example.invalid:9090/graph?g0.expr=up%7Binstance%3D%22${labels.instance}%22%7D`,
        fingerprint: fp.toString(16).padStart(16, '0'),
      });
    }
    out.push(Buffer.from(JSON.stringify({
      receiver: 'onehand', status: 'firing', alerts, groupLabels: { alertname: 'bench' }, commonLabels: { job: 'node' }, commonAnnotations: {},
      externalURL: 'http://alertmanager.example.invalid:9093', version: '4', groupKey: '{}:{alertname="bench"}', truncatedAlerts: 0,
    })));
  }
  return out;
}

function post(agent: http.Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/webhooks/prom', agent,
      headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${BENCH_TOKEN}` },
    }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface RunResult {
  requests: number;
  alertsAccepted: number;
  alertsPerSec: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function summarize(latencies: number[], accepted: number, requests: number, errors: number, ms: number): RunResult {
  latencies.sort((a, b) => a - b);
  return {
    requests, alertsAccepted: accepted, errors,
    alertsPerSec: Math.round((accepted / ms) * 1000), requestsPerSec: Math.round((requests / ms) * 1000),
    p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)),
  };
}

/** closedLoop: `concurrency` workers, each sends the next request when the previous was answered. */
async function closedLoop(port: number | readonly number[], bodies: Buffer[], alertsEach: number, ms: number, concurrency = CONCURRENCY, maxRequests = Infinity): Promise<RunResult> {
  const ports = typeof port === 'number' ? [port] : port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let accepted = 0;
  let requests = 0;
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end && next < maxRequests) {
      const n = next++;
      const body = bodies[n % bodies.length] as Buffer;
      const t0 = performance.now();
      const status = await post(agent, ports[n % ports.length] as number, body).catch(() => 0);
      latencies.push(performance.now() - t0);
      requests++;
      if (status === 202) accepted += alertsEach;
      else errors++;
    }
  }));
  const elapsed = performance.now() - start;
  agent.destroy();
  return summarize(latencies, accepted, requests, errors, elapsed);
}

/** openLoop: requests at a fixed rate whatever the answers, so queueing shows in the latency. */
async function openLoop(port: number, bodies: Buffer[], alertsEach: number, perSec: number, ms: number): Promise<RunResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let accepted = 0;
  let errors = 0;
  const total = Math.round((perSec * ms) / 1000);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSec;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(post(agent, port, bodies[i % bodies.length] as Buffer).then((status) => {
      latencies.push(performance.now() - t0);
      if (status === 202) accepted += alertsEach;
      else errors++;
    }, () => {
      errors++;
    }));
  }
  await Promise.all(pending);
  const elapsed = performance.now() - start;
  agent.destroy();
  return summarize(latencies, accepted, total, errors, elapsed);
}

const SCALE_MS = Math.min(DURATION_MS, 4000);
const PG_URL = process.env.ONEHAND_TEST_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test';

interface ScaleRow extends RunResult {
  store: 'sqlite' | 'postgres';
  replicas: number;
  /** The first pass over the payloads, where each fingerprint opens its incident. */
  firstPassAlertsPerSec: number;
  durable: boolean;
  /** The highest peak RSS (VmHWM) of the row's replicas, and the highest RSS any of them had when ready. */
  peakRssMiB: number;
  readyRssMiB: number;
}

/**
 * replicaRuns: the same closed-loop intake run on SQLite (one process: SQLite is not shared) and on
 * PostgreSQL with 1, 2 and 3 replicas on one fresh schema each. PostgreSQL rows are left out, with
 * a note, when it does not answer at $ONEHAND_TEST_DATABASE_URL.
 */
async function replicaRuns(bodies: Buffer[]): Promise<{ rows: ScaleRow[]; note: string | null }> {
  const rows: ScaleRow[] = [];
  const measure = async (store: ScaleRow['store'], children: Child[]): Promise<void> => {
    const ports = children.map((c) => c.port);
    // Warm-up: one pass over the payloads, so every fingerprint has opened its incident (the slow
    // path, timed as "first pass"); then the steady state of repeats is measured.
    const warm = await closedLoop(ports, bodies, 10, 120_000, CONCURRENCY, bodies.length);
    const r = await closedLoop(ports, bodies, 10, SCALE_MS);
    const all = await Promise.all(children.map(ask));
    const stats = all[0] as Record<string, number>;
    rows.push({
      ...r, store, replicas: children.length, firstPassAlertsPerSec: warm.alertsPerSec, durable: stats.durableAlerts === warm.alertsAccepted + r.alertsAccepted,
      peakRssMiB: round(Math.max(...all.map((s) => s.maxRssMiB ?? NaN))), readyRssMiB: round(Math.max(...children.map((c) => c.readyRssMiB))),
    });
    for (const c of children) await stop(c);
  };
  await measure('sqlite', [await startChild('bot')]);
  const { Client } = await import('pg');
  const admin = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    return { rows, note: `PostgreSQL rows skipped: no answer at ${PG_URL.replace(/:[^:@/]*@/, ':***@')} (${err instanceof Error ? err.message : String(err)})` };
  }
  try {
    for (const n of [1, 2, 3]) {
      const schema = `onehand_bench_${process.pid}_${n}`;
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
      const url = new URL(PG_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      try {
        const first = await startChild('bot', url.toString()); // migrates alone, then the others start
        const rest = await Promise.all(Array.from({ length: n - 1 }, () => startChild('bot', url.toString())));
        await measure('postgres', [first, ...rest]);
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    }
  } finally {
    await admin.end();
  }
  return { rows, note: null };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const RESULTS = path.join(__dirname, 'results.json');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const only = values.only;
  if (only !== undefined && only !== 'intake' && only !== 'delivery' && only !== 'big') throw new Error(`--only ${only}: write --only intake, --only delivery or --only big`);
  const previous = fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  // The big request and the process footprint (bench/intake-big.ts); `--only big` runs it alone.
  const big = only === undefined || only === 'big' ? await bigRuns() : previous.big;
  if (only === 'big') {
    printBig(big as BigResults);
    fs.writeFileSync(RESULTS, `${JSON.stringify({ ...previous, big }, null, 2)}\n`);
    return;
  }
  const intake = only === 'delivery' ? null : await intakeRuns();
  let delivery: Awaited<ReturnType<typeof deliveryRuns>> | null = null;
  if (only !== 'intake') {
    delivery = await deliveryRuns(PG_URL);
    printDelivery(delivery);
  }
  const results = only === undefined
    ? { ...intake, delivery, deliveryAt: new Date().toISOString() }
    : only === 'intake' ? { ...previous, ...intake } : { ...previous, delivery, deliveryAt: new Date().toISOString() };
  if (only === undefined) printBig(big as BigResults);
  fs.writeFileSync(RESULTS, `${JSON.stringify({ ...results, big }, null, 2)}\n`);
  console.log('\nwritten to bench/results.json');
}

/** intakeRuns: the intake part; prints its tables and returns its results. */
async function intakeRuns(): Promise<Record<string, unknown>> {
  // Side by side first: bare node, Alertmanager and the compiled bot under one load generator.
  buildBot();
  const compare = await compareRuns();
  printCompare(compare);
  const ten = payloads(10, 500);
  const bot = await startChild('bot');
  let sent = 0;
  // Warm-up: every fingerprint opens its incident once (the slow path), then the JIT settles.
  const warm = await closedLoop(bot.port, ten, 10, 2000, 8);
  sent += warm.alertsAccepted;
  const throughput = await closedLoop(bot.port, ten, 10, DURATION_MS);
  sent += throughput.alertsAccepted;
  const latency = await openLoop(bot.port, ten, 10, 100, Math.min(DURATION_MS, 5000));
  sent += latency.alertsAccepted;
  const bySize: Record<string, RunResult> = {};
  for (const size of [1, 10, 100]) {
    const r = await closedLoop(bot.port, size === 10 ? ten : payloads(size, size === 1 ? 2000 : 60), size, Math.min(DURATION_MS, 4000));
    sent += r.alertsAccepted;
    bySize[String(size)] = r;
  }
  const botStats = await ask(bot);
  await stop(bot);

  const scaleOut = await replicaRuns(ten);

  const results = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    settings: { durationMs: DURATION_MS, concurrency: CONCURRENCY, fingerprints: FINGERPRINTS, alertsPerRequest: 10, sqlite: 'WAL, synchronous=NORMAL' },
    bot: { throughput, latencyAt1000AlertsPerSec: latency, bySize, peakRssMiB: round(botStats.maxRssMiB ?? NaN), readyRssMiB: round(bot.readyRssMiB), batches: botStats.batches, incidents: botStats.incidents },
    durability: { answered202: sent, inDatabase: botStats.durableAlerts, ok: sent === botStats.durableAlerts },
    scaleOut,
    compare,
  };

  const rows: [string, string][] = [
    ['throughput, 10 alerts/request (alerts/s)', String(throughput.alertsPerSec)],
    [`latency p50 / p99 at ${CONCURRENCY} concurrent (ms)`, `${throughput.p50Ms} / ${throughput.p99Ms}`],
    ['latency p50 / p99 at 1,000 alerts/s (ms)', `${latency.p50Ms} / ${latency.p99Ms}`],
    ['throughput, 1 alert/request (alerts/s)', String(bySize['1']?.alertsPerSec)],
    ['throughput, 10 alerts/request (alerts/s)', String(bySize['10']?.alertsPerSec)],
    ['throughput, 100 alerts/request (alerts/s)', String(bySize['100']?.alertsPerSec)],
    ['RSS when ready / peak (MiB)', `${results.bot.readyRssMiB} / ${results.bot.peakRssMiB}`],
    ['errors (non-202)', String(throughput.errors + latency.errors)],
    ['durable: alerts in DB = alerts answered 202', `${botStats.durableAlerts} = ${sent} ${results.durability.ok ? 'yes' : 'NO'}`],
    ['transactions (group commits) for all runs', String(botStats.batches)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nthe app in process (bench/servers.ts compiled, minimal config, no plugins), node:http client in this process`);
  console.log(`${'metric'.padEnd(w0)}  onehand`);
  console.log(`${'-'.repeat(w0)}  -------`);
  for (const [a, b] of rows) console.log(`${a.padEnd(w0)}  ${b}`);
  console.log(`\nintake by store and replicas (${SCALE_MS / 1000} s each after a warm-up, ${CONCURRENCY} connections spread over the replicas, 10 alerts/request)`);
  console.log('store       replicas  alerts/s  p50 ms  p99 ms  errors  first pass alerts/s (incidents opening)  durable  RSS MiB ready / peak (highest replica)');
  for (const r of scaleOut.rows) {
    console.log(`${r.store.padEnd(10)}  ${String(r.replicas).padStart(8)}  ${String(r.alertsPerSec).padStart(8)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.firstPassAlertsPerSec).padStart(39)}  ${(r.durable ? 'yes' : 'NO').padEnd(7)}  ${r.readyRssMiB} / ${r.peakRssMiB}`);
  }
  if (scaleOut.note) console.log(scaleOut.note);
  return results;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
