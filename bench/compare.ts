/**
 * Intake side by side (issue 14): the same load generator (autocannon, in this process, keep-alive
 * connections) against three servers on loopback, each in its own process, in interleaved rounds so
 * that a noisy neighbour hits all three alike:
 *
 *   bare          Node's http server: reads the body, JSON.parse, answers 202 (no work, no storage);
 *   alertmanager  Prometheus Alertmanager (the Debian package `prometheus-alertmanager`), alerts in
 *                 memory, receiving the same alerts as `POST /api/v2/alerts`;
 *   onehand       the compiled bot (`node dist/src/cli/main.js start`) with the shipped example config
 *                 (both plugins, HTTP server) plus one Alertmanager integration, on SQLite: every 202
 *                 is durable (committed).
 *
 * Bodies: Alertmanager webhooks (version 4) of 10 alerts over 1,000 fingerprints, the first pass
 * opening the 1,000 incidents (a warm-up round, not counted). After the rounds the durability check
 * compares the alerts the bot's database holds with the alerts it answered 202.
 *
 * BENCH_COMPARE_ROUNDS (3) and BENCH_COMPARE_SECONDS (5) set the rounds; BENCH_CONCURRENCY (32).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Database } from 'sqlite3';
import { freePort } from '../test/scale/replicas';

// autocannon ships no types; the part used here is typed below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>, done: (err: Error | null, result: CannonResult) => void) => unknown;

interface CannonResult {
  readonly requests: { readonly average: number; readonly total: number; readonly sent: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
  readonly '2xx': number;
}

const ROOT = path.join(__dirname, '..');
const ROUNDS = Number(process.env.BENCH_COMPARE_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_COMPARE_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FINGERPRINTS = 1000;
const PER_REQUEST = 10;
const TOKEN = 'bench-compare-token';

export interface ServerFigures {
  readonly name: string;
  readonly what: string;
  /** requests/s of each counted round, in order. */
  readonly rounds: number[];
  readonly medianRequestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  /** CPU time the server's process used per request over the counted rounds (all its threads). */
  readonly cpuUsPerRequest: number;
}

export interface CompareResults {
  readonly at: string;
  readonly settings: { rounds: number; seconds: number; connections: number; alertsPerRequest: number; fingerprints: number; cpus: number };
  readonly servers: ServerFigures[];
  readonly onehandOverAlertmanager: number | null;
  readonly onehandOverBare: number;
  /**
   * Every alert answered 202 must be in the database (answered202 <= inDatabase); requests still in
   * flight when a round stopped may have been stored without their answer being counted, so the
   * database may hold up to sent - answered202 more.
   */
  readonly durability: { answered202: number; inDatabase: number; sent: number; ok: boolean };
  readonly firstRound: { requestsPerSec: number; p99Ms: number };
  /** The compiled bot's peak RSS (VmHWM) over all rounds. */
  readonly onehandPeakRssMiB: number;
  readonly note: string | null;
}

interface Server {
  readonly name: string;
  readonly what: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly bodies: string[];
  /** The server's process, for its CPU time. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** cpuMs: user + system CPU time a process has used so far (all its threads), from /proc. */
function cpuMs(pid: number): number {
  // Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses; clock ticks (100 Hz).
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alert(fp: number) {
  const labels = { alertname: `Alert${fp % 37}`, instance: `host-${fp}.prod.example.invalid:9100`, job: 'node', service: `svc-${fp % 23}`, severity: fp % 5 === 0 ? 'critical' : 'warning' };
  return {
    labels,
    annotations: { summary: `${labels.alertname} on ${labels.instance}`, description: `Value ${fp}.5 is above the threshold for 5m on ${labels.instance}.`, runbook_url: `https://runbooks.example.invalid/${labels.alertname}` },
    startsAt: '2026-11-27T23:22:33.123Z',
    generatorURL: `http://prometheus.example.invalid:9090/graph?g0.expr=up%7Binstance%3D%22${labels.instance}%22%7D`,
    fingerprint: fp.toString(16).padStart(16, '0'),
  };
}

/** groups: 500 groups of 10 alerts over the 1,000 fingerprints (each fingerprint in 5 groups). */
function groups(): ReturnType<typeof alert>[][] {
  const out: ReturnType<typeof alert>[][] = [];
  let n = 0;
  for (let g = 0; g < 500; g++) out.push(Array.from({ length: PER_REQUEST }, () => alert((n++ * 7919) % FINGERPRINTS)));
  return out;
}

function webhookBodies(): string[] {
  return groups().map((alerts) => JSON.stringify({
    receiver: 'onehand', status: 'firing', alerts: alerts.map((a) => ({ status: 'firing', ...a, endsAt: '0001-01-01T00:00:00Z' })),
    groupLabels: { alertname: 'bench' }, commonLabels: { job: 'node' }, commonAnnotations: {},
    externalURL: 'http://alertmanager.example.invalid:9093', version: '4', groupKey: '{}:{alertname="bench"}', truncatedAlerts: 0,
  }));
}

function alertmanagerBodies(): string[] {
  return groups().map((alerts) => JSON.stringify(alerts.map(({ labels, annotations, startsAt, generatorURL }) => ({ labels, annotations, startsAt, generatorURL }))));
}

async function waitFor(url: string, child: ChildProcess, what: string, log: () => string): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it was ready: ${log()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() - t0 > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`${what} not ready within 60 s: ${log()}`);
    }
    await sleep(20);
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

function spawnLogged(cmd: string, args: string[], options: Parameters<typeof spawn>[2]): { child: ChildProcess; log: () => string } {
  // BENCH_SERVER_STDERR=1 shows the servers' stderr (debugging) instead of keeping its tail.
  // BENCH_BOT_STDOUT=FILE keeps the bot's stdout there (V8's --trace-gc-nvp from BENCH_BOT_NODE_ARGS, say).
  const out = process.env.BENCH_BOT_STDOUT && args.some((a) => a.endsWith('main.js')) ? fs.openSync(process.env.BENCH_BOT_STDOUT, 'w') : 'ignore';
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', out, process.env.BENCH_SERVER_STDERR ? 'inherit' : 'pipe'] });
  if (typeof out === 'number') fs.closeSync(out);
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-4000);
  });
  return { child, log: () => text };
}

async function bare(): Promise<Server> {
  const port = await freePort();
  const script = `
    const http = require('node:http');
    http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try { JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400); res.end(); return; }
        res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"accepted":10}');
      });
    }).listen(${port}, '127.0.0.1');
    process.on('SIGTERM', () => process.exit(0));`;
  const { child, log } = spawnLogged(process.execPath, ['-e', script], {});
  const url = `http://127.0.0.1:${port}/webhooks/prom`;
  await waitForPost(url, child, log);
  return { name: 'bare node', what: 'node:http, JSON.parse, 202', url, headers: { 'content-type': 'application/json' }, bodies: webhookBodies(), pid: child.pid as number, stop: stopper(child) };
}

/** waitForPost: the bare server answers only POSTs with JSON; wait until one gets 202. */
async function waitForPost(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (child.exitCode !== null) throw new Error(`bare server exited: ${log()}`);
    try {
      const res = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      await res.arrayBuffer();
      if (res.status === 202) return;
    } catch {
      // not yet
    }
    await sleep(20);
  }
  throw new Error('bare server not ready');
}

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

async function alertmanager(): Promise<Server | null> {
  if (!fs.existsSync(ALERTMANAGER)) return null;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-bench-am-'));
  fs.writeFileSync(path.join(dir, 'am.yml'), 'route:\n  receiver: none\nreceivers:\n  - name: none\n');
  const { child, log } = spawnLogged(ALERTMANAGER, [
    `--config.file=${path.join(dir, 'am.yml')}`, `--storage.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
  ], {});
  await waitFor(`http://127.0.0.1:${port}/-/ready`, child, 'alertmanager', log);
  const stop = stopper(child);
  return {
    name: 'alertmanager', what: 'Prometheus Alertmanager, in memory', url: `http://127.0.0.1:${port}/api/v2/alerts`,
    headers: { 'content-type': 'application/json' }, bodies: alertmanagerBodies(), pid: child.pid as number,
    stop: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function onehand(): Promise<Server & { database: string; peakRssMiB(): number }> {
  const main = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(main)) throw new Error('dist/src/cli/main.js is missing: run npm run build first');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-bench-compare-'));
  const config = path.join(dir, 'onehand.yaml');
  fs.writeFileSync(config, `${fs.readFileSync(path.join(ROOT, 'config', 'onehand.yaml'), 'utf8')}
integrations:
  - id: prom
    type: alertmanager
    team: payments
    token_env: BENCH_COMPARE_TOKEN
    rate_limit: { requests: 100000000, per: 1s }
`);
  const database = path.join(dir, 'onehand.db');
  const { child, log } = spawnLogged(process.execPath, [...(process.env.BENCH_BOT_NODE_ARGS?.split(' ').filter(Boolean) ?? []), main, 'start', '--config', config, '--json', '--no-console'], {
    cwd: ROOT,
    env: { ...process.env, ONEHAND_CONFIG: '', ONEHAND_DATABASE_URL: '', ONEHAND_DATA: database, ONEHAND_HTTP_PORT: String(port), ONEHAND_LOG_LEVEL: 'warn', BENCH_COMPARE_TOKEN: TOKEN },
  });
  await waitFor(`http://127.0.0.1:${port}/healthz`, child, 'onehand', log);
  const stop = stopper(child);
  return {
    name: 'onehand', what: 'compiled, example config + 1 integration, SQLite, durable 202',
    url: `http://127.0.0.1:${port}/webhooks/prom`, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    bodies: webhookBodies(), database, stop, pid: child.pid as number,
    peakRssMiB: () => Number(/^VmHWM:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
  };
}

function load(server: Server, seconds: number): Promise<CannonResult> {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon({
      url: server.url, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: server.headers,
      requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: server.bodies[i++ % server.bodies.length] }) }],
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** durableAlerts: the alerts the database holds: counts, plus repeats still in the repeat log. */
function durableAlerts(file: string): Promise<number> {
  const db = new Database(file);
  const sql = `SELECT (SELECT COALESCE(SUM(count), 0) FROM intake_alerts)
    + (SELECT COALESCE(SUM(e.value ->> 3), 0) FROM intake_repeats AS r, json_each(r.data, '$.a') AS e)
    + (SELECT COALESCE(SUM(x.value ->> 1), 0) FROM intake_repeats AS r, json_each(r.data, '$.r') AS x) AS n`;
  return new Promise((resolve, reject) => db.get(sql, (err: Error | null, row: { n: number }) => db.close(() => (err ? reject(err) : resolve(row.n)))));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;

/** compareRuns: starts the three servers (the bot must be built), runs the rounds, stops them. */
export async function compareRuns(): Promise<CompareResults> {
  const servers: Server[] = [];
  let note: string | null = null;
  const bot = await onehand();
  try {
    servers.push(await bare());
    const am = await alertmanager();
    if (am) servers.push(am);
    else note = `Alertmanager row skipped: ${ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)`;
    servers.push(bot);
    let answered = 0;
    let sent = 0;
    // Warm-up: one short round each (the bot opens its 1,000 incidents here, JIT settles).
    const warm: Record<string, CannonResult> = {};
    for (const s of servers) {
      warm[s.name] = await load(s, 2);
      if (s === bot) {
        answered += warm[s.name]?.['2xx'] ?? 0;
        sent += warm[s.name]?.requests.sent ?? 0;
      }
    }
    const results = new Map<string, CannonResult[]>(servers.map((s) => [s.name, []]));
    const cpu = new Map<string, number>(servers.map((s) => [s.name, 0]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of servers) {
        const before = cpuMs(s.pid);
        const result = await load(s, SECONDS);
        cpu.set(s.name, (cpu.get(s.name) ?? 0) + cpuMs(s.pid) - before);
        results.get(s.name)?.push(result);
        if (s === bot) {
          answered += result['2xx'];
          sent += result.requests.sent;
        }
      }
    }
    const peak = bot.peakRssMiB();
    await bot.stop();
    const inDatabase = await durableAlerts(bot.database);
    const figures: ServerFigures[] = servers.map((s) => {
      const rs = results.get(s.name) ?? [];
      const perSec = rs.map((x) => x.requests.average);
      const mid = rs.find((x) => x.requests.average === median(perSec)) ?? rs[0];
      return {
        name: s.name, what: s.what, rounds: perSec.map((x) => Math.round(x)), medianRequestsPerSec: Math.round(median(perSec)),
        p50Ms: mid?.latency.p50 ?? NaN, p99Ms: mid?.latency.p99 ?? NaN, non2xx: rs.reduce((a, x) => a + x.non2xx + x.errors, 0),
        cpuUsPerRequest: Math.round(((cpu.get(s.name) ?? 0) * 1000) / Math.max(1, rs.reduce((a, x) => a + x.requests.total, 0))),
      };
    });
    const of = (name: string) => figures.find((f) => f.name === name)?.medianRequestsPerSec;
    const mine = of('onehand') as number;
    const amRate = of('alertmanager');
    const botWarm = warm[bot.name];
    return {
      at: new Date().toISOString(),
      settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, alertsPerRequest: PER_REQUEST, fingerprints: FINGERPRINTS, cpus: os.cpus().length },
      servers: figures,
      onehandOverAlertmanager: amRate ? round(mine / amRate) : null,
      onehandOverBare: round(mine / (of('bare node') as number)),
      durability: { answered202: answered * PER_REQUEST, inDatabase, sent: sent * PER_REQUEST, ok: answered * PER_REQUEST <= inDatabase && inDatabase <= sent * PER_REQUEST },
      firstRound: { requestsPerSec: Math.round(botWarm?.requests.average ?? NaN), p99Ms: botWarm?.latency.p99 ?? NaN },
      onehandPeakRssMiB: round(peak, 1),
      note,
    };
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await bot.stop().catch(() => undefined);
    // The bot's database (read for the durability check above) and config.
    fs.rmSync(path.dirname(bot.database), { recursive: true, force: true });
  }
}

export function printCompare(r: CompareResults): void {
  console.log(`\nintake side by side: autocannon, ${r.settings.connections} connections, ${r.settings.alertsPerRequest} alerts/request over ${r.settings.fingerprints} fingerprints, ${r.settings.rounds} interleaved rounds of ${r.settings.seconds} s (${r.settings.cpus} CPUs, load generator on the same machine)`);
  console.log('server        requests/s (median)  alerts/s  rounds               p50 ms  p99 ms  non-2xx  CPU us/request');
  for (const s of r.servers) {
    console.log(`${s.name.padEnd(12)}  ${String(s.medianRequestsPerSec).padStart(19)}  ${String(s.medianRequestsPerSec * r.settings.alertsPerRequest).padStart(8)}  ${s.rounds.join(' / ').padEnd(19)}  ${String(s.p50Ms).padStart(6)}  ${String(s.p99Ms).padStart(6)}  ${String(s.non2xx).padStart(7)}  ${String(s.cpuUsPerRequest).padStart(14)}`);
  }
  console.log(`onehand / alertmanager: ${r.onehandOverAlertmanager ?? 'n/a'} (goal >= 2)   onehand / bare: ${r.onehandOverBare} (goal >= 0.5)`);
  console.log(`onehand's first round (opening the ${r.settings.fingerprints} incidents): ${r.firstRound.requestsPerSec} requests/s, p99 ${r.firstRound.p99Ms} ms; peak RSS ${r.onehandPeakRssMiB} MiB`);
  const d = r.durability;
  console.log(`durable: every alert answered 202 is in the database: ${d.answered202} answered <= ${d.inDatabase} stored <= ${d.sent} sent (in flight when a round stopped): ${d.ok ? 'yes' : 'NO'}`);
  if (r.note) console.log(r.note);
}

if (require.main === module) {
  compareRuns().then((r) => {
    printCompare(r);
  }, (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
