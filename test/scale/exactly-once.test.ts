/**
 * Scale-out, end to end: real `onehand start` processes share one database; 500 incidents arrive
 * as signed webhooks, spread over the replicas; escalations run on a 2 s ack timeout (on-call,
 * re-page, mentor, lead); one replica is killed with SIGKILL in the middle. Every page and every
 * escalation step is delivered, and each exactly once, except where the design allows a repeat:
 * a delivery the killed replica sent but could not mark sent is sent again by another replica
 * (at least once; at most one per delivery lane in flight at the kill). Those repeats are counted and printed. Escalation steps (timers) are checked in
 * the database to have fired exactly once.
 *
 * On PostgreSQL: three replicas, one killed. On SQLite: one process, killed and restarted.
 */
import * as path from 'node:path';
import type { Store } from '../../src/ports/store';
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { tempDir, writeFile, type Delivery } from '../cli/run-cli';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';
import { Replica, scaleConfig, sleep, stepOf, waitFor } from './replicas';

const INCIDENTS = 500;
const STEPS = ['page', 'reminder', 'mentor', 'lead'] as const;

jest.setTimeout(90_000);

interface Scenario {
  /** Replicas at start; the one at index `victim` is killed when half the incidents are in. */
  start(): Promise<Replica[]>;
  /** After the kill: a replacement to start (SQLite), or null. */
  restart: (() => Promise<Replica>) | null;
  store(): Promise<Store>;
}

async function runScenario(scenario: Scenario): Promise<void> {
  const replicas = await scenario.start();
  const all: Replica[] = [...replicas];
  const victim = replicas[replicas.length > 1 ? 1 : 0] as Replica;
  let reported = 0;
  let killed = false;
  const started = Date.now();
  try {
    // Report through every live replica, round robin; a request that fails (its replica died) is
    // sent again to another: the fingerprint makes the repeat fold into the same incident.
    let next = 0;
    let turn = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const n = next++;
        if (n >= INCIDENTS) return;
        const deadline = Date.now() + 30_000;
        for (;;) {
          const live = all.filter((r) => r.alive);
          const target = live[turn++ % Math.max(1, live.length)];
          const status = target ? await target.report({ title: `disk full on node ${n}`, fingerprint: `node-${n}` }).catch(() => 0) : 0;
          if (status === 202) break;
          if (Date.now() > deadline) throw new Error(`alert ${n} was not accepted within 30 s (last status ${status})`);
          await sleep(50);
        }
        reported++;
        if (!killed && reported >= INCIDENTS / 2) {
          killed = true;
          await victim.kill();
          if (scenario.restart) all.push(await scenario.restart());
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    const reportedMs = Date.now() - started;

    // Wait until every incident reached its last step (lead) and the outbox is empty.
    const store = await scenario.store();
    try {
      await waitFor('every incident to reach its lead and the outbox to drain', async () => {
        const leads = new Set(all.flatMap((r) => r.lines).filter((d) => stepOf(d) === 'lead').map((d) => d.incident));
        if (leads.size < INCIDENTS) return false;
        return (await store.transaction((tx) => tx.outboxDepth())) === 0;
      }, 45_000, 250);
      const doneMs = Date.now() - started;

      // The database: 500 incidents, and in each timeline exactly one "notified" per step.
      const incidents = await store.transaction((tx) => tx.listIncidents({}));
      expect(incidents).toHaveLength(INCIDENTS);
      expect(new Set(incidents.map((i) => i.fingerprint)).size).toBe(INCIDENTS);
      const wrongSteps: string[] = [];
      for (const incident of incidents) {
        const timeline = await store.transaction((tx) => tx.timeline(incident.id));
        const steps = timeline.filter((e) => e.kind === 'notified').map((e) => String(e.data.step));
        if (steps.join(',') !== STEPS.join(',')) wrongSteps.push(`#${incident.id}: ${steps.join(',')}`);
        const escalated = timeline.filter((e) => e.kind === 'escalated').map((e) => String(e.data.target));
        if (escalated.join(',') !== 'mentor,lead') wrongSteps.push(`#${incident.id} escalated: ${escalated.join(',')}`);
      }
      expect(wrongSteps).toEqual([]);

      // The outputs: each step of each incident delivered; repeats only of what the victim sent.
      const victimLines = new Set(victim.lines.map(keyOf));
      const counts = new Map<string, { n: number; byVictim: boolean }>();
      for (const r of all) {
        for (const d of r.lines) {
          const step = stepOf(d);
          if (step === null) continue;
          const k = `${d.incident}:${step}`;
          const c = counts.get(k) ?? { n: 0, byVictim: false };
          counts.set(k, { n: c.n + 1, byVictim: c.byVictim || (r === victim && victimLines.has(keyOf(d))) });
        }
      }
      const missing: string[] = [];
      for (const incident of incidents) for (const step of STEPS) if (!counts.has(`${incident.id}:${step}`)) missing.push(`${incident.id}:${step}`);
      expect(missing).toEqual([]);
      const repeats = [...counts.entries()].filter(([, c]) => c.n > 1);
      const unexplained = repeats.filter(([, c]) => c.n > 2 || !c.byVictim).map(([k, c]) => `${k} x${c.n}`);
      expect(unexplained).toEqual([]);
      // Each send is marked on its own: a kill repeats at most the sends in flight at that instant,
      // one per delivery lane (here the four members who get pages and steps).
      expect(repeats.length).toBeLessThanOrEqual(4);
      expect(counts.size).toBe(INCIDENTS * STEPS.length);

      const perReplica = all.map((r) => `${r.name}: ${r.lines.filter((d) => stepOf(d) !== null).length}`).join(', ');
      process.stdout.write(`[scale] ${all.length} processes, ${INCIDENTS} incidents reported in ${reportedMs} ms, all steps delivered after ${doneMs} ms; `
        + `pages+steps delivered per process: ${perReplica}; at-least-once repeats (sent by the killed process, not marked sent): ${repeats.length}\n`);
    } finally {
      await store.close();
    }
  } finally {
    const codes = await Promise.all(all.filter((r) => r.alive).map((r) => r.stop()));
    const errors = all.map((r) => r.stderr).join('').split('\n').filter((l) => /"level":"error"/.test(l));
    expect(errors).toEqual([]);
    expect(codes.every((c) => c === 0)).toBe(true);
  }
}

function keyOf(d: Delivery): string {
  return `${d.incident}|${d.to}|${d.text}`;
}

describePg('scale-out on PostgreSQL', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createSchema('onehand_scale');
  });
  afterAll(async () => {
    await schema?.drop();
  });

  it('three replicas, one killed mid-run: every page and escalation step delivered, each once', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', scaleConfig());
    const env = { ONEHAND_DATABASE_URL: schema.url, ONEHAND_DATA: path.join(dir, 'unused.db') };
    await runScenario({
      start: async () => {
        // The first migrates; the others start together (their migrate is a no-op).
        const first = await Replica.start('r1', config, env);
        return [first, ...(await Promise.all([Replica.start('r2', config, env), Replica.start('r3', config, env)]))];
      },
      restart: null,
      store: () => openPostgresStore(schema.url),
    });
  });
});

describe('scale-out on SQLite', () => {
  it('one process, killed mid-run and restarted: the same counts', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', scaleConfig());
    const env = { ONEHAND_DATA: path.join(dir, 'data', 'onehand.db'), ONEHAND_DATABASE_URL: '' };
    await runScenario({
      start: async () => [await Replica.start('p1', config, env)],
      restart: () => Replica.start('p1-restarted', config, env),
      store: async () => openSqliteStore(env.ONEHAND_DATA),
    });
  });
});
