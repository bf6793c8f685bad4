/**
 * Every refusal of the webhook endpoint, and that a refused request leaves nothing behind.
 */
import { AM_TOKEN, amAlert, amPayload, fixture, IntakeHarness, sign } from './intake-harness';

describe('alert intake: refusals', () => {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await IntakeHarness.start();
  });
  afterEach(() => t.stop());

  const good = JSON.stringify(fixture('alertmanager-0.25-real-firing.json'));
  const bearer = { authorization: `Bearer ${AM_TOKEN}` };

  async function nothingStored(): Promise<void> {
    expect(await t.read((tx) => tx.listIncidents({}))).toEqual([]);
    expect(await t.read((tx) => tx.outboxDepth())).toBe(0);
    expect(await t.read((tx) => tx.firingIntakeAlerts('prom', '50617805d5e03c46'))).toBe(0);
    t.h.expectNothingFor('alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'root', '#payments', '#search');
  }

  it('request-to-answer latency is observed per integration and outcome for /metrics', async () => {
    expect((await t.post('prom', good, bearer)).status).toBe(202);
    expect((await t.post('prom', good, {})).status).toBe(401);
    const { body } = await t.h.app.metrics.render();
    expect(body).toMatch(/onehand_intake_latency_seconds_count\{integration="prom",outcome="accepted"\} 1/);
    expect(body).toMatch(/onehand_intake_latency_seconds_count\{integration="prom",outcome="rejected_401"\} 1/);
  });

  it('404 for an unknown integration', async () => {
    const r = await t.post('nope', good, bearer);
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/no integration "nope"/);
    await nothingStored();
  });

  it('415 unless the body is declared as application/json', async () => {
    const r = await t.post('prom', good, { ...bearer, 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.body.error).toMatch(/application\/json, got "text\/plain"/);
    expect((await t.post('prom', good, { ...bearer, 'content-type': 'application/json; charset=utf-8' })).status).toBe(202);
  });

  it('401 for a missing or wrong bearer token, or a bad HMAC signature', async () => {
    expect((await t.post('prom', good)).status).toBe(401);
    expect((await t.post('prom', good, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await t.post('prom', good, { authorization: `Bearer ${AM_TOKEN}x` })).status).toBe(401);
    expect((await t.post('prom', good, { authorization: `Basic ${AM_TOKEN}` })).status).toBe(401);
    // As long as the token, one character off (the last, then the first); a shorter prefix of it.
    expect((await t.post('prom', good, { authorization: `Bearer ${AM_TOKEN.slice(0, -1)}X` })).status).toBe(401);
    expect((await t.post('prom', good, { authorization: `Bearer X${AM_TOKEN.slice(1)}` })).status).toBe(401);
    expect((await t.post('prom', good, { authorization: `Bearer ${AM_TOKEN.slice(0, -1)}` })).status).toBe(401);
    // As many characters as the token, more bytes (é is two in UTF-8).
    expect((await t.post('prom', good, { authorization: `Bearer ${AM_TOKEN.slice(0, -1)}é` })).status).toBe(401);
    const generic = JSON.stringify({ title: 'x', status: 'firing' });
    expect((await t.post('hook', generic)).status).toBe(401);
    expect((await t.post('hook', generic, { 'x-onehand-signature': sign(generic, 'other secret') })).status).toBe(401);
    expect((await t.post('hook', generic, { 'x-onehand-signature': sign(`${generic} `) })).status).toBe(401);
    expect((await t.post('hook', generic, { 'x-onehand-signature': 'sha256=zz' })).status).toBe(401);
    const r = await t.post('prom', good, { authorization: 'Bearer wrong' });
    expect(r.headers['www-authenticate']).toBe('Bearer');
    await nothingStored();
  });

  it('413 over the integration body limit (64KiB here) and over the server limit', async () => {
    const big = JSON.stringify(amPayload(Array.from({ length: 400 }, (_, i) => amAlert({ alertname: 'Big', instance: `i-${i}`, padding: 'x'.repeat(200) }))));
    expect(big.length).toBeGreaterThan(64 * 1024);
    const r = await t.post('prom', big, bearer);
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/larger than 65536 bytes/);
    expect((await t.post('prom', Buffer.alloc(2 * 1024 * 1024, 0x20), bearer)).status).toBe(413);
    await nothingStored();
  });

  it('429 with Retry-After from the per-integration token bucket; accepted again after the wait', async () => {
    const payload = JSON.stringify(amPayload([amAlert({ alertname: 'Slow', instance: 'a' })]));
    expect((await t.post('slow', payload, bearer)).status).toBe(202);
    expect((await t.post('slow', payload, bearer)).status).toBe(202);
    const limited = await t.post('slow', payload, bearer);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('30');
    // Other integrations have their own buckets.
    expect((await t.post('prom', good, bearer)).status).toBe(202);
    await t.h.advance('30s');
    expect((await t.post('slow', payload, bearer)).status).toBe(202);
  });

  it('400 naming the bad field; nothing of the request is stored', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"alerts": [', /^body: not valid JSON/],
      ['[]', /^body: expected a JSON object/],
      ['{"version": "4"}', /^alerts: expected a list of alerts, got nothing/],
      ['{"version": "3", "alerts": []}', /^version: expected "4"/],
      [JSON.stringify(amPayload([amAlert({ alertname: 'A' }), { ...amAlert({ alertname: 'B' }), status: 'exploded' }])), /^alerts\[1\]\.status: expected "firing" or "resolved", got "exploded"/],
      [JSON.stringify(amPayload([{ ...amAlert({ alertname: 'A' }), labels: { alertname: 'A', nested: { x: 1 } } }])), /^alerts\[0\]\.labels\.nested: expected a string, got an object/],
      [JSON.stringify(amPayload([{ ...amAlert({ alertname: 'A' }), labels: undefined }])), /^alerts\[0\]\.labels: missing/],
      [JSON.stringify(amPayload([{ ...amAlert({ alertname: 'A' }), fingerprint: 12 }])), /^alerts\[0\]\.fingerprint: expected a string/],
      [JSON.stringify(amPayload([amAlert({ alertname: 'A' }), 'not an alert' as unknown as Record<string, unknown>])), /^alerts\[1\]: expected an alert object, got "not an alert"/],
      [JSON.stringify(amPayload([{ ...amAlert({ alertname: 'A' }), annotations: { summary: ['x'] } }])), /^alerts\[0\]\.annotations\.summary: expected a string, got a list/],
      [JSON.stringify(amPayload([{ ...amAlert({ alertname: 'A' }), labels: { severity: 'sev1' }, annotations: {} }])), /^alerts\[0\]\.labels\.alertname: missing \(and no annotations\.summary\)/],
      [JSON.stringify(amPayload([{ ...amAlert({ alertname: 'A' }), startsAt: 5 }])), /^alerts\[0\]\.startsAt: expected a string, got number 5/],
      ['"just a string"', /^body: expected a JSON object/],
      [`${'['.repeat(30000)}${']'.repeat(30000)}`, /^body: (expected a JSON object|not valid JSON)/],
      // Deep, and holding an escape of a character no store keeps (the walk that replaces it).
      [`{"x":${'['.repeat(30000)}"\\u0000"${']'.repeat(30000)},"alerts":[]}`, /^body: nested too deeply/],
    ];
    for (const [body, error] of cases) {
      const r = await t.post('prom', body, bearer);
      expect({ body: body.slice(0, 60), status: r.status }).toEqual({ body: body.slice(0, 60), status: 400 });
      expect(r.body.error).toMatch(error);
    }
    const generic = [
      [{ status: 'firing' }, /^title: expected a non-empty string/],
      [{ title: 'x', status: 'on fire' }, /^status: expected "firing" or "resolved"/],
      [{ title: 'x', status: 'firing', colour: 'red' }, /^colour: unknown field/],
    ] as const;
    for (const [payload, error] of generic) {
      const body = JSON.stringify(payload);
      const r = await t.post('hook', body, { 'x-onehand-signature': sign(body) });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(error);
    }
    await nothingStored();
    // The server is still fine, and the first incident gets id 1: nothing was half-written.
    expect((await t.post('prom', good, bearer)).body).toEqual({ accepted: 3, incidents: [1, 2, 3] });
  });

  it('a request that fails inside its transaction rolls back whole and is answered 500; others in its batch are kept', async () => {
    const store = t.h.app.store;
    const original = store.transaction.bind(store);
    let failNext = true;
    // Make the next intake transaction fail after it wrote (simulates a disk error at commit).
    store.transaction = async <T>(fn: Parameters<typeof original>[0]): Promise<T> => original(async (tx) => {
      const result = await fn(tx);
      if (failNext) {
        failNext = false;
        throw new Error('simulated disk I/O error');
      }
      return result as T;
    }) as Promise<T>;
    const r = await t.post('prom', good, bearer);
    expect(r.status).toBe(500);
    store.transaction = original;
    await nothingStored();
    expect((await t.post('prom', good, bearer)).status).toBe(202);
    expect(await t.read((tx) => tx.listIncidents({}))).toHaveLength(3);
  });
});
