/**
 * Timers and the rows their handlers lock, on PostgreSQL (two replicas): an acknowledgement locks
 * the incident and then cancels its escalation timer; a firing escalation must take the same two
 * rows in the same order, or the two wait for each other until PostgreSQL's deadlock timeout (1 s)
 * aborts one of them. (SQLite has one writer at a time: no such circle there.)
 */
import type { DeliveryWorker } from '../../src/app/delivery-worker';
import { Scheduler, type TimerOptions } from '../../src/app/scheduler';
import type { Incident } from '../../src/core/incident/types';
import { SystemClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/postgres-store';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';

/** The scheduler only asks the delivery worker to send after each tick; nothing is sent here. */
const noDeliveries = { start: () => undefined, stop: async () => undefined, drain: async () => undefined, pump: async () => undefined, stats: { sent: 0, failed: 0 } } as unknown as DeliveryWorker;

describePg('a firing timer and a transaction that cancels it', () => {
  let schema: TestSchema;
  const open: PostgresStore[] = [];
  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await schema.drop();
  });

  async function replica(): Promise<PostgresStore> {
    const s = await openPostgresStore(schema.url);
    open.push(s);
    await s.migrate();
    return s;
  }

  /**
   * race: an acknowledgement-like transaction on one replica holds the incident while the other
   * replica's scheduler fires the incident's escalation-like timer, then cancels that timer.
   */
  async function race(lockIncident: boolean): Promise<{ ackRuns: number; timerRuns: number; handled: number; errors: string[] }> {
    const a = await replica();
    const b = await replica();
    const clock = new SystemClock();
    const now = clock.now();
    const incident = await a.transaction((tx) => tx.insertIncident({
      team: 'payments', title: 'Down', severity: 'sev2', source: 'chat', service: null, fingerprint: null, state: 'open',
      assignee: 'alice', reporter: { kind: 'member', id: 'zed' }, escalationLevel: 0,
      policy: { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'] }, openedAt: now, acknowledgedAt: null, resolvedAt: null, updatedAt: now,
    } as Omit<Incident, 'id'>));
    await a.transaction((tx) => tx.scheduleTimer({ key: `incident:${incident.id}:escalate:1`, kind: 'test-escalate', dueAt: now.minus({ seconds: 1 }), payload: { incidentId: incident.id } }));
    const logger = new MemoryLogger();
    const scheduler = new Scheduler(b, clock, logger, { timerPeriodMs: 1000, instanceId: 'b' } as never, noDeliveries);
    let handled = 0;
    let timerRuns = 0;
    const options: TimerOptions = {
      // Counts the timer's transactions (a deadlock's victim runs again); locks the incident or not.
      lock: async (tx, timer) => {
        timerRuns++;
        if (lockIncident) await tx.getIncident(Number(timer.payload.incidentId));
      },
    };
    scheduler.on('test-escalate', async (tx, timer) => {
      await tx.getIncident(Number(timer.payload.incidentId));
      handled++;
    }, options);
    let ackRuns = 0;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const ack = a.transaction(async (tx) => {
      ackRuns++;
      const mine = await tx.getIncident(incident.id);
      holding();
      await new Promise((resolve) => setTimeout(resolve, 300)); // the other replica's timer fires meanwhile
      await tx.updateIncident({ ...(mine as Incident), state: 'acknowledged', acknowledgedAt: clock.now(), updatedAt: clock.now() });
      await tx.cancelTimers(`incident:${incident.id}:`);
    });
    await held;
    const tick = scheduler.tick();
    await ack;
    await tick;
    return { ackRuns, timerRuns, handled, errors: logger.entries.filter((e) => e.level === 'error').map((e) => `${e.msg}: ${String(e.fields.error)}`) };
  }

  it('the timer takes the incident before its own row: the acknowledgement runs once and the cancelled step never runs', async () => {
    const r = await race(true);
    expect(r).toEqual({ ackRuns: 1, timerRuns: 1, handled: 0, errors: [] });
  }, 20_000);

  it('(without: the two wait for each other and PostgreSQL aborts one)', async () => {
    const r = await race(false);
    // One of the two was aborted and ran again (the store retries a deadlock's victim).
    expect(r.ackRuns + r.timerRuns).toBeGreaterThan(2);
    expect(r.handled).toBe(0); // the step stays cancelled either way
  }, 20_000);
});
