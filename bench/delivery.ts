/**
 * Delivery latency (`npm run bench -- --only delivery`): how long a page takes from the event that
 * causes it to the chat platform, with real `onehand start` processes (the `onehand` command, run
 * from the sources through tsx) and the default timer period (1 s), so a page that waited for the
 * timer would show up as hundreds of milliseconds.
 *
 * - sparse: one sample at a time, 40–90 ms apart (so they fall at every phase of the timer period,
 *   and the bot's requests stay under Discord's global 50 requests/s, which discord.js enforces by
 *   queueing: at 5–50 ms apart that queueing alone made the p99 140–270 ms):
 *     report  from the fake Discord sending a `/incident report` interaction (sev1, from a guest) on
 *             the gateway WebSocket to the fake Discord receiving the page: the first
 *             POST /channels/<DM>/messages whose body holds that report's title;
 *     alert   from the bench sending an Alertmanager webhook (one new critical alert, answered 202)
 *             to the same receipt;
 *     report during 1,000 alerts/s  the same reports while another integration of replica A
 *             gets 1,000 alerts/s (repeats of 1,000 open incidents).
 *   The bot runs the real Discord adapter (discord.js, REST and gateway) against the loopback
 *   FakeDiscord of test/discord, in this process. On SQLite, on PostgreSQL with one replica, and
 *   with two replicas (each with its own bot token, so the fake knows who sent what): webhooks go to
 *   replica A only, and the table shows how many pages replica B sent (B learns of them only through
 *   LISTEN/NOTIFY).
 * - steady: alerts at a fixed rate (open loop: 50, 200 and 1,000 per second for 3 s, each a new
 *   incident), timed from the webhook request to the page line on the bot's standard output (console
 *   adapter, --json), with the 202s and the pages per second achieved; and new alerts at 20/s while
 *   another integration sends 1,000 alerts/s (repeats of 1,000 open incidents). Not through Discord:
 *   discord.js holds every bot to Discord's global limit of 50 requests/s, below these rates (each
 *   incident is a page and a channel post).
 * Environment: BENCH_DELIVERY_SAMPLES (200), BENCH_RATE_SECONDS (3), BENCH_RATES ("50,200,1000"),
 * BENCH_DELIVERY_SETUPS ("sqlite,pg1,pg2"), BENCH_DELIVERY_PARTS ("sparse,steady"),
 * BENCH_BOT_NODE_ARGS (node options for the bots, e.g. "--cpu-prof"), BENCH_BOT_BIN (the bots' script,
 * e.g. a compiled build's, for profiles with its function names).
 *
 * The example config's shape (two teams, escalation, quiet hours, handoff summaries), with Discord
 * ids, an Alertmanager integration and storm grouping out of the way (each alert must page).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { APP_ID, FakeDiscord, GUILD_ID, type RestCall } from '../test/discord/fake-discord';
import { freePort } from '../test/scale/replicas';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'onehand.js');
const AM_TOKEN = 'bench-delivery-token';
const SAMPLES = Number(process.env.BENCH_DELIVERY_SAMPLES ?? 200);
const WARMUP = 10;
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 3);
const RATES = (process.env.BENCH_RATES ?? '50,200,1000').split(',').map(Number);
const SAMPLE_TIMEOUT_MS = 10_000;
/** Width of the table's "what" column. */
const WHAT_WIDTH = 37;
/** A steady-run page later than this counts as lost (and at this value in the percentiles). */
const DRAIN_TIMEOUT_MS = 15_000;

const DISCORD = {
  alice: '111000000000000001', bob: '111000000000000002', carol: '111000000000000003',
  dave: '111000000000000004', erin: '111000000000000005', frank: '111000000000000006',
};
const CHANNELS = { payments: '880000000000000001', search: '880000000000000002' };
const ZED = { id: '999000000000000009', username: 'zed' };

/** benchConfig: config/onehand.yaml's world, on Discord or the console, with an Alertmanager integration. */
export function benchConfig(platform: 'discord' | 'console'): string {
  const id = (m: keyof typeof DISCORD): string => (platform === 'discord' ? `, discord: "${DISCORD[m]}"` : '');
  const channel = (team: keyof typeof CHANNELS): string => (platform === 'discord' ? `{ discord: "${CHANNELS[team]}" }` : `{ console: "#${team}" }`);
  return `
admins: [carol]
default_team: payments
timers: { period: 1s }
http: { host: 127.0.0.1 }
members:
  - { id: alice, name: Alice Liddell, time_zone: Europe/Berlin, mentor: bob${id('alice')} }
  - { id: bob, name: Bob Builder, time_zone: Europe/Berlin, mentor: dave${id('bob')} }
  - { id: carol, name: Carol Danvers, time_zone: Europe/London${id('carol')} }
  - { id: dave, name: Dave Lister, time_zone: Europe/Berlin, mentor: alice${id('dave')} }
  - { id: erin, name: Erin Hannon, time_zone: America/New_York, mentor: frank${id('erin')} }
  - { id: frank, name: Frank Castle, time_zone: America/Chicago, mentor: erin${id('frank')} }
teams:
  - id: payments
    name: Payments
    time_zone: Europe/Berlin
    lead: carol
    members: [alice, bob, dave]
    channels: ${channel('payments')}
    rotation: { members: [alice, bob, dave], shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }
    escalation: { ack_timeout: 5m, renotify: 1, then: [mentor, lead], repeat: 1, unowned_every: 1h, handoff: reassign }
  - id: search
    name: Search
    time_zone: America/New_York
    lead: erin
    members: [erin, frank]
    channels: ${channel('search')}
    rotation: { shift: 1d, handoff: "08:30", start: 2026-01-05 }
integrations:
  - id: prom
    type: alertmanager
    team: payments
    token_env: BENCH_AM_TOKEN
    severity: { label: severity, map: { critical: sev1, warning: sev3 }, default: sev3 }
    rate_limit: { requests: 100000000, per: 1s }
    # Every probe is a new incident and must page: no storm grouping.
    storm: { threshold: 100000000, window: 1s }
  - id: background
    type: alertmanager
    team: search
    token_env: BENCH_AM_TOKEN
    rate_limit: { requests: 100000000, per: 1s }
plugins:
  handoff-summary: { next_shifts: 2 }
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: true, oncall_weekends: false }
`;
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Probes: the pending samples, each waiting for the first page that carries its token. */
class Probes {
  private readonly pending = new Map<string, (hit: { at: number; by: string } | null) => void>();

  /** expect: resolves with the receipt time and sender, or null after `timeoutMs`. */
  expect(token: string, timeoutMs: number): Promise<{ at: number; by: string } | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        resolve(null);
      }, timeoutMs);
      this.pending.set(token, (hit) => {
        clearTimeout(timer);
        resolve(hit);
      });
    });
  }

  seen(text: string, at: number, by: string): void {
    const token = /probe\d+x\d+end/.exec(text)?.[0];
    const done = token ? this.pending.get(token) : undefined;
    if (!token || !done) return;
    this.pending.delete(token);
    done({ at, by });
  }
}

/** Bot: one `onehand start` process. */
export class Bot {
  stderr = '';
  private buffer = '';
  readonly exited: Promise<void>;

  private constructor(readonly name: string, readonly port: number, private readonly child: ChildProcess, onLine: (line: string, at: number) => void) {
    child.stdout?.on('data', (d: Buffer) => {
      const at = performance.now();
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim()) onLine(line, at);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** start: `onehand start --json --no-console`, ready when /healthz answers 200. */
  static async start(name: string, configPath: string, env: Record<string, string>, onLine: (line: string, at: number) => void = () => undefined): Promise<Bot> {
    const port = await freePort();
    // $BENCH_BOT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to each bot's node.
    const nodeArgs = (process.env.BENCH_BOT_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, process.env.BENCH_BOT_BIN ?? BIN, 'start', '--config', configPath, '--json', '--no-console'], {
      cwd: ROOT,
      env: { ...process.env, ONEHAND_CONFIG: '', ONEHAND_DATABASE_URL: '', ONEHAND_HTTP_PORT: String(port), ONEHAND_LOG_LEVEL: 'warn', BENCH_AM_TOKEN: AM_TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bot = new Bot(name, port, child, onLine);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`bot ${name} exited (${child.exitCode}) before it answered: ${bot.stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await res.arrayBuffer();
        if (res.status === 200) return bot;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`bot ${name} did not answer /healthz with 200 within 60 s: ${bot.stderr}`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    // A bot left with a backlog stops within seconds; the bench does not wait for it to drain.
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export function alertBody(token: string, fingerprint: string): Buffer {
  const labels = { alertname: 'CheckoutErrorRate', service: 'checkout', instance: `checkout-${fingerprint}.prod.example.invalid:9100`, severity: 'critical', probe: token };
  return Buffer.from(JSON.stringify({
    receiver: 'onehand', status: 'firing', groupLabels: { alertname: labels.alertname }, commonLabels: labels, commonAnnotations: {},
    externalURL: 'http://alertmanager.example.invalid:9093', version: '4', groupKey: `{}:{probe="${token}"}`, truncatedAlerts: 0,
    alerts: [{
      status: 'firing', labels,
      annotations: { summary: `Checkout error rate above 5% ${token}`, description: 'The 5xx rate of checkout is above 5% for 2m.' },
      startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.invalid:9090/graph', fingerprint,
    }],
  }));
}

/**
 * busyWebhook: the "background" integration of the bot at `port` gets 1,000 alerts/s (100 webhooks/s
 * of 10 alerts over 1,000 fingerprints, repeats of the incidents the first pass opens) until the
 * returned function is called (which waits for the requests still in flight).
 */
async function busyWebhook(port: number): Promise<() => Promise<Background>> {
  const bodies = backgroundBodies();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  for (const body of bodies) await post(agent, port, body, 'background');
  let running = true;
  let sent = 0;
  let accepted = 0;
  let lastAccepted = 0;
  const start = performance.now();
  const background = (async () => {
    const inFlight: Promise<void>[] = [];
    while (running) {
      const due = start + (sent * 1000) / 100;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const body = bodies[sent % bodies.length] as Buffer;
      sent++;
      inFlight.push(post(agent, port, body, 'background').then((status) => {
        if (status === 202) {
          accepted++;
          lastAccepted = performance.now();
        }
      }));
    }
    await Promise.all(inFlight);
  })();
  return async () => {
    running = false;
    await background;
    agent.destroy();
    const seconds = (lastAccepted - start) / 1000;
    return { alertsPerSec: seconds > 0 ? Math.round((accepted * 10) / seconds) : 0, refused: sent - accepted };
  };
}

/** Background: what the busy webhook achieved: alerts answered 202 per second, and webhooks not answered 202. */
interface Background {
  alertsPerSec: number;
  refused: number;
}

/** backgroundBodies: webhooks of 10 firing alerts over 1,000 fingerprints (the same 100 bodies, repeated). */
function backgroundBodies(): Buffer[] {
  return Array.from({ length: 100 }, (_, b) => Buffer.from(JSON.stringify({
    receiver: 'onehand', status: 'firing', groupLabels: {}, commonLabels: {}, commonAnnotations: {},
    externalURL: 'http://alertmanager.example.invalid:9093', version: '4', groupKey: `{}:{b="${b}"}`, truncatedAlerts: 0,
    alerts: Array.from({ length: 10 }, (_, i) => {
      const fp = b * 10 + i;
      return {
        status: 'firing', labels: { alertname: `Background${fp % 37}`, instance: `host-${fp}.prod.example.invalid:9100`, severity: 'warning' },
        annotations: { summary: `Background alert ${fp}` }, startsAt: '2026-11-27T23:22:33.123Z', endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.invalid:9090/graph', fingerprint: `bg${fp.toString(16).padStart(14, '0')}`,
      };
    }),
  })));
}

export function post(agent: http.Agent, port: number, body: Buffer, integration = 'prom'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: `/webhooks/${integration}`, agent,
      headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${AM_TOKEN}` },
    }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export interface LatencyRow {
  store: 'sqlite' | 'postgres';
  replicas: number;
  /** report | alert | alert at N/s */
  what: string;
  platform: 'discord (fake, loopback)' | 'console --json';
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples whose page did not arrive within the timeout (counted in the percentiles at the timeout). */
  lost: number;
  /** Webhooks not answered 202. */
  errors: number;
  /**
   * Two replicas: pages sent by the replica that did not take the event in (a webhook went to A: B;
   * a report went to the gateway holder: the other one), which learned of them only by LISTEN/NOTIFY.
   */
  byOther?: { count: number; p50Ms: number; p99Ms: number };
  /** Steady runs: alerts answered 202 per second, from the first request to the last 202. */
  achievedPerSec?: number;
  /** Steady runs: request to 202, p50/p99 (the intake's share of the delay). */
  acceptP50Ms?: number;
  acceptP99Ms?: number;
  /** Steady runs: pages received per second, from the first request to the last page. */
  pagesPerSec?: number;
  /** The 1-minute load average when the run started (other work on the machine shows here). */
  load: number;
  /** Runs "during 1,000 alerts/s": what that load achieved (alerts answered 202/s, webhooks refused). */
  background?: Background;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

interface Sample {
  ms: number;
  by: string | null;
}

function row(base: Omit<LatencyRow, 'samples' | 'p50Ms' | 'p99Ms' | 'maxMs' | 'lost' | 'byOther' | 'load'>, samples: Sample[], other: string | null, load: number): LatencyRow {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const out: LatencyRow = {
    ...base, load: round(load), samples: samples.length, p50Ms: round(percentile(ms, 50)), p99Ms: round(percentile(ms, 99)), maxMs: round(ms[ms.length - 1] ?? NaN),
    lost: samples.filter((s) => s.by === null).length,
  };
  if (other !== null) {
    const b = samples.filter((s) => s.by === other).map((s) => s.ms).sort((x, y) => x - y);
    out.byOther = { count: b.length, p50Ms: round(percentile(b, 50)), p99Ms: round(percentile(b, 99)) };
  }
  return out;
}

let probeRun = 0;

/** Store: where the bots keep their data; `env` for each bot; `done` removes it. */
interface StoreSetup {
  readonly kind: 'sqlite' | 'postgres';
  readonly env: Record<string, string>;
  done(): Promise<void>;
}

async function sqliteStore(): Promise<StoreSetup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-bench-delivery-'));
  return { kind: 'sqlite', env: { ONEHAND_DATA: path.join(dir, 'onehand.db') }, done: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function pgStore(pgUrl: string, tag: string): Promise<StoreSetup> {
  const { Client } = await import('pg');
  const admin = new Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  const schema = `onehand_bench_delivery_${process.pid}_${tag}`;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = new URL(pgUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    kind: 'postgres', env: { ONEHAND_DATABASE_URL: url.toString() },
    done: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      // The next part starts on a flushed database: a checkpoint that the last part's writes
      // (1,000 alerts/s) made due would otherwise land in its samples. (Needs a superuser, as the
      // test database's postgres role is; skipped otherwise.)
      await admin.query('CHECKPOINT').catch(() => undefined);
      await admin.end();
    },
  };
}

/**
 * sparse: report and alert samples through Discord, one at a time, on `replicas` bots sharing `store`.
 * Webhooks go to the first bot; interactions go to whichever holds the gateway session.
 */
async function sparse(store: StoreSetup, replicas: number, configPath: string): Promise<LatencyRow[]> {
  const fake = await FakeDiscord.start(Object.values(CHANNELS));
  const probes = new Probes();
  // Timestamp each REST call as the fake records it (its body read, before it answers): the fake
  // keeps calls in a plain array, so the bench watches that array's push.
  const record = fake.calls.push.bind(fake.calls);
  fake.calls.push = (...calls: RestCall[]): number => {
    const at = performance.now();
    for (const call of calls) {
      if (call.method === 'POST' && /^\/channels\/7\d+\/messages$/.test(call.path)) probes.seen(JSON.stringify(call.body), at, call.auth ?? '');
    }
    // Sparse runs send a few hundred messages; keep only what readiness checks need.
    return record(...calls.filter((c) => c.method !== 'POST' || !/^\/channels\//.test(c.path)));
  };
  const bots: Bot[] = [];
  const names = ['a', 'b', 'c'];
  try {
    for (let i = 0; i < replicas; i++) {
      // The first bot migrates alone; the others start on a ready schema.
      bots.push(await Bot.start(names[i] as string, configPath, {
        ...store.env, DISCORD_TOKEN: `bench-${names[i]}`, DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID, DISCORD_API_BASE: fake.apiBase,
      }));
    }
    const deadline = Date.now() + 30_000;
    while (fake.gatewaySessions < 1 || fake.callsTo('PUT', /\/commands$/).length < 1) {
      if (Date.now() > deadline) throw new Error(`no Discord gateway session within 30 s: ${bots.map((b) => b.stderr).join('\n')}`);
      await sleep(50);
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const target = bots[0] as Bot;
    // Reports reach the replica holding the gateway session; webhooks reach A. The other one sends
    // a page only when LISTEN/NOTIFY woke it first.
    const gateway = fake.callsTo('GET', /^\/gateway\/bot$/).at(-1)?.auth ?? '';
    const otherThan = (taker: string): string | null => (replicas > 1 ? (taker === 'Bot bench-a' ? 'Bot bench-b' : 'Bot bench-a') : null);
    const run = ++probeRun;
    let n = 0;
    let errors = 0;
    const measure = async (what: 'report' | 'alert', count: number): Promise<Sample[]> => {
      const out: Sample[] = [];
      for (let i = 0; i < count; i++) {
        const token = `probe${run}x${n++}end`;
        const waiting = probes.expect(token, SAMPLE_TIMEOUT_MS);
        const t0 = performance.now();
        if (what === 'report') fake.slash(ZED, CHANNELS.payments, { name: 'incident', options: [{ name: 'report', type: 1, options: [{ name: 'title', type: 3, value: `Checkout returns 502 ${token}` }, { name: 'severity', type: 3, value: 'sev1' }] }] });
        else if ((await post(agent, target.port, alertBody(token, `fp${token}`))) !== 202) errors++;
        const hit = await waiting;
        out.push(hit ? { ms: hit.at - t0, by: hit.by } : { ms: SAMPLE_TIMEOUT_MS, by: null });
        await sleep(40 + Math.random() * 50);
      }
      return out;
    };
    const rows: LatencyRow[] = [];
    for (const what of ['report', 'alert'] as const) {
      await measure(what, WARMUP);
      errors = 0;
      const load = os.loadavg()[0] ?? NaN;
      const samples = await measure(what, SAMPLES);
      rows.push(row({ store: store.kind, replicas, what, platform: 'discord (fake, loopback)', errors }, samples, otherThan(what === 'report' ? gateway : 'Bot bench-a'), load));
    }
    // Reports while another integration sends 1,000 alerts/s (issue 14: an alert or a report to the
    // adapter's send, p99 under 50 ms at that rate). The first pass of that load opens its 1,000
    // incidents as a storm; its few pages go out before the samples start.
    const stopBackground = await busyWebhook(target.port);
    let during: LatencyRow | null = null;
    try {
      await sleep(2000);
      await measure('report', WARMUP);
      errors = 0;
      const load = os.loadavg()[0] ?? NaN;
      const samples = await measure('report', SAMPLES);
      during = row({ store: store.kind, replicas, what: 'report during 1,000 alerts/s', platform: 'discord (fake, loopback)', errors }, samples, otherThan(gateway), load);
    } finally {
      const background = await stopBackground();
      if (during) rows.push({ ...during, background });
    }
    agent.destroy();
    return rows;
  } finally {
    for (const bot of bots) await bot.stop();
    await fake.close();
  }
}

/** steady: alerts at `rate`/s for RATE_SECONDS to the first bot, each a new incident; pages on standard output. */
async function steady(store: StoreSetup, replicas: number, configPath: string): Promise<LatencyRow[]> {
  const probes = new Probes();
  const names = ['a', 'b', 'c'];
  const bots: Bot[] = [];
  const onLine = (name: string) => (line: string, at: number): void => {
    if (!line.includes('probe')) return;
    const d = JSON.parse(line) as { kind: string; reply?: boolean; text: string };
    if (d.kind === 'direct' && !d.reply) probes.seen(d.text, at, name);
  };
  try {
    for (let i = 0; i < replicas; i++) bots.push(await Bot.start(names[i] as string, configPath, store.env, onLine(names[i] as string)));
    const target = bots[0] as Bot;
    const replicaB = replicas > 1 ? 'b' : null;
    const rows: LatencyRow[] = [];
    const run = ++probeRun;
    let n = 0;
    const fire = async (rate: number, seconds: number): Promise<{ samples: Sample[]; errors: number; achievedPerSec: number; acceptP50Ms: number; acceptP99Ms: number; pagesPerSec: number }> => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
      const total = Math.round(rate * seconds);
      const pending: Promise<Sample>[] = [];
      const answered: Promise<void>[] = [];
      const acceptMs: number[] = [];
      let errors = 0;
      let accepted = 0;
      let lastAccepted = 0;
      let lastPage = 0;
      const start = performance.now();
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const token = `probe${run}x${n++}end`;
        const waiting = probes.expect(token, DRAIN_TIMEOUT_MS);
        const t0 = performance.now();
        answered.push(post(agent, target.port, alertBody(token, `fp${token}`)).then((status) => {
          const now = performance.now();
          acceptMs.push(now - t0);
          if (status === 202) {
            accepted++;
            lastAccepted = now;
          } else errors++;
        }));
        pending.push(waiting.then((hit) => {
          if (!hit) return { ms: DRAIN_TIMEOUT_MS, by: null };
          lastPage = Math.max(lastPage, hit.at);
          return { ms: hit.at - t0, by: hit.by };
        }));
      }
      await Promise.all(answered);
      const samples = await Promise.all(pending);
      agent.destroy();
      acceptMs.sort((a, b) => a - b);
      const delivered = samples.filter((x) => x.by !== null).length;
      return {
        samples, errors, achievedPerSec: Math.round((accepted / (lastAccepted - start)) * 1000),
        acceptP50Ms: round(percentile(acceptMs, 50)), acceptP99Ms: round(percentile(acceptMs, 99)),
        pagesPerSec: Math.round((delivered / (lastPage - start)) * 1000),
      };
    };
    await fire(50, 1); // warm-up
    // New alerts while the bot takes 1,000 alerts/s of repeats from another integration (100
    // webhooks/s of 10 alerts over 1,000 fingerprints opened beforehand, as a storm): the page of a
    // new alert must not wait behind the busy webhook.
    {
      const stopBackground = await busyWebhook(target.port);
      await sleep(500);
      const load = os.loadavg()[0] ?? NaN;
      const r = await fire(20, RATE_SECONDS * 2);
      const background = await stopBackground();
      rows.push({
        background,
        ...row({ store: store.kind, replicas, what: 'alerts at 20/s during 1,000 alerts/s', platform: 'console --json', errors: r.errors }, r.samples, replicaB, load),
        achievedPerSec: r.achievedPerSec, acceptP50Ms: r.acceptP50Ms, acceptP99Ms: r.acceptP99Ms, pagesPerSec: r.pagesPerSec,
      });
      await sleep(500);
    }
    for (const rate of RATES) {
      const load = os.loadavg()[0] ?? NaN;
      const r = await fire(rate, RATE_SECONDS);
      rows.push({
        ...row({ store: store.kind, replicas, what: `alerts at ${rate}/s`, platform: 'console --json', errors: r.errors }, r.samples, replicaB, load),
        achievedPerSec: r.achievedPerSec, acceptP50Ms: r.acceptP50Ms, acceptP99Ms: r.acceptP99Ms, pagesPerSec: r.pagesPerSec,
      });
      await sleep(500);
    }
    return rows;
  } finally {
    for (const bot of bots) await bot.stop();
  }
}

/**
 * deliveryRuns: the sparse and steady runs on SQLite, PostgreSQL with one replica and with two.
 * PostgreSQL rows are left out, with a note, when it does not answer at `pgUrl`.
 */
export async function deliveryRuns(pgUrl: string): Promise<{ rows: LatencyRow[]; note: string | null }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-bench-config-'));
  const discordConfig = path.join(dir, 'discord.yaml');
  const consoleConfig = path.join(dir, 'console.yaml');
  fs.writeFileSync(discordConfig, benchConfig('discord'));
  fs.writeFileSync(consoleConfig, benchConfig('console'));
  const rows: LatencyRow[] = [];
  let note: string | null = null;
  try {
    // $BENCH_DELIVERY_SETUPS (e.g. "sqlite,pg1") picks some of them.
    const wanted = (process.env.BENCH_DELIVERY_SETUPS ?? 'sqlite,pg1,pg2').split(',');
    const setups = ([
      { name: 'sqlite', store: sqliteStore, replicas: 1 },
      { name: 'pg1', store: () => pgStore(pgUrl, 'r1'), replicas: 1 },
      { name: 'pg2', store: () => pgStore(pgUrl, 'r2'), replicas: 2 },
    ] satisfies Array<{ name: string; store: () => Promise<StoreSetup>; replicas: number }>).filter((s) => wanted.includes(s.name));
    for (const setup of setups) {
      // $BENCH_DELIVERY_PARTS (e.g. "steady") picks some of the parts.
      const parts = (process.env.BENCH_DELIVERY_PARTS ?? 'sparse,steady').split(',');
      for (const part of [sparse, steady].filter((p) => parts.includes(p.name))) {
        let store: StoreSetup;
        try {
          store = await setup.store();
        } catch (err) {
          note = `PostgreSQL rows skipped: no answer at ${pgUrl.replace(/:[^:@/]*@/, ':***@')} (${err instanceof Error ? err.message : String(err)})`;
          break;
        }
        try {
          rows.push(...(await part(store, setup.replicas, part === sparse ? discordConfig : consoleConfig)));
        } finally {
          await store.done();
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { rows, note };
}

/** printDelivery: the table, with what each number measures. */
export function printDelivery(result: { rows: LatencyRow[]; note: string | null }): void {
  console.log(`
delivery latency, timer period 1 s (real \`onehand start\` processes on loopback):
  report: fake Discord sends a /incident report interaction (gateway) -> fake Discord receives the page (POST to the on-call's DM)
  alert:  bench sends an Alertmanager webhook (1 new critical alert, answered 202) -> the same receipt
          (${SAMPLES} samples each, one at a time, 40-90 ms apart, under Discord's 50 requests/s; real discord.js in the bot)
  alerts at N/s: open-loop webhooks, each a new incident -> the page's line on the bot's stdout (console adapter, --json)
          (${RATE_SECONDS} s each; not through Discord: discord.js keeps a bot under Discord's 50 requests/s)
  2 replicas: webhooks go to replica A, reports to the replica holding the Discord gateway; "by other" = pages
          sent by the other replica, which only LISTEN/NOTIFY (or its 1 s timer) tells of them`);
  console.log('  steady columns: accepted/s = 202s per second (first request to last 202); 202 p50/p99 = request to 202;');
  console.log('                  pages/s = pages received per second (first request to last page)');
  console.log('  busy 202/s = alerts of the busy webhook answered 202 per second, from its start to its last 202 (its aim: 1,000), and its webhooks not answered 202 (refused or failed)');
  console.log(`  lost = no page within ${DRAIN_TIMEOUT_MS / 1000} s (steady) or ${SAMPLE_TIMEOUT_MS / 1000} s (sparse), counted at that value; load = 1-min load average at the start (${os.cpus().length} cores)`);
  console.log(`store     replicas  ${'what'.padEnd(WHAT_WIDTH)}  samples  p50 ms  p99 ms  max ms  lost  errors  accepted/s  202 p50/p99 ms  pages/s  load  busy 202/s  by other (n, p50/p99 ms)`);
  for (const r of result.rows) {
    const byB = r.byOther ? `${r.byOther.count}${r.byOther.count > 0 ? `, ${r.byOther.p50Ms}/${r.byOther.p99Ms}` : ''}` : '';
    const accept = r.acceptP50Ms !== undefined ? `${r.acceptP50Ms}/${r.acceptP99Ms}` : '';
    const busy = r.background ? `${r.background.alertsPerSec}${r.background.refused > 0 ? ` (${r.background.refused} not 202)` : ''}` : '';
    console.log(`${r.store.padEnd(8)}  ${String(r.replicas).padStart(8)}  ${r.what.padEnd(WHAT_WIDTH)}  ${String(r.samples).padStart(7)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.maxMs).padStart(6)}  ${String(r.lost).padStart(4)}  ${String(r.errors).padStart(6)}  ${String(r.achievedPerSec ?? '').padStart(10)}  ${accept.padStart(14)}  ${String(r.pagesPerSec ?? '').padStart(7)}  ${String(r.load).padStart(4)}  ${busy.padStart(10)}  ${byB}`);
  }
  if (result.note) console.log(result.note);
}
