/**
 * Issue 12: the chain on-call, mentor, lead always ends with someone owning the incident, with
 * quiet hours on as the example config ships them. Each scenario is a story on the simulated clock.
 * Test world: Dave (London) is on call for payments until Mon 2026-03-09 09:00 Berlin; his mentor
 * is Alice (Berlin), the lead Carol (Berlin); then Alice's week, then Bob's.
 */
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';

const QUIET = `
plugins:
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: true }
`;

const config = (extra = ''): string => `${TEST_CONFIG}${QUIET}${extra}`;

async function kinds(h: Harness, id: number): Promise<string[]> {
  return (await h.app.store.transaction((tx) => tx.timeline(id))).map((e) => e.kind);
}

async function pendingEscalation(h: Harness, id: number): Promise<boolean> {
  const next = await h.app.store.transaction((tx) => tx.nextTimerDue());
  const incident = await h.app.store.transaction((tx) => tx.getIncident(id));
  return next !== null && incident?.state === 'open';
}

describe('the chain never ends with nobody (quiet hours on)', () => {
  let h: Harness;
  afterEach(async () => {
    await h.stop();
  });

  it('night sev1, unacknowledged: every step pages at once, the chain repeats, then the channel hears of an unowned incident every hour', async () => {
    h = await Harness.start({ config: config(), at: '2026-03-03T22:30:00Z' }); // 22:30 London, 23:30 Berlin
    await h.report('zed', 'sev1 payments are failing');
    expect(h.expectMessage('dave', /New incident #1 \[sev1\]/).at).toBe('2026-03-03T22:30:00.000Z');
    await h.advance('5m');
    expect(h.expectMessage('dave', /Reminder: #1/).at).toBe('2026-03-03T22:35:00.000Z');
    await h.advance('5m');
    expect(h.expectMessage('alice', /Escalated to you as mentor: #1/).at).toBe('2026-03-03T22:40:00.000Z');
    await h.advance('5m');
    expect(h.expectMessage('carol', /Escalated to you as lead: #1/).at).toBe('2026-03-03T22:45:00.000Z');
    await h.advance('20m'); // the chain once more
    h.expectMessage('dave', /round 2 of the chain/);
    h.expectMessage('dave', /round 2 of the chain/);
    h.expectMessage('alice', /as mentor \(round 2 of the chain\)/);
    h.expectMessage('carol', /as lead \(round 2 of the chain\)/);
    await h.advance('5m');
    const alert = h.expectMessage('#payments', /Unowned incident #1 \[sev1\] payments are failing/);
    expect(alert.at).toBe('2026-03-03T23:10:00.000Z');
    expect(alert.message.mentions).toEqual(['carol', 'dave']);
    h.expectNothingFor('bob', 'erin', 'frank', 'zed');
    await h.advance('12h');
    const again = h.adapter.delivered.filter((d) => d.to === '#payments' && /Unowned incident #1/.test(d.text));
    expect(again.length).toBe(13); // 23:10 and every hour after it, until 11:10
    expect(again.every((d) => d.message.mentions.join() === 'carol,dave')).toBe(true);
    expect(h.recipientsSince(0)).toEqual(['#payments', 'alice', 'carol', 'dave']);
    expect(await kinds(h, 1)).not.toContain('escalation-skipped');
    // Counted in insights.
    expect(await h.run('carol', 'oncall stats')).toMatch(/13 unowned-incident alerts/);
    await h.run('carol', 'incident ack 1');
    const before = h.mark();
    await h.advance('3h');
    expect(h.recipientsSince(before)).toEqual([]);
  });

  it('a non-urgent unowned alert mentions only who may be disturbed, and waits while neither may', async () => {
    h = await Harness.start({ config: config(), at: '2026-03-03T14:00:00Z' });
    await h.report('zed', 'sev3 exports are slow');
    await h.advanceTo('2026-03-03T21:40:00Z'); // 22:40 in Berlin (Carol asleep), 21:40 in London (Dave awake)
    const alerts = h.adapter.delivered.filter((d) => d.to === '#payments' && /Unowned incident #1/.test(d.text));
    expect(alerts.map((d) => d.at)).toEqual(['14:40', '15:40', '16:40', '17:40', '18:40', '19:40', '20:40', '21:40'].map((t) => `2026-03-03T${t}:00.000Z`));
    expect(alerts.slice(0, -1).every((d) => d.message.mentions.join() === 'carol,dave')).toBe(true);
    expect(alerts.at(-1)?.message.mentions).toEqual(['dave']);
    expect(alerts.at(-1)?.text).toContain('Carol (lead), Dave (on call for it)');
    const mark = h.mark();
    await h.advanceTo('2026-03-04T05:59:00Z');
    expect(h.adapter.delivered.slice(mark).filter((d) => d.to === '#payments')).toEqual([]);
    await h.advanceTo('2026-03-04T07:00:00Z');
    const morning = h.adapter.delivered.slice(mark).filter((d) => d.to === '#payments');
    expect(morning.map((d) => [d.at, d.message.mentions.join()])).toEqual([
      ['2026-03-04T06:00:00.000Z', 'carol'], // 07:00 in Berlin
      ['2026-03-04T07:00:00.000Z', 'carol,dave'],
    ]);
  });

  it('night sev3: waits for the on-call\'s morning, then escalation goes on by day; a step is always scheduled', async () => {
    h = await Harness.start({ config: config(), at: '2026-03-03T22:30:00Z' });
    await h.report('zed', 'sev3 typo on the pricing page');
    h.expectNothingFor('dave', 'alice', 'carol');
    for (const at of ['2026-03-04T00:00:00Z', '2026-03-04T03:00:00Z', '2026-03-04T06:59:00Z']) {
      await h.advanceTo(at);
      expect(await pendingEscalation(h, 1)).toBe(true);
      h.expectNothingFor('dave', 'alice', 'carol');
    }
    await h.advanceTo('2026-03-04T07:00:00Z'); // 07:00 in London
    h.expectMessage('dave', /New incident #1 \[sev3\]/);
    await h.advance('5m');
    h.expectMessage('dave', /Reminder: #1/);
    await h.advance('5m');
    h.expectMessage('alice', /Escalated to you as mentor: #1/); // 08:10 in Berlin
    await h.advance('5m');
    h.expectMessage('carol', /Escalated to you as lead: #1/);
  });

  it('weekend sev2: the on-call is paged on Saturday morning (weekends do not hold their own shift\'s pages)', async () => {
    h = await Harness.start({ config: config(), at: '2026-03-07T09:30:00Z' }); // Saturday
    await h.report('zed', 'sev2 refunds are slow');
    expect(h.expectMessage('dave', /New incident #1 \[sev2\]/).at).toBe('2026-03-07T09:30:00.000Z');
    await h.advance('5m');
    h.expectMessage('dave', /Reminder: #1/);
    // Alice's weekend holds the non-urgent mentor step until her Monday morning; it is not dropped.
    await h.advance('5m');
    h.expectNothingFor('alice');
    expect(await pendingEscalation(h, 1)).toBe(true);
    expect(await kinds(h, 1)).toContain('notification-deferred');
    await h.advanceTo('2026-03-09T06:00:00Z'); // Mon 07:00 in Berlin
    expect(h.expectMessage('alice', /Escalated to you as mentor: #1/).at).toBe('2026-03-09T06:00:00.000Z');
  });

  it('a team that lets weekends hold the on-call\'s non-urgent pages (oncall_weekends: true)', async () => {
    const weekendTeam = config().replace('defaults: { nights: "22:00-07:00", weekends: true }', 'defaults: { nights: "22:00-07:00", weekends: true }\n    teams: { payments: { oncall_weekends: true } }');
    h = await Harness.start({ config: weekendTeam, at: '2026-03-07T09:30:00Z' });
    await h.report('zed', 'sev2 refunds are slow');
    h.expectNothingFor('dave');
    await h.report('zed', 'sev1 refunds are failing');
    h.expectMessage('dave', /New incident #2 \[sev1\]/);
    await h.advanceTo('2026-03-09T07:00:00Z'); // Mon 07:00 in London
    expect(h.expectMessage('dave', /New incident #1 \[sev2\]/).at).toBe('2026-03-09T07:00:00.000Z');
  });

  it('escalate at night: never refused; a non-urgent page waits and says when, --now pages at once, a sev1 pages at once', async () => {
    h = await Harness.start({ config: config(), at: '2026-03-03T21:50:00Z' }); // 21:50 London, 22:50 Berlin
    await h.report('zed', 'sev3 exports are stuck');
    await h.run('dave', 'incident ack 1');
    const reply = await h.run('dave', 'incident escalate 1 mentor');
    expect(reply).toContain('Escalated #1 to the mentor, Alice');
    expect(reply).toContain('Alice is in quiet hours: your request reaches them at Wed 07:00 their time (Europe/Berlin)');
    expect(reply).toContain('"incident escalate 1 mentor --now"');
    h.expectNothingFor('alice');
    expect(await h.run('dave', 'incident escalate 1 mentor')).toMatch(/already been paged .* reaches them at Wed 07:00/);
    const forced = await h.run('dave', 'incident escalate 1 mentor --now');
    expect(forced).toContain('Escalated #1 to the mentor, Alice.');
    const page = h.expectMessage('alice', /Dave asks for your help as mentor on #1 .* \(now, on purpose\)/);
    expect(page.at).toBe('2026-03-03T21:50:00.000Z');
    expect(await kinds(h, 1)).toContain('notification-bypassed');

    await h.report('zed', 'sev1 checkout is down');
    await h.run('dave', 'incident ack 2');
    expect(await h.run('dave', 'incident escalate 2 lead')).toBe('Escalated #2 to the lead, Carol.');
    h.expectMessage('carol', /Dave asks for your help as lead on #2 \[sev1\]/);
    expect(await h.run('dave', 'help incident escalate')).toContain('--now');
  });

  it('away: the substitute is told at once and again when the shift starts', async () => {
    h = await Harness.start({ config: config() }); // Tue 10:00Z
    // Alice's next week starts Mon 9 Mar 09:00 Berlin; she is away then, so Bob (next in order) covers it.
    expect(await h.run('carol', 'oncall away alice 2026-02-01T00:00 3d')).toBe('The absence is entirely in the past; nothing would change.');
    const reply = await h.run('carol', 'oncall away alice 2026-03-09T00:00 3d');
    expect(reply).toContain('Bob covers Payments Mon 09 Mar 09:00');
    const told = h.expectMessage('bob', /you are on call for Payments from Mon 09 Mar 09:00 .* covering for Alice, who is away/);
    expect(told.message.mentions).toEqual(['bob']);
    // The schedule says so too.
    const schedule = await h.run('carol', 'oncall schedule 2');
    expect(schedule).toMatch(/Mon 09 Mar 09:00 .* → Mon 16 Mar 09:00 .* {2}Bob \(covering for Alice, away\)/);
    // The last shift is shown to its real end, not cut where the two weeks end (Tue 17 Mar 11:00).
    expect(schedule.split('\n').pop()).toBe('Mon 16 Mar 09:00 GMT+1 → Mon 23 Mar 09:00 GMT+1  Bob');
    h.expectMessage('alice', /You are marked away/);
    h.expectNothingFor('dave');
    await h.advanceTo('2026-03-09T08:00:00Z'); // Mon 09:00 Berlin
    const again = h.expectMessage('bob', /your Payments shift starts now, covering for Alice: you are on call until Mon 16 Mar 09:00/);
    expect(again.at).toBe('2026-03-09T08:00:00.000Z');
    expect(await h.run('bob', 'oncall who')).toContain('On call for Payments: Bob');
  });

  it('a long absence: whoever covers several of the shifts is told once, with every shift listed', async () => {
    h = await Harness.start({ config: config() }); // Tue 3 Mar 10:00Z
    const reply = await h.run('carol', 'oncall away alice 2026-03-09T00:00 9w');
    expect(reply).toContain('Bob covers Payments Mon 09 Mar 09:00');
    const notices = h.unseen().filter((m) => /you are on call for/.test(m.text));
    const recipients = notices.map((m) => m.to);
    expect(new Set(recipients).size).toBe(recipients.length); // one message per member
    const many = h.expectMessage('bob', 'you are on call for 3 more shifts, covering for Alice, who is away. You will be reminded when each starts:');
    expect(many.text.split('\n').slice(1)).toEqual([
      '  Payments: Mon 09 Mar 09:00 GMT+1 to Mon 16 Mar 09:00 GMT+1, covering for Alice',
      '  Payments: Mon 30 Mar 09:00 GMT+2 to Mon 06 Apr 09:00 GMT+2, covering for Alice',
      '  Payments: Mon 20 Apr 09:00 GMT+2 to Mon 27 Apr 09:00 GMT+2, covering for Alice',
    ]);
  });

  it('overlapping time_off: each shift goes to whoever holds it once all of it is counted, and only they are told', async () => {
    const off = config('    members:\n      alice: { time_off: [{ from: 2026-03-10, to: 2026-03-12 }] }\n      bob: { time_off: [{ from: 2026-03-10, to: 2026-03-12 }] }\n');
    h = await Harness.start({ config: off }); // Alice's week from Mon 9 Mar: Bob is away too, so Dave covers it
    h.expectMessage('dave', /you are on call for Payments from Mon 09 Mar 09:00 .* covering for Alice, who is away/);
    expect(h.unseen().filter((m) => /you are on call for/.test(m.text))).toEqual([]);
    h.expectNothingFor('bob');
  });

  it('quiet-hours time_off is an absence the rotation honours: the substitute is told at start and at the handoff, and takes the pages', async () => {
    const off = config('    members:\n      alice: { time_off: [{ from: 2026-03-10, to: 2026-03-12 }] }\n');
    h = await Harness.start({ config: off }); // Tue 3 Mar; Alice's next week starts Mon 9 Mar
    const told = h.expectMessage('bob', /you are on call for Payments from Mon 09 Mar 09:00 .* covering for Alice, who is away/);
    expect(told.at).toBe('2026-03-03T10:00:00.000Z');
    h.expectNothingFor('alice', 'dave', 'carol');
    await h.advanceTo('2026-03-09T08:00:00Z');
    h.expectMessage('bob', /your Payments shift starts now, covering for Alice/);
    await h.advanceTo('2026-03-10T10:00:00Z'); // Alice's holiday
    await h.report('zed', 'sev1 payments are failing');
    h.expectMessage('bob', /New incident #1 \[sev1\]/);
    h.expectNothingFor('alice');
    await h.stop();
    // Taken out of the config, the absence goes too: the rotation gives Alice her week back.
    h = await Harness.start({ config: config(), dbPath: h.dbPath, at: '2026-03-04T10:00:00Z' });
    expect(await h.run('carol', 'oncall schedule 2')).toMatch(/Mon 09 Mar 09:00 .* → Mon 16 Mar 09:00 .*Alice/);
  });

  it('handoff with open incidents: unacknowledged ones move to the incoming on-call, both told; acknowledged ones stay', async () => {
    h = await Harness.start({ config: config(), at: '2026-03-09T07:40:00Z' }); // Mon 08:40 Berlin, Dave's last minutes
    await h.report('zed', 'sev2 invoices fail');
    await h.report('zed', 'sev3 slow admin page');
    await h.run('dave', 'incident ack 2');
    await h.advance('19m');
    h.expectMessage('dave', /Reminder: #1/);
    await h.advanceTo('2026-03-09T08:00:00Z'); // handoff to Alice
    const page = h.expectMessage('alice', /Handed over to you at the shift change: #1 \[sev2\] invoices fail is not acknowledged yet/);
    expect(page.message.mentions).toEqual(['alice']);
    const told = h.expectMessage('dave', /Your Payments shift ended: 1 unacknowledged incident moved to Alice/);
    expect(told.text).toContain('#1 [sev2] invoices fail');
    const mark = h.mark();
    await h.advance('5m');
    h.expectMessage('alice', /Reminder: #1/);
    await h.advance('5m');
    h.expectMessage('bob', /Escalated to you as mentor: #1/); // Alice's mentor, not Dave's
    expect(h.recipientsSince(mark)).not.toContain('dave');
    expect(await h.run('carol', 'incident show 2')).toContain('assignee Dave');
    expect(await h.run('carol', 'incident show 1')).toContain('assignee Alice');
  });

  it('handoff: keep leaves unacknowledged incidents with the outgoing on-call', async () => {
    const keep = config().replace('escalation: { ack_timeout: 5m, renotify: 1, then: [mentor, lead] }', 'escalation: { ack_timeout: 5m, renotify: 1, then: [mentor, lead], handoff: keep }');
    h = await Harness.start({ config: keep, at: '2026-03-09T07:58:00Z' });
    await h.report('zed', 'sev2 invoices fail');
    await h.advanceTo('2026-03-09T08:03:00Z');
    h.expectMessage('dave', /Reminder: #1/);
    h.expectNothingFor('alice');
  });

  it('a mentor who is also the lead gets one page naming both roles', async () => {
    const both = TEST_CONFIG.replace('{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice }', '{ id: dave, name: Dave, time_zone: Europe/London, mentor: carol }');
    h = await Harness.start({ config: both });
    await h.report('zed', 'sev2 checkout returns 502');
    await h.advance('10m');
    const page = h.expectMessage('carol', /Escalated to you as mentor and lead: #1/);
    expect(page.at).toBe('2026-03-03T10:10:00.000Z');
    await h.advance('5m');
    h.expectNothingFor('carol');
    h.expectMessage('dave', /New incident/);
    h.expectMessage('dave', /Reminder: #1/);
    h.expectMessage('dave', /round 2 of the chain/); // the lead step was the same page: the chain goes on at once
    expect(await h.run('carol', 'incident show 1')).toContain('the lead is also the mentor and was paged once for both');
    // An early escalation to the mentor names both roles too, and the chain does not page Carol again.
    await h.report('zed', 'sev2 refunds fail');
    expect(await h.run('dave', 'incident escalate 2')).toContain('Escalated #2 to the mentor and lead, Carol');
    h.expectMessage('carol', /Dave asks for your help as mentor and lead on #2/);
    await h.advance('10m');
    expect(h.unseen().filter((d) => d.to === 'carol' && /#2/.test(d.text))).toEqual([]);
  });

  it('a member of another team an incident is assigned to can see it (show), though it stays the first team\'s', async () => {
    h = await Harness.start({ config: config() });
    await h.report('zed', 'sev2 search results empty on checkout');
    expect(await h.run('erin', 'incident show 1')).toContain('Only members of the team may do this');
    expect(await h.run('dave', 'incident assign 1 erin')).toContain('Assigned #1 to Erin');
    const shown = await h.run('erin', 'incident show 1');
    expect(shown).toContain('assignee Erin');
    expect(await h.run('frank', 'incident show 1')).toContain('Only members of the team may do this'); // the rest of Search still may not
  });

  it('reassign: to a member or to another team\'s on-call; the chain restarts for them, the reporter and the previous assignee are told', async () => {
    h = await Harness.start({ config: config() });
    await h.report('zed', 'sev2 search results empty on checkout');
    expect(await h.run('alice', 'incident assign 1 bob')).toContain('Only the on-call, the team lead or an admin may do this');
    await h.advance('3m');
    const reply = await h.run('dave', 'incident assign 1 bob');
    expect(reply).toContain('Assigned #1 to Bob, who has been paged. Escalation starts again for them.');
    h.expectMessage('bob', /Dave assigned #1 \[sev2\] search results empty on checkout to you/);
    h.expectMessage('zed', /Your incident #1 .* is now with Bob/);
    await h.advance('5m');
    h.expectMessage('bob', /Reminder: #1/); // 5m after Bob's page, not Dave's
    h.expectNothingFor('alice');

    // A member of another team cannot take an incident for a team they are not in.
    expect(await h.run('carol', 'incident assign 1 bob --team search')).toBe('Bob is not in Search; name one of its members, or use "incident assign 1 --team search" and its on-call takes it.');
    expect(await h.run('carol', 'incident show 1')).toContain('assignee Bob');
    const moved = await h.run('carol', 'incident assign 1 --team search');
    // 05:00 in New York: the Search on-call is asleep, and a sev2 waits for their morning.
    expect(moved).toMatch(/Assigned #1 to (Erin|Frank) \(Search\), who is in quiet hours and is paged at Tue 07:00 their time/);
    const searchOnCall = moved.includes('Erin') ? 'erin' : 'frank';
    await h.advanceTo('2026-03-03T12:00:00Z');
    expect(h.expectMessage(searchOnCall, /Carol assigned #1 .* to you \(from Payments, for Search\)/).at).toBe('2026-03-03T12:00:00.000Z');
    h.expectMessage('bob', /#1 .* was assigned to .* by Carol; it is theirs now/);
    h.expectMessage('#search', /#1 .* assigned to/);
    expect(await h.run(searchOnCall, 'incident ack 1')).toContain('You acknowledged #1');
    expect(await h.run('dave', 'incident assign 99 bob')).toContain('There is no incident #99');

    // Taking one yourself: acknowledged at once, no page to yourself, the previous assignee told.
    await h.report('zed', 'sev2 invoices are slow');
    h.expectMessage('dave', /New incident #2/);
    expect(await h.run('carol', 'incident assign 2 carol')).toContain('You acknowledged #2 [sev2] invoices are slow. Escalation stopped; it is yours.');
    h.expectNothingFor('carol');
    h.expectMessage('dave', /#2 .* acknowledged by Carol/);
    expect(await h.run('carol', 'incident show 2')).toMatch(/acknowledged.*assignee Carol|assignee Carol/s);
    await h.advance('30m');
    h.expectNothingFor('carol', 'alice'); // no reminder, no escalation
    // An acknowledged one stays acknowledged, now theirs.
    const toDave = h.messagesFor('dave').length;
    expect(await h.run('dave', 'incident assign 2 dave')).toBe('You took #2 [sev2] invoices are slow over from Carol; it stays acknowledged, and it is yours.');
    h.expectMessage('carol', /Dave took #2 .* over from you/);
    expect(h.messagesFor('dave')).toHaveLength(toDave); // nothing to Dave by his own hand

    // Someone marked away: assigned and paged all the same, and the reply says they are away.
    await h.run('carol', 'oncall away bob now 3d');
    expect(await h.run('carol', 'incident assign 2 bob')).toMatch(/^Assigned #2 to Bob, who .*\. Escalation starts again for them\. Note: Bob is marked away until \w{3} \d\d:\d\d their time \(Europe\/\w+\); if they do not acknowledge, the escalation chain goes on without them\.$/);
    expect(await h.run('dave', 'incident assign 1')).toMatch(/Only the on-call|Name who takes #1/);
  });
});
