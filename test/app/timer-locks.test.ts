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
import { TEST_CONFIG, TUESDAY } from '../harness/fixtures';
import { RecordingAdapter } from '../harness/recording-adapter';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';

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

  /** waitForLockWait: until a connection of this test waits for a row lock (the timer's transaction). */
  async function waitForLockWait(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const rows = await sql<{ n: string }>(`SELECT COUNT(*) AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND state = 'active' AND query LIKE '%FROM incidents WHERE id = $1 FOR UPDATE%'`);
      if (Number(rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the timer never waited for the incident');
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
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    let go!: () => void;
    const proceed = new Promise<void>((resolve) => (go = resolve));
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
});
