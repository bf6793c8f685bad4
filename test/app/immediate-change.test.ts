/**
 * A change of who is on call that takes effect at once (an absence from now or from earlier, an
 * override from now): there is no boundary ahead to fire, so the shift change happens with the
 * command. The outgoing on-call's unacknowledged incidents move to whoever covers, who is paged
 * for them; acknowledged ones stay. Before, they stayed with someone marked away: the reminders
 * went to them and the covering on-call never heard of the incidents.
 */
import { Harness } from '../harness/harness';

describe('an on-call change that takes effect at once', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('"oncall away" for the on-call, from now: their unacknowledged incident moves to whoever covers, who is paged; the reminders go to them', async () => {
    h = await Harness.start(); // Tue 3 Mar 11:00 Berlin: Dave is on call for Payments
    await h.run('zed', 'incident report sev2 checkout down');
    await h.run('zed', 'incident report sev3 slow search');
    await h.run('dave', 'incident ack 2');
    const reply = await h.run('carol', 'oncall away dave now 3d');
    expect(reply).toMatch(/covers Payments/);
    const cover = (await h.run('carol', 'oncall who')).match(/On call for Payments: (\w+)/)?.[1];
    expect(cover).toBeDefined();
    const coverId = (cover as string).toLowerCase();
    expect(coverId).not.toBe('dave');
    h.expectMessage(coverId, /Handed over to you at the shift change: #1 \[sev2\] checkout down/);
    h.expectMessage('dave', /1 unacknowledged incident moved to/);
    const list = await h.run('carol', 'incident list');
    expect(list).toMatch(new RegExp(`#1 \\[sev2\\] checkout down — open, ${cover as string}`));
    expect(list).toMatch(/#2 \[sev3\] slow search — acknowledged, Dave/);
    const mark = h.mark();
    await h.advance('5m');
    const reminders = h.adapter.delivered.slice(mark).filter((d) => /Reminder: #1/.test(d.text));
    expect(reminders.map((d) => d.to)).toEqual([coverId]);
  });

  it('an absence that began an hour ago, and an override from now, hand over the same way', async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev2 checkout down');
    await h.run('carol', 'oncall away dave 2026-03-03T10:00 2d'); // 10:00 Berlin, an hour ago
    const cover = ((await h.run('carol', 'oncall who')).match(/On call for Payments: (\w+)/)?.[1] ?? '').toLowerCase();
    h.expectMessage(cover, /Handed over to you at the shift change: #1/);
    // An override from now takes it on to Bob... unless Bob covers already; then to Alice.
    const next = cover === 'bob' ? 'alice' : 'bob';
    await h.run('carol', `oncall override ${next} now 4h`);
    h.expectMessage(next, /Handed over to you at the shift change: #1/);
    expect(await h.run('carol', 'incident list')).toMatch(new RegExp(`#1 \\[sev2\\] checkout down — open, ${next[0]?.toUpperCase()}${next.slice(1)}`));
  });
});

describe('someone on call while marked away', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('"oncall who" says who is covering for whom, and says it when the on-call is away yet on call (an override, or everyone away)', async () => {
    h = await Harness.start(); // Tue 3 Mar 11:00 Berlin: Dave is on call for Payments
    await h.run('carol', 'oncall away dave now 3d');
    const who = await h.run('carol', 'oncall who');
    expect(who).toMatch(/On call for Payments: (Alice|Bob)\nUntil .*\(covering for Dave, away\)\./);
    expect(who).not.toContain('Note:');
    // Everyone else away too: the rotation gives the shift back to Dave, and says so.
    await h.run('carol', 'oncall away alice now 3d');
    await h.run('carol', 'oncall away bob now 3d');
    expect(await h.run('carol', 'oncall who')).toMatch(/On call for Payments: Dave\n[^]*Note: Dave is marked away until Fri 06 Mar 11:00 GMT\+1, yet on call \(everyone else is away too\): pages go to them all the same/);
  });

  it('an override for a member marked away in that time is set, with a note naming the absence; "oncall who" says it too', async () => {
    h = await Harness.start();
    await h.run('carol', 'oncall away bob 2026-03-03T12:00 1d');
    const reply = await h.run('carol', 'oncall override bob now 4h');
    expect(reply).toContain('Override set: Bob is on call for Payments');
    expect(reply).toContain('Note: Bob is marked away from Tue 03 Mar 12:00 GMT+1 to Wed 04 Mar 12:00 GMT+1; the override puts them on call in that time all the same (pages go to them).');
    // No note for an override outside the absence.
    expect(await h.run('carol', 'oncall override alice 2026-03-05T09:00 4h')).not.toContain('Note:');
    expect(await h.run('carol', 'oncall who')).not.toContain('Note:'); // 11:00: Bob is not away yet
    await h.advance('1h5m');
    expect(await h.run('carol', 'oncall who')).toContain('Note: Bob is marked away until Wed 04 Mar 12:00 GMT+1, yet on call by an override');
  });

  it('whoever an override takes a shift from is told: now, or for a later day; a shift of their own stays theirs', async () => {
    h = await Harness.start(); // Tuesday 11:00 Berlin: Dave is on call for Payments
    await h.run('carol', 'oncall override bob now 4h');
    const now = h.expectMessage('dave', /Bob is on call for Payments instead of you/);
    expect(now.text).toBe('Bob is on call for Payments instead of you from Tue 03 Mar 11:00 GMT+1 to Tue 03 Mar 15:00 GMT+1 (override by Carol): its pages go to them then.');
    expect(now.message.mentions).toEqual(['dave']); // a direct message to him, pinging nobody else
    await h.run('carol', 'oncall override alice 2026-03-05T09:00 4h');
    h.expectMessage('dave', /Alice is on call for Payments instead of you from Thu 05 Mar 09:00 GMT\+1 to Thu 05 Mar 13:00 GMT\+1/);
    h.expectMessage('bob', /you are on call for Payments from Tue 03 Mar 11:00/);
    h.expectNothingFor('dave', 'bob'); // one notice each, nothing twice
  });
});

describe('incidents held by someone no longer in the config', () => {
  it('at start, the unacknowledged ones go to the team\'s on-call, who is paged; the acknowledged ones are named in a warning', async () => {
    const { TEST_CONFIG } = await import('../harness/fixtures');
    const first = await Harness.start();
    await first.run('zed', 'incident report sev2 checkout down');
    await first.run('zed', 'incident report sev3 slow search');
    await first.run('dave', 'incident ack 2');
    await first.stop();
    // Dave leaves the company: his entry, his place in the rotation and as Bob's mentor go.
    const config = TEST_CONFIG
      .replace('  - { id: dave, name: Dave, time_zone: Europe/London, mentor: alice }\n', '')
      .replace('{ id: bob, name: Bob, time_zone: Europe/Berlin, mentor: dave }', '{ id: bob, name: Bob, time_zone: Europe/Berlin }')
      .replace('members: [alice, bob, dave]', 'members: [alice, bob]');
    const h = await Harness.start({ config, dbPath: first.dbPath, at: first.clock.now().toISO() as string });
    try {
      const onCall = ((await h.run('carol', 'oncall who')).match(/On call for Payments: (\w+)/)?.[1] ?? '').toLowerCase();
      h.expectMessage(onCall, /Handed over to you at the shift change: #1 \[sev2\] checkout down/);
      const list = await h.run('carol', 'incident list');
      expect(list).toMatch(/#1 \[sev2\] checkout down — open, (Alice|Bob)/);
      expect(list).toMatch(/#2 \[sev3\] slow search — acknowledged, dave/);
      const warning = h.logger.entries.find((e) => e.msg.startsWith('acknowledged incidents are held by someone no longer in the config'));
      expect(warning?.fields).toMatchObject({ team: 'payments', incidents: '#2 (dave)', fix: 'incident assign 2 MEMBER' });
      // A second start finds nothing more to move.
      await h.restart(); // a new recording adapter: it has seen nothing yet
      expect(h.adapter.delivered.filter((d) => /Handed over/.test(d.text))).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});
