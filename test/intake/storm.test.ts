/**
 * Alert storms, through HTTP: 5,000 alerts in a minute over 50 fingerprints page the on-call at
 * most 50 times, with one storm summary updated as it grows; nobody else hears anything.
 */
import { DateTime } from 'luxon';
import { Database } from 'sqlite3';
import { HANDOVER_CHUNK } from '../../src/app/incident-service';
import type { Recorded } from '../harness/recording-adapter';
import { amAlert, amPayload, IntakeHarness } from './intake-harness';

const OTHERS = ['alice', 'bob', 'carol', 'erin', 'frank', 'root'];

/** doneTimers: how many timers of `kind` fired, read from the database file. */
function doneTimers(file: string, kind: string): Promise<number> {
  const db = new Database(file);
  return new Promise((resolve, reject) => db.get('SELECT COUNT(*) AS n FROM timers WHERE kind = ? AND done_at IS NOT NULL', [kind],
    (err: Error | null, row: { n: number }) => db.close(() => (err ? reject(err) : resolve(row.n)))));
}

describe('alert intake: storms', () => {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await IntakeHarness.start();
  });
  afterEach(() => t.stop());

  it('5,000 alerts in a minute over 50 fingerprints: at most 50 pages and one storm summary for the on-call only', async () => {
    let n = 0;
    for (let round = 0; round < 50; round++) {
      const requests = Array.from({ length: 10 }, () => {
        const alerts = Array.from({ length: 10 }, () => {
          const fp = (n++ * 7) % 50;
          return amAlert({ alertname: 'Storm', instance: `host-${fp}`, severity: 'critical' }, 'firing', { fingerprint: `fp-${fp}` });
        });
        return t.alertmanager(amPayload(alerts));
      });
      const replies = await Promise.all(requests);
      expect(replies.map((r) => r.status)).toEqual(Array(10).fill(202));
      await t.h.advance('1s');
    }
    expect(n).toBe(5000);
    expect(await t.read((tx) => tx.listIncidents({}))).toHaveLength(50);

    const forDave = t.h.messagesFor('dave');
    const pages = forDave.filter((d) => d.message.kind === 'page');
    expect(pages.length).toBeLessThanOrEqual(50);
    const summaries = forDave.filter((d: Recorded) => d.message.updateKey !== undefined);
    const keys = new Set(summaries.map((d) => d.message.updateKey));
    expect(keys).toEqual(new Set(['storm:1']));
    expect(summaries.filter((d) => d.message.kind === 'page')).toHaveLength(1);
    // 10 incidents page one by one, the 11th crosses the threshold: it is paged and starts the storm.
    expect(pages.filter((d) => d.message.updateKey === undefined)).toHaveLength(11);
    expect(summaries.at(-1)?.text).toMatch(/Alert storm on Payments: 50 new incidents from Alertmanager \(prom\)/);
    expect(new Set(summaries.map((d) => d.key)).size).toBe(summaries.length);
    // Every message pings at most dave; nobody else received anything.
    for (const d of t.h.adapter.delivered) expect(d.message.mentions.every((m) => m === d.to)).toBe(true);
    t.h.expectNothingFor(...OTHERS);

    // Storm incidents are open, quiet, and do not escalate; the storm ends after a quiet window.
    const quiet = await t.read((tx) => tx.timeline(30));
    expect(quiet.map((e) => e.kind)).toEqual(['reported', 'alert-firing', 'storm']);
    const mark = t.h.mark();
    await t.h.advance('5m');
    const after = t.h.adapter.delivered.slice(mark);
    const over = after.find((d) => d.message.updateKey === 'storm:1');
    expect(over?.text).toMatch(/Alert storm \(over\) on Payments: 50 new incidents/);
    expect(after.filter((d) => d.to === '#payments').map((d) => d.text)).toContainEqual(expect.stringMatching(/Alert storm over: 50 incidents/));
    expect((await t.read((tx) => tx.activeStorm('payments')))).toBeNull();
    // Only the 11 paged incidents re-page (renotify) the on-call; the 39 quiet ones stay quiet.
    const reminders = after.filter((d) => d.to === 'dave' && /Reminder/.test(d.text));
    expect(reminders).toHaveLength(11);
  });

  it('an alert more severe than anything the storm paged is paged on its own and escalates; the next as severe opens quietly', async () => {
    const fire = (name: string, severity: string) => t.alertmanager(amPayload([amAlert({ alertname: name, instance: name, severity }, 'firing', { fingerprint: name })]));
    for (let i = 0; i < 11; i++) await fire(`w${i}`, 'warning'); // sev3: the 11th starts the storm
    const mark = t.h.mark();
    expect((await fire('DatabaseDown', 'critical')).status).toBe(202); // sev1, #12
    const page = t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave' && d.message.kind === 'page' && d.message.updateKey === undefined);
    expect(page.map((d) => d.text.split('\n')[0])).toEqual(['@Dave New incident #12 [sev1] DatabaseDown on DatabaseDown']);
    const timeline = await t.read((tx) => tx.timeline(12));
    expect(timeline.map((e) => e.kind)).toContain('storm');
    expect(await t.h.run('carol', 'incident show 12')).toContain('opened during an alert storm, more severe than anything it had paged (sev3): paged on its own');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev1');
    // Another sev1 in the same storm opens quietly; a sev3 too. The storm counts all of them.
    await fire('DiskFull', 'critical');
    await fire('w-late', 'warning');
    expect(t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave' && d.message.kind === 'page' && d.message.updateKey === undefined)).toHaveLength(1);
    expect((await t.read((tx) => tx.activeStorm('payments')))?.incidents).toBe(14);
    // The sev1 that broke through has its own chain: the reminder and the mentor follow.
    await t.h.advance('10m');
    expect(t.h.messagesFor('alice').some((d) => /Escalated to you as mentor.*#12 \[sev1\]/s.test(d.text))).toBe(true);
  });

  it('a sev1 that fires again during a storm of sev3 warnings reopens and is paged, not quietly', async () => {
    const fire = (name: string, severity: string, status: 'firing' | 'resolved' = 'firing', startsAt?: string) =>
      t.alertmanager(amPayload([amAlert({ alertname: name, instance: name, severity }, status, { fingerprint: name, ...(startsAt ? { startsAt } : {}) })]));
    await fire('DatabaseDown', 'critical'); // #1, paged
    await t.h.run('dave', 'incident ack 1');
    await fire('DatabaseDown', 'critical', 'resolved'); // resolves #1
    await t.h.advance('16m'); // past the flap window: firing again is not a flap of Dave's page
    for (let i = 0; i < 11; i++) await fire(`w${i}`, 'warning'); // the storm (sev3)
    const mark = t.h.mark();
    await fire('DatabaseDown', 'critical', 'firing', '2026-03-03T10:20:00Z'); // fires again: #1 reopens
    const pages = t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave' && d.message.kind === 'page' && d.message.updateKey === undefined);
    expect(pages.map((d) => d.text.split('\n')[0])).toEqual([expect.stringMatching(/#1 \[sev1\] DatabaseDown/)]);
    expect(await t.h.run('carol', 'incident show 1')).toContain('more severe than anything it had paged (sev3): paged on its own');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev1');
  });

  it('in one big request during a storm, the alerts more severe than the storm paged are paged on their own, in order; the rest open quietly', async () => {
    for (let i = 0; i < 11; i++) await t.alertmanager(amPayload([amAlert({ alertname: `w${i}`, instance: `w${i}`, severity: 'warning' }, 'firing', { fingerprint: `w${i}` })]));
    const mark = t.h.mark();
    const alerts = Array.from({ length: 120 }, (_, i) => amAlert({ alertname: `b${i}`, instance: `b${i}`, severity: i === 60 || i === 100 ? 'critical' : 'warning' }, 'firing', { fingerprint: `b${i}` }));
    expect((await t.alertmanager(amPayload(alerts))).status).toBe(202);
    await t.h.advance('1s');
    const pages = t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave' && d.message.kind === 'page' && d.message.updateKey === undefined);
    expect(pages.map((d) => d.text.split('\n')[0])).toEqual(['@Dave New incident #72 [sev1] b60 on b60']);
    expect(await t.read((tx) => tx.listIncidents({}))).toHaveLength(131);
  });

  it('a storm that keeps growing ends one quiet window after its last incident, not after its first', async () => {
    const fire = (name: string) => t.alertmanager(amPayload([amAlert({ alertname: name, instance: name }, 'firing', { fingerprint: name })]));
    for (let i = 0; i < 11; i++) await fire(`a${i}`); // the 11th starts the storm (window 5m)
    await t.h.advance('4m');
    await fire('late'); // grows the storm 4 minutes in
    await t.h.advance('2m'); // 6 minutes after the start, 2 after the last incident
    expect(await t.read((tx) => tx.activeStorm('payments'))).not.toBeNull();
    expect(t.h.messagesFor('dave').some((d) => /Alert storm \(over\)/.test(d.text))).toBe(false);
    await t.h.advance('3m'); // 5 minutes after the last incident
    expect(await t.read((tx) => tx.activeStorm('payments'))).toBeNull();
    const summaries = t.h.messagesFor('dave').filter((d) => d.message.updateKey === 'storm:1');
    expect(summaries.at(-1)?.text).toMatch(/Alert storm \(over\) on Payments: 12 new incidents/);
  });

  it('tells every growth within a second, several in one second and one just after its update', async () => {
    const fire = (name: string) => t.alertmanager(amPayload([amAlert({ alertname: name, instance: name }, 'firing', { fingerprint: name })]));
    const latest = () => t.h.messagesFor('dave').filter((d) => d.message.updateKey === 'storm:1').at(-1)?.text ?? '';
    for (let i = 0; i < 11; i++) await fire(`a${i}`); // the 11th starts the storm
    for (let i = 0; i < 4; i++) {
      await t.h.advance('150ms');
      await fire(`b${i}`); // four growths in the same second (one timer tells them)
    }
    await t.h.advance('1s');
    expect(latest()).toMatch(/Alert storm on Payments: 15 new incidents/);
    await fire('c'); // right after that update went out
    await t.h.advance('1s');
    expect(latest()).toMatch(/Alert storm on Payments: 16 new incidents/);
  });

  it('a shift change after a storm hands its 500 incidents over in parts: the paged ones page the incoming on-call', async () => {
    await t.h.advanceTo('2026-03-09T07:50:00Z'); // Monday 09:00 Berlin (08:00Z) dave hands over to alice
    const alerts = Array.from({ length: 500 }, (_, i) => amAlert({ alertname: 'Storm', instance: `host-${i}` }, 'firing', { fingerprint: `fp-${i}` }));
    for (let i = 0; i < 500; i += 100) expect((await t.alertmanager(amPayload(alerts.slice(i, i + 100)))).status).toBe(202);
    await t.h.advanceTo('2026-03-09T08:00:01Z');
    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents).toHaveLength(500);
    expect(incidents.filter((i) => i.assignee !== 'alice')).toEqual([]);
    // The 11 that paged dave page alice now; the quiet ones move quietly.
    expect(t.h.messagesFor('alice').filter((d) => /Handed over to you at the shift change/.test(d.text))).toHaveLength(11);
    // dave hears once: the count, the oldest 20 named, the rest counted.
    const notice = t.h.messagesFor('dave').filter((d) => /shift ended/.test(d.text));
    expect(notice).toHaveLength(1);
    expect(notice[0]?.text).toMatch(/500 unacknowledged incidents moved to Alice, who has been paged for 11 of them; 39 opened during an alert storm move without a page\./);
    expect(notice[0]?.text).toMatch(/and 480 more/);
    // In parts of 50, each a transaction of its own (a timer each): nobody's page waits for all 500.
    const parts = await t.read((tx) => tx.timeline(500));
    expect(parts.filter((e) => e.kind === 'reassigned')).toHaveLength(1);
    expect(await doneTimers(t.h.dbPath, 'shift-handover')).toBe(500 / HANDOVER_CHUNK - 1);
  });

  it('two shift changes caught up at once (after a restart): what is left of the first handover goes to whoever is on call now', async () => {
    await t.h.advanceTo('2026-03-09T07:50:00Z');
    // dave hands over to alice at 08:00Z; bob covers alice from 08:30Z (09:30 Berlin).
    await t.h.run('carol', 'oncall override bob 2026-03-09T09:30 2026-03-10T09:00');
    const alerts = Array.from({ length: 60 }, (_, i) => amAlert({ alertname: 'Storm', instance: `host-${i}` }, 'firing', { fingerprint: `fp-${i}` }));
    expect((await t.alertmanager(amPayload(alerts))).status).toBe(202);
    await t.h.advanceTo('2026-03-09T07:55:00Z');
    // The process was down across both boundaries: both shift timers are due at once.
    t.h.clock.set(DateTime.fromISO('2026-03-09T08:31:00Z'));
    await t.h.app.scheduler.tick();
    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents).toHaveLength(60);
    expect(incidents.filter((i) => i.assignee !== 'bob').map((i) => `#${i.id} ${i.assignee}`)).toEqual([]);
  });

  it('a new burst after the storm ended starts counting again', async () => {
    const burst = async (prefix: string, count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        await t.alertmanager(amPayload([amAlert({ alertname: prefix, instance: `h${i}` }, 'firing', { fingerprint: `${prefix}-${i}` })]));
      }
    };
    await burst('a', 12);
    // The 11th starts the storm (its summary pages); the 12th is told within a second, as an update.
    expect(t.h.messagesFor('dave').filter((d) => d.message.updateKey === 'storm:1')).toHaveLength(1);
    await t.h.advance('1s');
    const summaries = t.h.messagesFor('dave').filter((d) => d.message.updateKey === 'storm:1');
    expect(summaries).toHaveLength(2);
    expect(summaries[1]?.text).toMatch(/Alert storm on Payments: 12 new incidents/);
    expect(summaries[1]?.message.mentions).toEqual([]);
    await t.h.advance('6m');
    expect(await t.read((tx) => tx.activeStorm('payments'))).toBeNull();
    await t.h.advance('10m');
    const mark = t.h.mark();
    await burst('b', 5);
    expect(t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave' && /New incident/.test(d.text))).toHaveLength(5);
  });
});
