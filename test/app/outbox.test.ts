import { Harness } from '../harness/harness';

describe('the outbox: a page is never lost', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(() => h.stop());

  it('retries a transient failure with backoff until it is delivered', async () => {
    h.adapter.failNext(3, 'throw', 'dave');
    await h.run('zed', 'incident report sev2 checkout down');
    h.expectNothingFor('dave');
    expect(await h.app.store.transaction((tx) => tx.outboxDepth())).toBe(1);
    await h.advance('4s');
    h.expectNothingFor('dave'); // first retry after 5 s
    await h.advance('1s');
    h.expectNothingFor('dave'); // failed again; next after 10 s more
    await h.advance('10s');
    // The third failure (at 10:00:15): the page also goes down the fallback ladder, so Dave is
    // mentioned in the team channel while his direct message keeps being retried.
    const fallback = h.expectMessage('#payments', /could not reach you directly/);
    expect(fallback.at).toBe('2026-03-03T10:00:15.000Z');
    expect(fallback.message.mentions).toEqual(['dave']);
    await h.advance('20s');
    const page = h.expectMessage('dave', /New incident #1/);
    expect(page.at).toBe('2026-03-03T10:00:35.000Z');
    expect(h.adapter.attempts).toBe(6); // channel record + 4 attempts for dave + the fallback
    expect(await h.app.store.transaction((tx) => tx.outboxDepth())).toBe(0);
    expect(await h.run('carol', 'incident show 1')).toContain('could not reach Dave directly');
  });

  it('a failed send survives a restart and is delivered after it', async () => {
    h.adapter.failNext(1, 'throw', 'dave');
    await h.run('zed', 'incident report sev2 checkout down');
    await h.restart();
    await h.advance('10s');
    h.expectMessage('dave', /New incident #1/);
  });

  it('a page that cannot be delivered directly falls back to the channel, mentioning only the on-call', async () => {
    h.adapter.failNext(1, 'undeliverable', 'dave');
    await h.run('zed', 'incident report sev1 login broken');
    const fallback = h.expectMessage('#payments', /could not reach you directly/);
    expect(fallback.text.split('\n')[0]).toBe('@Dave (could not reach you directly) New incident #1 [sev1] login broken');
    expect(fallback.message.mentions).toEqual(['dave']);
    expect(fallback.message.actions).toEqual([]);
    expect(await h.run('carol', 'incident show 1')).toContain('could not reach Dave directly');
  });

  it('a page to a member no platform can reach goes to the team channel instead of vanishing', async () => {
    h.adapter.unlinked.add('dave');
    await h.run('zed', 'incident report sev2 nobody linked dave');
    const fallback = h.expectMessage('#payments', /^@Dave \(could not reach you directly\) New incident #1/);
    expect(fallback.message.mentions).toEqual(['dave']);
    expect(await h.run('carol', 'incident show 1')).toMatch(/could not reach Dave directly \(no running chat platform can reach dave/);
  });

  it('only urgent messages fall back to the channel: a reporter update to a closed DM is recorded, not posted', async () => {
    await h.run('alice', 'incident report sev3 alice reports');
    h.adapter.failNext(1, 'undeliverable', 'alice');
    await h.run('dave', 'incident ack 1');
    expect(h.messagesFor('#payments').map((m) => m.text.split('\n')[0])).toEqual(['New incident #1 [sev3] alice reports', '#1 [sev3] alice reports acknowledged by Dave']);
    expect(await h.run('carol', 'incident show 1')).toContain('delivery to Alice failed: simulated: direct messages closed');
  });

  it('delivers each notification once even when the same work is enqueued twice', async () => {
    await h.run('zed', 'incident report sev3 twice');
    const rows = h.adapter.delivered.map((d) => d.key);
    expect(new Set(rows).size).toBe(rows.length);
    const again = await h.app.store.transaction(async (tx) =>
      tx.enqueue(h.adapter.delivered.map((d) => ({ key: d.key, adapter: 'recording', recipient: { kind: 'member', id: 'dave' }, message: d.message, incidentId: 1, notBefore: h.clock.now() }))),
    );
    expect(again).toBe(0);
  });
});
