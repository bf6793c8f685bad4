/**
 * A more severe alert folding into an open incident of its group (fingerprint_labels) raises the
 * incident: a critical alert must not wait behind the quiet hours that held the warning's page.
 */
import { amAlert, amPayload, IntakeHarness } from './intake-harness';

const CONFIG = `
integrations:
  - id: grouped
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    fingerprint_labels: [alertname, service]
    severity: { label: severity, map: { critical: sev1, warning: sev3 }, default: sev3 }
plugins:
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: true }
`;
// 02:00Z on Tuesday 2026-03-03: 02:00 in London (Dave, on call), 03:00 in Berlin (Alice, Carol).
const NIGHT = '2026-03-03T02:00:00Z';

describe('alert intake: a more severe alert of an open incident\'s group', () => {
  let t: IntakeHarness;
  afterEach(() => t.stop());

  const fire = (instance: string, severity: string) => t.alertmanager(amPayload([amAlert({ alertname: 'CheckoutLatency', service: 'checkout', instance, severity })]), 'grouped');

  it('raises the incident to sev1 and pages the on-call now, through the quiet hours that held the warning', async () => {
    t = await IntakeHarness.start(CONFIG, { at: NIGHT });
    expect((await fire('web-1', 'warning')).status).toBe(202);
    t.h.expectNothingFor('dave'); // a sev3 at 02:00 waits for his morning
    await t.h.advance('20m');
    expect((await fire('web-2', 'critical')).status).toBe(202);
    expect(await t.read((tx) => tx.getIncident(1))).toMatchObject({ severity: 'sev1', state: 'open', assignee: 'dave' });
    const page = t.h.expectMessage('dave', /#1 \[sev1\] CheckoutLatency.* is now sev1 \(was sev3\): alert .* fired at sev1/);
    expect(page.at).toBe('2026-03-03T02:20:00.000Z');
    expect(page.message.kind).toBe('page');
    // The chain runs on the sev1's clock from now: the mentor at 02:30, not after Dave's morning.
    await t.h.advance('10m');
    t.h.expectMessage('alice', /Escalated to you as mentor: #1 \[sev1\]/);
    expect(await t.h.run('carol', 'incident show 1')).toMatch(/raised from sev3 to sev1: alert .* fired at sev1/);
    // Only one incident: the critical alert folded into it.
    expect(await t.read((tx) => tx.getIncident(2))).toBeNull();
  });

  it('acknowledged: raised and the assignee is told, without a page or a new chain', async () => {
    t = await IntakeHarness.start(CONFIG, { at: '2026-03-03T10:00:00Z' });
    await fire('web-1', 'warning');
    t.h.expectMessage('dave', /New incident #1 \[sev3\]/);
    await t.h.run('dave', 'incident ack 1');
    await fire('web-2', 'critical');
    const told = t.h.expectMessage('dave', /#1 \[sev1\] .* is now sev1 \(was sev3\).*It stays acknowledged and yours/s);
    expect(told.message.kind).toBe('incident-update');
    expect(await t.read((tx) => tx.getIncident(1))).toMatchObject({ severity: 'sev1', state: 'acknowledged' });
    await t.h.advance('1h');
    expect(t.h.messagesFor('alice')).toEqual([]);
  });

  it('during a storm of warnings: raised to sev1, it breaks through (paged, on the timeline) and the storm\'s bar rises to sev1', async () => {
    t = await IntakeHarness.start(CONFIG, { at: '2026-03-03T10:00:00Z' });
    const other = (name: string, severity: string) => t.alertmanager(amPayload([amAlert({ alertname: name, service: 'web', instance: name, severity })]), 'grouped');
    await fire('web-1', 'warning'); // #1
    for (let i = 0; i < 10; i++) await other(`W${i}`, 'warning'); // the 11th incident starts the storm
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev3');
    const mark = t.h.mark();
    await fire('web-2', 'critical');
    const pages = t.h.adapter.delivered.slice(mark).filter((d) => d.to === 'dave' && d.message.kind === 'page' && d.message.updateKey === undefined);
    expect(pages.map((d) => d.text.split('\n')[0])).toEqual([expect.stringMatching(/#1 \[sev1\] CheckoutLatency.* is now sev1 \(was sev3\)/)]);
    expect(await t.h.run('carol', 'incident show 1')).toContain('raised during an alert storm, more severe than anything it had paged (sev3): paged on its own');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev1');
  });

  it('during a storm, an acknowledged incident raised to sev1: its assignee is told, no "paged on its own", and the storm\'s bar stays, so the next new sev1 still pages', async () => {
    t = await IntakeHarness.start(CONFIG, { at: '2026-03-03T10:00:00Z' });
    const other = (name: string, severity: string) => t.alertmanager(amPayload([amAlert({ alertname: name, service: 'web', instance: name, severity })]), 'grouped');
    await fire('web-1', 'warning'); // #1
    await t.h.run('dave', 'incident ack 1');
    for (let i = 0; i < 10; i++) await other(`W${i}`, 'warning');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev3');
    const mark = t.h.mark();
    await fire('web-2', 'critical');
    expect(t.h.adapter.delivered.slice(mark).filter((d) => d.message.kind === 'page')).toEqual([]);
    expect(t.h.adapter.delivered.slice(mark).some((d) => d.to === 'dave' && /is now sev1 \(was sev3\).*stays acknowledged and yours/s.test(d.text))).toBe(true);
    expect(await t.h.run('carol', 'incident show 1')).not.toContain('paged on its own');
    expect((await t.read((tx) => tx.activeStorm('payments')))?.severity).toBe('sev3');
    const mark2 = t.h.mark();
    await other('DatabaseDown', 'critical');
    expect(t.h.adapter.delivered.slice(mark2).filter((d) => d.to === 'dave' && d.message.kind === 'page').length).toBe(1);
  });

  it('a less severe alert of the group changes nothing', async () => {
    t = await IntakeHarness.start(CONFIG, { at: '2026-03-03T10:00:00Z' });
    await fire('web-1', 'critical');
    t.h.expectMessage('dave', /New incident #1 \[sev1\]/);
    await fire('web-2', 'warning');
    expect(await t.read((tx) => tx.getIncident(1))).toMatchObject({ severity: 'sev1' });
    t.h.expectNothingFor('dave');
  });
});
