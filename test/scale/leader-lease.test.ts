/**
 * The leader lease: one holder at a time, handed over on a clean stop at once and after a crash
 * within ttl + renew; and the Discord adapter behind it: exactly one replica holds the gateway
 * session (a loopback FakeDiscord counts sessions), every replica sends through REST.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from 'sqlite3';
import { DiscordAdapter, type GatewayGate } from '../../adapters/discord/adapter';
import { LeaderLease } from '../../src/app/leader-lease';
import type { Message } from '../../src/core/messages/message';
import type { AdapterContext } from '../../src/ports/chat-adapter';
import type { Store } from '../../src/ports/store';
import { SystemClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { TEST_CONFIG } from '../harness/fixtures';
import { parseConfig } from '../../src/config';
import { APP_ID, FakeDiscord, GUILD_ID } from '../discord/fake-discord';
import { sleep, waitFor } from './replicas';

const clock = new SystemClock();
let dir: string;
const stores: Store[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-lease-'));
});
/** Leases a test started, stopped after it whatever happened (a failed test leaves none running). */
const leasesToStop: LeaderLease[] = [];
afterEach(async () => {
  for (const l of leasesToStop.splice(0)) l.abandon();
  await Promise.all(stores.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A replica's own store handle on the shared database. */
async function replicaStore(): Promise<Store> {
  const s = await openSqliteStore(path.join(dir, 'shared.db'));
  await s.migrate();
  stores.push(s);
  return s;
}

async function leases(n: number, ttlMs: number, renewMs: number): Promise<LeaderLease[]> {
  const out: LeaderLease[] = [];
  for (let i = 0; i < n; i++) out.push(new LeaderLease(await replicaStore(), clock, new MemoryLogger(), 'role', `replica-${i}`, { ttlMs, renewMs }));
  return out;
}

/** watch samples how many hold the role, every 20 ms, until stopped; returns the maximum seen. */
function watch(count: () => number): { stop(): number } {
  let max = 0;
  const timer = setInterval(() => (max = Math.max(max, count())), 20);
  return { stop: () => (clearInterval(timer), max) };
}

describe('LeaderLease', () => {
  it('a role that fails to start is tried again after a pause that doubles (not every round), and another replica gets the lease meanwhile', async () => {
    const [a, b] = await leases(2, 400, 100);
    leasesToStop.push(a as LeaderLease, b as LeaderLease);
    const tries: number[] = [];
    const t0 = Date.now();
    // A cannot start the role at all (its network to Discord is down, say); B can, but starts later.
    (a as LeaderLease).start({ gained: async () => { tries.push(Date.now() - t0); throw new Error('ECONNREFUSED'); }, lost: async () => undefined });
    await sleep(1500);
    // Every round (100 ms) would be ~15 tries; doubling pauses (200, 400, 800 ms) give 3 or 4.
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(tries.length).toBeLessThanOrEqual(4);
    expect((tries[2] ?? Infinity) - (tries[1] ?? 0)).toBeGreaterThan((tries[1] ?? 0) - (tries[0] ?? 0));
    let bHolds = false;
    (b as LeaderLease).start({ gained: async () => void (bHolds = true), lost: async () => void (bHolds = false) });
    await waitFor('B to take the role while A pauses', async () => bHolds, 2000, 20);
    expect((a as LeaderLease).held).toBe(false);
  });

  it('lets one replica hold the role; a clean stop hands it over at once, a crash within ttl + renew', async () => {
    const all = await leases(3, 800, 200);
    const roles = all.map(() => ({ active: false }));
    all.forEach((l, i) => l.start({
      gained: async () => void (roles[i] = { active: true }),
      lost: async () => void (roles[i] = { active: false }),
    }));
    const holders = () => roles.filter((r) => r.active).length;
    const seen = watch(holders);
    await waitFor('a holder', async () => holders() === 1, 3000, 20);
    await sleep(600);
    expect(holders()).toBe(1);

    // Clean stop: released, another takes it at its next round.
    const first = all.findIndex((l) => l.held);
    const t0 = Date.now();
    await all[first]?.stop();
    await waitFor('a second holder', async () => holders() === 1 && !roles[first]?.active, 2000, 10);
    expect(Date.now() - t0).toBeLessThan(200 + 150);

    // Crash: no release; the lease runs out, then another takes over.
    const second = all.findIndex((l) => l.held);
    all[second]?.abandon();
    roles[second] = { active: false }; // the crashed process's role dies with it
    const t1 = Date.now();
    await waitFor('a third holder', async () => holders() === 1, 3000, 10);
    const takeover = Date.now() - t1;
    expect(takeover).toBeLessThan(800 + 200 + 150);
    expect(seen.stop()).toBe(1);
    await Promise.all(all.map((l) => l.stop()));
    expect(holders()).toBe(0);
  });
});

describe('LeaderLease on a database that hangs', () => {
  it('gives the role up before its lease runs out when a renewal does not answer (another process holds the SQLite file\'s write lock)', async () => {
    // The holder's connection waits for the lock (busy_timeout 20 s) rather than failing: a
    // renewal that hangs, as on a PostgreSQL server that stopped answering.
    const file = path.join(dir, 'shared.db');
    const store = await openSqliteStore(file, { busyTimeoutMs: 20_000 });
    await store.migrate();
    stores.push(store);
    const log = new MemoryLogger();
    const lease = new LeaderLease(store, clock, log, 'role', 'replica-0', { ttlMs: 900, renewMs: 300 });
    const role = { active: false, lostAt: 0 };
    leasesToStop.push(lease);
    lease.start({ gained: async () => void (role.active = true), lost: async () => void ((role.active = false), (role.lostAt = Date.now())) });
    await waitFor('the role', async () => role.active, 3000, 10);
    await sleep(400); // a renewal or two confirmed

    const other = new Database(file);
    const sql = (text: string) => new Promise<void>((resolve, reject) => other.exec(text, (err) => (err ? reject(err) : resolve())));
    await sql('BEGIN IMMEDIATE');
    const lockedAt = Date.now();
    try {
      // Its last confirmed lease ends at most ttl after the lock; the role ends before then.
      await waitFor('the role to end', async () => !role.active, 3000, 10);
      expect(role.lostAt - lockedAt).toBeLessThan(900);
      expect(log.entries.some((e) => e.msg === 'leader lease renewal has not answered and the lease runs out; giving the role up')).toBe(true);
    } finally {
      await sql('COMMIT');
    }
    // Once the lock is gone the lease is renewed and the role is back.
    await waitFor('the role again', async () => role.active, 5000, 10);

    // A stop while a renewal hangs still ends the role before the lease runs out.
    await sleep(400);
    await sql('BEGIN IMMEDIATE');
    const relockedAt = Date.now();
    await sleep(350); // a renewal round is waiting for the lock now
    expect(role.active).toBe(true);
    const stopping = lease.stop();
    try {
      await waitFor('the role to end during the stop', async () => !role.active, 3000, 10);
      expect(role.lostAt - relockedAt).toBeLessThan(900);
    } finally {
      await sql('COMMIT');
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
    await stopping;
    expect(role.active).toBe(false);
  });
});

describe('Discord gateway behind the leader lease', () => {
  const world = (() => {
    const parsed = parseConfig(TEST_CONFIG.replace('{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice }', '{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice, discord: "111000000000000004" }'));
    if (!parsed.ok) throw new Error('bad config');
    return parsed.config.world;
  })();

  function context(): AdapterContext {
    const kv = new Map<string, unknown>();
    const reply: Message = { kind: 'reply', headline: ['ok'], lines: [], actions: [], mentions: [] };
    return {
      onCommand: async () => reply, commands: [], logger: new MemoryLogger(), clock,
      kv: { get: async (k) => kv.get(k), set: async (k, v) => void kv.set(k, v) },
      openIncidents: async () => [], incidentFor: async () => null, reachable: async () => undefined,
    };
  }

  it('a replica that cannot reach Discord at start runs on, says so in /healthz, and its gate connects once Discord answers', async () => {
    const fake = await FakeDiscord.start([]);
    const logger = new MemoryLogger();
    const [gate] = await leases(1, 1000, 250);
    const adapter = new DiscordAdapter({
      world, token: 'fake-bot-token', applicationId: APP_ID, guildId: GUILD_ID, apiBase: fake.apiBase, logger,
      restRetries: 0, restTimeoutMs: 2000, readyTimeoutMs: 5000, gateway: gate as LeaderLease,
    });
    try {
      fake.fail('GET', /^\/users\/@me$/, 502, { message: '502: Bad Gateway', code: 0 }, 1);
      fake.fail('GET', /^\/gateway\/bot$/, 502, { message: '502: Bad Gateway', code: 0 }, 2);
      await adapter.start(context());
      expect(logger.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toContain('discord not reachable at start; Onehand runs on, and the replica that leads tries the gateway');
      expect(adapter.health()).toEqual({ ok: true, degraded: true, detail: expect.stringMatching(/^the Discord gateway could not be reached \(HTTP 502.*\); trying again; pages go by REST$/) });
      await waitFor('the gateway session, ready', async () => adapter.connected && fake.gatewaySessions === 1 && adapter.health().detail === undefined, 8000, 20);
      expect(fake.callsTo('GET', /^\/gateway\/bot$/).length).toBeGreaterThanOrEqual(3);
      expect(adapter.health()).toEqual({ ok: true });
    } finally {
      await adapter.stop();
      await fake.close();
    }
  });

  it('keeps exactly one gateway session across replicas and moves it when the holder dies', async () => {
    const fake = await FakeDiscord.start([]);
    const adapters: DiscordAdapter[] = [];
    try {
      const [a, b] = await leases(2, 1000, 250);
      // A crash of replica A: its gate neither renews nor releases (stop is "abandon").
      const gates: GatewayGate[] = [
        { start: (role) => (a as LeaderLease).start(role), stop: async () => (a as LeaderLease).abandon() },
        b as LeaderLease,
      ];
      for (const gate of gates) {
        const adapter = new DiscordAdapter({
          world, token: 'fake-bot-token', applicationId: APP_ID, guildId: GUILD_ID, apiBase: fake.apiBase, logger: new MemoryLogger(),
          restRetries: 0, restTimeoutMs: 2000, readyTimeoutMs: 5000, gateway: gate,
        });
        await adapter.start(context());
        adapters.push(adapter);
      }
      const sessions = watch(() => fake.gatewaySessions);
      await waitFor('one gateway session', async () => adapters.filter((x) => x.connected).length === 1 && fake.gatewaySessions === 1, 5000, 20);
      await sleep(700);
      expect(adapters.filter((x) => x.connected)).toHaveLength(1);
      expect(adapters.every((x) => x.health().ok)).toBe(true);

      // Both send through REST, the standby included.
      for (const adapter of adapters) {
        const page: Message = { kind: 'page', headline: ['hello'], lines: [], actions: [], mentions: ['dave'] };
        await expect(adapter.deliver({ key: `k-${adapters.indexOf(adapter)}`, recipient: { kind: 'member', id: 'dave' }, message: page, incidentId: null })).resolves.toEqual({ status: 'delivered' });
      }

      // Kill whoever holds it (if B holds it, make A the holder first by stopping B cleanly).
      if (adapters[1]?.connected) {
        await adapters[1].stop();
        await waitFor('A to take over', async () => adapters[0]?.connected === true && fake.gatewaySessions === 1, 3000, 20);
        const restarted = new DiscordAdapter({
          world, token: 'fake-bot-token', applicationId: APP_ID, guildId: GUILD_ID, apiBase: fake.apiBase, logger: new MemoryLogger(),
          restRetries: 0, restTimeoutMs: 2000, readyTimeoutMs: 5000,
          gateway: new LeaderLease(await replicaStore(), clock, new MemoryLogger(), 'role', 'replica-1b', { ttlMs: 1000, renewMs: 250 }),
        });
        await restarted.start(context());
        adapters[1] = restarted;
      }
      const t0 = Date.now();
      await adapters[0]?.stop(); // A "dies": session gone, lease left to expire
      await waitFor('B to take the gateway over', async () => adapters[1]?.connected === true && fake.gatewaySessions === 1, 5000, 20);
      const takeover = Date.now() - t0;
      expect(takeover).toBeGreaterThan(250); // it had to wait for the lease to run out
      expect(takeover).toBeLessThan(1000 + 250 + 1500);
      expect(sessions.stop()).toBe(1);
    } finally {
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      await fake.close();
    }
  });
});
