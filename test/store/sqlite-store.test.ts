/** SQLite-only behaviour of the SQLite store; what every store does is in contract.ts. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from 'sqlite3';
import { StoreMonitor } from '../../src/app/store-monitor';
import { MIGRATIONS, type Migration } from '../../src/store/sqlite/migrations';
import {
  CLAIM_IN_JS_ROWS,
  defaultDataPath,
  openSqliteStore,
  prefixUpperBound,
  type SqliteStore,
} from '../../src/store/sqlite/sqlite-store';

import type { KnownIntakeAlert, NewOutboxRow, StoreTx } from '../../src/ports/store';
import { senderKey } from '../../src/intake/payloads';
import { at, outboxRow } from './contract';

let dir: string;
const open: SqliteStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-store-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function store(file = 'onehand.db', migrations?: readonly Migration[]): Promise<SqliteStore> {
  const s = await openSqliteStore(path.join(dir, file), migrations ? { migrations } : {});
  open.push(s);
  await s.migrate();
  return s;
}

/** Raw access to a database file, for what the port cannot see (pragmas, schema_migrations). */
function raw<T>(file: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new Database(file, (openErr) => {
      if (openErr) return reject(openErr);
      db.all<T>(sql, params, (err, rows) => db.close(() => (err ? reject(err) : resolve(rows))));
    });
  });
}

/**
 * countedAfterRestart: a new handle on the file (as after a kill) counts the repeats the log holds
 * (the group's count, read first), and its start empties the log into the alerts' counts.
 */
async function countedAfterRestart(incidentId: number, count: number): Promise<SqliteStore> {
  const file = path.join(dir, 'onehand.db');
  const again = await store();
  expect(await again.transaction((tx) => tx.intakeGroupOf(incidentId))).toMatchObject({ count });
  await again.recoverAtStart();
  expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 0 }]);
  expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count }]);
  return again;
}

describe('opening and migrations', () => {
  it('creates the parent directory, turns WAL on and migrates idempotently', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'onehand.db');
    const s = await openSqliteStore(file);
    open.push(s);
    await s.migrate();
    await s.migrate();
    const versions = await raw<{ version: number }>(file, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const [mode] = await raw<{ journal_mode: string }>(file, 'PRAGMA journal_mode');
    expect(mode?.journal_mode).toBe('wal');
    await s.close();
    // A second process start on the same file is a no-op too.
    const again = await store(path.relative(dir, file));
    await expect(again.transaction((tx) => tx.outboxDepth())).resolves.toBe(0);
  });

  it('refuses a database migrated by a newer Onehand', async () => {
    const file = path.join(dir, 'onehand.db');
    const s = await store();
    await s.close();
    await raw(file, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)', ['from the future']);
    const reopened = await openSqliteStore(file);
    open.push(reopened);
    const max = Math.max(...MIGRATIONS.map((m) => m.version));
    await expect(reopened.migrate()).rejects.toThrow(
      `database schema version 999 is newer than this Onehand (max ${max}); upgrade Onehand`,
    );
  });

  it('applies each migration in its own transaction', async () => {
    const file = path.join(dir, 'onehand.db');
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: 100, name: 'good', sql: 'CREATE TABLE extra_a (x INTEGER);' },
      { version: 101, name: 'bad', sql: 'CREATE TABLE extra_b (x INTEGER); SELECT * FROM no_such_table;' },
    ];
    const s = await openSqliteStore(file, { migrations: broken });
    open.push(s);
    await expect(s.migrate()).rejects.toThrow(/migration 101 \(bad\) failed/);
    const tables = await raw<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'extra%'");
    expect(tables.map((t) => t.name)).toEqual(['extra_a']);
    const versions = await raw<{ version: number }>(file, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((v) => v.version)).toContain(100);
    expect(versions.map((v) => v.version)).not.toContain(101);
  });

  it('reads ONEHAND_DATA for the default path', () => {
    expect(defaultDataPath({})).toBe('./data/onehand.db');
    expect(defaultDataPath({ ONEHAND_DATA: '/var/lib/onehand/db.sqlite' })).toBe('/var/lib/onehand/db.sqlite');
    expect(defaultDataPath({ ONEHAND_DATA: '' })).toBe('./data/onehand.db');
  });
});

describe('transactions', () => {
  it('waits for another connection holding the write lock (busy_timeout 5 s)', async () => {
    const a = await store();
    const b = await store(); // a second process on the same file: nothing left to migrate
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = a.transaction(async (tx) => {
      await tx.kvSet('lock', 'owner', 'a');
      entered();
      await held;
    });
    await inside;
    const second = b.transaction(async (tx) => {
      const before = await tx.kvGet('lock', 'owner');
      await tx.kvSet('lock', 'owner', 'b');
      return before;
    });
    // Longer than node-sqlite3's own 1 s default, so only the 5 s PRAGMA lets the second one wait.
    setTimeout(release, 1200);
    await first;
    await expect(second).resolves.toBe('a');
    await expect(a.transaction((tx) => tx.kvGet('lock', 'owner'))).resolves.toBe('b');
  });
});

describe('transaction order', () => {
  it('an urgent transaction (a delivery\'s claim or mark) runs before the ones already waiting, the rest in call order', async () => {
    const s = await store();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const order: string[] = [];
    const first = s.transaction(async () => {
      entered();
      await held;
      order.push('holder');
    });
    await inside;
    const waiting = [
      s.transaction(async (tx) => { await tx.kvSet('t', 'k', 'intake 1'); order.push('intake 1'); }),
      s.transaction(async (tx) => { await tx.kvSet('t', 'k', 'intake 2'); order.push('intake 2'); }),
      s.transaction(async (tx) => { await tx.kvSet('t', 'k', 'mark'); order.push('mark'); }, { urgent: true }),
      s.transaction(async (tx) => { await tx.kvSet('t', 'k', 'intake 3'); order.push('intake 3'); }),
    ];
    release();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(['holder', 'mark', 'intake 1', 'intake 2', 'intake 3']);
    await expect(s.transaction((tx) => tx.kvGet('t', 'k'))).resolves.toBe('intake 3');
  });
});

describe('outbox claims and backlog size', () => {
  it('a backlog of more than CLAIM_IN_JS_ROWS pending rows is claimed exactly like a small outbox (per lane, held, busy, skipped)', async () => {
    const to = (key: string, member: string, minute: number, adapter = 'console'): NewOutboxRow =>
      ({ ...outboxRow(key, at(minute)), adapter, recipient: { kind: 'member', id: member } });
    /** The same steps on a store; returns what each claim took. */
    const steps = async (tx: StoreTx): Promise<string[][]> => {
      const log: string[][] = [];
      const claim = async (minute: number, owner: string, options: Parameters<StoreTx['claimOutbox']>[4] = {}, limit = 10) => {
        const rows = await tx.claimOutbox(at(minute), limit, owner, at(minute + 5), options);
        log.push(rows.map((r) => r.key));
        return rows;
      };
      await tx.enqueue([to('a1', 'alice', 0), to('a2', 'alice', 0), to('a3', 'alice', 1), to('b1', 'bob', 0), to('b2', 'bob', 0), to('c1', 'carol', 0, 'discord')]);
      const first = await claim(2, 'w1', { perLane: 2, skipLanes: ['discord:m:carol'] });
      await claim(2, 'w2'); // alice's and bob's lanes are busy (w1's leases)
      await tx.markFailed(first[0]?.id ?? -1, 'timeout', at(10)); // a1 fails: a2, a3 wait behind it
      await tx.releaseLeases(first.slice(1).map((r) => r.id), 'w1');
      await claim(9, 'w2', { perLane: 2 });
      await claim(10, 'w3', { perLane: 1 }, 2);
      await claim(20, 'w4', { holdBehindFailures: 1 });
      return log;
    };
    const small = await store('small.db');
    const big = await store('big.db');
    // Filler: rows of other lanes, due far later, enough to take the backlog path.
    await big.transaction((tx) => tx.enqueue(Array.from({ length: CLAIM_IN_JS_ROWS + 100 }, (_, i) => to(`later${i}`, `member${i % 40}`, 100_000))));
    const expected = await small.transaction(steps);
    expect(await big.transaction(steps)).toEqual(expected);
    expect(expected).toEqual([
      ['a1', 'a2', 'b1', 'b2'], // carol's lane skipped, two per lane
      ['c1'], // alice's and bob's lanes busy
      ['b1', 'b2', 'c1'], // a2 and a3 held behind a1; c1's lease ran out
      ['a1'], // the others' lanes busy again; a1's retry is due
      ['a2', 'b1', 'b2', 'c1', 'a3', 'a1'], // a1 failed once, and only 1 failure holds a lane
    ]);
  });
});

describe('timers', () => {
  it('computes the upper bound of a key prefix', () => {
    expect(prefixUpperBound('esc:1:')).toBe('esc:1;');
    expect(prefixUpperBound('')).toBeNull();
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
  });
});

describe('outbox', () => {
  it('records attempts, the last error and when a delivery was given up', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      await tx.enqueue([outboxRow('x', at(0))]);
      const [x] = await tx.claimOutbox(at(0), 10, 'w1', at(1));
      await tx.markFailed(x?.id ?? -1, 'HTTP 502', at(10));
      const [retry] = await tx.claimOutbox(at(10), 10, 'w1', at(11));
      await tx.markFailed(retry?.id ?? -1, 'HTTP 403', null);
    });
    const [row] = await raw<{ attempts: number; last_error: string; dead_at: number | null }>(
      path.join(dir, 'onehand.db'),
      "SELECT attempts, last_error, dead_at FROM outbox WHERE key = 'x'",
    );
    expect(row).toMatchObject({ attempts: 2, last_error: 'HTTP 403' });
    expect(row?.dead_at).not.toBeNull();
  });
});

describe('alert intake repeat log', () => {
  const key = { integration: 'prom', fingerprint: 'fp', alertKey: 'a1' };
  const firing = { ...key, status: 'firing' as const, startsAt: 's1', labels: { alertname: 'Down' }, annotations: {} };

  async function seeded(s: SqliteStore): Promise<number> {
    return s.transaction(async (tx) => {
      await tx.observeIntakeAlert(firing, at(0));
      await tx.observeIntakeGroup('prom', 'fp', at(0), true);
      const { id } = await tx.insertIncident({
        team: 'payments', title: 'Down', severity: 'sev2', source: 'integration:prom', service: null, fingerprint: 'fp', state: 'open',
        assignee: 'alice', reporter: { kind: 'guest', adapter: 'integration', address: 'prom', name: 'prom' }, escalationLevel: 0,
        policy: { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'] }, openedAt: at(0), acknowledgedAt: null, resolvedAt: null, updatedAt: at(0),
      });
      await tx.setIntakeGroupIncident('prom', 'fp', id, at(0));
      return id;
    });
  }

  it('appends one log row per transaction and folds it into the counts shortly after', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await seeded(s);
    await s.transaction((tx) => tx.recordIntakeRepeats([{ ...key, n: 5, startsAt: 's1' }], [{ integration: 'prom', fingerprint: 'fp', n: 5 }], at(1)));
    expect(await raw<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 1 }]);
    expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count: 1 }]);
    // The store folds by itself a fifth of a second after the commit.
    const deadline = Date.now() + 5000;
    while ((await raw<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM intake_repeats'))[0]?.n !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count: 6 }]);
    expect(await raw(file, 'SELECT count FROM intake_groups')).toEqual([{ count: 6 }]);
  });

  it('folds sooner once the sums hold many alerts (a fold holds the store for a time that grows with them)', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await seeded(s);
    const pending = async () => (await raw<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM intake_repeats'))[0]?.n;
    // One alert: the fold is scheduled a second after the commit.
    const t0 = Date.now();
    await s.transaction((tx) => tx.recordIntakeRepeats([{ ...key, n: 1, startsAt: 's1' }], [], at(1)));
    // Then 2,001 distinct alerts (none of them stored: the fold just finds no row for them).
    const many = Array.from({ length: 2001 }, (_, i) => ({ integration: 'prom', fingerprint: `fp-${i}`, alertKey: `k-${i}`, n: 1, startsAt: 's1' }));
    await s.transaction((tx) => tx.recordIntakeRepeats(many, [], at(2)));
    // Folded a fifth of a second after that commit, not a second after the first one.
    while ((await pending()) !== 0 && Date.now() - t0 < 800) await new Promise((r) => setTimeout(r, 20));
    expect(await pending()).toBe(0);
    expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count: 2 }]);
  });

  it('keeps repeats a killed process logged but never folded: they count after the restart', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    const id = await seeded(s);
    await s.transaction((tx) => tx.recordIntakeRepeats([{ ...key, n: 3, startsAt: 's1' }], [{ integration: 'prom', fingerprint: 'fp', n: 3 }], at(1)));
    await s.close(); // closes before the fold, as a kill would
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 1 }]);
    await countedAfterRestart(id, 4);
  });

  it('repeats an older Onehand logged under a fingerprint over 200 characters still count after migration 8 rewrites the key', async () => {
    const long = 'x'.repeat(250);
    const file = path.join(dir, 'onehand.db');
    const old = await store('onehand.db', MIGRATIONS.filter((m) => m.version < 8));
    const id = await old.transaction(async (tx) => {
      await tx.observeIntakeAlert({ ...firing, fingerprint: long, alertKey: long }, at(0));
      await tx.observeIntakeGroup('prom', long, at(0), true);
      const incident = await tx.insertIncident({
        team: 'payments', title: 'Down', severity: 'sev2', source: 'integration:prom', service: null, fingerprint: long, state: 'open',
        assignee: 'alice', reporter: { kind: 'guest', adapter: 'integration', address: 'prom', name: 'prom' }, escalationLevel: 0,
        policy: { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'] }, openedAt: at(0), acknowledgedAt: null, resolvedAt: null, updatedAt: at(0),
      });
      await tx.setIntakeGroupIncident('prom', long, incident.id, at(0));
      return incident.id;
    });
    await old.transaction((tx) => tx.recordIntakeRepeats([{ integration: 'prom', fingerprint: long, alertKey: long, n: 3, startsAt: 's1' }], [{ integration: 'prom', fingerprint: long, n: 3 }], at(1)));
    await old.close(); // before the fold
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 1 }]);
    const hashed = senderKey(long);
    expect(hashed).toMatch(/^sha256:/);
    const again = await countedAfterRestart(id, 4);
    expect(await again.transaction((tx) => tx.intakeGroupOf(id))).toMatchObject({ fingerprint: hashed, count: 4 });
    expect(await raw(file, 'SELECT fingerprint, alert_key FROM intake_alerts')).toEqual([{ fingerprint: hashed, alert_key: hashed }]);
    expect((await again.transaction((tx) => tx.getIncident(id)))?.fingerprint).toBe(hashed);
  });

  it('counts the repeats another handle logged even when the first thing a transaction does is read the count', async () => {
    const s = await store();
    const id = await seeded(s);
    // This handle is up to date and has nothing left to fold.
    await s.transaction(async (tx) => {
      await tx.knownIntakeAlerts([key]);
      expect(await tx.intakeGroupOf(id)).toMatchObject({ count: 1 });
    });
    const other = await store();
    await other.transaction((tx) => tx.recordIntakeRepeats([{ ...key, n: 3, startsAt: 's1' }], [{ integration: 'prom', fingerprint: 'fp', n: 3 }], at(1)));
    await other.close(); // before its own fold, as a kill would
    expect(await s.transaction((tx) => tx.intakeGroupOf(id))).toMatchObject({ count: 4 });
  });
});

describe('the intake bulk open', () => {
  it('a row whose key SQLite gives back changed (a lone surrogate) fails the open whole: no incident is left without its group', async () => {
    const s = await store();
    const reporter = { kind: 'guest' as const, adapter: 'integration', address: 'prom', name: 'prom' };
    const row = (fp: string) => ({
      alert: { integration: 'prom', fingerprint: fp, alertKey: `k-${fp}`, status: 'firing' as const, startsAt: 's1', labels: {}, annotations: {} },
      incident: {
        team: 'payments', title: `Down ${fp}`, severity: 'sev2' as const, source: 'integration:prom', service: null, fingerprint: fp, state: 'open' as const,
        assignee: 'alice', reporter, escalationLevel: 0, policy: { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'] as Array<'mentor' | 'lead'> },
        openedAt: at(0), acknowledgedAt: null, resolvedAt: null, updatedAt: at(0),
      },
      events: [{ kind: 'reported', actor: reporter, data: {} }],
    });
    await s.transaction(async (tx) => {
      await tx.observeIntakeGroup('prom', 'taken', at(0), true);
    });
    for (const rows of [[row('taken'), row('fp-\ud800'), row('fp-ok')], [row('fp-\ud800'), row('fp-ok')]]) {
      await expect(s.transaction((tx) => tx.openIntakeIncidents(rows, at(1)))).rejects.toThrow(/incidents inserted for/);
    }
    const file = path.join(dir, 'onehand.db');
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM incidents')).toEqual([{ n: 0 }]);
    expect(await raw(file, 'SELECT fingerprint FROM intake_groups')).toEqual([{ fingerprint: 'taken' }]);
    // Rows as the intake sends them (keys kept as stored) open as usual.
    const opened = await s.transaction((tx) => tx.openIntakeIncidents([row('taken'), row('fp-a'), row('fp-b')], at(2)));
    expect(opened.map((i) => i?.fingerprint ?? null)).toEqual([null, 'fp-a', 'fp-b']);
  });
});

describe('the intake fast path (quickRepeats)', () => {
  const key = { integration: 'prom', fingerprint: 'fp', alertKey: 'a1' };
  const firing = { ...key, status: 'firing' as const, startsAt: 's1', labels: { alertname: 'Down' }, annotations: {} };
  const plan = { alerts: [{ ...key, n: 2, startsAt: 's1' }], groups: [{ integration: 'prom', fingerprint: 'fp', n: 2 }] };

  /** A firing alert with its incident, and a transaction that left it in the store's memory. */
  async function seeded(s: SqliteStore): Promise<number> {
    const id = await s.transaction(async (tx) => {
      await tx.observeIntakeAlert(firing, at(0));
      await tx.observeIntakeGroup('prom', 'fp', at(0), true);
      const incident = await tx.insertIncident({
        team: 'payments', title: 'Down', severity: 'sev2', source: 'integration:prom', service: null, fingerprint: 'fp', state: 'open',
        assignee: 'alice', reporter: { kind: 'guest', adapter: 'integration', address: 'prom', name: 'prom' }, escalationLevel: 0,
        policy: { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'] }, openedAt: at(0), acknowledgedAt: null, resolvedAt: null, updatedAt: at(0),
      });
      await tx.setIntakeGroupIncident('prom', 'fp', incident.id, at(0));
      return incident.id;
    });
    await s.transaction((tx) => tx.knownIntakeAlerts([key]));
    return id;
  }

  it('records repeats the memory vouches for in one write, durable before it answers', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    const id = await seeded(s);
    const seen: unknown[] = [];
    const known = await s.quickRepeats([key, key], (k) => {
      seen.push(...k);
      return plan;
    }, at(1));
    expect(known).toEqual([{ status: 'firing', startsAt: 's1', incidentId: id }, { status: 'firing', startsAt: 's1', incidentId: id }]);
    expect(seen).toHaveLength(2);
    // In the log now: a process killed here loses nothing (closed before any fold).
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 1 }]);
    await s.close();
    const again = await countedAfterRestart(id, 3);
    // And, alive, any transaction counts them.
    expect(await again.quickRepeats([key], () => ({ alerts: [{ ...key, n: 1, startsAt: 's1' }], groups: [{ integration: 'prom', fingerprint: 'fp', n: 1 }] }), at(2))).toBeNull(); // a new handle remembers nothing yet
    await again.transaction((tx) => tx.knownIntakeAlerts([key]));
    expect(await again.quickRepeats([key], () => plan, at(2))).not.toBeNull();
    expect(await again.transaction((tx) => tx.intakeGroupOf(id))).toMatchObject({ count: 5 });
  });

  it('names an alert an earlier row of the log defined by its number; a killed process\'s numbered rows count after the restart', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    const id = await seeded(s);
    for (let i = 0; i < 3; i++) expect(await s.quickRepeats([key, key], () => plan, at(1 + i))).not.toBeNull();
    const rows = await raw<{ data: string }>(file, 'SELECT data FROM intake_repeats ORDER BY id');
    expect(rows).toHaveLength(3);
    const [first, ...later] = rows.map((r) => JSON.parse(r.data) as { e: number; a?: unknown[][]; g?: unknown[][]; r?: number[][]; h?: number[][] });
    expect(first?.a).toEqual([['prom', 'fp', 'a1', 2, 's1', expect.any(Number)]]);
    const alertNumber = first?.a?.[0]?.[5];
    const groupNumber = first?.g?.[0]?.[3];
    for (const row of later) expect(row).toEqual({ e: first?.e, r: [[alertNumber, 2]], h: [[groupNumber, 2]] });
    await s.close(); // before any fold, as a kill would
    // The new handle knows nothing of that log: the fold sums the rows themselves, numbers resolved.
    await countedAfterRestart(id, 7);
  });

  it('reads a number only in rows of the log that gave it (another process\'s rows may use the same numbers)', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    const id = await seeded(s);
    await s.close();
    const rows = [
      { e: 11, a: [['prom', 'fp', 'a1', 2, 's1', 1]], g: [['prom', 'fp', 2, 2]] },
      { e: 22, a: [['prom', 'other', 'zz', 4, 's1', 1]], g: [['prom', 'other', 4, 2]] },
      { e: 22, r: [[1, 5]], h: [[2, 5]] },
      { e: 11, r: [[1, 3]], h: [[2, 3]] },
    ];
    for (const row of rows) await raw(file, 'INSERT INTO intake_repeats (at, data) VALUES (?, ?)', [at(1).toMillis(), JSON.stringify(row)]);
    const again = await store();
    expect(await again.transaction((tx) => tx.intakeGroupOf(id))).toMatchObject({ count: 6 });
    expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count: 6 }]);
  });

  it('folds a long log of numbered rows at the restart without holding the store for minutes', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    const id = await seeded(s);
    await s.close();
    // A second of a busy webhook: one row defining the alert and its group, then 1,000 rows of 300
    // references each. Read naively (the definitions scanned again for every reference) this took
    // minutes; the test's timeout is what fails then.
    await raw(file, 'INSERT INTO intake_repeats (at, data) VALUES (?, ?)', [at(1).toMillis(), JSON.stringify({ e: 7, a: [['prom', 'fp', 'a1', 2, 's1', 1]], g: [['prom', 'fp', 2, 2]] })]);
    const refs = JSON.stringify({ e: 7, r: Array.from({ length: 300 }, () => [1, 1]), h: Array.from({ length: 300 }, () => [2, 1]) });
    await raw(file, `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000)
      INSERT INTO intake_repeats (at, data) SELECT ?, ? FROM n`, [at(2).toMillis(), refs]);
    const again = await store();
    expect(await again.transaction((tx) => tx.intakeGroupOf(id))).toMatchObject({ count: 1 + 2 + 300_000 });
    expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count: 1 + 2 + 300_000 }]);
  }, 30_000);

  it('records nothing and answers null for a key it does not remember, or when the plan declines', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await seeded(s);
    let asked = 0;
    expect(await s.quickRepeats([key, { ...key, alertKey: 'never-seen' }], () => {
      asked++;
      return plan;
    }, at(1))).toBeNull();
    expect(asked).toBe(0);
    expect(await s.quickRepeats([key], () => null, at(1))).toBeNull();
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 0 }]);
    expect(await raw(file, 'SELECT count FROM intake_alerts')).toEqual([{ count: 1 }]);
  });

  it('records nothing when another connection wrote since: the alert it resolved is not counted as firing', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await seeded(s);
    const other = await store(); // a person's second process on the same file
    await other.transaction((tx) => tx.observeIntakeAlert({ ...firing, status: 'resolved' }, at(1)));
    expect(await s.quickRepeats([key], () => plan, at(2))).toBeNull();
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 0 }]);
    // The next transaction reads the truth, not the dropped memory.
    expect(await s.transaction((tx) => tx.knownIntakeAlerts([key]))).toEqual([expect.objectContaining({ status: 'resolved' })]);
  });

  it('looks a batch up again when the memory changed while it waited for the store (what it found before the wait is stale)', async () => {
    const s = await store();
    await seeded(s);
    const other = await store(); // a person's second process on the same file
    await other.transaction((tx) => tx.observeIntakeAlert({ ...firing, status: 'resolved' }, at(1)));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // A transaction holds the store; when it runs on, it finds the other write and drops the memory,
    // then remembers the alert as the database has it: resolved.
    const transaction = s.transaction(async (tx) => {
      await held;
      return tx.knownIntakeAlerts([key]);
    });
    const seen: Array<readonly KnownIntakeAlert[]> = [];
    // Looked up now (the memory still says firing), run after the transaction.
    const quick = s.quickRepeats([key], (known) => {
      seen.push(known);
      return known.every((k) => k.status === 'firing') ? plan : null;
    }, at(2));
    release();
    expect(await transaction).toEqual([expect.objectContaining({ status: 'resolved' })]);
    expect(await quick).toBeNull();
    expect(seen).toEqual([[expect.objectContaining({ status: 'resolved' })]]);
    expect(await raw(path.join(dir, 'onehand.db'), 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 0 }]);
  });

  it('declines a batch with a new fingerprint at once, without waiting for a transaction in flight', async () => {
    const s = await store();
    await seeded(s);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const busy = s.transaction(async () => held);
    const fresh = { ...key, fingerprint: 'fp-new' };
    let planned = false;
    // It answers while the transaction still holds the store (and never asks for a plan).
    expect(await s.quickRepeats([key, fresh], () => {
      planned = true;
      return plan;
    }, at(1))).toBeNull();
    expect(planned).toBe(false);
    release();
    await busy;
  });

  it('answers a transaction from the database, not from its memory, once another connection wrote', async () => {
    const s = await store();
    await seeded(s);
    // The memory knows the alert as firing; its check runs alongside the first query.
    expect(await s.transaction((tx) => tx.knownIntakeAlerts([key]))).toEqual([expect.objectContaining({ status: 'firing' })]);
    const other = await store(); // a person's second process on the same file
    await other.transaction((tx) => tx.observeIntakeAlert({ ...firing, status: 'resolved' }, at(1)));
    const unknown = { ...key, fingerprint: 'fp-new' };
    expect(await s.transaction((tx) => tx.knownIntakeAlerts([key, unknown]))).toEqual([
      expect.objectContaining({ status: 'resolved' }),
      { status: null, startsAt: null, incidentId: null },
    ]);
  });

  it('waits for a transaction in flight on its own connection instead of writing inside it', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await seeded(s);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const failing = s.transaction(async (tx) => {
      await tx.kvSet('x', 'y', 'z');
      await held;
      throw new Error('rolled back');
    });
    const quick = s.quickRepeats([key], () => plan, at(1));
    release();
    await expect(failing).rejects.toThrow('rolled back');
    expect(await quick).not.toBeNull();
    // The rollback did not take the repeats with it.
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 1 }]);
  });

  it('folds from its own sums exactly what a fold of the whole log gives, through rollbacks, folds inside a transaction and a new firing', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await seeded(s);
    const other = { ...key, alertKey: 'a2' };
    await s.transaction(async (tx) => {
      await tx.observeIntakeAlert({ ...firing, alertKey: 'a2' }, at(0));
    });
    await s.recoverAtStart(); // the log is empty now and the store knows it: it sums from here on
    await s.transaction((tx) => tx.knownIntakeAlerts([key, other]));
    const repeats = (k: typeof key, n: number, startsAt = 's1') => ({ alerts: [{ ...k, n, startsAt }], groups: [{ integration: 'prom', fingerprint: 'fp', n }] });
    // Through the fast path, and through transactions.
    expect(await s.quickRepeats([key], () => repeats(key, 2), at(1))).not.toBeNull();
    await s.transaction((tx) => tx.recordIntakeRepeats(repeats(other, 3).alerts, repeats(other, 3).groups, at(2)));
    // A transaction that logs and rolls back leaves no repeats, in the log or in the sums.
    await expect(s.transaction(async (tx) => {
      await tx.recordIntakeRepeats(repeats(key, 100).alerts, repeats(key, 100).groups, at(3));
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    // A transaction that logs, reads (folds), logs again and commits.
    const incident = await s.transaction(async (tx) => (await tx.listIncidents({ limit: 1 }))[0]?.id ?? -1);
    await s.transaction(async (tx) => {
      await tx.recordIntakeRepeats(repeats(key, 4).alerts, repeats(key, 4).groups, at(4));
      expect(await tx.intakeGroupOf(incident)).toMatchObject({ count: 1 + 2 + 3 + 4 }); // folded here
      await tx.recordIntakeRepeats(repeats(key, 5).alerts, repeats(key, 5).groups, at(5));
    });
    // Repeats logged for a2's firing since s1 (folded before a2 fires anew), and repeats of a firing
    // a1 no longer has (startsAt s0): an alert counts only the repeats of its current firing.
    expect(await s.quickRepeats([other], () => repeats(other, 7), at(6))).not.toBeNull();
    await s.transaction((tx) => tx.recordIntakeRepeats(repeats(key, 50, 's0').alerts, repeats(key, 50, 's0').groups, at(6)));
    await s.transaction(async (tx) => {
      await tx.observeIntakeAlert({ ...firing, alertKey: 'a2', startsAt: 's2' }, at(7));
    });
    expect(await s.quickRepeats([key], () => repeats(key, 1), at(8))).not.toBeNull();
    await s.recoverAtStart(); // folds the log
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 0 }]);
    // a1: 1 + 2 + 4 + 5 + 1 (not the 50 of s0); a2: 1 + 3 + 7, + 1 for its new firing; the group: every repeat.
    expect(await raw(file, 'SELECT alert_key, count, last_seen FROM intake_alerts ORDER BY alert_key')).toEqual([
      { alert_key: 'a1', count: 13, last_seen: at(8).toMillis() },
      { alert_key: 'a2', count: 12, last_seen: at(7).toMillis() },
    ]);
    expect(await raw(file, 'SELECT count FROM intake_groups')).toEqual([{ count: 1 + 2 + 3 + 4 + 5 + 7 + 50 + 1 }]);
  });

  it('sums a fast-path batch through the keys it looked up (IntakeRepeat.first), checked: an entry whose `first` names another alert is summed as what it says it is', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    const incident = await seeded(s);
    const other = { ...key, alertKey: 'a2' };
    await s.transaction(async (tx) => {
      await tx.observeIntakeAlert({ ...firing, alertKey: 'a2' }, at(0));
    });
    await s.recoverAtStart(); // the log is empty and the store knows it: it sums from here on
    await s.transaction((tx) => tx.knownIntakeAlerts([key, other]));
    const group = (n: number, first: number) => [{ integration: 'prom', fingerprint: 'fp', n, first }];
    // Each entry names its own key.
    expect(await s.quickRepeats([key, other], () => ({ alerts: [{ ...key, n: 2, startsAt: 's1', first: 0 }, { ...other, n: 3, startsAt: 's1', first: 1 }], groups: group(5, 0) }), at(1))).not.toBeNull();
    // Each names the other's: checked, so each is summed as what it says it is.
    expect(await s.quickRepeats([key, other], () => ({ alerts: [{ ...key, n: 4, startsAt: 's1', first: 1 }, { ...other, n: 5, startsAt: 's1', first: 0 }], groups: group(9, 1) }), at(2))).not.toBeNull();
    // Repeats of a firing a1 no longer has (s0) are summed apart, and count for the group only.
    expect(await s.quickRepeats([key], () => ({ alerts: [{ ...key, n: 50, startsAt: 's0', first: 0 }], groups: group(50, 0) }), at(3))).not.toBeNull();
    // A reader folds first, from the sums.
    expect(await s.transaction((tx) => tx.intakeGroupOf(incident))).toMatchObject({ count: 1 + 5 + 9 + 50 });
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 0 }]);
    expect(await raw(file, 'SELECT alert_key, count, last_seen FROM intake_alerts ORDER BY alert_key')).toEqual([
      { alert_key: 'a1', count: 1 + 2 + 4, last_seen: at(2).toMillis() },
      { alert_key: 'a2', count: 1 + 3 + 5, last_seen: at(2).toMillis() },
    ]);
  });

  it('tells a failing fold of the repeat log (work nobody waits for) to the monitor: logged and in /healthz', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    await raw(file, `CREATE TRIGGER broken BEFORE UPDATE ON intake_alerts BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`);
    await seeded(s);
    const errors: string[] = [];
    const monitor = new StoreMonitor(s, (m) => errors.push(m));
    expect(await monitor.quickRepeats?.([key], () => plan, at(1))).not.toBeNull();
    // The fold runs 200 ms later, on its own, and fails.
    for (let waited = 0; errors.length === 0 && waited < 3000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(errors.join('\n')).toMatch(/disk I\/O error \(test\)/);
    expect(monitor.recent()).toMatch(/disk I\/O error \(test\)/);
    // Nothing was lost: the repeats are still in the log.
    expect(await raw(file, 'SELECT COUNT(*) AS n FROM intake_repeats')).toEqual([{ n: 1 }]);
  });

  it('is passed through the store monitor, so a failing fast path shows in /healthz like a failing transaction', async () => {
    const s = await store();
    await seeded(s);
    const errors: string[] = [];
    const monitor = new StoreMonitor(s, (m) => errors.push(m));
    expect(await monitor.quickRepeats?.([key], () => plan, at(1))).not.toBeNull();
    // A bug in the caller's plan is not the database failing.
    await expect(monitor.quickRepeats?.([key], () => {
      throw new Error('plan bug');
    }, at(1))).rejects.toThrow('plan bug');
    expect(monitor.recent()).toBeNull();
    await s.close();
    await expect(monitor.quickRepeats?.([key], () => plan, at(2))).rejects.toThrow();
    expect(monitor.recent()).not.toBeNull();
    expect(errors).toHaveLength(1);
  });
});

describe('the store\'s memory of overrides and absences', () => {
  const window = (tx: StoreTx) => Promise.all([tx.listOverrides('payments', at(0), at(1000)), tx.listAbsences(at(0), at(1000))]);
  const counted = async (s: SqliteStore) => {
    const [overrides, absences] = await s.transaction(window);
    return { overrides: overrides.map((o) => o.member), absences: absences.map((a) => a.member) };
  };

  it('is the database\'s truth: another process\'s rows, this store\'s commits, rollbacks and deletions', async () => {
    const s = await store();
    const file = path.join(dir, 'onehand.db');
    expect(await counted(s)).toEqual({ overrides: [], absences: [] });
    // Another process on the file (its commit changes SQLite's data_version).
    await raw(file, "INSERT INTO overrides (id, team, member, start_ms, end_ms, created_by, reason) VALUES ('o-raw', 'payments', 'erin', ?, ?, 'x', NULL)", [at(10).toMillis(), at(20).toMillis()]);
    await raw(file, "INSERT INTO absences (id, member, start_ms, end_ms) VALUES ('a-raw', 'frank', ?, ?)", [at(10).toMillis(), at(20).toMillis()]);
    expect(await counted(s)).toEqual({ overrides: ['erin'], absences: ['frank'] });
    // This store's own: seen in the transaction that writes them, and after its commit.
    const inside = await s.transaction(async (tx) => {
      await tx.addOverride({ team: 'payments', member: 'bob', start: at(30), end: at(40), createdBy: 'carol', reason: null });
      await tx.addAbsence({ member: 'alice', start: at(30), end: at(40) });
      return window(tx);
    });
    expect(inside.map((rows) => rows.length)).toEqual([2, 2]);
    expect(await counted(s)).toEqual({ overrides: ['erin', 'bob'], absences: ['frank', 'alice'] });
    // Rolled back: never seen.
    await expect(s.transaction(async (tx) => {
      await tx.addOverride({ team: 'payments', member: 'dave', start: at(50), end: at(60), createdBy: 'carol', reason: null });
      await window(tx);
      throw new Error('no');
    })).rejects.toThrow('no');
    expect(await counted(s)).toEqual({ overrides: ['erin', 'bob'], absences: ['frank', 'alice'] });
    // Deleted.
    await s.transaction(async (tx) => {
      await tx.deleteOverride('o-raw');
      await tx.deleteAbsence('a-raw');
    });
    expect(await counted(s)).toEqual({ overrides: ['bob'], absences: ['alice'] });
    // A window that starts long before what the memory holds is read from the database.
    const early = await s.transaction((tx) => tx.listOverrides('payments', at(-10_000_000), at(35)));
    expect(early.map((o) => o.member)).toEqual(['bob']);
    expect((await s.transaction((tx) => tx.listOverrides('payments', at(45), at(1000)))).map((o) => o.member)).toEqual([]);
  });
});

describe('a transaction that holds the store too long', () => {
  it('is told (logged and in /healthz through the monitor) once, while other calls wait; a long hold nobody waits for is not', async () => {
    const s = await openSqliteStore(path.join(dir, 'held.db'), { heldLimitMs: 150 });
    open.push(s);
    await s.migrate();
    const told: string[] = [];
    const monitor = new StoreMonitor(s, (message) => told.push(message));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Alone, a long transaction is nobody's problem (a migration, a big fold).
    const alone = s.transaction(() => gate.then(() => 'first'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(told).toEqual([]);
    // A call waits behind it: told once (not at every check), naming how long and how many wait.
    const waiting = s.transaction(async (tx) => tx.kvGet('a', 'b'));
    for (let i = 0; i < 100 && told.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/one transaction has held the SQLite store for \d+ s while 1 other call\(s\) wait/);
    release();
    await expect(alone).resolves.toBe('first');
    await expect(waiting).resolves.toBeUndefined();
    await expect(monitor.transaction(async () => 'after')).resolves.toBe('after');
  });
});
