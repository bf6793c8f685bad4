/**
 * Big requests and a light process (issue 14), with real `onehand start` processes on loopback:
 *
 * - big request: one Alertmanager webhook with 10,000 new alerts (10,000 fingerprints) on SQLite,
 *   timed from send to 202; meanwhile /healthz every 20 ms and a one-alert webhook on another
 *   integration every 50 ms, each timed (p50 / p99 / max); afterwards the database must hold one
 *   incident per fingerprint. Peak RSS of the bot (VmHWM).
 * - footprint: the compiled bot (`npm run build`, `node dist/src/cli/main.js start`) with the
 *   shipped example config (both plugins) and the HTTP server on: start to ready (spawn to the
 *   first /healthz 200) and idle RSS 5 s after ready, median of 3 starts.
 *
 * `npm run bench -- --only big` runs this part alone. BENCH_ROOT=/path/to/another/checkout measures
 * another tree the same way (a "before" figure).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Database } from 'sqlite3';
import { freePort } from '../test/scale/replicas';

const ROOT = process.env.BENCH_ROOT ?? path.join(__dirname, '..');
const BIG = 10_000;
const TOKEN = 'bench-big-token';

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
  - id: search
    time_zone: Europe/Berlin
    lead: carol
    members: [bob, alice]
    rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }
integrations:
  - id: prom
    type: alertmanager
    team: payments
    token_env: BENCH_BIG_TOKEN
    max_body: 16MiB
    rate_limit: { requests: 100000000, per: 1s }
  - id: other
    type: alertmanager
    team: search
    token_env: BENCH_BIG_TOKEN
    # Every one of its incidents pages (no storm of its own): the case that must not wait.
    storm: { threshold: 100000, window: 5m }
    rate_limit: { requests: 100000000, per: 1s }
`;

export interface Spread {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface BigResults {
  readonly at: string;
  readonly root: string;
  readonly bigRequest: {
    readonly alerts: number;
    readonly compiled: boolean;
    readonly seconds: number;
    readonly status: number;
    readonly healthz: Spread;
    readonly otherIntegration: Spread;
    readonly incidentsStored: number;
    readonly durable: boolean;
    readonly peakRssMiB: number;
  };
  readonly footprint: { readonly startToReadyMs: number; readonly idleRssMiB: number; readonly runs: number } | null;
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** memoryMiB: VmRSS and VmHWM (peak) of a process, from /proc. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly readyMs: number;
  readonly dir: string;
  stderr: string;
}

/** start: one bot process; ready when /healthz answers 200. */
async function start(args: string[], env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-big-'));
  const t0 = performance.now();
  // BENCH_BOT_NODE_ARGS: extra node options for the bot, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const child = spawn(process.execPath, [...(process.env.BENCH_BOT_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...args], {
    cwd: ROOT,
    env: { ...process.env, ONEHAND_CONFIG: '', ONEHAND_DATABASE_URL: '', ONEHAND_DATA: path.join(dir, 'onehand.db'), ONEHAND_HTTP_PORT: String(port), ONEHAND_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const running: Running = { child, port, readyMs: 0, dir, stderr: '' };
  child.stderr?.on('data', (d: Buffer) => {
    running.stderr = (running.stderr + d.toString()).slice(-4000);
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bot exited (${child.exitCode}) before it was ready: ${running.stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return { ...running, readyMs: performance.now() - t0 };
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`bot not ready within 60 s: ${running.stderr}`);
    }
    await sleep(5);
  }
}

async function stop(bot: Running): Promise<void> {
  if (bot.child.exitCode !== null) return;
  const exited = new Promise((resolve) => bot.child.once('exit', resolve));
  bot.child.kill('SIGTERM');
  const timer = setTimeout(() => bot.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  fs.rmSync(bot.dir, { recursive: true, force: true });
}

function spread(ms: number[]): Spread {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN);
  return { n: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: round(sorted.at(-1) ?? NaN) };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function amBody(alerts: number, from: number, prefix: string): string {
  const list = Array.from({ length: alerts }, (_, j) => {
    const i = from + j;
    const labels = { alertname: `Alert${i % 37}`, instance: `host-${i}.prod.example.invalid:9100`, job: 'node', service: `svc-${i % 23}`, severity: i % 5 === 0 ? 'critical' : 'warning' };
    return {
      status: 'firing', labels,
      annotations: { summary: `${labels.alertname} on ${labels.instance}`, description: `Value ${i}.5 is above the threshold for 5m on ${labels.instance}.` },
      startsAt: '2026-11-27T23:22:33.123Z', endsAt: '0001-01-01T00:00:00Z',
      generatorURL: `http://prometheus.example.invalid:9090/graph?g0.expr=up`,
      fingerprint: `${prefix}${i.toString(16).padStart(12, '0')}`,
    };
  });
  return JSON.stringify({ receiver: 'onehand', status: 'firing', alerts: list, groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am.invalid', version: '4', groupKey: '{}:{}', truncatedAlerts: 0 });
}

async function post(port: number, integration: string, body: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/${integration}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
  await res.arrayBuffer();
  return res.status;
}

/** sendFromChild: POSTs the file's body from a child process; its status and seconds to the answer. */
function sendFromChild(port: number, integration: string, file: string): Promise<{ status: number; seconds: number }> {
  const script = `
    const body = require('node:fs').readFileSync(${JSON.stringify(file)});
    const t0 = performance.now();
    const req = require('node:http').request({ host: '127.0.0.1', port: ${port}, method: 'POST', path: '/webhooks/${integration}',
      headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer ${TOKEN}' } }, (res) => {
      res.resume();
      res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, seconds: (performance.now() - t0) / 1000 })));
    });
    req.end(body);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { status: number; seconds: number }) : reject(new Error(`sender exited with ${code}`))));
  });
}

/** probe: calls `fn` every `everyMs` until `until` settles; the latency of each call. */
async function probe(fn: () => Promise<unknown>, everyMs: number, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const out: number[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  while (!done) {
    const t0 = performance.now();
    pending.push(fn().then(() => {
      out.push(performance.now() - t0);
      if (process.env.BENCH_DEBUG && performance.now() - t0 > 60) console.log(`slow call at +${Math.round(t0 - started)} ms: ${Math.round(performance.now() - t0)} ms`);
    }));
    await sleep(everyMs);
  }
  await Promise.all(pending);
  return out;
}

function countIncidents(file: string): Promise<number> {
  const db = new Database(file);
  return new Promise((resolve, reject) => db.get('SELECT COUNT(*) AS n FROM incidents', (err: Error | null, row: { n: number }) => db.close(() => (err ? reject(err) : resolve(row.n)))));
}

function compiledMain(): string | null {
  const main = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
  return fs.existsSync(main) ? main : null;
}

async function bigRequest(): Promise<BigResults['bigRequest']> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-big-config-'));
  const configPath = path.join(dir, 'onehand.yaml');
  fs.writeFileSync(configPath, CONFIG);
  const main = compiledMain();
  const bot = await start([main ?? path.join(ROOT, 'bin', 'onehand.js'), 'start', '--config', configPath, '--json', '--no-console'], { BENCH_BIG_TOKEN: TOKEN });
  try {
    const big = amBody(BIG, 0, 'b');
    // Warm-up on another integration (JIT, prepared statements), then the big request.
    for (let i = 0; i < 20; i++) await post(bot.port, 'other', amBody(1, 1_000_000 + i, 'w'));
    // The big request goes from another process, so encoding and sending 3.5 MB never delays the probes here.
    const bodyFile = path.join(dir, 'big.json');
    fs.writeFileSync(bodyFile, big);
    if (process.env.BENCH_DEBUG) console.log('send hr', String(process.hrtime.bigint() / 1000n));
    const request = sendFromChild(bot.port, 'prom', bodyFile);
    let n = 0;
    const [health, other, result] = await Promise.all([
      probe(() => fetch(`http://127.0.0.1:${bot.port}/healthz`).then((r) => r.arrayBuffer()), 20, request),
      probe(() => post(bot.port, 'other', amBody(1, 2_000_000 + n++, 'o')), 50, request),
      request,
    ]);
    const incidents = await countIncidents(path.join(bot.dir, 'onehand.db'));
    const mine = incidents - 20 - n; // the other integration's incidents (one per request) are not the big request's
    return {
      alerts: BIG, compiled: main !== null, seconds: round(result.seconds), status: result.status,
      healthz: spread(health), otherIntegration: spread(other),
      incidentsStored: mine, durable: result.status === 202 && mine === BIG,
      peakRssMiB: round(memoryMiB(bot.child.pid as number).peak),
    };
  } finally {
    await stop(bot);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function footprint(): Promise<BigResults['footprint']> {
  const main = compiledMain();
  if (!main) return null;
  const runs: { ready: number; rss: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const bot = await start([main, 'start', '--config', path.join(ROOT, 'config', 'onehand.yaml'), '--json', '--no-console'], {});
    await sleep(5000);
    runs.push({ ready: bot.readyMs, rss: memoryMiB(bot.child.pid as number).rss });
    await stop(bot);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return { startToReadyMs: Math.round(median(runs.map((r) => r.ready))), idleRssMiB: round(median(runs.map((r) => r.rss))), runs: runs.length };
}

/** buildBot: the compiled bot (npm run build), unless BENCH_NO_BUILD=1; once per bench run. */
let built = false;
export function buildBot(): void {
  if (built || process.env.BENCH_NO_BUILD === '1') return;
  // The build (tsconfig.build.json) plus the bench's in-process servers (bench/servers.ts), so that
  // every bot the bench measures runs compiled, as in production.
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join('bench', 'tsconfig.servers.json')], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

/** bigRuns: builds the compiled bot (npm run build), then both measurements. */
export async function bigRuns(): Promise<BigResults> {
  buildBot();
  const results: BigResults = { at: new Date().toISOString(), root: ROOT, bigRequest: await bigRequest(), footprint: await footprint() };
  return results;
}

export function printBig(r: BigResults): void {
  const b = r.bigRequest;
  console.log(`\none request with ${b.alerts.toLocaleString('en')} new alerts (SQLite, ${b.compiled ? 'compiled' : 'tsx'}), and meanwhile:`);
  console.log(`  request to ${b.status}: ${b.seconds} s; incidents stored ${b.incidentsStored} (${b.durable ? 'all' : 'NOT all'}); peak RSS ${b.peakRssMiB} MiB`);
  console.log(`  /healthz every 20 ms:                 p50 ${b.healthz.p50Ms} ms, p99 ${b.healthz.p99Ms} ms, max ${b.healthz.maxMs} ms (${b.healthz.n} calls)`);
  console.log(`  one-alert webhook, other integration: p50 ${b.otherIntegration.p50Ms} ms, p99 ${b.otherIntegration.p99Ms} ms, max ${b.otherIntegration.maxMs} ms (${b.otherIntegration.n} calls)`);
  if (r.footprint) {
    console.log(`compiled bot, example config (both plugins), HTTP on: start to ready ${r.footprint.startToReadyMs} ms, idle RSS ${r.footprint.idleRssMiB} MiB (median of ${r.footprint.runs})`);
  }
}

if (require.main === module) {
  bigRuns().then((r) => {
    printBig(r);
    console.log(JSON.stringify(r, null, 2));
  }, (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
