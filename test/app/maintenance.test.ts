/**
 * Maintenance windows (issue 12, point 8): a lead silences matching alerts for a while. They open
 * incidents quietly (no page, listed, counted); a person's report still pages; the window ends by
 * itself. Alerts come in through the real webhook route.
 */
import { amAlert, amPayload, IntakeHarness } from '../intake/intake-harness';

describe('maintenance windows', () => {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await IntakeHarness.start();
  });
  afterEach(() => t.stop());

  it('silences matching alerts until it ends by itself; people\'s reports still page', async () => {
    const { h } = t;
    expect(await h.run('dave', 'oncall maintenance 2h db upgrade')).toContain('Only the team lead or an admin may do this');
    const reply = await h.run('carol', 'oncall maintenance 2h database upgrade --service billing');
    expect(reply).toContain('Maintenance on Payments until Tue 03 Mar 13:00');
    expect(reply).toContain('Alerts for service billing open incidents quietly');
    expect(h.expectMessage('#payments', /Maintenance on Payments/).message.mentions).toEqual([]);

    expect((await t.alertmanager(amPayload([amAlert({ alertname: 'DbDown', service: 'billing', severity: 'critical' })]))).status).toBe(202);
    h.expectNothingFor('dave', 'alice', 'carol', '#payments');
    // Another service's alert pages as always.
    await t.alertmanager(amPayload([amAlert({ alertname: 'Slow', service: 'checkout', severity: 'warning' })]));
    h.expectMessage('dave', /New incident #2 \[sev3\] Slow/);
    // A person's report is never silenced.
    await h.report('zed', 'sev2 billing page is blank --service billing');
    h.expectMessage('dave', /New incident #3 \[sev2\] billing page is blank/);

    const list = await h.run('dave', 'incident list');
    expect(list).toContain('#1 [sev1] DbDown');
    expect(await h.run('carol', 'incident show 1')).toContain('opened quietly: maintenance until');
    await h.run('dave', 'incident ack 2');
    await h.run('dave', 'incident ack 3');
    await h.advance('1h');
    h.expectNothingFor('dave', 'alice', 'carol'); // the quiet incident does not escalate
    expect(await h.run('carol', 'oncall stats')).toContain('1 incident opened quietly in maintenance windows');

    await h.advance('1h'); // 12:00Z: the window is over
    await t.alertmanager(amPayload([amAlert({ alertname: 'DbSlow', service: 'billing', severity: 'warning' })]));
    h.expectMessage('dave', /New incident #4 \[sev3\] DbSlow/);
  });

  it('can be limited to one integration, and refuses one the team does not have', async () => {
    const { h } = t;
    expect(await h.run('carol', 'oncall maintenance 1h migration --integration nope')).toContain('"nope" is not an integration of Payments');
    expect(await h.run('carol', 'oncall maintenance 8d migration')).toContain('at most 7 days');
    expect(await h.run('carol', 'oncall maintenance 1h migration --integration prom-grouped')).toContain('Alerts from prom-grouped open incidents quietly');
    await t.alertmanager(amPayload([amAlert({ alertname: 'A', service: 'x' })]), 'prom-grouped');
    h.expectNothingFor('dave');
    await t.alertmanager(amPayload([amAlert({ alertname: 'B', service: 'x' })]), 'prom');
    h.expectMessage('dave', /New incident #2 \[sev3\] B/);
  });
  it('an incident still open when the window ends pages its on-call then, and its chain starts (across a restart too); one resolved or acknowledged meanwhile does not', async () => {
    const { h } = t;
    await h.run('carol', 'oncall maintenance 2h database upgrade');
    h.expectMessage('#payments', /Maintenance on Payments/);
    await t.alertmanager(amPayload([amAlert({ alertname: 'DbDown', service: 'billing', severity: 'critical' })]));
    await t.alertmanager(amPayload([amAlert({ alertname: 'Flaky', service: 'billing', severity: 'warning' })]));
    await t.alertmanager(amPayload([amAlert({ alertname: 'Known', service: 'billing', severity: 'warning' })]));
    await h.advance('30m');
    await t.alertmanager(amPayload([amAlert({ alertname: 'Flaky', service: 'billing', severity: 'warning' }, 'resolved')]));
    await h.run('dave', 'incident ack 3');
    h.expectMessage('#payments', /#2 \[sev3\] Flaky .*resolved by Alertmanager/);
    h.expectMessage('#payments', /#3 \[sev3\] Known .*acknowledged by Dave/);
    h.expectNothingFor('dave', 'alice', 'carol', '#payments');
    await h.restart(); // the window's end is a durable timer, not a timeout in memory
    await h.advance('89m');
    h.expectNothingFor('dave', 'alice', 'carol', '#payments');
    await h.advance('2m'); // 12:00Z: the window ended
    const page = h.expectMessage('dave', /Maintenance is over \(database upgrade\) and #1 \[sev1\] DbDown on somewhere is still open \(opened 2h ago\)/);
    expect(page.message.mentions).toEqual(['dave']);
    h.expectMessage('#payments', /Maintenance is over \(database upgrade\) and #1 \[sev1\] DbDown on somewhere is still open/);
    h.expectNothingFor('dave', 'alice', 'carol', '#payments'); // #2 resolved, #3 acknowledged: nothing for them
    expect(await h.run('carol', 'incident show 1')).toContain('maintenance over (database upgrade), still open: Dave is paged and the chain starts');
    // A sev1's chain from here on: nobody acknowledges, the mentor is paged.
    await h.advance('11m'); // the reminder at 5 minutes, the mentor at 10
    h.expectMessage('alice', /Escalated to you as mentor.*#1 \[sev1\] DbDown/s);
  });

  it('a longer window set while the first runs keeps the incident quiet until it ends too', async () => {
    const { h } = t;
    await h.run('carol', 'oncall maintenance 1h database upgrade');
    await t.alertmanager(amPayload([amAlert({ alertname: 'DbDown', service: 'billing', severity: 'critical' })]));
    await h.advance('30m');
    await h.run('carol', 'oncall maintenance 3h the upgrade overran');
    await h.advance('31m');
    expect(h.messagesFor('dave').some((m) => /Maintenance is over/.test(m.text))).toBe(false);
    await h.advance('150m');
    h.expectMessage('dave', /Maintenance is over \(the upgrade overran\) and #1 \[sev1\] DbDown on somewhere is still open/);
  });
  it('an incident escalated by hand during the window still starts its chain at the window\'s end (a hand escalation runs no chain)', async () => {
    const { h } = t;
    await h.run('carol', 'oncall maintenance 2h database upgrade');
    await t.alertmanager(amPayload([amAlert({ alertname: 'DbDown', service: 'billing', severity: 'warning' })]));
    await h.advance('10m');
    await h.run('dave', 'incident escalate 1');
    h.expectMessage('alice', /asks for your help as mentor/);
    await h.advance('111m'); // 12:01Z: the window ended
    h.expectMessage('dave', /Maintenance is over \(database upgrade\) and #1 \[sev3\] DbDown on somewhere is still open/);
  });
});
