import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { Database } from 'sqlite3';
import type { Incident, NewIncident } from '../../src/core/incident/types';
import type { Message } from '../../src/core/messages/message';
import type { NewOutboxRow, StoreTx } from '../../src/ports/store';
import { MIGRATIONS, type Migration } from '../../src/store/sqlite/migrations';
import {
  defaultDataPath,
  openSqliteStore,
  prefixUpperBound,
  type SqliteStore,
} from '../../src/store/sqlite/sqlite-store';

const T0 = DateTime.fromISO('2026-03-01T09:00:00Z', { zone: 'utc' });
const at = (minutes: number): DateTime => T0.plus({ minutes });

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

function newIncident(overrides: Partial<NewIncident> = {}): NewIncident {
  return {
    team: 'payments',
    title: 'Checkout returns 500',
    severity: 'sev2',
    source: 'integration:grafana',
    service: 'checkout',
    fingerprint: 'fp-1',
    state: 'open',
    assignee: 'alice',
    reporter: { kind: 'guest', adapter: 'discord', address: 'u-42', name: 'Dana' },
    escalationLevel: 1,
    policy: { ackTimeoutMs: 300_000, renotify: 2, then: ['mentor', 'lead'] },
    openedAt: at(0),
    acknowledgedAt: at(3),
    resolvedAt: null,
    updatedAt: at(3),
    ...overrides,
  };
}

const msg = (text: string): Message => ({ kind: 'page', headline: [text, { t: 'user', v: 'x' }], lines: [], actions: ['ack'], mentions: ['alice'] });

function outboxRow(key: string, notBefore: DateTime, incidentId: number | null = null): NewOutboxRow {
  return { key, adapter: 'console', recipient: { kind: 'member', id: 'alice' }, message: msg(key), incidentId, notBefore };
}

function expectSameIncident(actual: Incident | null, expected: Incident): void {
  expect(actual).not.toBeNull();
  const a = actual as Incident;
  const millis = (i: Incident) => ({
    ...i,
    openedAt: i.openedAt.toMillis(),
    acknowledgedAt: i.acknowledgedAt?.toMillis() ?? null,
    resolvedAt: i.resolvedAt?.toMillis() ?? null,
    updatedAt: i.updatedAt.toMillis(),
  });
  expect(millis(a)).toEqual(millis(expected));
  expect(a.openedAt.zoneName).toBe('UTC');
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

describe('incidents and timeline', () => {
  it('round-trips every field of an incident', async () => {
    const s = await store();
    const inserted = await s.transaction((tx) => tx.insertIncident(newIncident()));
    expect(inserted.id).toBeGreaterThan(0);
    expectSameIncident(await s.transaction((tx) => tx.getIncident(inserted.id)), inserted);

    const updated: Incident = {
      ...inserted,
      state: 'resolved',
      service: null,
      fingerprint: null,
      assignee: 'bob',
      reporter: { kind: 'member', id: 'carol' },
      escalationLevel: 2,
      acknowledgedAt: null,
      resolvedAt: at(30),
      updatedAt: at(30),
    };
    await s.transaction((tx) => tx.updateIncident(updated));
    expectSameIncident(await s.transaction((tx) => tx.getIncident(inserted.id)), updated);
    await expect(s.transaction((tx) => tx.getIncident(9999))).resolves.toBeNull();
    await expect(s.transaction((tx) => tx.updateIncident({ ...updated, id: 9999 }))).rejects.toThrow('incident 9999 does not exist');
  });

  it('lists incidents by team and state, newest first, with a limit', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      await tx.insertIncident(newIncident({ title: 'a', openedAt: at(0) }));
      await tx.insertIncident(newIncident({ title: 'b', openedAt: at(10), state: 'acknowledged' }));
      await tx.insertIncident(newIncident({ title: 'c', openedAt: at(20), state: 'resolved' }));
      await tx.insertIncident(newIncident({ title: 'd', openedAt: at(5), team: 'search' }));
    });
    const titles = (list: Incident[]) => list.map((i) => i.title);
    await s.transaction(async (tx) => {
      expect(titles(await tx.listIncidents({}))).toEqual(['c', 'b', 'd', 'a']);
      expect(titles(await tx.listIncidents({ team: 'payments' }))).toEqual(['c', 'b', 'a']);
      expect(titles(await tx.listIncidents({ team: 'payments', states: ['open', 'acknowledged'] }))).toEqual(['b', 'a']);
      expect(titles(await tx.listIncidents({ states: ['open'] }))).toEqual(['d', 'a']);
      expect(titles(await tx.listIncidents({ limit: 2 }))).toEqual(['c', 'b']);
      expect(await tx.listIncidents({ states: [] })).toEqual([]);
    });
  });

  it('numbers timeline events 1, 2, 3 per incident', async () => {
    const s = await store();
    const events = await s.transaction(async (tx) => {
      const a = await tx.insertIncident(newIncident());
      const b = await tx.insertIncident(newIncident());
      const out = [];
      out.push(await tx.appendTimeline({ incidentId: a.id, at: at(0), kind: 'reported', actor: { kind: 'member', id: 'alice' }, data: { n: 1 } }));
      out.push(await tx.appendTimeline({ incidentId: a.id, at: at(1), kind: 'notified', actor: null, data: { to: ['alice'] } }));
      out.push(await tx.appendTimeline({ incidentId: b.id, at: at(2), kind: 'reported', actor: null, data: {} }));
      out.push(await tx.appendTimeline({ incidentId: a.id, at: at(3), kind: 'note', actor: null, data: { text: 'é ✓' } }));
      return { a: a.id, b: b.id, seqs: out.map((e) => e.seq) };
    });
    expect(events.seqs).toEqual([1, 2, 1, 3]);
    const timeline = await s.transaction((tx) => tx.timeline(events.a));
    expect(timeline.map((e) => [e.seq, e.kind, e.at.toMillis()])).toEqual([
      [1, 'reported', at(0).toMillis()],
      [2, 'notified', at(1).toMillis()],
      [3, 'note', at(3).toMillis()],
    ]);
    expect(timeline[0]?.actor).toEqual({ kind: 'member', id: 'alice' });
    expect(timeline[1]?.data).toEqual({ to: ['alice'] });
    expect(timeline[2]?.data).toEqual({ text: 'é ✓' });
    await expect(
      s.transaction((tx) => tx.appendTimeline({ incidentId: 4242, at: at(0), kind: 'note', actor: null, data: {} })),
    ).rejects.toThrow(/FOREIGN KEY/);
    // The failed statement is cached and still usable.
    await expect(
      s.transaction((tx) => tx.appendTimeline({ incidentId: events.b, at: at(4), kind: 'note', actor: null, data: {} })),
    ).resolves.toMatchObject({ seq: 2 });
  });
});

describe('transactions', () => {
  it('rolls everything back when the callback throws', async () => {
    const s = await store();
    await expect(
      s.transaction(async (tx) => {
        await tx.insertIncident(newIncident());
        await tx.kvSet('ns', 'k', 1);
        await tx.enqueue([outboxRow('k1', at(0))]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await s.transaction(async (tx) => {
      expect(await tx.listIncidents({})).toEqual([]);
      expect(await tx.kvGet('ns', 'k')).toBeUndefined();
      expect(await tx.outboxDepth()).toBe(0);
    });
  });

  it('does not interleave concurrent transactions', async () => {
    const s = await store();
    await Promise.all(
      Array.from({ length: 50 }, () =>
        s.transaction(async (tx) => {
          const n = ((await tx.kvGet('test', 'counter')) as number | undefined) ?? 0;
          await new Promise((resolve) => setImmediate(resolve));
          await tx.kvSet('test', 'counter', n + 1);
        }),
      ),
    );
    await expect(s.transaction((tx) => tx.kvGet('test', 'counter'))).resolves.toBe(50);
  });

  it('refuses a StoreTx used after its transaction, and nested transactions', async () => {
    const s = await store();
    let leaked: StoreTx | undefined;
    await s.transaction(async (tx) => {
      leaked = tx;
    });
    await expect((leaked as StoreTx).kvGet('a', 'b')).rejects.toThrow('StoreTx used after its transaction finished');
    await expect(s.transaction(() => s.transaction(async () => 1))).rejects.toThrow(/inside a transaction/);
    // The store still works after both refusals.
    await expect(s.transaction(async () => 'ok')).resolves.toBe('ok');
  });

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

  it('keeps state across close and reopen of the same file', async () => {
    const s = await store();
    const id = await s.transaction(async (tx) => {
      const incident = await tx.insertIncident(newIncident());
      await tx.kvSet('plugin', 'state', { last: [1, 2, 3], ok: true, none: null });
      await tx.scheduleTimer({ key: 'esc:1', kind: 'escalate', dueAt: at(5), payload: { step: 1 } });
      return incident.id;
    });
    await s.close();
    await s.close(); // idempotent
    await expect(s.transaction(async () => 1)).rejects.toThrow('SqliteStore is closed');

    const reopened = await store();
    await reopened.transaction(async (tx) => {
      expect((await tx.getIncident(id))?.title).toBe('Checkout returns 500');
      expect(await tx.kvGet('plugin', 'state')).toEqual({ last: [1, 2, 3], ok: true, none: null });
      expect((await tx.nextTimerDue())?.toMillis()).toBe(at(5).toMillis());
    });
  });
});

describe('overrides and absences', () => {
  it('lists overlapping overrides by creation order and deletes them', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      const late = await tx.addOverride({ team: 'payments', member: 'bob', start: at(60), end: at(120), createdBy: 'lead', reason: null });
      const early = await tx.addOverride({ team: 'payments', member: 'carol', start: at(0), end: at(60), createdBy: 'lead', reason: 'swap' });
      await tx.addOverride({ team: 'search', member: 'dan', start: at(0), end: at(120), createdBy: 'lead', reason: null });
      expect(early.seq).toBeGreaterThan(late.seq);
      expect(early.id).toMatch(/^[0-9a-f-]{36}$/);

      const all = await tx.listOverrides('payments', at(0), at(120));
      expect(all.map((o) => o.member)).toEqual(['bob', 'carol']);
      expect(all[1]).toEqual(early);
      // Touching ends do not overlap: [0, 60) and [60, 120).
      expect((await tx.listOverrides('payments', at(60), at(61))).map((o) => o.member)).toEqual(['bob']);
      expect((await tx.listOverrides('payments', at(59), at(60))).map((o) => o.member)).toEqual(['carol']);

      expect(await tx.deleteOverride(late.id)).toBe(true);
      expect(await tx.deleteOverride(late.id)).toBe(false);
      const next = await tx.addOverride({ team: 'payments', member: 'eve', start: at(0), end: at(1), createdBy: 'lead', reason: null });
      expect(next.seq).toBeGreaterThan(early.seq);
      await expect(tx.addOverride({ team: 'payments', member: 'eve', start: at(1), end: at(1), createdBy: 'x', reason: null })).rejects.toThrow(RangeError);
    });
  });

  it('lists overlapping absences ordered by start', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      await tx.addAbsence({ member: 'bob', start: at(30), end: at(90) });
      await tx.addAbsence({ member: 'alice', start: at(0), end: at(60) });
      await tx.addAbsence({ member: 'carol', start: at(200), end: at(300) });
      const list = await tx.listAbsences(at(10), at(100));
      expect(list.map((a) => a.member)).toEqual(['alice', 'bob']);
      expect(list[0]?.start.toMillis()).toBe(at(0).toMillis());
      expect(await tx.listAbsences(at(90), at(200))).toEqual([]);
    });
  });
});

describe('timers', () => {
  it('keeps the first of two timers with the same key, even after it completed', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      expect(await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(5), payload: { a: 1 } })).toBe(true);
      expect(await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(1), payload: { a: 2 } })).toBe(false);
      const [claimed] = await tx.claimDueTimers(at(10), 10, 'w1', at(11));
      expect(claimed).toMatchObject({ key: 'esc:1:1', kind: 'escalate', payload: { a: 1 } });
      expect(claimed?.dueAt.toMillis()).toBe(at(5).toMillis());
      expect(await tx.completeTimer(claimed?.id ?? -1, 'w1')).toBe(true);
      expect(await tx.completeTimer(claimed?.id ?? -1, 'w1')).toBe(false);
      expect(await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(20), payload: {} })).toBe(false);
      expect(await tx.nextTimerDue()).toBeNull();
    });
  });

  it('claims due timers in due order and honours leases', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      await tx.scheduleTimer({ key: 't3', kind: 'k', dueAt: at(3), payload: {} });
      await tx.scheduleTimer({ key: 't1', kind: 'k', dueAt: at(1), payload: {} });
      await tx.scheduleTimer({ key: 't2', kind: 'k', dueAt: at(2), payload: {} });
      await tx.scheduleTimer({ key: 't9', kind: 'k', dueAt: at(9), payload: {} });
      expect((await tx.nextTimerDue())?.toMillis()).toBe(at(1).toMillis());
    });
    const first = await s.transaction((tx) => tx.claimDueTimers(at(3), 2, 'w1', at(10)));
    expect(first.map((t) => t.key)).toEqual(['t1', 't2']);
    const t1 = first[0]?.id ?? -1;

    await s.transaction(async (tx) => {
      // t1 and t2 are leased by w1 until minute 10; t3 is free; t9 is not due.
      expect((await tx.claimDueTimers(at(5), 10, 'w2', at(8))).map((t) => t.key)).toEqual(['t3']);
      expect(await tx.claimDueTimers(at(7), 10, 'w3', at(12))).toEqual([]);
      // t3's lease ends at minute 8: it is claimable strictly after that.
      expect((await tx.nextTimerDue())?.toMillis()).toBe(at(8).toMillis() + 1);
      // At minute 10, t3's lease has passed and t9 is due; t1 and t2 are leased until exactly now.
      expect((await tx.claimDueTimers(at(10), 10, 'w3', at(20))).map((t) => t.key)).toEqual(['t3', 't9']);
      const taken = await tx.claimDueTimers(at(10).plus({ milliseconds: 1 }), 10, 'w3', at(20));
      expect(taken.map((t) => t.key)).toEqual(['t1', 't2']);
      expect(await tx.completeTimer(t1, 'w1')).toBe(false);
      expect(await tx.completeTimer(t1, 'w3')).toBe(true);
      expect(await tx.claimDueTimers(at(5), 0, 'w3', at(6))).toEqual([]);
      await expect(tx.claimDueTimers(at(5), 1, 'w3', at(5))).rejects.toThrow(RangeError);
    });
  });

  it('cancels pending timers by key prefix', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      for (const key of ['esc:1:1', 'esc:1:2', 'esc:10:1', 'esc:2:1', 'ESC:1:3', 'remind:1']) {
        await tx.scheduleTimer({ key, kind: 'k', dueAt: at(1), payload: {} });
      }
      const [claimed] = await tx.claimDueTimers(at(1), 1, 'w1', at(2)); // esc:1:1, leased
      expect(claimed?.key).toBe('esc:1:1');
      expect(await tx.cancelTimers('esc:1:')).toBe(2);
      expect(await tx.cancelTimers('esc:1:')).toBe(0);
      expect(await tx.completeTimer(claimed?.id ?? -1, 'w1')).toBe(false);
      expect((await tx.claimDueTimers(at(1), 10, 'w1', at(2))).map((t) => t.key)).toEqual(['esc:10:1', 'esc:2:1', 'ESC:1:3', 'remind:1']);
      expect(await tx.scheduleTimer({ key: 'esc:1:2', kind: 'k', dueAt: at(1), payload: {} })).toBe(false);
      expect(await tx.cancelTimers('%')).toBe(0);
      expect(await tx.cancelTimers('')).toBe(4);
    });
  });

  it('computes the upper bound of a key prefix', () => {
    expect(prefixUpperBound('esc:1:')).toBe('esc:1;');
    expect(prefixUpperBound('')).toBeNull();
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
  });
});

describe('outbox', () => {
  it('deduplicates by key, claims oldest first and counts depth', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      const incident = await tx.insertIncident(newIncident());
      expect(await tx.enqueue([outboxRow('b', at(2), incident.id), outboxRow('a', at(1)), outboxRow('a', at(0)), outboxRow('c', at(5))])).toBe(3);
      expect(await tx.enqueue([outboxRow('a', at(0)), outboxRow('d', at(1))])).toBe(1);
      expect(await tx.enqueue([])).toBe(0);
      expect(await tx.outboxDepth()).toBe(4);

      const claimed = await tx.claimOutbox(at(2), 10, 'w1', at(3));
      expect(claimed.map((r) => r.key)).toEqual(['a', 'd', 'b']);
      expect(claimed[0]).toMatchObject({ adapter: 'console', recipient: { kind: 'member', id: 'alice' }, message: msg('a'), incidentId: null, attempts: 0 });
      expect(claimed[0]?.notBefore.toMillis()).toBe(at(1).toMillis());
      expect(claimed[2]?.incidentId).toBe(incident.id);
      expect(claimed[0]?.createdAt.isValid).toBe(true);
      // Leased rows are not claimed again until the lease passes.
      expect(await tx.claimOutbox(at(2), 10, 'w2', at(4))).toEqual([]);
      expect(await tx.claimOutbox(at(3), 10, 'w2', at(4))).toEqual([]);
      expect((await tx.claimOutbox(at(5), 10, 'w2', at(6))).map((r) => r.key)).toEqual(['a', 'd', 'b', 'c']);
    });
  });

  it('retries failed deliveries and gives up when told to', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      await tx.enqueue([outboxRow('x', at(0)), outboxRow('y', at(0))]);
      const [x, y] = await tx.claimOutbox(at(0), 10, 'w1', at(1));
      await tx.markFailed(x?.id ?? -1, 'HTTP 502', at(10));
      await tx.markSent(y?.id ?? -1, at(0));
      expect(await tx.outboxDepth()).toBe(1);
      expect(await tx.claimOutbox(at(9), 10, 'w1', at(10))).toEqual([]);

      const [retry] = await tx.claimOutbox(at(10), 10, 'w1', at(11));
      expect(retry).toMatchObject({ key: 'x', attempts: 1 });
      expect(retry?.notBefore.toMillis()).toBe(at(10).toMillis());
      await tx.markFailed(retry?.id ?? -1, 'HTTP 403', null);
      expect(await tx.outboxDepth()).toBe(0);
      expect(await tx.claimOutbox(at(100), 10, 'w1', at(101))).toEqual([]);
      await expect(tx.markSent(4242, at(0))).rejects.toThrow('outbox row 4242 does not exist');
    });
    const [row] = await raw<{ attempts: number; last_error: string; dead_at: number | null }>(
      path.join(dir, 'onehand.db'),
      "SELECT attempts, last_error, dead_at FROM outbox WHERE key = 'x'",
    );
    expect(row).toMatchObject({ attempts: 2, last_error: 'HTTP 403' });
    expect(row?.dead_at).not.toBeNull();
  });

  it('enqueues thousands of rows in one transaction', async () => {
    const s = await store();
    const rows = Array.from({ length: 2500 }, (_, i) => outboxRow(`bulk:${i}`, at(i % 7)));
    const added = await s.transaction((tx) => tx.enqueue([...rows, ...rows.slice(0, 10)]));
    expect(added).toBe(2500);
    await s.transaction(async (tx) => {
      expect(await tx.outboxDepth()).toBe(2500);
      const claimed = await tx.claimOutbox(at(0), 3, 'w1', at(1));
      expect(claimed.map((r) => r.key)).toEqual(['bulk:0', 'bulk:7', 'bulk:14']);
      expect(claimed[0]?.message).toEqual(msg('bulk:0'));
    });
  });
});

describe('kv', () => {
  it('stores JSON values per namespace and deletes on undefined', async () => {
    const s = await store();
    await s.transaction(async (tx) => {
      await tx.kvSet('a', 'k', { v: 1 });
      await tx.kvSet('b', 'k', 'text');
      await tx.kvSet('a', 'k', { v: 2 });
      await tx.kvSet('a', 'nil', null);
      expect(await tx.kvGet('a', 'k')).toEqual({ v: 2 });
      expect(await tx.kvGet('b', 'k')).toBe('text');
      expect(await tx.kvGet('a', 'nil')).toBeNull();
      expect(await tx.kvGet('a', 'missing')).toBeUndefined();
      await tx.kvSet('a', 'k', undefined);
      expect(await tx.kvGet('a', 'k')).toBeUndefined();
    });
  });
});
