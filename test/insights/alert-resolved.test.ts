/**
 * Insights and incidents their alert resolved: Alertmanager sent "resolved" and Onehand closed the
 * incident by itself (the resolve's actor is the integration). That is no evidence of who fixed
 * it: it credits nobody as "handled", "solo" or as the one who knows the service (a single-person
 * dependency), though it still counts among the team's incidents. Played through the real webhook
 * (HTTP), the real app and SQLite, read back with `oncall stats`.
 */
import { amAlert, amPayload, IntakeHarness } from '../intake/intake-harness';

describe('insights: an incident its alert resolved credits nobody', () => {
  let t: IntakeHarness;
  afterEach(() => t.stop());

  /** fire / resolve: one Alertmanager alert of `service` (Dave is on call for payments on Tuesday). */
  const alert = (service: string, status: 'firing' | 'resolved') =>
    t.alertmanager(amPayload([amAlert({ alertname: 'HighLatency', instance: `${service}-1`, service, severity: 'warning' }, status, { fingerprint: service })]));

  it('nobody touched it: Dave is not credited with it, and no single-person dependency is invented', async () => {
    t = await IntakeHarness.start();
    await alert('ledger', 'firing');
    t.h.expectMessage('dave', /New incident #1 \[sev3\] HighLatency/);
    await t.h.advance('20m');
    await alert('ledger', 'resolved');
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('resolved');
    const stats = await t.h.run('dave', 'oncall stats --since 1d');
    expect(stats).toContain('1 incident (0 the 1d before), 1 resolved');
    expect(stats).toMatch(/Dave: [^\n]*, 0 handled \(\+0\), solo n\/a,/);
    expect(stats).not.toContain('Single-person dependency');
    expect(stats).toContain('Service ledger: 1 incident, resolved by nobody yet');
  });

  it('Dave acknowledged it and the alert resolved: handled (his ack), but neither solo nor the one who resolved the service; a resolve he typed is both', async () => {
    t = await IntakeHarness.start();
    await alert('ledger', 'firing'); // #1
    await t.h.advance('2m');
    await t.h.run('dave', 'incident ack 1');
    await t.h.advance('10m');
    await alert('ledger', 'resolved');
    let stats = await t.h.run('dave', 'oncall stats --since 1d');
    expect(stats).toMatch(/Dave: [^\n]*, 1 handled \(\+1\), solo n\/a,/);
    expect(stats).not.toContain('Single-person dependency');
    const report = await t.h.app.insights.report('payments', t.h.clock.now(), 86_400_000);
    if (report === null) throw new Error('no report for payments');
    expect(report.members.find((m) => m.member === 'dave')).toMatchObject({ incidentsHandled: 1, resolvedHandled: 0, medianResolveMs: null });
    expect(report.dependencies).toEqual([expect.objectContaining({ service: 'ledger', resolversEver: [], single: false })]);

    // The same service again, resolved by Dave himself: now he handled it solo and is its only resolver.
    await alert('ledger', 'firing'); // #2 (a new firing after the resolve: a new incident or a reopen)
    const open = (await t.read((tx) => tx.listIncidents({ team: 'payments' }))).find((i) => i.state !== 'resolved');
    expect(open).toBeDefined();
    await t.h.run('dave', `incident ack ${open?.id ?? 0}`);
    await t.h.advance('5m');
    await t.h.run('dave', `incident resolve ${open?.id ?? 0} restarted the ledger`);
    stats = await t.h.run('dave', 'oncall stats --since 1d');
    expect(stats).toMatch(/Dave: [^\n]*, solo 100%/);
    expect(stats).toContain('Single-person dependency: only Dave has ever resolved ledger');
  });
});
