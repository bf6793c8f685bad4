/**
 * Timers and the rows their handlers lock, on PostgreSQL (two replicas): an acknowledgement locks
 * the incident and then cancels its escalation timer; a firing escalation must take the same two
 * rows in the same order, or the two wait for each other until PostgreSQL's deadlock timeout (1 s)
 * aborts one of them. (SQLite has one writer at a time: no such circle there.)
 *
 * The app's own escalation fires on one replica while a transaction on the other holds the
 * incident, as an acknowledgement does; once the timer's transaction waits for the incident, its
 * timer's row must still be free (a third connection can lock it at once). Then the
 * acknowledgement cancels the escalation and commits, and the step never runs.
 *
 * The same for a plugin's timer and the plugin's storage under the timer's key (quiet hours: a
 * deferral writes the digest's list, then schedules its timer; the timer reads and empties it),
 * and, with the replicas' clocks apart, a deferral into a digest that went out already.
 */
import { Client } from 'pg';
import { DateTime } from 'luxon';
import { buildApp } from '../../src/app/container';
import { escalationKeyPrefix } from '../../src/app/incident-service';
import { parseConfig } from '../../src/config';
import type { Incident } from '../../src/core/incident/types';
import { SimulatedClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store';
import * as path from 'node:path';
import { pluginNamespace, PLUGIN_TIMER } from '../../src/app/plugin-host';
import { BUILTIN_PLUGIN_NAMES, loadPlugins } from '../../src/runtime/plugin-loader';
import { TEST_CONFIG, TUESDAY } from '../harness/fixtures';
import { RecordingAdapter } from '../harness/recording-adapter';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';

/** gate: a transaction in a test says when it got somewhere (`reached`, awaited as `arrived`) and waits to be let go (`open`, awaited as `opened`). */
function gate(): { reached: () => void; arrived: Promise<void>; open: () => void; opened: Promise<void> } {
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { reached, arrived, open, opened };
}

describePg('a firing escalation and an acknowledgement of its incident (PostgreSQL replicas)', () => {
  let schema: TestSchema;
  const open: Array<{ close(): Promise<void> }> = [];
  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
    await schema.drop();
  });

  async function replica(): Promise<PostgresStore> {
    const s = await openPostgresStore(schema.url);
    open.push(s);
    await s.migrate();
    return s;
  }

  async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: schema.url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  /**
   * waitForLockWait: until `count` connections of this test's schema (not another test's: they
   * share the database) wait for a lock in a statement like `statement`.
   */
  async function waitForLockWait(statement = '%FROM incidents WHERE id = $1 FOR UPDATE%', count = 1, stop: () => boolean = () => false): Promise<void> {
    for (let i = 0; i < 400 && !stop(); i++) {
      const rows = await sql<{ n: string }>(`SELECT COUNT(*) AS n FROM pg_stat_activity AS a
        WHERE a.wait_event_type = 'Lock' AND a.state = 'active' AND a.query LIKE $1
          AND EXISTS (SELECT 1 FROM pg_locks AS l JOIN pg_class AS c ON c.oid = l.relation JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE l.pid = a.pid AND n.nspname = $2)`, [statement, schema.name]);
      if (Number(rows[0]?.n ?? 0) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!stop()) throw new Error(`fewer than ${count} connections ever waited for a lock in ${statement}`);
  }

  /** deadlocks: records every deadlock PostgreSQL reports to this process's connections while `fn` runs. */
  async function deadlocks(fn: () => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = proto.query;
    proto.query = function query(this: Client, ...args: unknown[]) {
      const result = original.apply(this, args);
      if (result instanceof Promise) {
        result.catch((err: { code?: string; message?: string }) => {
          if (err?.code === '40P01') seen.push(String(err.message));
        });
      }
      return result;
    };
    try {
      await fn();
    } finally {
      proto.query = original;
    }
    return seen;
  }

  /** timerRowFree: whether another connection can lock the timer's row now (NOWAIT), then lets go. */
  async function timerRowFree(id: number): Promise<boolean> {
    const c = new Client({ connectionString: schema.url });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT id FROM timers WHERE id = $1 FOR UPDATE NOWAIT', [id]);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return false; // lock_not_available
      throw err;
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
    }
  }

  it('the escalation takes the incident before its timer\'s row; the acknowledgement runs once and the cancelled step never runs', async () => {
    const parsed = parseConfig(TEST_CONFIG);
    if (!parsed.ok) throw new Error('test config');
    const config = parsed.config;
    const clock = new SimulatedClock(DateTime.fromISO(TUESDAY, { setZone: true }));
    const logger = new MemoryLogger();
    const ackSide = await replica();
    const adapter = new RecordingAdapter(config.world, clock);
    const app = buildApp({ world: config.world, store: await replica(), clock, logger, settings: { timerPeriodMs: 1000, instanceId: 'b' }, adapters: [adapter] });
    await app.start({ loop: false });
    open.push({ close: () => app.stop() });
    await app.handle({ text: 'incident report sev2 checkout returns 502', caller: { kind: 'member', id: 'zed' } });
    await app.scheduler.tick();
    const incident = (await ackSide.transaction((tx) => tx.listIncidents({ team: 'payments' })))[0] as Incident;
    const [timer] = await sql<{ id: number; due_at: string }>(`SELECT id, due_at FROM timers WHERE key LIKE $1 AND done_at IS NULL AND cancelled_at IS NULL`, [`${escalationKeyPrefix(incident.id)}%`]);
    expect(timer).toBeDefined();
    clock.set(DateTime.fromMillis(Number(timer?.due_at)));
    const pagesBefore = adapter.delivered.length;

    let ackRuns = 0;
    const { reached: holding, arrived: held, open: go, opened: proceed } = gate();
    const ack = ackSide.transaction(async (tx) => {
      ackRuns++;
      const mine = await tx.getIncident(incident.id);
      holding();
      await proceed;
      await tx.updateIncident({ ...(mine as Incident), state: 'acknowledged', acknowledgedAt: clock.now(), updatedAt: clock.now() });
      await tx.cancelTimers(escalationKeyPrefix(incident.id));
    });
    await held;
    const tick = app.scheduler.tick(); // the escalation is due: it fires now, on the other replica
    await waitForLockWait();
    const free = await timerRowFree(Number(timer?.id));
    go();
    await ack;
    await tick;

    expect(free).toBe(true);
    expect(ackRuns).toBe(1);
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    expect(adapter.delivered.slice(pagesBefore).filter((d) => /Reminder|Escalated/.test(JSON.stringify(d)))).toEqual([]);
    const after = await ackSide.transaction((tx) => tx.listIncidents({ team: 'payments' }));
    expect(after[0]).toMatchObject({ state: 'acknowledged', escalationLevel: 0 });
  }, 30_000);
  const QUIET = `${TEST_CONFIG}
plugins:
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: true }
`;

  /** quietApp: the app with quiet hours on one replica, its clock at `at`. */
  async function quietApp(at: string, instanceId: string): Promise<{ app: ReturnType<typeof buildApp>; adapter: RecordingAdapter; clock: SimulatedClock; logger: MemoryLogger }> {
    const parsed = parseConfig(QUIET, undefined, BUILTIN_PLUGIN_NAMES);
    if (!parsed.ok) throw new Error(`test config: ${JSON.stringify(parsed.problems)}`);
    const loaded = loadPlugins(parsed.config.plugins, parsed.config.world, path.resolve(__dirname, '..', '..'));
    if (!loaded.ok) throw new Error('test plugins');
    const clock = new SimulatedClock(DateTime.fromISO(at, { setZone: true }));
    const logger = new MemoryLogger();
    const adapter = new RecordingAdapter(parsed.config.world, clock);
    const app = buildApp({ world: parsed.config.world, store: await replica(), clock, logger, settings: { timerPeriodMs: 1000, instanceId }, adapters: [adapter], plugins: loaded.plugins });
    await app.start({ loop: false });
    open.push({ close: () => app.stop() });
    return { app, adapter, clock, logger };
  }

  it('a quiet-hours digest timer takes its digest\'s row before its own; a deferral racing it is carried by the digest, once', async () => {
    // 07:00 in London: the end of Dave's night, when his digest goes out.
    const until = DateTime.fromISO('2026-03-03T07:00:00Z', { setZone: true });
    const { app, adapter, logger } = await quietApp('2026-03-03T07:00:00Z', 'b');
    const other = await replica();
    const ns = pluginNamespace('quiet-hours');
    const key = `digest:dave:${until.toMillis()}`;
    const item = (text: string) => ({ text, incidentId: null, at: '2026-03-03T02:00:00.000Z' });
    await other.transaction(async (tx) => {
      await tx.kvSet(ns, key, [item('New incident #1 [sev3] first')]);
      await tx.scheduleTimer({ key: `${ns}:${key}`, kind: PLUGIN_TIMER, dueAt: until, payload: { plugin: 'quiet-hours', key, data: { member: 'dave', key } } });
    });
    const [timer] = await sql<{ id: number }>('SELECT id FROM timers WHERE key = $1', [`${ns}:${key}`]);

    // A deferral on the other replica, as quiet hours writes one: the digest's list, then its timer.
    let deferRuns = 0;
    const { reached: holding, arrived: held, open: go, opened: proceed } = gate();
    const deferral = other.transaction(async (tx) => {
      deferRuns++;
      const list = ((await tx.kvGet(ns, key)) ?? []) as unknown[];
      holding();
      await proceed;
      await tx.kvSet(ns, key, [...list, item('New incident #2 [sev3] second')]);
      await tx.scheduleTimer({ key: `${ns}:${key}`, kind: PLUGIN_TIMER, dueAt: until, payload: { plugin: 'quiet-hours', key, data: { member: 'dave', key } } });
    });
    await held;
    const tick = app.scheduler.tick(); // the digest is due: it fires now, on this replica
    await waitForLockWait('%INSERT INTO kv%');
    const free = await timerRowFree(Number(timer?.id));
    go();
    await deferral;
    await tick;
    for (let i = 0; i < 40 && !adapter.delivered.some((d) => d.to === 'dave'); i++) await app.scheduler.tick();

    expect(free).toBe(true);
    expect(deferRuns).toBe(1);
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    const digests = adapter.delivered.filter((d) => d.to === 'dave');
    expect(digests).toHaveLength(1);
    expect(digests[0]?.text).toMatch(/While you were in quiet hours, 2 notifications waited/);
    expect(digests[0]?.text).toContain('second');
  }, 30_000);

  it('a deferral into a digest another replica (its clock ahead) has sent already is delivered at once, not kept for ever', async () => {
    const behind = await quietApp('2026-03-03T06:58:00Z', 'a'); // still Dave's night here
    const ahead = await quietApp('2026-03-03T07:01:00Z', 'b'); // his morning there
    await behind.app.handle({ text: 'incident report sev3 typo on the pricing page', caller: { kind: 'member', id: 'zed' } });
    await behind.app.scheduler.tick();
    const toDave = () => [...behind.adapter.delivered, ...ahead.adapter.delivered].filter((d) => d.to === 'dave');
    expect(toDave()).toEqual([]); // deferred: his digest at 07:00
    await ahead.app.scheduler.tick(); // the digest is due there
    for (let i = 0; i < 40 && toDave().length === 0; i++) await ahead.app.scheduler.tick();
    // The held page goes out as the page it was.
    expect(toDave().map((d) => d.text)).toEqual([expect.stringMatching(/New incident #1 \[sev3\] typo on the pricing page/)]);

    // This replica still sees Dave's night; the digest it would add to went out already.
    await behind.app.handle({ text: 'incident report sev3 slow invoices', caller: { kind: 'member', id: 'zed' } });
    for (let i = 0; i < 40 && toDave().length < 2; i++) await behind.app.scheduler.tick();
    const texts = toDave().map((d) => d.text);
    expect(texts).toHaveLength(2);
    expect(texts).toEqual(expect.arrayContaining([expect.stringMatching(/New incident #1 \[sev3\] typo/), expect.stringMatching(/New incident #2 \[sev3\] slow invoices/)]));
    expect([...behind.logger.entries, ...ahead.logger.entries].filter((e) => e.level === 'error')).toEqual([]);
  }, 30_000);
  for (const focus of [false, true]) {
    it(`a digest firing while a real deferral for the same member waits for it: no deadlock, nothing lost${focus ? ' (Dave in a focus block: neither the digest of his own shift\'s page nor his own incident is held by focus)' : ''}`, async () => {
      const behind = await quietApp('2026-03-03T06:59:00Z', 'a'); // Dave's night
      const ahead = await quietApp('2026-03-03T07:01:00Z', 'b'); // his morning
      await behind.app.handle({ text: 'incident report sev3 typo on the pricing page', caller: { kind: 'member', id: 'zed' } });
      await behind.app.scheduler.tick();
      if (focus) await ahead.app.handle({ text: 'oncall focus 2h', caller: { kind: 'member', id: 'dave' } });
      const ns = pluginNamespace('quiet-hours');
      let report: Promise<unknown> = Promise.resolve();
      const seen = await deadlocks(async () => {
        // A third connection holds the digest-sent row: the digest stops right after it took its
        // list's row and its timer's row; then a report is deferred for Dave on the other replica.
        // (The row exists and is committed first, so that its waiters queue in the order they came.)
        await sql(`INSERT INTO kv (namespace, key, value) VALUES ($1, 'digest-sent:dave', NULL) ON CONFLICT (namespace, key) DO NOTHING`, [ns]);
        const hold = new Client({ connectionString: schema.url });
        await hold.connect();
        try {
          await hold.query('BEGIN');
          await hold.query(`SELECT value FROM kv WHERE namespace = $1 AND key = 'digest-sent:dave' FOR UPDATE`, [ns]);
          const tick = ahead.app.scheduler.tick();
          await waitForLockWait('%INSERT INTO kv%');
          let settled = false;
          report = behind.app.handle({ text: 'incident report sev3 slow invoices', caller: { kind: 'member', id: 'zed' } }).finally(() => {
            settled = true;
          });
          // The deferral waits for the digest's list (or, in a focus block, goes to a later digest
          // and may finish, or wait for what the digest holds): whichever comes first.
          await Promise.race([report, waitForLockWait('%INSERT INTO kv%', 2, () => settled)]);
          await hold.query('COMMIT');
          await tick;
          await report;
        } finally {
          await hold.end();
        }
      });
      for (let i = 0; i < 10; i++) {
        await ahead.app.scheduler.tick();
        await behind.app.scheduler.tick();
      }
      expect(seen).toEqual([]);
      expect([...behind.logger.entries, ...ahead.logger.entries].filter((e) => e.level === 'error')).toEqual([]);
      const toDave = [...behind.adapter.delivered, ...ahead.adapter.delivered].filter((d) => d.to === 'dave').map((d) => d.text);
      // Both reach him, in a focus block too: the held page of his own shift (held for his night
      // alone) goes out as a page, and focus does not hold his own shift's pages; neither does it
      // the new incident (held only by his night, over on that replica's digest).
      expect(toDave).toHaveLength(2);
      expect(toDave).toEqual(expect.arrayContaining([expect.stringMatching(/New incident #1 \[sev3\] typo/), expect.stringMatching(/New incident #2 \[sev3\] slow invoices/)]));
      const later = await sql<{ value: unknown[] }>("SELECT value FROM kv WHERE namespace = $1 AND key LIKE 'digest:dave:%' AND value IS NOT NULL", [ns]);
      expect(later).toEqual([]);
    }, 30_000);
  }
  it('a deadlock inside a plugin hook runs the event again and is not the plugin\'s failure', async () => {
    const night = await quietApp('2026-03-03T02:00:00Z', 'a');
    // The first write of a digest list fails as a deadlock would (a sequence: not rolled back with it).
    await sql('CREATE SEQUENCE deadlocks');
    await sql(`CREATE FUNCTION deadlock_once() RETURNS trigger AS $$
      BEGIN
        IF NEW.key LIKE 'digest:%' AND nextval('deadlocks') = 1 THEN RAISE EXCEPTION 'simulated deadlock (test)' USING ERRCODE = '40P01'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await sql('CREATE TRIGGER deadlock_once BEFORE INSERT OR UPDATE ON kv FOR EACH ROW EXECUTE FUNCTION deadlock_once()');
    const reply = await night.app.handle({ text: 'incident report sev3 typo on the pricing page', caller: { kind: 'member', id: 'zed' } });
    expect(JSON.stringify(reply)).toMatch(/Reported /);
    // Ran again (its first run's incident number is spent: #2), once: one incident, and Dave's page waits for his morning.
    expect(await sql('SELECT id::int AS id FROM incidents')).toEqual([{ id: 2 }]);
    const [digest] = await sql<{ value: unknown[] }>("SELECT value FROM kv WHERE key LIKE 'digest:dave:%'");
    expect(digest?.value).toHaveLength(1);
    expect(night.app.plugins.status()['quiet-hours']).toBe('ok');
    expect(night.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  }, 30_000);
});
