/** PostgreSQL-only behaviour of the PostgreSQL store; what every store does is in contract.ts. */
import { DateTime } from 'luxon';
import { Client } from 'pg';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations';
import { isPostgresUrl, openPostgresStore, redactUrl, type PostgresStore } from '../../src/store/postgres/postgres-store';
import type { Migration } from '../../src/store/sqlite/migrations';
import { MIGRATIONS } from '../../src/store/sqlite/migrations';
import { createSchema, describePg, type TestSchema } from './pg-test';
import { at, newIncident } from './contract';
import type { TimelineEvent } from '../../src/core/incident/types';
import type { StoreTx } from '../../src/ports/store';
import { StoreMonitor } from '../../src/app/store-monitor';

describe('PostgreSQL URLs', () => {
  it('recognises postgres URLs and hides passwords', () => {
    expect(isPostgresUrl('postgres://u@h/db')).toBe(true);
    expect(isPostgresUrl('postgresql://u@h/db')).toBe(true);
    expect(isPostgresUrl('./data/onehand.db')).toBe(false);
    expect(isPostgresUrl(undefined)).toBe(false);
    expect(redactUrl('postgres://onehand:s3cret@db:5432/onehand?sslmode=require')).toBe('postgres://onehand:***@db:5432/onehand?sslmode=require');
    expect(redactUrl('postgres://onehand@db/onehand')).toBe('postgres://onehand@db/onehand');
    // The driver reads a password from the query too: never logged either.
    expect(redactUrl('postgres://onehand@db:5432/onehand?password=topsecretQ&sslmode=require')).toBe('postgres://onehand@db:5432/onehand?password=***&sslmode=require');
    expect(redactUrl('postgresql://db/onehand?sslpassword=k3y&PASSWORD=x')).not.toMatch(/k3y|=x/);
  });

  it('keeps the schema versions of both stores in step', () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
  });

  it('names the server but not the password when it cannot connect', async () => {
    const err = await openPostgresStore('postgres://onehand:s3cret@127.0.0.1:1/none').then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/onehand:\*\*\*@127\.0\.0\.1:1\/none/);
    expect(err?.message).not.toContain('s3cret');
  });
});

describePg('PostgreSQL: migrations and replicas', () => {
  let schema: TestSchema;
  const open: PostgresStore[] = [];

  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await schema.drop();
  });

  async function query<T>(sql: string): Promise<T[]> {
    const c = new Client({ connectionString: schema.url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  }

  async function store(migrations?: readonly Migration[]): Promise<PostgresStore> {
    const s = await openPostgresStore(schema.url, migrations ? { migrations } : {});
    open.push(s);
    return s;
  }

  /**
   * The circle two replicas closed under a storm: a timer's transaction completes its timer (its
   * row is held), then reads the storm; an intake transaction holds the storm and schedules the
   * same summary timer (its insert waits for the timer's transaction). With `lock` the read waits
   * for the storm as well, and PostgreSQL aborts one of the two after its deadlock timeout (1 s):
   * the store runs that transaction again. Returns how often each transaction's body ran.
   */
  async function summaryRace(lock: boolean): Promise<{ intake: number; timer: number; results: PromiseSettledResult<unknown>[] }> {
    const a = await store();
    await a.migrate();
    const b = await store();
    const t0 = DateTime.fromISO('2026-12-01T10:00:00Z');
    const storm = await a.transaction((tx) => tx.insertStorm({ team: 'payments', member: 'alice', integration: 'prom', startedAt: t0, lastAt: t0, incidents: 5, version: 1, endedAt: null, severity: 'sev3' }));
    const key = `storm:${storm.id}:summary:1`;
    const timer = { key, kind: 'storm-summary', dueAt: t0, payload: { storm: storm.id } };
    await a.transaction((tx) => tx.scheduleTimer(timer));
    const [claimed] = await b.transaction((tx) => tx.claimDueTimers(t0.plus({ seconds: 1 }), 10, 'b', t0.plus({ minutes: 1 })));
    let stormHeld!: () => void;
    const held = new Promise<void>((resolve) => (stormHeld = resolve));
    let timerHeld!: () => void;
    const completed = new Promise<void>((resolve) => (timerHeld = resolve));
    const runs = { intake: 0, timer: 0 };
    const intake = a.transaction(async (tx) => {
      runs.intake++;
      await tx.activeStorm('payments');
      stormHeld();
      await completed;
      await new Promise((resolve) => setTimeout(resolve, 100)); // the timer's read has started
      return tx.scheduleTimer(timer);
    });
    const timerTx = b.transaction(async (tx) => {
      runs.timer++;
      await held;
      if (!(await tx.completeTimer(claimed?.id ?? -1, 'b'))) throw new Error('the timer was not completed');
      timerHeld();
      return tx.getStorm(storm.id, { lock });
    });
    const results = await Promise.allSettled([intake, timerTx]);
    return { ...runs, results };
  }

  it('a storm read without a lock lets an intake transaction that holds the storm schedule the timer being fired (no deadlock)', async () => {
    const race = await summaryRace(false);
    const [intake, timer] = race.results;
    expect(timer).toMatchObject({ status: 'fulfilled', value: expect.objectContaining({ incidents: 5 }) });
    expect(intake).toEqual({ status: 'fulfilled', value: false }); // the slot's timer exists
    expect([race.intake, race.timer]).toEqual([1, 1]); // neither was aborted and run again
  }, 20_000);

  it('(the same with the storm locked: PostgreSQL aborts one of the two, which runs again)', async () => {
    const race = await summaryRace(true);
    expect(race.intake + race.timer).toBeGreaterThan(2);
  }, 20_000);

  /**
   * raiseOn: a trigger makes every insert or update of `table` for which `when` holds (PL/pgSQL,
   * the row is NEW) fail with SQLSTATE `code` and `message`.
   */
  async function raiseOn(table: string, when: string, code: string, message: string): Promise<void> {
    await query(`CREATE FUNCTION fail_${table}() RETURNS trigger AS $$
      BEGIN
        IF (${when}) THEN
          RAISE EXCEPTION '${message}' USING ERRCODE = '${code}';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await query(`CREATE TRIGGER fail_${table} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION fail_${table}()`);
  }

  /** failOn: a trigger makes every write of kv key `key` fail with SQLSTATE `code` (the first `times` only, when given). */
  async function failOn(key: string, code: string, times?: number): Promise<void> {
    // A sequence counts the failures: it is not rolled back with the transaction that failed. CASE
    // counts only writes of the key.
    await query('CREATE SEQUENCE fail_count');
    await raiseOn('kv', `CASE WHEN NEW.key = '${key}' THEN ${times === undefined ? 'true' : `nextval('fail_count') <= ${times}`} ELSE false END`, code, 'simulated failure (test)');
  }

  it('a statement error the code catches and goes past still fails the transaction: nothing of it is stored, never a silent rollback', async () => {
    const s = await store();
    await s.migrate();
    await failOn('boom', '23514');
    const run = s.transaction(async (tx) => {
      await tx.kvSet('t', 'kept?', 1);
      // As a plugin's failing hook is caught and the event goes on: PostgreSQL has aborted the transaction.
      await tx.kvSet('t', 'boom', 1).catch(() => undefined);
      return 'done';
    });
    await expect(run).rejects.toThrow(/simulated failure \(test\)/);
    expect(await query("SELECT key FROM kv WHERE namespace = 't'")).toEqual([]);
  });

  it('a failing write whose transaction goes on with other statements at once is what the store monitor keeps for /healthz, not "transaction is aborted"', async () => {
    const s = await store();
    await s.migrate();
    await failOn('probe', '53100');
    const errors: string[] = [];
    const monitor = new StoreMonitor(s, (m) => errors.push(m));
    // As the /healthz probe does: a write and two reads sent together.
    const run = monitor.transaction(async (tx) => {
      const settled = await Promise.allSettled([tx.kvSet('health', 'probe', 1), tx.outboxStats(at(0)), tx.pagesUnreachedSince(at(0))]);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
    await expect(run).rejects.toThrow(/simulated failure \(test\)/);
    expect(monitor.recent()).toMatch(/simulated failure \(test\)/);
    expect(errors.join('\n')).not.toMatch(/transaction is aborted/);
  });

  it('a deadlock the code catches is still the transaction\'s: it runs again (a later statement\'s "transaction is aborted" does not hide it)', async () => {
    const s = await store();
    await s.migrate();
    await failOn('boom', '40P01', 1);
    let runs = 0;
    const result = await s.transaction(async (tx) => {
      runs++;
      await tx.kvSet('t', 'boom', runs).catch(() => undefined);
      await tx.kvSet('t', 'after', runs);
      return runs;
    });
    expect(result).toBe(2);
    expect(await query("SELECT key, value FROM kv WHERE namespace = 't' ORDER BY key")).toEqual([{ key: 'after', value: 2 }, { key: 'boom', value: 2 }]);
  });

  it('stores text PostgreSQL refuses (U+0000, a lone surrogate) that reached it anyway as U+FFFD, instead of failing the transaction', async () => {
    // Onehand replaces them where text comes in; this is the store's own guard for anything else
    // (a plugin's value, text Onehand made itself). Without it each statement below fails.
    const s = await store();
    await s.migrate();
    const incident = await s.transaction(async (tx) => {
      const made = await tx.insertIncident({
        team: 'payments', title: 'nul\u0000here', severity: 'sev2', source: 'chat', service: 'a\u0000b', fingerprint: null, state: 'open', assignee: 'alice',
        reporter: { kind: 'guest', adapter: 'x', address: 'x', name: 'half\ud800' }, escalationLevel: 0,
        policy: { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'] }, openedAt: at(0), acknowledgedAt: null, resolvedAt: null, updatedAt: at(0),
      });
      await tx.appendTimeline({ incidentId: made.id, at: at(1), kind: 'note', actor: null, data: { text: 'x\u0000y\udc00', '\\u0000': 'a backslash, then u0000' } });
      await tx.kvSet('plugin:t', 'k', { list: ['\u0000', 'ok'], nested: pgJsonText() });
      return made;
    });
    const stored = await s.transaction((tx) => tx.getIncident(incident.id));
    expect(stored).toMatchObject({ title: 'nul\ufffdhere', service: 'a\ufffdb', reporter: { name: 'half\ufffd' } });
    const [event] = await s.transaction((tx) => tx.timeline(incident.id));
    expect(event?.data).toEqual({ text: 'x\ufffdy\ufffd', '\\u0000': 'a backslash, then u0000' });
    expect(await s.transaction((tx) => tx.kvPeek('plugin:t', 'k'))).toEqual({ list: ['\ufffd', 'ok'], nested: '{"a":"\\u0000"}' });

    /** JSON text as a string value: its escape is text, not a character, and is kept as it is. */
    function pgJsonText(): string {
      return JSON.stringify({ a: '\u0000' });
    }
  });

  describe('timelines a transaction reads back', () => {
    /** What a reader sees of a timeline, key order and zone included. */
    const seen = (events: readonly TimelineEvent[]) => JSON.stringify(events.map((e) => ({ ...e, at: [e.at.toISO(), e.at.zoneName] })));

    it('the incident a transaction holds: what it reads back of its own appends is what a later read returns (jsonb key order, stored text, zone)', async () => {
      const s = await store();
      await s.migrate();
      const nepal = DateTime.fromISO('2026-12-01T10:00:00', { zone: 'Asia/Kathmandu' });
      let leaked!: StoreTx;
      const { id, inside, changed } = await s.transaction(async (tx) => {
        leaked = tx;
        const made = await tx.insertIncident(newIncident());
        await tx.appendTimeline({ incidentId: made.id, at: nepal, kind: 'reported', actor: { kind: 'member', id: 'alice' } as never, data: { zeta: 1, a: { yy: [{ bb: 1, a: 2 }], x: 'nul\u0000' }, ü: 'ß', ab: null } });
        const first = await tx.timeline(made.id);
        // A caller changing what it got changes nothing of the next read.
        (first[0]?.data as Record<string, unknown>).zeta = 99;
        first.push(first[0] as TimelineEvent);
        // A plugin's data may hold any key, "__proto__" too (JSON.parse keeps it as a key).
        await tx.appendTimeline({ incidentId: made.id, at: nepal.plus({ minutes: 1 }), kind: 'plugin\u0000kind', actor: null, data: { text: 'second', b: true, ...JSON.parse('{"__proto__": {"x": 1}}') as object } });
        return { id: made.id, inside: await tx.timeline(made.id), changed: first };
      });
      expect(changed).toHaveLength(2);
      const fresh = await s.transaction((tx) => tx.timeline(id));
      expect(inside.map((e) => e.seq)).toEqual([1, 2]);
      expect(seen(inside)).toBe(seen(fresh));
      expect(inside[0]?.data).toEqual({ ab: null, ü: 'ß', zeta: 1, a: { x: 'nul\ufffd', yy: [{ a: 2, bb: 1 }] } });
      expect(inside[1]?.kind).toBe('plugin\ufffdkind');
      expect(Object.keys(inside[1]?.data ?? {})).toContain('__proto__');
      // What a transaction kept is not read once it finished.
      await expect(leaked.timeline(id)).rejects.toThrow(/after its transaction finished/);
    });

    it('an incident it locked: appends of another transaction wait, and seq goes on from what both added', async () => {
      const s = await store();
      await s.migrate();
      const incident = await s.transaction((tx) => tx.insertIncident(newIncident()));
      await s.transaction((tx) => tx.appendTimeline({ incidentId: incident.id, at: at(1), kind: 'reported', actor: null, data: {} }));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const a = s.transaction(async (tx) => {
        await tx.getIncident(incident.id);
        expect((await tx.timeline(incident.id)).map((e) => e.seq)).toEqual([1]);
        await tx.appendTimeline({ incidentId: incident.id, at: at(2), kind: 'note', actor: null, data: { by: 'a' } });
        holding();
        await released;
        await tx.appendTimeline({ incidentId: incident.id, at: at(3), kind: 'note', actor: null, data: { by: 'a again' } });
        return tx.timeline(incident.id);
      });
      await held;
      const b = s.transaction((tx) => tx.appendTimeline({ incidentId: incident.id, at: at(4), kind: 'note', actor: null, data: { by: 'b' } }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      const [inA, appended] = await Promise.all([a, b]);
      expect(inA.map((e) => e.data.by)).toEqual([undefined, 'a', 'a again']);
      expect(appended.seq).toBe(4);
      expect((await s.transaction((tx) => tx.timeline(incident.id))).map((e) => [e.seq, e.data.by])).toEqual([[1, undefined], [2, 'a'], [3, 'a again'], [4, 'b']]);
    });

    it('an incident it does not hold is read afresh: an event another replica committed meanwhile shows', async () => {
      const s = await store();
      await s.migrate();
      const other = await store();
      const incident = await s.transaction((tx) => tx.insertIncident(newIncident()));
      const [before, after] = await s.transaction(async (tx) => {
        const first = await tx.timeline(incident.id);
        await other.transaction((o) => o.appendTimeline({ incidentId: incident.id, at: at(1), kind: 'note', actor: null, data: { by: 'other' } }));
        return [first, await tx.timeline(incident.id)];
      });
      expect(before).toEqual([]);
      expect(after.map((e) => e.data.by)).toEqual(['other']);
    });
  });

  describe('statements a transaction sends ahead (pipelined, not waited for)', () => {
    const reply = (text: string) => ({ kind: 'reply', headline: [text], lines: [], actions: [], mentions: [] }) as never;
    /** refuseAppends: PostgreSQL refuses (a trigger) every timeline row of kind 'refused'. */
    const refuseAppends = () => raiseOn('timeline', "NEW.kind = 'refused'", '23514', 'simulated refusal of a timeline row (test)');

    it('an append sent ahead that PostgreSQL refuses fails the transaction at its commit: nothing of it is stored, the error says why', async () => {
      const s = await store();
      await s.migrate();
      const incident = await s.transaction((tx) => tx.insertIncident(newIncident()));
      await refuseAppends();
      // The transaction holds the incident and knows its timeline: its appends go out unanswered.
      let wentOn = false;
      const run = s.transaction(async (tx) => {
        await tx.getIncident(incident.id);
        expect(await tx.timeline(incident.id)).toEqual([]);
        await tx.kvSet('t', 'before', 1);
        expect((await tx.appendTimeline({ incidentId: incident.id, at: at(1), kind: 'note', actor: null, data: {} })).seq).toBe(1);
        const sent = await tx.appendTimeline({ incidentId: incident.id, at: at(2), kind: 'refused', actor: null, data: {} });
        expect(sent.seq).toBe(2); // answered before PostgreSQL did
        wentOn = true;
        return 'done';
      });
      await expect(run).rejects.toThrow(/simulated refusal of a timeline row \(test\)/);
      expect(wentOn).toBe(true); // the refusal came at the commit
      expect(await query("SELECT key FROM kv WHERE namespace = 't'")).toEqual([]);
      expect(await query(`SELECT kind FROM timeline WHERE incident_id = ${incident.id}`)).toEqual([]);
    });

    it('(the same when a later statement finds the transaction aborted: the refused append is the error, not "transaction is aborted")', async () => {
      const s = await store();
      await s.migrate();
      const incident = await s.transaction((tx) => tx.insertIncident(newIncident()));
      await refuseAppends();
      const run = s.transaction(async (tx) => {
        await tx.getIncident(incident.id);
        await tx.timeline(incident.id);
        await tx.appendTimeline({ incidentId: incident.id, at: at(1), kind: 'refused', actor: null, data: {} });
        await tx.kvSet('t', 'after', 1);
      });
      await expect(run).rejects.toThrow(/simulated refusal of a timeline row \(test\)/);
      expect(await query("SELECT key FROM kv WHERE namespace = 't'")).toEqual([]);
    });

    it('an inbound id another transaction remembers first, after this one found it unknown: this one runs again and finds that reply', async () => {
      const s = await store();
      await s.migrate();
      const other = await store();
      let runs = 0;
      const counted: number[] = [];
      const answer = await s.transaction(async (tx) => {
        runs++;
        const run = runs;
        tx.afterCommit(() => counted.push(run));
        const earlier = await tx.inboundReply('discord:42');
        if (earlier) return earlier;
        await tx.kvSet('t', `run${runs}`, 1);
        // The other replica handles the same event meanwhile and commits first.
        if (runs === 1) await other.transaction((o) => o.rememberInbound('discord:42', reply('first'), at(0)));
        expect(await tx.rememberInbound('discord:42', reply('second'), at(1))).toBeNull();
        return reply('second');
      });
      expect(runs).toBe(2);
      expect(counted).toEqual([2]); // what the rolled-back first run would have counted is not counted
      expect(answer).toMatchObject({ headline: ['first'] });
      expect(await query("SELECT key FROM kv WHERE namespace = 't'")).toEqual([]);
      expect(await query("SELECT reply->'headline' AS h FROM inbound")).toEqual([{ h: ['first'] }]);
    });

    it("a commit that enqueued wakes this process's listeners once: its own NOTIFY, coming back, does not wake them again", async () => {
      const [a, b] = await Promise.all([store(), store()]);
      await a.migrate();
      let woken = 0;
      a.onEnqueued(() => woken++);
      const row = (key: string) => ({ key, adapter: 'console', recipient: { kind: 'member' as const, id: 'alice' }, message: { kind: 'notice', headline: ['x'], lines: [], actions: [], mentions: [] } as never, incidentId: null, notBefore: DateTime.utc() });
      const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
      // The listener connects in the background: another replica's commits wake it once it listens.
      const deadline = Date.now() + 5000;
      for (let i = 0; woken === 0 && Date.now() < deadline; i++) {
        await b.transaction((tx) => tx.enqueue([row(`other:${i}`)]));
        await settle();
      }
      expect(woken).toBeGreaterThan(0);
      woken = 0;
      await a.transaction((tx) => tx.enqueueAll([row('own:1')]));
      await a.transaction((tx) => tx.enqueue([row('own:2')]));
      await settle();
      expect(woken).toBe(2);
      await b.transaction((tx) => tx.enqueue([row('other:last')]));
      await settle();
      expect(woken).toBe(3);
    });
  });

  it('kvPeek reads a key another transaction holds without waiting for it, and sees what was committed', async () => {
    const s = await store();
    await s.migrate();
    await s.transaction((tx) => tx.kvSet('t', 'k', 1));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const writer = s.transaction(async (tx) => {
      await tx.kvGet('t', 'k');
      await tx.kvSet('t', 'k', 2);
      holding();
      await released;
    });
    await held;
    try {
      // kvGet would wait here for the writer, which waits for the test.
      const peek = s.transaction((tx) => tx.kvPeek('t', 'k'));
      const late = new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref());
      expect(await Promise.race([peek, late])).toBe(1);
      expect(await s.transaction((tx) => tx.kvPeek('t', 'absent'))).toBeUndefined();
    } finally {
      release();
      await writer;
    }
    expect(await s.transaction((tx) => tx.kvPeek('t', 'k'))).toBe(2);
  });

  it('applies each migration once when several replicas migrate at the same time', async () => {
    const replicas = await Promise.all(Array.from({ length: 6 }, () => store()));
    await Promise.all(replicas.map((r) => r.migrate()));
    const versions = await query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    await expect((replicas[0] as PostgresStore).transaction((tx) => tx.outboxDepth())).resolves.toBe(0);
  });

  it('names the fix when the search_path names a schema that does not exist (PostgreSQL says only "no schema has been selected")', async () => {
    const url = new URL(schema.url);
    url.searchParams.set('options', '-c search_path=onehand_not_created');
    const s = await openPostgresStore(url.toString());
    open.push(s);
    await expect(s.migrate()).rejects.toThrow('the search_path (onehand_not_created) names none that exists; create it first (CREATE SCHEMA onehand_not_created;)');
  });

  it('refuses a schema migrated by a newer Onehand', async () => {
    const s = await store();
    await s.migrate();
    await query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)");
    const max = Math.max(...PG_MIGRATIONS.map((m) => m.version));
    await expect(s.migrate()).rejects.toThrow(`database schema version 999 is newer than this Onehand (max ${max}); upgrade Onehand`);
  });

  it('applies each migration in its own transaction', async () => {
    const s = await store([
      ...PG_MIGRATIONS,
      { version: 100, name: 'good', sql: 'CREATE TABLE extra_a (x INTEGER);' },
      { version: 101, name: 'bad', sql: 'CREATE TABLE extra_b (x INTEGER); SELECT * FROM no_such_table;' },
    ]);
    await expect(s.migrate()).rejects.toThrow(/migration 101 \(bad\) failed/);
    const tables = await query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema.name}' AND table_name LIKE 'extra%'`);
    expect(tables.map((t) => t.table_name)).toEqual(['extra_a']);
  });

  it('keeps its tables in the schema of the search_path', async () => {
    const s = await store();
    await s.migrate();
    const tables = await query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM information_schema.tables WHERE table_schema = '${schema.name}'`);
    expect(tables[0]?.n).toBeGreaterThanOrEqual(10);
  });

  it('a commit that enqueued on one replica wakes the listeners of another (LISTEN/NOTIFY), and only of the same schema', async () => {
    const [a, b] = await Promise.all([store(), store()]);
    const other = await createSchema();
    const c = await openPostgresStore(other.url);
    open.push(c);
    await Promise.all([a.migrate(), c.migrate()]);
    let wokenA = 0;
    let wokenC = 0;
    a.onEnqueued(() => wokenA++);
    c.onEnqueued(() => wokenC++);
    const deadline = Date.now() + 5000;
    // The listener connects in the background: enqueue until a wake-up arrives (or time runs out).
    for (let i = 0; wokenA === 0 && Date.now() < deadline; i++) {
      await b.transaction((tx) => tx.enqueue([{ key: `wake:${i}`, adapter: 'console', recipient: { kind: 'member', id: 'alice' }, message: { kind: 'notice', headline: ['x'], lines: [], actions: [], mentions: [] }, incidentId: null, notBefore: DateTime.utc() }]));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(wokenA).toBeGreaterThan(0);
    expect(wokenC).toBe(0);
    await other.drop().catch(() => undefined);
  });
});
