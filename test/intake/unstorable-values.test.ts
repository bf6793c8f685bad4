/**
 * Values PostgreSQL cannot hold. A NUL character (U+0000) in what the outside sends: alert summaries and labels, a chat report's
 * title. JSON allows it ("\u0000"); PostgreSQL's text and jsonb refuse it, and a refused statement
 * fails the whole transaction: the webhook's batch (the other alerts in it too) answered 500 and
 * was sent again forever, and the page never went out. On both stores such an alert opens its
 * incident, pages, repeats fold into it, and what a plugin keeps of it (a quiet-hours digest) is
 * kept and delivered; a literal "\u0000" typed as six characters stays as typed. The same for a
 * lone surrogate (jsonb refuses its escape) and for a sender's fingerprint too long for an index
 * entry (PostgreSQL: 2,704 bytes at most), kept as its hash; an incident an older Onehand opened
 * under such a fingerprint is still that alert's after the upgrade (migration 8 rewrites the key).
 */
import { Client } from 'pg';
import { Database } from 'sqlite3';
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
import type { SimulatedClock } from '../../src/runtime/clock';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';
import { amAlert, amPayload, INTEGRATIONS, IntakeHarness } from './intake-harness';

const QUIET = `${INTEGRATIONS}
plugins:
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: true }
`;

/** 02:00 in London on the Tuesday: Dave is on call, and asleep. */
const NIGHT = '2026-03-03T02:00:00Z';

/** A store under test: a fresh harness, the same database again, and raw SQL on it. */
interface Setup {
  open(): Promise<IntakeHarness>;
  reopen(t: IntakeHarness): Promise<IntakeHarness>;
  sql(t: IntakeHarness, statements: readonly string[]): Promise<void>;
}

function story(setup: Setup): void {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await setup.open();
  });
  afterEach(() => t.stop());

  it('an incident an older Onehand opened under a fingerprint over 200 characters keeps its alert after the upgrade: the resolve resolves it', async () => {
    const long = `legacy-${'y'.repeat(300)}`;
    const alert = (status: string) => ({ title: 'Nightly backup failed', status, severity: 'sev1', fingerprint: long });
    // What an older Onehand stored: the same rows under the long key itself, before migration 8.
    expect(await t.generic({ title: 'Nightly backup failed', status: 'firing', severity: 'sev1', fingerprint: 'short' })).toMatchObject({ status: 202, body: { incidents: [1] } });
    t.h.expectMessage('dave', /New incident #1/);
    await setup.sql(t, [
      `UPDATE intake_alerts SET fingerprint = '${long}', alert_key = '${long}' WHERE fingerprint = 'short'`,
      `UPDATE intake_groups SET fingerprint = '${long}' WHERE fingerprint = 'short'`,
      `UPDATE incidents SET fingerprint = '${long}' WHERE id = 1`,
      'DELETE FROM schema_migrations WHERE version = 8',
    ]);
    await t.stop();
    t = await setup.reopen(t);
    expect(await t.generic(alert('firing'))).toMatchObject({ status: 202, body: { incidents: [1] } });
    expect(await t.generic(alert('resolved'))).toMatchObject({ status: 202, body: { incidents: [1] } });
    expect(await t.read((tx) => tx.listIncidents({}))).toEqual([expect.objectContaining({ id: 1, state: 'resolved', fingerprint: expect.stringMatching(/^sha256:/) })]);
    expect((await t.read((tx) => tx.intakeGroupOf(1)))?.count).toBe(2); // both firings, the old and the new
  });

  it('alerts with NUL characters open their incidents and page; repeats fold; a deferred one reaches the digest', async () => {
    const payload = amPayload([
      amAlert({ alertname: 'Disk\u0000Full', instance: 'db-1', severity: 'critical' }, 'firing', { annotations: { summary: 'Disk\u0000full on db-1 (see \\u0000 literally)' } }),
      amAlert({ alertname: 'QueueSlow', instance: 'mq\u0000-2', severity: 'warning' }, 'firing', { annotations: { summary: 'Queue\u0000slow on mq-2' } }),
    ]);
    const reply = await t.alertmanager(payload);
    expect(reply).toMatchObject({ status: 202, body: { accepted: 2, incidents: [1, 2] } });
    // The sev1 pages at once, through quiet hours; the sev3 waits for the morning.
    const page = t.h.expectMessage('dave', /New incident #1 \[sev1\] Disk.?full on db-1 \(see \\u0000 literally\)/);
    expect(page.text).not.toContain('\u0000');
    t.h.expectNothingFor('dave');

    expect((await t.alertmanager(payload)).status).toBe(202);
    expect(await t.read((tx) => tx.listIncidents({}))).toHaveLength(2);
    expect((await t.read((tx) => tx.intakeGroupOf(2)))?.count).toBe(2);
    const title = (await t.read((tx) => tx.getIncident(1)))?.title ?? '';
    expect(title).toBe('Disk\ufffdfull on db-1 (see \\u0000 literally)');

    await t.h.advanceTo('2026-03-03T07:00:00Z');
    t.h.expectMessage('dave', /Queue.?slow on mq-2/);
    expect(await t.read((tx) => tx.outboxDepth())).toBe(0);
  });

  it('a lone surrogate in alert text and a 5,000-character fingerprint open, page and fold too', async () => {
    const huge = `fp-${'x'.repeat(5000)}`;
    const alert = { title: 'Cache\ud800miss storm', status: 'firing', severity: 'sev1', fingerprint: huge, labels: { note: 'half \udc00 pair' } };
    expect(await t.generic(alert)).toMatchObject({ status: 202, body: { accepted: 1, incidents: [1] } });
    t.h.expectMessage('dave', /New incident #1 \[sev1\] Cache.?miss storm/);
    expect(await t.generic(alert)).toMatchObject({ status: 202, body: { accepted: 1, incidents: [1] } });
    expect(await t.read((tx) => tx.listIncidents({}))).toHaveLength(1);
    expect((await t.read((tx) => tx.intakeGroupOf(1)))?.count).toBe(2);
    expect((await t.read((tx) => tx.getIncident(1)))?.fingerprint).toMatch(/^sha256:[0-9a-f]{32}$/);
  });

  it('a repeat of an alert whose startsAt and fingerprint carry a NUL and a lone surrogate does not reopen the incident a person resolved', async () => {
    // What Onehand keeps must be what it compares with: on PostgreSQL a value changed only by the
    // store no longer matched the alert's own copy, and every repeat counted as a new firing.
    const payload = amPayload([amAlert({ alertname: 'Edge', instance: 'e1', severity: 'critical' }, 'firing', { startsAt: '2026-03-03T01:58:00Z\u0000\ud800', fingerprint: 'edge\u0000\udc00' })]);
    expect(await t.alertmanager(payload)).toMatchObject({ status: 202, body: { incidents: [1] } });
    t.h.expectMessage('dave', /New incident #1/);
    await t.h.run('dave', 'incident resolve 1 fixed by hand');
    const mark = t.h.mark();
    expect(await t.alertmanager(payload)).toMatchObject({ status: 202, body: { incidents: [1] } });
    expect(t.h.mark()).toBe(mark);
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('resolved');
    expect((await t.read((tx) => tx.intakeGroupOf(1)))?.fingerprint).toBe('edge\ufffd\ufffd');
  });

  it('a chat report whose title and reporter\'s name carry a NUL and a lone surrogate opens the incident and pages the on-call', async () => {
    const reply = await t.h.report('z\u0000e\udc00d', 'sev1 checkout\u0000returns\ud800 502');
    expect(reply).toMatch(/#1/);
    t.h.expectMessage('dave', /New incident #1 \[sev1\] checkout.?returns.? 502/);
    // Stored as it was read, on both stores: U+FFFD in place of each.
    const incident = await t.read((tx) => tx.getIncident(1));
    expect(incident?.title).toBe('checkout\ufffdreturns\ufffd 502');
    expect(incident?.reporter).toMatchObject({ kind: 'guest', name: 'z\ufffde\ufffdd' });
  });

  it('a summary cut at 200 characters does not split an emoji: no half of it is stored or sent', async () => {
    const summary = `${'a'.repeat(199)}\u{1F525} on fire`;
    expect(await t.generic({ title: summary, status: 'firing', severity: 'sev1', fingerprint: 'emoji' })).toMatchObject({ status: 202, body: { incidents: [1] } });
    const page = t.h.expectMessage('dave', /New incident #1/);
    expect((await t.read((tx) => tx.getIncident(1)))?.title).toBe('a'.repeat(199));
    expect(page.text).not.toMatch(/[\ud800-\udfff]/);
  });
}

describe('values PostgreSQL cannot hold, on SQLite', () => {
  story({
    open: () => IntakeHarness.start(QUIET, { at: NIGHT }),
    reopen: (t) => IntakeHarness.start(QUIET, { at: NIGHT, dbPath: t.h.dbPath }),
    sql: async (t, statements) => {
      const db = new Database(t.h.dbPath);
      try {
        for (const statement of statements) await new Promise<void>((resolve, reject) => db.run(statement, (err: Error | null) => (err ? reject(err) : resolve())));
      } finally {
        await new Promise((resolve) => db.close(resolve));
      }
    },
  });
});

describePg('values PostgreSQL cannot hold, on PostgreSQL', () => {
  let schema: TestSchema | null = null;
  const store = async (clock: SimulatedClock) => {
    const s = await openPostgresStore((schema as TestSchema).url, { clock });
    await s.migrate();
    return s;
  };
  afterAll(async () => {
    await schema?.drop();
  });
  story({
    open: async () => {
      await schema?.drop();
      schema = await createSchema();
      return IntakeHarness.start(QUIET, { at: NIGHT, store });
    },
    reopen: () => IntakeHarness.start(QUIET, { at: NIGHT, store }),
    sql: async (_t, statements) => {
      const c = new Client({ connectionString: (schema as TestSchema).url });
      await c.connect();
      try {
        for (const statement of statements) await c.query(statement);
      } finally {
        await c.end();
      }
    },
  });
});
