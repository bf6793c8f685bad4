import type { PluginHooks } from '../../src/ports/plugin';
import { DateTime } from 'luxon';
import { quietUntil } from '../../plugins/quiet-hours/policy';
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';

const config = (dave = '{ weekends: false }') => `${TEST_CONFIG}
plugins:
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: true }
    members:
      erin: { nights: "21:00-06:30", weekends: false }
      alice: { weekends: false }
      dave: ${dave}
`;

// 02:00Z on Tuesday 2026-03-03: 02:00 in London (Dave, on call), 03:00 in Berlin (Alice, Carol).
const NIGHT = '2026-03-03T02:00:00Z';

async function timelineKinds(h: Harness, id: number): Promise<string[]> {
  return (await h.app.store.transaction((tx) => tx.timeline(id))).map((e) => e.kind);
}

describe('quiet hours', () => {
  it('a sev1 at night goes through every step: the on-call, then the sleeping mentor and lead', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    await h.run('zed', 'incident report sev1 payments are failing');
    const page = h.expectMessage('dave', /New incident #1 \[sev1\]/);
    expect(page.at).toBe('2026-03-03T02:00:00.000Z');
    await h.advance('5m');
    h.expectMessage('dave', /Reminder: #1/);
    await h.advance('5m');
    expect(h.expectMessage('alice', /Escalated to you as mentor: #1/).at).toBe('2026-03-03T02:10:00.000Z');
    await h.advance('5m');
    expect(h.expectMessage('carol', /Escalated to you as lead: #1/).at).toBe('2026-03-03T02:15:00.000Z');
    h.expectNothingFor('bob');
    const show = await h.run('carol', 'incident show 1');
    expect(show).not.toContain('escalation step skipped');
    expect(await timelineKinds(h, 1)).toEqual(expect.arrayContaining(['notification-bypassed']));
    await h.stop();
  });

  it('a non-urgent step for a sleeping mentor waits for their morning, not before', async () => {
    const h = await Harness.start({ config: config('{ nights: false }'), at: NIGHT }); // Dave has no nights
    await h.run('zed', 'incident report sev2 payments are slow');
    h.expectMessage('dave', /New incident #1/);
    await h.advance('10m');
    h.expectNothingFor('alice');
    await h.advanceTo('2026-03-03T05:59:00Z');
    h.expectNothingFor('alice');
    await h.advanceTo('2026-03-03T06:00:00Z'); // 07:00 in Berlin
    // The held step goes out as the page it was (with its buttons), not as a line of a digest.
    const page = h.expectMessage('alice', /Escalated to you as mentor: #1/);
    expect(page.at).toBe('2026-03-03T06:00:00.000Z');
    expect(page.text).not.toContain('While you were in quiet hours');
    h.expectNothingFor('alice');
    expect(await h.run('carol', 'incident show 1')).toMatch(/page to Alice held back since 02:10Z goes out now \(quiet-hours\): their quiet time ended/);
    await h.advance('5m'); // the mentor's ack timeout starts when the page reaches them
    h.expectMessage('carol', /Escalated to you as lead: #1/);
    await h.stop();
  });

  it('a non-urgent page at night waits for the on-call\'s morning, then goes out as the page it was, and escalation waits too', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    await h.run('zed', 'incident report sev3 typo on the pricing page');
    await h.run('zed', 'incident report sev2 slow invoices');
    h.expectNothingFor('dave');
    h.expectMessage('#payments', /New incident #1/); // the quiet channel record disturbs nobody
    await h.advanceTo('2026-03-03T06:59:00Z');
    h.expectNothingFor('dave', 'alice', 'carol');
    await h.advanceTo('2026-03-03T07:00:00Z'); // 07:00 in London
    // Each still-unacknowledged incident's page, with its buttons; nothing else waited, so no digest.
    expect(h.messagesFor('dave').map((m) => [m.at, m.text.split('\n')[0]])).toEqual([
      ['2026-03-03T07:00:00.000Z', expect.stringMatching(/New incident #1 \[sev3\] typo on the pricing page/)],
      ['2026-03-03T07:00:00.000Z', expect.stringMatching(/New incident #2 \[sev2\] slow invoices/)],
    ]);
    h.expectMessage('dave', /New incident #1/);
    h.expectMessage('dave', /New incident #2/);
    h.expectNothingFor('dave');
    await h.advance('5m');
    h.expectMessage('dave', /Reminder: #1/);
    expect(await timelineKinds(h, 1)).toContain('notification-deferred');
    await h.stop();
  });

  it('a digest timer that fails half way through its release loses no held page: the morning\'s transaction rolls back and the timer runs again a minute later', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    await h.run('zed', 'incident report sev3 typo on the pricing page');
    h.expectMessage('#payments', /New incident #1/);
    const quiet = (h.app.plugins as unknown as { plugins: Array<{ name: string; hooks: PluginHooks }> }).plugins.find((p) => p.name === 'quiet-hours');
    const original = quiet?.hooks.onTimer?.bind(quiet.hooks);
    if (!quiet || !original) throw new Error('quiet-hours has no timer hook');
    let failures = 0;
    // The first run fails after the held list was read and deleted: its first page fails to go out.
    (quiet.hooks as { onTimer?: PluginHooks['onTimer'] }).onTimer = (key, payload, call) => original(key, payload, failures++ > 0 ? call : {
      ...call, notify: () => { throw new Error('simulated: the release failed half way'); },
    });
    await h.advanceTo('2026-03-03T07:00:00Z');
    h.expectNothingFor('dave');
    expect(h.logger.entries.some((e) => e.msg === 'plugin hook failed; its timer is tried again later' && e.fields.error === 'simulated: the release failed half way')).toBe(true);
    await h.advanceTo('2026-03-03T07:01:01Z'); // past the failed run's lease
    h.expectMessage('dave', /New incident #1 \[sev3\] typo on the pricing page/);
    h.expectNothingFor('dave');
    await h.stop();
  });

  it('a held page that no platform takes in the morning goes down the fallback ladder like any page: the team channel, then the chain moves on', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    await h.run('zed', 'incident report sev3 typo on the pricing page');
    await h.advanceTo('2026-03-03T06:59:00Z');
    h.expectNothingFor('dave');
    // Dave's direct messages are closed in the morning: the page stands in the team channel...
    h.adapter.failNext(1, 'undeliverable', 'dave');
    await h.advanceTo('2026-03-03T07:00:00Z');
    h.expectMessage('#payments', /Dave \(could not reach you directly\) New incident #1 \[sev3\] typo/);
    let show = await h.run('carol', 'incident show 1');
    expect(show).toContain('page to Dave held back since 02:00Z goes out now (quiet-hours): their quiet time ended');
    expect(show).toContain('could not reach Dave directly (simulated: direct messages closed); the page goes to the team channel');
    await h.stop();

    // ...and where the channel refuses it too, it reached nobody: said, and the chain's next step
    // (the reminder) is sent now, not after another ack timeout counted from the morning.
    const q = await Harness.start({ config: config(), at: NIGHT });
    await q.run('zed', 'incident report sev3 typo on the pricing page');
    await q.advanceTo('2026-03-03T06:59:00Z');
    q.adapter.failNext(1, 'undeliverable', 'dave');
    q.adapter.failNext(1, 'undeliverable', '#payments');
    await q.advanceTo('2026-03-03T07:00:00Z');
    await q.advance('3s');
    expect(q.expectMessage('dave', /Reminder: #1/).at.slice(0, 16)).toBe('2026-03-03T07:00');
    show = await q.run('carol', 'incident show 1');
    expect(show).toContain('the page to Dave reached nobody: the team channel did not take the page either: simulated: direct messages closed; the chain moves on now');
    expect((await q.app.health()).pages).toMatch(/^failing: 1 page reached nobody in the last hour; last: #1 \(dave\)/);
    await q.stop();
  });

  it('a held page for a member no platform knows is not lost in the morning: the team channel has it, and the chain moves on', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    h.adapter.unlinked.add('dave');
    await h.run('zed', 'incident report sev2 slow invoices');
    await h.advanceTo('2026-03-03T07:00:00Z');
    h.expectMessage('#payments', /Dave \(could not reach you directly\) New incident #1 \[sev2\] slow invoices/);
    await h.advance('3s');
    h.expectMessage('alice', /Escalated to you as mentor: #1/);
    expect(await h.run('carol', 'incident show 1')).toContain('the page to Dave reached nobody: no running chat platform can reach dave');
    await h.stop();
  });

  it('a non-urgent page on a Saturday night reaches the on-call at the end of their night, not after their weekend: their shift\'s pages ignore weekends', async () => {
    // Dave keeps weekends quiet for everything else; the page was held for his night alone.
    const h = await Harness.start({ config: config('{ weekends: true }'), at: '2026-03-07T23:30:00Z' }); // Sat 23:30 in London
    await h.run('zed', 'incident report sev3 saturday night typo');
    h.expectNothingFor('dave');
    await h.advanceTo('2026-03-08T06:59:00Z');
    h.expectNothingFor('dave');
    await h.advanceTo('2026-03-08T07:00:00Z'); // Sun 07:00 in London
    const page = h.expectMessage('dave', /New incident #1 \[sev3\] saturday night typo/);
    expect(page.at).toBe('2026-03-08T07:00:00.000Z');
    // Not held once more by his weekend, nor inside a digest.
    h.expectNothingFor('dave');
    await h.stop();
  });

  it('the morning digest says what became of each incident overnight: resolved, handed to someone else, or still waiting', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    await h.run('zed', 'incident report sev3 typo on the pricing page');
    await h.run('zed', 'incident report sev2 slow invoices');
    await h.run('zed', 'incident report sev3 stale cache');
    await h.advanceTo('2026-03-03T03:10:00Z');
    await h.run('carol', 'incident resolve 1'); // 04:10 in Berlin, 03:10 in London
    await h.run('carol', 'incident assign 2 bob');
    await h.advanceTo('2026-03-03T07:00:00Z');
    // #3 still waits for him: its page goes out as a page. The digest tells the rest.
    expect(h.expectMessage('dave', /New incident #3 \[sev3\] stale cache/).text).not.toContain('While you were in quiet hours');
    const digest = h.expectMessage('dave', /While you were in quiet hours, \d+ notifications waited/);
    // Each incident's state follows its last line, once; a last line that is its resolution needs none.
    expect(digest.text).toMatch(/Tue 03:10 #1 \[sev3\] typo on the pricing page resolved by Carol$/m);
    expect(digest.text).toMatch(/#2 \[sev2\] slow invoices[^\n]*\(now: with Bob, not acknowledged yet\)$/m);
    expect(digest.text).not.toContain('stale cache');
    expect(digest.text.match(/\(now: /g)).toHaveLength(1);
    expect(digest.text).not.toContain('resolved since');
    // Bob did not take #2 overnight: the chain's held step to Dave, his mentor, goes out as a page too.
    h.expectMessage('dave', /Escalated to you as mentor: #2 \[sev2\] slow invoices has not been acknowledged by Bob/);
    h.expectNothingFor('dave');
    await h.stop();

    // Every incident resolved: the headline says so.
    const q = await Harness.start({ config: config(), at: NIGHT });
    await q.run('zed', 'incident report sev3 typo on the pricing page');
    expect(await q.run('carol', 'incident resolve 1')).toContain('Resolved #1');
    await q.advanceTo('2026-03-03T07:00:00Z');
    const quiet = q.expectMessage('dave', /While you were in quiet hours/);
    expect(quiet.text).toMatch(/Tue 02:00 #1 \[sev3\] typo on the pricing page resolved by Carol$/m);
    expect(quiet.text).not.toContain('(now: ');
    expect(quiet.text).toMatch(/The incident has been resolved since\.$/);
    await q.stop();
  });

  it('someone put on call during their quiet hours is told at once; a shift next week waits for their morning', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT }); // 03:00 in Berlin, Bob asleep
    await h.run('carol', 'oncall override bob now 4h');
    const told = h.expectMessage('bob', /you are on call for Payments from Tue 03 Mar 03:00 .* \(override by Carol\)/);
    expect(told.at).toBe('2026-03-03T02:00:00.000Z');
    await h.run('carol', 'oncall override bob 2026-03-10T09:00 8h');
    h.expectNothingFor('bob');
    await h.advanceTo('2026-03-03T06:00:00Z'); // 07:00 in Berlin
    expect(h.expectMessage('bob', /While you were in quiet hours, 1 notification waited/).text).toContain('you are on call for Payments from Tue 10 Mar 09:00');
    await h.stop();
  });

  it('a huddle at night says who it reached now and who in the morning', async () => {
    const h = await Harness.start({ config: config('{ nights: false }'), at: NIGHT }); // Dave has no nights
    await h.run('zed', 'incident report sev2 database migration gone wrong');
    expect(await h.run('carol', 'incident huddle 1 the migration needs three people')).toBe(
      'Huddle called on #1; asked to join now: Dave; in quiet hours, asked when they end: Alice at Tue 07:00 their time (Europe/Berlin); Bob at Tue 07:00 their time (Europe/Berlin). The reason is on the timeline.');
    h.expectMessage('dave', /Huddle on #1/);
    h.expectNothingFor('alice', 'bob');
    const q = await Harness.start({ config: config(), at: NIGHT });
    await q.run('zed', 'incident report sev2 database migration gone wrong');
    expect(await q.run('carol', 'incident huddle 1 the migration needs three people')).toMatch(/^Huddle called on #1; nobody was reached now; in quiet hours, asked when they end: .*\. The reason is on the timeline\. A huddle on an urgent severity reaches everyone at once\.$/);
    await q.stop();
    await h.stop();
  });

  it('a digest keeps each held message\'s own lines (the shifts a notice lists)', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    expect(await h.run('carol', 'oncall away alice 2026-03-09T00:00 9w')).toContain('Bob covers Payments Mon 09 Mar 09:00');
    h.expectNothingFor('bob');
    await h.advanceTo('2026-03-03T08:00:00Z');
    const digest = h.expectMessage('bob', /While you were in quiet hours, 1 notification waited/);
    expect(digest.text).toContain('you are on call for 3 more shifts, covering for Alice, who is away');
    expect(digest.text).toMatch(/\n +Payments: Mon 09 Mar 09:00 GMT\+1 to Mon 16 Mar 09:00 GMT\+1, covering for Alice\n/);
    expect(digest.text).toMatch(/\n +Payments: Mon 20 Apr 09:00 GMT\+2 to Mon 27 Apr 09:00 GMT\+2, covering for Alice$/);
    await h.stop();
  });

  it('replies and the incident\'s timeline say when quiet hours hold a page back, and when it goes through anyway', async () => {
    const h = await Harness.start({ config: config(), at: NIGHT });
    expect(await h.run('zed', 'incident report sev2 slow invoices')).toContain('Dave is on call and will be paged when their quiet hours end, at Tue 07:00 their time (Europe/London); an urgent severity pages at once');
    // The reporter's note waits with the page: the reply does not claim Dave has it.
    expect(await h.run('zed', 'incident note 1 it started after the deploy')).toBe('Your note is on #1; Dave is in quiet hours and gets it at Tue 07:00 their time (Europe/London).');
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('page to Dave held back (quiet-hours): Dave is in quiet hours until Tue 07:00 GMT');
    // The page is queued, not "paged", until it goes out.
    expect(show).toContain('page to Dave (page) queued');
    expect(show).not.toContain('paged Dave');
    expect(show).not.toMatch(/notification-(deferred|bypassed)/);
    await h.run('carol', 'incident resolve 1');
    expect(await h.run('carol', 'incident reopen 1 still slow')).toContain('Reopened #1 [sev2] slow invoices; Dave is in quiet hours and is paged at Tue 07:00 their time (Europe/London).');
    h.expectNothingFor('dave');

    await h.run('zed', 'incident report sev1 payments are failing');
    h.expectMessage('dave', /New incident #2 \[sev1\]/);
    const urgent = await h.run('carol', 'incident show 2');
    expect(urgent).toContain('paged Dave (page)');
    expect(urgent).toContain('page to Dave sent at once (quiet-hours): sev1 is urgent: quiet hours bypassed');
    expect(await h.run('carol', 'incident reopen 2')).toContain('#2 is not resolved');
    await h.run('dave', 'incident resolve 2');
    expect(await h.run('carol', 'incident reopen 2')).toContain('Reopened #2 [sev1] payments are failing; Dave has been paged.');
    await h.stop();
  });

  it('a handover during the incoming on-call\'s quiet time tells the outgoing one when the page reaches them', async () => {
    // Alice's quiet time runs 08:50-09:55 (as a late night would).
    const h = await Harness.start({ config: config().replace('alice: { weekends: false }', 'alice: { weekends: false, nights: "08:50-09:55" }'), at: '2026-03-09T07:40:00Z' }); // Mon 08:40 Berlin, Dave's last minutes
    await h.run('zed', 'incident report sev2 invoices fail');
    await h.run('zed', 'incident report sev1 checkout down');
    await h.advanceTo('2026-03-09T08:00:00Z'); // handoff to Alice, quiet until 09:55 her time
    h.expectMessage('alice', /Handed over to you at the shift change: #2 \[sev1\]/);
    const told = h.expectMessage('dave', /Your Payments shift ended: 2 unacknowledged incidents moved to Alice/);
    expect(told.text).toContain('who has been paged for 1 of them; the other 1 is paged at Mon 09:55 their time (Europe/Berlin), when their quiet hours end');
    await h.stop();
  });

  it('each member\'s own zone: Erin in New York gets her digest at 06:30 her time', async () => {
    const h = await Harness.start({ config: config(), at: '2026-03-03T04:00:00Z' }); // 23:00 in New York
    await h.run('zed', 'incident report sev2 search index stale --team search');
    h.expectNothingFor('erin');
    await h.advanceTo('2026-03-03T11:29:00Z');
    h.expectNothingFor('erin');
    await h.advanceTo('2026-03-03T11:30:00Z'); // 06:30 EST
    const page = h.expectMessage('erin', /New incident #1 \[sev2\] search index stale/);
    expect(page.at).toBe('2026-03-03T11:30:00.000Z');
    h.expectNothingFor('frank', 'dave');
    await h.stop();
  });

  it('across the spring-forward night, the morning digest comes at 07:00 local (05:00Z, not 06:00Z)', async () => {
    const h = await Harness.start({ config: config(), at: '2026-03-28T21:30:00Z' }); // 22:30 CET, 21:30 GMT
    await h.run('alice', 'incident report sev3 nightly export failed');
    h.expectMessage('dave', /New incident #1/); // 21:30 in London: not yet night for Dave
    await h.advance('8m'); // before the mentor step (Alice, asleep in Berlin)
    await h.run('dave', 'incident ack 1');
    h.expectNothingFor('alice'); // the reporter is asleep: the update waits
    await h.advanceTo('2026-03-29T04:59:00Z');
    h.expectNothingFor('alice');
    await h.advanceTo('2026-03-29T05:00:00Z');
    const digest = h.expectMessage('alice', /While you were in quiet hours/);
    expect(digest.text).toContain('was acknowledged by Dave');
    await h.stop();
  });

  it('a declared focus block keeps the mentor\'s non-urgent step from her without stalling the chain: the lead is paged now, she reads it in her digest; urgent ones reach her', async () => {
    const h = await Harness.start({ config: config() }); // Tuesday 10:00Z
    expect(await h.run('alice', 'oncall focus 4h')).toMatch(/^Focus until \w{3} \d\d:\d\d your time \(Europe\/Berlin\): only urgent pages reach you/);
    await h.run('zed', 'incident report sev3 a small thing');
    await h.run('zed', 'incident report sev1 a big thing');
    await h.advance('10m'); // both chains reach the mentor
    expect(h.messagesFor('alice').map((m) => m.text.split('\n')[0])).toEqual([expect.stringMatching(/^@Alice Escalated to you as mentor: #2 \[sev1\]/)]);
    // Not four hours of focus plus an ack timeout: the sev3's next step, the lead, at once.
    expect(h.expectMessage('carol', /Escalated to you as lead: #1 \[sev3\] a small thing/).at).toBe('2026-03-03T10:10:00.000Z');
    expect(await h.run('carol', 'incident show 1')).toMatch(/escalation step skipped: Alice \(the mentor\) is in a focus block until Tue 15:00 GMT\+1: the chain goes on without waiting/);
    await h.run('carol', 'incident ack 1');
    await h.advance('230m'); // her focus ends: the step she was spared is a digest line, not a late page
    const digest = h.expectMessage('alice', /While you were in quiet hours/);
    expect(digest.text).toMatch(/Tue 11:10 passed on while you focused \(the chain went on without waiting\): Escalated to you as mentor: #1 \[sev3\] a small thing.*\(now: with Carol, acknowledged\)/s);
    expect(h.messagesFor('alice').some((m) => m.message.kind === 'page' && /#1 \[sev3\]/.test(m.text))).toBe(false);
    expect(await h.run('dave', 'oncall focus forever')).toContain('is not a focus length');
    await h.stop();
  });

  it('a person asking a focusing mentor for help is told when it reaches her (not passed on): the chain passes on only its own steps', async () => {
    const h = await Harness.start({ config: config() }); // Tuesday 10:00Z
    await h.run('alice', 'oncall focus 2h');
    await h.run('zed', 'incident report sev3 a small thing');
    expect(await h.run('dave', 'incident escalate 1')).toContain('Alice is in quiet hours: your request reaches them at Tue 13:00 their time (Europe/Berlin). If it cannot wait: "incident escalate 1 mentor --now".');
    h.expectNothingFor('alice', 'carol');
    await h.stop();
  });

  it('the on-call\'s focus block does not hold their own incidents: a sev3 of their shift reaches them at once, and the reply says so', async () => {
    const h = await Harness.start({ config: config() }); // Tuesday 10:00Z: Dave is on call for Payments
    expect(await h.run('dave', 'oncall focus 12h')).toMatch(/^Focus until \w{3} \d\d:\d\d your time \(Europe\/London\): you are on call for Payments, so its pages still reach you; everything else waits for a digest\./);
    await h.run('zed', 'incident report sev3 a small thing');
    h.expectMessage('dave', /New incident #1 \[sev3\] a small thing/);
    // Unacknowledged, it escalates as on any day: the mentor at 10 minutes.
    await h.advance('10m');
    h.expectMessage('alice', /Escalated to you as mentor: #1/);
    await h.stop();
  });
});

describe('quiet-hours settings', () => {
  it('refuses escalation: next, which could leave an incident with nobody paged', async () => {
    const { checkQuietHoursConfig } = await import('../../plugins/quiet-hours');
    const { parseConfig } = await import('../../src/config');
    const parsed = parseConfig(TEST_CONFIG);
    if (!parsed.ok) throw new Error('test config');
    const bad = checkQuietHoursConfig({ escalation: 'next' }, parsed.config.world);
    expect(bad.ok ? [] : bad.problems.map((p) => p.path)).toEqual(['escalation']);
    expect(bad.ok ? '' : bad.problems[0]?.message).toContain('nobody paged');
    expect(checkQuietHoursConfig({ escalation: 'wait', defaults: { oncall_weekends: 'yes' } }, parsed.config.world).ok).toBe(false);
  });

  it('refuses an urgent list without sev1 (the worst outage would wait for the morning) and names a bad severity; any case is taken', async () => {
    const { checkQuietHoursConfig } = await import('../../plugins/quiet-hours');
    const { parseConfig } = await import('../../src/config');
    const parsed = parseConfig(TEST_CONFIG);
    if (!parsed.ok) throw new Error('test config');
    const problems = (raw: unknown) => {
      const r = checkQuietHoursConfig(raw, parsed.config.world);
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problems({ urgent: [] })).toEqual(['urgent: [] leaves out sev1: a sev1 at night would wait for the end of quiet hours before anyone is paged; list sev1 (the default is [sev1])']);
    expect(problems({ urgent: ['sev2'] })).toHaveLength(1);
    expect(problems({ urgent: ['sev5', 'SEV2'] })).toEqual(['urgent[0]: "sev5" is not a severity: sev1, sev2, sev3 or sev4; did you mean "sev1"?']);
    const ok = checkQuietHoursConfig({ urgent: ['SEV1', 'sev2'] }, parsed.config.world);
    expect(ok.ok && ok.config.urgent).toEqual(['sev1', 'sev2']);
  });

  it('a member takes their team\'s defaults, then their own settings on top', async () => {
    const { checkQuietHoursConfig } = await import('../../plugins/quiet-hours');
    const { parseConfig } = await import('../../src/config');
    const parsed = parseConfig(TEST_CONFIG);
    if (!parsed.ok) throw new Error('test config');
    const checked = checkQuietHoursConfig({ defaults: { nights: '22:00-07:00' }, teams: { search: { nights: '20:00-08:00', weekends: false } }, members: { frank: { weekends: true } } }, parsed.config.world);
    if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
    expect(checked.config.members.get('erin')).toEqual({ nights: { from: { hour: 20, minute: 0 }, to: { hour: 8, minute: 0 } }, weekends: false, timeOff: [] });
    expect(checked.config.members.get('frank')).toEqual({ nights: { from: { hour: 20, minute: 0 }, to: { hour: 8, minute: 0 } }, weekends: true, timeOff: [] });
    expect(checked.config.members.get('alice')).toBeUndefined(); // the defaults
    const bad = checkQuietHoursConfig({ teams: { nope: {} } }, parsed.config.world);
    expect(bad.ok ? [] : bad.problems).toEqual([{ path: 'teams.nope', message: '"nope" is not a team id (teams[].id)' }]);
  });
});

describe('quietUntil (pure)', () => {
  const settings = { nights: { from: { hour: 22, minute: 0 }, to: { hour: 7, minute: 0 } }, weekends: true, timeOff: [{ from: '2026-12-24', to: '2026-12-26' }] };
  const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });

  it('joins a Friday night into the weekend, and the weekend into nothing on Monday morning', () => {
    expect(quietUntil(settings, 'Europe/Berlin', at('2026-03-06T23:00:00+01:00'))?.toISO()).toBe('2026-03-09T06:00:00.000Z'); // Mon 07:00 CET
  });

  it('is not quiet in the day, and ends days off at the next morning after them', () => {
    expect(quietUntil(settings, 'Europe/Berlin', at('2026-03-03T12:00:00+01:00'))).toBeNull();
    // Off to Sat 26th inclusive, then Sunday (weekend), then Monday 00:00-07:00 (night): Mon 07:00 CET.
    expect(quietUntil(settings, 'Europe/Berlin', at('2026-12-24T12:00:00+01:00'))?.toISO()).toBe('2026-12-28T06:00:00.000Z');
  });

  it('handles a 30-minute DST zone', () => {
    // Lord Howe moves from +11 to +10:30 on 2026-04-05 at 02:00: 07:00 local that morning is 20:30Z.
    expect(quietUntil({ ...settings, weekends: false }, 'Australia/Lord_Howe', at('2026-04-05T01:00:00+11:00'))?.toISO()).toBe('2026-04-04T20:30:00.000Z');
  });
});
