/**
 * A NUL character (U+0000) in what the outside sends: alert summaries and labels, a chat report's
 * title. JSON allows it ("\u0000"); PostgreSQL's text and jsonb refuse it, and a refused statement
 * fails the whole transaction: the webhook's batch (the other alerts in it too) answered 500 and
 * was sent again forever, and the page never went out. On both stores such an alert opens its
 * incident, pages, repeats fold into it, and what a plugin keeps of it (a quiet-hours digest) is
 * kept and delivered; a literal "\u0000" typed as six characters stays as typed. The same for a
 * lone surrogate (jsonb refuses its escape) and for a sender's fingerprint too long for an index
 * entry (PostgreSQL: 2,704 bytes at most), kept as its hash.
 */
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
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

function story(open: () => Promise<IntakeHarness>): void {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await open();
  });
  afterEach(() => t.stop());

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
    expect(title.replace(/[\u0000\ufffd]/g, '_')).toBe('Disk_full on db-1 (see \\u0000 literally)');

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

  it('a chat report whose title carries a NUL opens the incident and pages the on-call', async () => {
    const reply = await t.h.report('zed', 'sev1 checkout\u0000returns 502');
    expect(reply).toMatch(/#1/);
    t.h.expectMessage('dave', /New incident #1 \[sev1\] checkout.?returns 502/);
  });
}

describe('NUL characters in alerts and reports (SQLite)', () => {
  story(() => IntakeHarness.start(QUIET, { at: NIGHT }));
});

describePg('NUL characters in alerts and reports (PostgreSQL)', () => {
  let schema: TestSchema;
  afterEach(async () => {
    await schema.drop();
  });
  story(async () => {
    schema = await createSchema();
    return IntakeHarness.start(QUIET, {
      at: NIGHT,
      store: async (clock) => {
        const store = await openPostgresStore(schema.url, { clock });
        await store.migrate();
        return store;
      },
    });
  });
});
