/**
 * A flapping alert (firing, resolved, firing again within minutes) through HTTP: the on-call is
 * paged once, told once that it flaps, and not paged for each flap; it stays theirs (acknowledged
 * if they acknowledged it), and when nobody answers, the chain still reaches the mentor on the
 * first page's ack timeout, not restarted by every flap.
 */
import { amAlert, amPayload, IntakeHarness, INTEGRATIONS } from './intake-harness';

const MEMBERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'root'];

describe('alert intake: a flapping alert', () => {
  let t: IntakeHarness;
  afterEach(() => t.stop());

  let n = 0;
  /** flap: the alert fires (a new startsAt each time, as a new firing does) or resolves. */
  const flap = (status: 'firing' | 'resolved', integration = 'prom') => {
    if (status === 'firing') n++;
    return t.alertmanager(amPayload([amAlert({ alertname: 'DiskFull', instance: 'db-1', severity: 'critical' }, status, {
      fingerprint: 'flap', startsAt: `2026-03-03T09:${String(n).padStart(2, '0')}:00Z`,
    })]), integration);
  };
  const pages = (who: string) => t.h.messagesFor(who).filter((d) => d.message.kind === 'page' && d.message.updateKey === undefined);

  it('fires and resolves four times in a minute: one page, one "flapping" message, nothing for the later flaps or their resolves', async () => {
    t = await IntakeHarness.start();
    await flap('firing');
    t.h.expectMessage('dave', /New incident #1 \[sev1\] DiskFull/);
    await flap('resolved');
    t.h.expectMessage('dave', /#1 .*resolved/);
    for (let i = 0; i < 3; i++) {
      await t.h.advance('10s');
      await flap('firing');
      await flap('resolved');
    }
    await flap('firing');
    const news = t.h.expectMessage('dave', /#1 \[sev1\] DiskFull on db-1 is flapping: the alert fired again 10s after your page\. It stays yours; you are not paged again for its flaps in the next 14m50s/);
    expect(news.message.kind).toBe('incident-update');
    expect(pages('dave')).toHaveLength(1);
    t.h.expectNothingFor(...MEMBERS);
    const show = await t.h.run('dave', 'incident show 1');
    expect(show.match(/reopened/gi)?.length).toBeGreaterThanOrEqual(4);
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('open');
  });

  it('a flap during an alert storm is no breakthrough (nobody was paged): no "paged on its own", and the storm\'s bar stays, so the next new sev1 still pages', async () => {
    t = await IntakeHarness.start();
    await flap('firing'); // #1 sev1: Dave paged
    await flap('resolved');
    for (let i = 0; i < 10; i++) await t.alertmanager(amPayload([amAlert({ alertname: `W${i}`, instance: `web-${i}`, severity: 'warning' })]), 'prom');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev3');
    const before = pages('dave').length; // #1, and the warnings before the storm began
    await flap('firing'); // a flap: not paged again
    expect(pages('dave')).toHaveLength(before);
    expect(await t.h.run('carol', 'incident show 1')).not.toContain('paged on its own');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev3');
    await t.alertmanager(amPayload([amAlert({ alertname: 'DatabaseDown', instance: 'db-2', severity: 'critical' })]), 'prom');
    expect(pages('dave').slice(before).map((d) => d.text.split('\n')[0])).toEqual([expect.stringMatching(/\[sev1\] DatabaseDown/)]);
  });

  it('nobody answers: the chain goes on where each flap stopped it (the reminder at 5 min, the mentor at 10), however often it flaps', async () => {
    t = await IntakeHarness.start();
    await flap('firing'); // Dave paged at 10:00; ack timeout 5m: the reminder at 10:05, the mentor at 10:10
    for (let i = 0; i < 22; i++) {
      await t.h.advance('30s');
      await flap(i % 2 === 0 ? 'resolved' : 'firing');
    }
    // The reminder was a page after the flap: the resolve after it told Dave, and the next flap did too.
    const after = t.h.messagesFor('dave').filter((d) => d.at > '2026-03-03T10:05:00.000Z').map((d) => d.text.split('\n')[0]);
    expect(after[0]).toMatch(/#1 .*resolved by Alertmanager/);
    expect(after[1]).toMatch(/#1 .* is flapping: the alert fired again 1m after your page\. .* in the next 14m /);
    // 10:11, flapping all along: had every reopening restarted the ack timeout, nobody would have been told.
    const reminder = t.h.messagesFor('dave').find((d) => /Reminder: #1 \[sev1\] DiskFull/.test(d.text));
    const mentor = t.h.messagesFor('alice').find((d) => /Escalated to you as mentor.*#1 \[sev1\] DiskFull/s.test(d.text));
    expect(reminder?.at).toBe('2026-03-03T10:05:00.000Z');
    expect(reminder?.text).toMatch(/still not acknowledged \(5m\)/);
    expect(mentor?.at).toBe('2026-03-03T10:10:00.000Z');
    expect(pages('dave').map((d) => d.text.split('\n')[0])).toEqual([expect.stringMatching(/New incident #1/), expect.stringMatching(/Reminder: #1/)]);
    expect(await t.h.run('carol', 'incident show 1')).toContain('reopened by Alertmanager (prom): the alert fired again (flapping: Dave not paged again)');
  });

  it('acknowledged, then flapping: it stays acknowledged and Dave\'s, no escalation; past the window a firing pages again', async () => {
    t = await IntakeHarness.start();
    await flap('firing');
    await t.h.run('dave', 'incident ack 1');
    await flap('resolved');
    await t.h.advance('2m');
    await flap('firing');
    t.h.expectMessage('dave', /#1 \[sev1\] DiskFull on db-1 is flapping: .* It stays acknowledged and yours/);
    expect((await t.read((tx) => tx.getIncident(1)))).toMatchObject({ state: 'acknowledged', assignee: 'dave' });
    await flap('resolved');
    await flap('firing');
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('acknowledged');
    await t.h.advance('30m');
    expect(t.h.messagesFor('alice')).toEqual([]);
    await flap('resolved');
    await t.h.advance('16m');
    await flap('firing');
    t.h.expectMessage('dave', /Reopened #1 \[sev1\] DiskFull on db-1: the alert fired again/);
    expect(pages('dave')).toHaveLength(2);
  });

  it('reassigned before it resolved: firing again is no flap of Dave\'s page: the on-call is paged and the chain runs', async () => {
    t = await IntakeHarness.start();
    await flap('firing');
    await t.h.run('dave', 'incident ack 1');
    await t.h.run('dave', 'incident assign 1 bob');
    await flap('resolved');
    await t.h.advance('1m');
    await flap('firing');
    expect(pages('dave').map((d) => d.text.split('\n')[0])).toEqual([expect.stringMatching(/New incident #1/), expect.stringMatching(/Reopened #1 .*: the alert fired again/)]);
    expect(await t.read((tx) => tx.getIncident(1))).toMatchObject({ state: 'open', assignee: 'dave' });
    await t.h.advance('11m');
    expect(t.h.messagesFor('alice').some((d) => /Escalated to you as mentor.*#1/s.test(d.text))).toBe(true);
  });

  it('a reopening that paged ends the quiet: the next resolve tells the people paged', async () => {
    t = await IntakeHarness.start();
    await flap('firing');
    await flap('resolved');
    await t.h.advance('1m');
    await flap('firing'); // a flap: quiet
    await t.h.run('carol', 'incident resolve 1 restarted the disk job');
    await t.h.run('carol', 'incident reopen 1 not fixed after all'); // a person reopens: Dave is paged
    const mark = t.h.mark();
    await flap('resolved');
    expect(t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave').map((d) => d.text.split('\n')[0])).toEqual([expect.stringMatching(/#1 .* resolved by Alertmanager/)]);
  });

  it('a shift change while it flaps hands it over with a page to the new on-call', async () => {
    t = await IntakeHarness.start(INTEGRATIONS, { at: '2026-03-09T07:56:00Z' }); // Dave on call until 08:00 UTC (Mon 09:00 Berlin), then Alice; his reminder would be at 08:01
    await flap('firing');
    await flap('resolved');
    await t.h.advance('1m');
    await flap('firing'); // a flap: Dave not paged again
    await t.h.advance('3m'); // 09:00 Berlin: the shift changes a minute before Dave's reminder
    expect(t.h.messagesFor('dave').some((d) => /Reminder/.test(d.text))).toBe(false);
    const handed = t.h.messagesFor('alice').find((d) => /Handed over to you at the shift change: #1 \[sev1\] DiskFull/.test(d.text));
    expect(handed?.message.kind).toBe('page');
    // Alice was paged after the flap: the alert's resolve tells her, quiet as the flap was.
    await flap('resolved');
    expect(t.h.messagesFor('alice').some((d) => /#1 .*resolved by Alertmanager/.test(d.text))).toBe(true);
  });

  it('flap_window: off pages every reopening, as before', async () => {
    t = await IntakeHarness.start(INTEGRATIONS.replace('    reopen_window: 1h\n', '    reopen_window: 1h\n    flap_window: "off"\n'));
    await flap('firing');
    for (let i = 0; i < 3; i++) {
      await flap('resolved');
      await flap('firing');
    }
    expect(pages('dave')).toHaveLength(4);
  });
});
