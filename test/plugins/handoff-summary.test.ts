import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';

const CONFIG = `${TEST_CONFIG}\nplugins:\n  handoff-summary: { next_shifts: 2 }\n`;
// Dave's shift: Mon 2026-03-02 09:00 CET to Mon 2026-03-09 09:00 CET (08:00Z); then Alice, then Bob.
const HANDOFF = '2026-03-09T08:00:00Z';

describe('handoff summaries', () => {
  it('at the handoff, the incoming on-call and the channel get the outgoing shift summarised, once', async () => {
    const h = await Harness.start({ config: CONFIG });
    await h.run('zed', 'incident report sev2 checkout returns 502');
    await h.advance('3m');
    await h.run('dave', 'incident ack 1');
    await h.advance('27m');
    await h.run('dave', 'incident resolve 1 rolled back');
    await h.run('zed', 'incident report sev3 search is slow');
    await h.run('dave', 'incident note 2 index rebuild running');
    await h.run('dave', 'incident escalate 2 mentor');
    await h.advance('10m'); // the lead is paged: the chain goes on until someone acknowledges
    await h.run('dave', 'incident ack 2');
    expect(await h.run('dave', 'oncall handoff note the retry queue drains slowly')).toBe('Noted for the next handoff of Payments.');
    await h.advanceTo('2026-03-09T07:59:00Z');
    expect(h.adapter.delivered.filter((d) => d.text.startsWith('Handoff for Payments'))).toEqual([]);
    for (const d of h.unseen()) h.expectMessage(d.to, d.text.slice(0, 20)); // clear what came before

    await h.advanceTo(HANDOFF);
    const dm = h.expectMessage('alice', /^Handoff for Payments: Dave → Alice/);
    expect(dm.at).toBe('2026-03-09T08:00:00.000Z');
    expect(dm.message.mentions).toEqual([]);
    expect(dm.text).toContain('Shift Mon 02 Mar 09:00 → Mon 09 Mar 09:00 (Europe/Berlin).');
    expect(dm.text).toContain('Incidents: 2 opened, 2 acknowledged, 1 resolved, 1 still open.');
    expect(dm.text).toContain('Median time to acknowledge: 6m30s; to resolve: 30m.');
    // opened Tue 10:30Z, handed off Mon 08:00Z
    expect(dm.text).toContain('#2 [sev3] search is slow — acknowledged, Dave, open 5d21h30m; last note: index rebuild running');
    expect(dm.text).toContain('Escalations (2):');
    expect(dm.text).toContain('#2 search is slow: escalated to the mentor (Alice) by Dave');
    expect(dm.text).toContain('#2 search is slow: escalated to the lead (Carol)');
    expect(dm.text).toContain('Huddles: none.');
    expect(dm.text).toContain('the retry queue drains slowly');
    expect(dm.text).toContain('Next: Bob from Mon 16 Mar 09:00; Dave from Mon 23 Mar 09:00.');
    const channel = h.expectMessage('#payments', /^Handoff for Payments: Dave → Alice/);
    expect(channel.message.mentions).toEqual([]);
    h.expectNothingFor('dave', 'bob', 'carol', 'zed');

    await h.advance('6d23h');
    h.expectNothingFor('alice', '#payments'); // exactly once
    await h.advance('1h');
    const next = h.expectMessage('bob', /^Handoff for Payments: Alice → Bob/);
    expect(next.text).toContain('No handoff notes'); // notes were handed over once
    await h.stop();
  });

  it('an incident moved to another team counts there only for what happened after the move', async () => {
    const h = await Harness.start({ config: CONFIG }); // Tue 3 Mar 10:00Z; Search hands over daily at 08:00 New York (13:00Z)
    await h.run('zed', 'incident report sev2 search results empty');
    await h.run('dave', 'incident ack 1');
    await h.run('dave', 'incident escalate 1 mentor');
    expect(await h.run('carol', 'incident assign 1 --team search')).toMatch(/^Assigned #1 to (Erin|Frank) \(Search\)/);
    await h.advanceTo('2026-03-03T13:00:00Z');
    const summary = h.adapter.delivered.find((d) => d.to === '#search' && d.text.startsWith('Handoff for Search'));
    expect(summary?.text).toContain('Incidents: 0 opened, 0 acknowledged, 0 resolved, 1 still open.');
    // Dave's escalation to Alice was Payments'; Search's own chain (Erin's mentor) is Search's.
    expect(summary?.text).not.toContain('mentor (Alice)');
    expect(summary?.text).toContain('escalated to the mentor (Frank)');
    // Payments' own handoff still accounts for it: opened, acknowledged and escalated on Dave's
    // shift, then handed to Search.
    await h.advanceTo(HANDOFF);
    const payments = h.expectMessage('alice', /^Handoff for Payments: Dave → Alice/);
    expect(payments.text).toContain('Incidents: 1 opened, 1 acknowledged, 0 resolved, 0 still open.');
    expect(payments.text).toMatch(/Moved to other teams:\n\s*• #1 \[sev2\] search results empty → Search at Tue 03 Mar 11:00, now (open|acknowledged), (Erin|Frank)/);
    expect(payments.text).toContain('escalated to the mentor (Alice) by Dave');
    expect(payments.text).not.toContain('mentor (Frank)');
    await h.stop();
  });

  it('after a burst of 25 incidents it names the 10 most severe still open and counts the rest; notes and next shifts stay in', async () => {
    const h = await Harness.start({ config: CONFIG, at: '2026-03-09T06:00:00Z' });
    for (let i = 1; i <= 25; i++) await h.run('zed', `incident report ${i === 25 ? 'sev1' : 'sev3'} disk ${i} full`);
    await h.run('dave', 'oncall handoff note most are one cause');
    await h.advanceTo(HANDOFF);
    const dm = h.expectMessage('alice', /^Handoff for Payments: Dave → Alice/);
    expect(dm.text).toContain('25 still open.');
    expect(dm.text).toContain('#25 [sev1] disk 25 full'); // the most severe first
    expect(dm.text).toContain('#9 [sev3] disk 9 full');
    expect(dm.text).not.toContain('#10 [sev3]');
    expect(dm.text).toContain('and 15 more ("incident list" has them all)');
    expect(dm.text).toContain('most are one cause');
    expect(dm.text).toContain('Next: Bob from Mon 16 Mar 09:00');
  });

  it('counts incidents, not events, and times a re-acknowledgement from the reopening', async () => {
    const h = await Harness.start({ config: CONFIG });
    await h.run('zed', 'incident report sev2 checkout down');
    await h.advance('4m');
    await h.run('dave', 'incident ack 1');
    await h.advance('1h');
    await h.run('dave', 'incident resolve 1 fixed');
    await h.advance('1h');
    await h.run('dave', 'incident reopen 1 back again');
    await h.advance('2m');
    await h.run('dave', 'incident ack 1');
    await h.run('dave', 'incident resolve 1 fixed for good');
    const draft = await h.run('dave', 'oncall handoff');
    expect(draft).toContain('Incidents: 1 opened, 1 acknowledged, 1 resolved, 0 still open.');
    // 4m and 2m (from the reopening, not 2h6m from the report): median 3m.
    expect(draft).toContain('Median time to acknowledge: 3m;');
    await h.stop();
  });

  it('"Next" lists changes of hands: an override that extends the incoming shift is not a next shift of the same person', async () => {
    const h = await Harness.start({ config: CONFIG });
    expect(await h.run('carol', 'oncall override alice 2026-03-16T09:00 2026-03-17T09:00')).toContain('Override set');
    await h.advanceTo(HANDOFF);
    const dm = h.expectMessage('alice', /^Handoff for Payments: Dave → Alice/);
    expect(dm.text).toContain('Next: Bob from Tue 17 Mar 09:00; Dave from Mon 23 Mar 09:00.');
    await h.stop();
  });

  it('follows overrides: the summary goes to whoever is really on call next', async () => {
    const h = await Harness.start({ config: CONFIG });
    expect(await h.run('carol', 'oncall override bob 2026-03-09T09:00 2026-03-10T09:00')).toContain('Override set');
    h.expectMessage('alice', /^Bob is on call for Payments instead of you from Mon 09 Mar 09:00/); // her first day, taken
    await h.advanceTo(HANDOFF);
    h.expectMessage('bob', /^Handoff for Payments: Dave → Bob/);
    h.expectNothingFor('alice');
    await h.advanceTo('2026-03-10T08:00:00Z');
    h.expectMessage('alice', /^Handoff for Payments: Bob → Alice/);
    await h.stop();
  });

  it('a handoff passed while the bot was down is summarised once, late, after the restart', async () => {
    const h = await Harness.start({ config: CONFIG });
    await h.advanceTo('2026-03-09T07:00:00Z');
    await h.app.stop();
    h.clock.set(h.clock.now().plus({ hours: 3 }));
    await h.restart();
    const late = h.expectMessage('alice', /^Handoff for Payments: Dave → Alice/);
    expect(late.at).toBe('2026-03-09T10:00:00.000Z');
    await h.restart();
    h.expectNothingFor('alice');
    await h.stop();
  });

  it('"oncall handoff" shows the draft of the current shift at any time', async () => {
    const h = await Harness.start({ config: CONFIG });
    await h.run('zed', 'incident report sev2 draft me');
    const draft = await h.run('dave', 'oncall handoff');
    expect(draft).toMatch(/^Handoff draft for Payments: Dave → Alice at Mon 09 Mar 09:00/);
    expect(draft).toContain('Incidents: 1 opened, 0 acknowledged, 0 resolved, 1 still open.');
    expect(await h.run('dave', 'oncall handoff later')).toContain('"oncall handoff note TEXT"');
    await h.stop();
  });

  it('daily New York shifts hand off at 08:00 local across the DST change', async () => {
    const h = await Harness.start({ config: CONFIG, at: '2026-03-07T12:00:00Z' });
    await h.advanceTo('2026-03-09T13:00:00Z');
    const handoffs = h.adapter.delivered.filter((d) => d.to === '#search').map((d) => d.at);
    // 08:00 local: EST (13:00Z) on Saturday; on Sunday 8 March the clocks jumped at 02:00 to EDT (12:00Z).
    expect(handoffs).toEqual(['2026-03-07T13:00:00.000Z', '2026-03-08T12:00:00.000Z', '2026-03-09T12:00:00.000Z']);
    await h.stop();
  });
});
