/**
 * Alert intake, through real HTTP into the real store and app: Alertmanager and Grafana fixtures
 * (test/fixtures/payloads), dedup, resolve, reopen, idempotent retries, and who is told.
 */
import { fixture, amAlert, amPayload, IntakeHarness } from './intake-harness';

const MEMBERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'root'];

describe('alert intake: Alertmanager', () => {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await IntakeHarness.start();
  });
  afterEach(() => t.stop());

  it('a real Alertmanager 0.25 group of 3 firing alerts opens 3 incidents and pages only the on-call', async () => {
    const reply = await t.alertmanager(fixture('alertmanager-0.25-real-firing.json'));
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ accepted: 3, incidents: [1, 2, 3] });
    for (const id of [1, 2, 3]) t.h.expectMessage('dave', new RegExp(`New incident #${id} \\[sev1\\] 5xx rate above 5% on web-`));
    t.h.expectNothingFor(...MEMBERS);
    const incident = await t.read((tx) => tx.getIncident(1));
    expect(incident).toMatchObject({ source: 'integration:prom', service: 'checkout', severity: 'sev1', fingerprint: '50617805d5e03c46', state: 'open' });
    expect(incident?.reporter).toEqual({ kind: 'guest', adapter: 'integration', address: 'prom', name: 'Alertmanager (prom)' });
  });

  it('a severity label that names an Object member ("constructor") falls back to the default, and the page goes out', async () => {
    const reply = await t.alertmanager(amPayload([amAlert({ alertname: 'Weird', instance: 'x', severity: 'constructor' })]));
    expect(reply.status).toBe(202);
    expect((await t.read((tx) => tx.getIncident(1)))?.severity).toBe('sev3');
    t.h.expectMessage('dave', /New incident #1 \[sev3\] Weird on x/);
    expect(await t.read((tx) => tx.outboxDepth())).toBe(0);
  });

  it('a severity label nobody mapped ("P1") still pages at the default, and the 202, the timeline, the log, /metrics and /healthz name the value and the fix', async () => {
    expect(t.webhooks.severities()).toBeNull();
    const reply = await t.alertmanager(amPayload([
      amAlert({ alertname: 'Down', instance: 'a', severity: 'P1' }),
      amAlert({ alertname: 'Down', instance: 'b', severity: 'P1' }),
      amAlert({ alertname: 'Slow', instance: 'c', severity: 'critical' }),
    ]));
    expect(reply.status).toBe(202);
    expect(reply.body.warnings).toEqual(['2 alerts with severity "P1" took the default severity sev3: "P1" is neither in this integration\'s severity map nor sev1..sev4; map the value under integrations[0].severity.map in the config (e.g. P1: sev1)']);
    t.h.expectMessage('dave', /New incident #1 \[sev3\] Down on a/);
    t.h.expectMessage('dave', /New incident #3 \[sev1\] Slow on c/);
    const show = await t.h.run('dave', 'incident show 1');
    expect(show).toContain('alert firing: Down on a (its severity "P1" is not in the integration\'s severity map: taken as sev3)');
    expect(await t.h.run('dave', 'incident show 3')).not.toContain('severity map');
    expect(t.webhooks.severities()).toMatch(/^degraded: alerts took a default severity in the last day: integration prom: severity "P1" \(2 since start, last 2026-\d\d-\d\dT\d\d:\d\dZ\) took the default sev3; map the value under integrations\[0\]\.severity\.map/);
    // Told once per value in the log, counted on every alert.
    await t.alertmanager(amPayload([amAlert({ alertname: 'Down', instance: 'd', severity: 'P1' })]));
    expect(t.h.logger.entries.filter((e) => e.msg.startsWith('alerts took the default severity'))).toHaveLength(1);
    expect((await t.h.app.metrics.render()).body).toMatch(/onehand_alerts_unmapped_severity_total\{integration="prom"\} 3/);
    // A mapped, a sevN-named and a missing label are not warned about.
    const fine = await t.alertmanager(amPayload([amAlert({ alertname: 'E', instance: 'e', severity: 'warning' }), amAlert({ alertname: 'F', instance: 'f', severity: 'SEV2' }), amAlert({ alertname: 'G', instance: 'g' })]));
    expect(fine.body).toEqual({ accepted: 3, incidents: [5, 6, 7] });
    // Shown for a day after it was last seen.
    await t.h.advance('25h');
    expect(t.webhooks.severities()).toBeNull();
  });

  it('repeats fold into the open incident: count and last seen grow, nobody is paged again', async () => {
    await t.alertmanager(fixture('alertmanager-0.25-real-firing.json'));
    t.h.expectMessage('dave', /#1/); t.h.expectMessage('dave', /#2/); t.h.expectMessage('dave', /#3/);
    await t.h.advance('2m'); // deliveries only; the first escalation is due at 5m
    const mark = t.h.mark();
    await t.h.advance('1m');
    for (let i = 0; i < 3; i++) expect((await t.alertmanager(fixture('alertmanager-0.25-real-firing.json'))).status).toBe(202);
    expect(t.h.mark()).toBe(mark);
    const group = await t.read((tx) => tx.intakeGroupOf(1));
    expect(group?.count).toBe(4);
    expect(group?.lastSeen.toISO()).toBe('2026-03-03T10:03:00.000Z');
    const incidents = await t.read((tx) => tx.listIncidents({}));
    expect(incidents).toHaveLength(3);
  });

  it('webhook retries of the same group are idempotent: same incidents, same timeline, no new message', async () => {
    const payload = fixture('alertmanager-0.25-real-firing.json');
    const first = await t.alertmanager(payload);
    const timeline = await t.read((tx) => tx.timeline(1));
    const delivered = t.h.mark();
    const again = await t.alertmanager(payload);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(await t.read((tx) => tx.timeline(1))).toEqual(timeline);
    expect(t.h.mark()).toBe(delivered);
    expect(await t.read((tx) => tx.outboxDepth())).toBe(0);
  });

  it('the resolved group resolves each incident, noted in the timeline; the on-call is told, nobody else', async () => {
    await t.alertmanager(fixture('alertmanager-0.25-real-firing.json'));
    for (const id of [1, 2, 3]) t.h.expectMessage('dave', `#${id}`);
    const reply = await t.alertmanager(fixture('alertmanager-0.25-real-resolved.json'));
    expect(reply.status).toBe(202);
    for (const id of [1, 2, 3]) {
      expect((await t.read((tx) => tx.getIncident(id)))?.state).toBe('resolved');
      // Times as the team reads them (Payments: Europe/Berlin), not UTC.
      t.h.expectMessage('dave', new RegExp(`#${id} .* resolved by Alertmanager \\(prom\\): all alerts resolved \\(1 firing notification since \\w{3} \\d\\d:\\d\\d GMT\\+1, last \\w{3} \\d\\d:\\d\\d GMT\\+1\\)`));
    }
    t.h.expectNothingFor(...MEMBERS);
    const kinds = (await t.read((tx) => tx.timeline(1))).map((e) => e.kind);
    expect(kinds).toEqual(['reported', 'notified', 'alert-firing', 'alert-resolved', 'resolved']);
    // A resend of the resolved group changes nothing.
    const mark = t.h.mark();
    await t.alertmanager(fixture('alertmanager-0.25-real-resolved.json'));
    expect(t.h.mark()).toBe(mark);
    // Escalation stopped when it resolved.
    await t.h.advance('1h');
    t.h.expectNothingFor(...MEMBERS);
  });

  it('a re-fire within reopen_window reopens the incident; after it, a new incident opens', async () => {
    const firing = amPayload([amAlert({ alertname: 'DiskFull', instance: 'db-1', severity: 'warning' }, 'firing', { fingerprint: 'aaaa' })]);
    const resolved = amPayload([amAlert({ alertname: 'DiskFull', instance: 'db-1', severity: 'warning' }, 'resolved', { fingerprint: 'aaaa' })]);
    await t.alertmanager(firing);
    t.h.expectMessage('dave', /New incident #1 \[sev3\] DiskFull on db-1/);
    await t.alertmanager(resolved);
    t.h.expectMessage('dave', /#1 .*resolved/);
    await t.h.advance('30m');
    const refire = amPayload([amAlert({ alertname: 'DiskFull', instance: 'db-1', severity: 'warning' }, 'firing', { fingerprint: 'aaaa', startsAt: '2026-03-03T10:29:00Z' })]);
    expect((await t.alertmanager(refire)).body).toEqual({ accepted: 1, incidents: [1] });
    t.h.expectMessage('dave', /Reopened #1 \[sev3\] DiskFull on db-1: the alert fired again/);
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('open');
    // Resolve again, wait past the window: the next firing is a new incident.
    await t.alertmanager(resolved);
    t.h.expectMessage('dave', /#1 .*resolved/);
    await t.h.advance('61m');
    const later = amPayload([amAlert({ alertname: 'DiskFull', instance: 'db-1', severity: 'warning' }, 'firing', { fingerprint: 'aaaa', startsAt: '2026-03-03T11:40:00Z' })]);
    expect((await t.alertmanager(later)).body).toEqual({ accepted: 1, incidents: [2] });
    t.h.expectMessage('dave', /New incident #2/);
    expect((await t.read((tx) => tx.intakeGroupOf(2)))?.fingerprint).toBe('aaaa');
    t.h.expectNothingFor(...MEMBERS);
  });

  it('a repeat of a still-firing alert does not reopen an incident a person resolved', async () => {
    const payload = fixture('alertmanager-0.25-real-firing.json');
    await t.alertmanager(payload);
    await t.h.run('dave', 'incident resolve 1 fixed by hand');
    const mark = t.h.mark();
    await t.alertmanager(payload);
    expect(t.h.mark()).toBe(mark);
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('resolved');
  });

  it('fingerprint_labels groups alerts; resolve: all waits for the last one, any resolves at the first', async () => {
    await t.alertmanager(fixture('alertmanager-0.25-real-firing.json'), 'prom-grouped');
    t.h.expectMessage('dave', /New incident #1 \[sev1\] 5xx rate above 5% on web-1/);
    t.h.expectNothingFor('dave');
    const resolved = fixture('alertmanager-0.25-real-resolved.json') as { alerts: unknown[] };
    const [a, b, c] = resolved.alerts;
    await t.alertmanager({ ...resolved, alerts: [a, b] }, 'prom-grouped');
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('open');
    await t.alertmanager({ ...resolved, alerts: [c] }, 'prom-grouped');
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('resolved');
    const kinds = (await t.read((tx) => tx.timeline(1))).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'alert-firing')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'alert-resolved')).toHaveLength(3);

    await t.alertmanager(fixture('alertmanager-0.25-real-firing.json'), 'prom-any');
    await t.alertmanager({ ...resolved, alerts: [a] }, 'prom-any');
    expect((await t.read((tx) => tx.getIncident(2)))?.state).toBe('resolved');
  });

  it('the newer v4 fixtures (notification_reason) work too; service comes from the job label', async () => {
    expect((await t.alertmanager(fixture('alertmanager-v4-firing.json'))).status).toBe(202);
    const incident = await t.read((tx) => tx.getIncident(1));
    expect(incident).toMatchObject({ service: 'checkout-api', severity: 'sev1', title: 'High 5xx error rate on checkout-api' });
    expect((await t.alertmanager(fixture('alertmanager-v4-resolved.json'))).status).toBe(202);
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('resolved');
  });

  it('alert text is untrusted: it reaches people as user text, never as markup or a mention', async () => {
    const evil = amPayload([amAlert({ alertname: 'X', severity: 'critical' }, 'firing', { annotations: { summary: '@everyone **click** <https://evil.invalid>' } })]);
    await t.alertmanager(evil);
    const page = t.h.expectMessage('dave', /New incident #1/);
    expect(page.message.mentions).toEqual(['dave']);
    expect(page.message.headline).toContainEqual({ t: 'user', v: '@everyone **click** <https://evil.invalid>' });
  });
});

describe('alert intake: Grafana and the generic format', () => {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await IntakeHarness.start();
  });
  afterEach(() => t.stop());

  it('a Grafana webhook pages the search on-call with the mapped severities', async () => {
    const reply = await t.grafana(fixture('grafana-webhook-firing.json'));
    expect(reply.status).toBe(202);
    const [first, second] = await t.read(async (tx) => [await tx.getIncident(1), await tx.getIncident(2)]);
    expect(first).toMatchObject({ team: 'search', severity: 'sev1', title: 'p99 latency above 2s', service: 'payments-api', fingerprint: '8f3c2a61d4b0e977' });
    expect(second).toMatchObject({ severity: 'sev3', title: 'error rate above 1%' });
    const onCall = first?.assignee as string;
    t.h.expectMessage(onCall, /New incident #1/);
    t.h.expectMessage(onCall, /New incident #2/);
    t.h.expectNothingFor(...MEMBERS);
  });

  it('an urgent alert keeps its severity however its sender writes it: any case, "sevN" named, the default map kept under a custom one', async () => {
    // The harness's prom maps only critical and warning: error and info still come from the default map.
    const cases: Array<[string, string]> = [['Critical', 'sev1'], ['CRITICAL', 'sev1'], ['sev1', 'sev1'], ['SEV2', 'sev2'], ['error', 'sev2'], ['info', 'sev4'], ['Warning', 'sev3'], ['meh', 'sev3']];
    for (const [i, [value]] of cases.entries()) {
      expect((await t.alertmanager(amPayload([amAlert({ alertname: `A${i}`, instance: value, severity: value }, 'firing', { fingerprint: `sev-${i}` })]))).status).toBe(202);
    }
    const incidents = (await t.read((tx) => tx.listIncidents({}))).sort((a, b) => a.id - b.id);
    expect(incidents.map((i) => i.severity)).toEqual(cases.map(([, sev]) => sev));
    // The generic webhook's own field, in any case.
    expect((await t.generic({ title: 'Primary down', severity: 'SEV1', status: 'firing', fingerprint: 'gen-1' })).status).toBe(202);
    expect((await t.read((tx) => tx.listIncidents({ limit: 1 })))[0]?.severity).toBe('sev1');
  });

  it('a generic alert signed with HMAC opens, repeats and resolves', async () => {
    const alert = { title: 'Nightly backup failed', severity: 'sev2', service: 'backup', fingerprint: 'backup-nightly', status: 'firing', labels: { host: 'db-1' }, url: 'https://ci.invalid/1' };
    expect((await t.generic(alert)).status).toBe(202);
    t.h.expectMessage('dave', /New incident #1 \[sev2\] Nightly backup failed/);
    expect((await t.generic(alert)).status).toBe(202);
    t.h.expectNothingFor('dave');
    expect((await t.generic({ ...alert, status: 'resolved' })).status).toBe(202);
    expect((await t.read((tx) => tx.getIncident(1)))?.state).toBe('resolved');
  });
});
