/**
 * The end of the fallback ladder, with the real app and SQLite: a page that no platform and no
 * team channel takes is never silent (an error, the timeline, /healthz), and the incident's chain
 * moves on at once instead of waiting out an ack timeout nobody could have met; an urgent team
 * channel post (the unowned alert) that no channel takes goes to the people it mentions.
 */
import type { Recipient } from '../../src/ports/store';
import { TEST_CONFIG } from '../harness/fixtures';
import { Harness } from '../harness/harness';
import { RecordingAdapter } from '../harness/recording-adapter';

describe('a page that reaches nobody', () => {
  let h: Harness;
  afterEach(() => h.stop());

  /** withSecond: the harness with a second platform, "second", that does not know Dave (linked on "recording" alone). */
  async function withSecond(): Promise<RecordingAdapter> {
    class Second extends RecordingAdapter {
      override readonly name = 'second';
    }
    let second: RecordingAdapter | null = null;
    h = await Harness.start({ adapters: ({ config, clock }) => [(second = new Second(config.world, clock))] });
    const other = second as unknown as RecordingAdapter;
    other.unlinked.add('dave');
    return other;
  }

  /** noChannel: the recording platform has no channel for any team (as a team without teams[].channels). */
  function noChannel(harness: Harness): void {
    const canReach = harness.adapter.canReach.bind(harness.adapter);
    harness.adapter.canReach = (r: Recipient) => r.kind !== 'channel' && canReach(r);
  }

  it('a member no platform knows, in a team with no channel: an error, the timeline says so, the chain moves on at once, /healthz and /metrics show it', async () => {
    h = await Harness.start();
    noChannel(h);
    h.adapter.unlinked.add('dave');
    // The reporter is not told "has been paged" for a page Onehand knows reaches nobody.
    expect(await h.run('zed', 'incident report sev1 login broken')).toContain('Dave is on call and cannot be reached: no running chat platform can message them and the team has no channel; the next person in the chain is paged now');
    // Not five minutes later: the reminder to Dave (reaching nobody too) and then his mentor, now.
    await h.advance('3s');
    h.expectMessage('alice', /Escalated to you as mentor.*#1 \[sev1\] login broken/s);
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('the page to Dave reached nobody: no running chat platform can reach dave');
    expect(show).toContain('has no channel on a running platform (teams[].channels); the chain moves on now');
    expect(h.logger.entries.filter((e) => e.level === 'error' && e.msg.startsWith('page reached nobody')).length).toBeGreaterThanOrEqual(1);
    const health = await h.app.health();
    expect(health.pages).toMatch(/^failing: 2 pages reached nobody in the last hour; last: #1 \(dave\)/);
    // Shown, not a failed probe: a readiness probe must not take the only replica (and its
    // webhooks) out for a page that already failed. Monitoring alerts on the counter.
    expect(health.ok).toBe(true);
    expect(await h.app.metrics.registry.metrics()).toMatch(/^onehand_pages_unreached_total\{kind="page"\} 2$/m);
    // An hour later, with nothing lost since, it is ok again.
    await h.run('alice', 'incident ack 1');
    await h.advance('61m');
    expect((await h.app.health()).pages).toBe('ok');
  });

  it('/healthz reads it from the store: a restart (a kill -9 too) does not hide it, and it is gone an hour after', async () => {
    h = await Harness.start();
    noChannel(h);
    h.adapter.unlinked.add('dave');
    await h.run('zed', 'incident report sev1 login broken');
    const before = (await h.app.health()).pages;
    expect(before).toMatch(/^failing: \d+ pages? reached nobody in the last hour; last: #1 \(dave\): no running chat platform can reach dave/);
    // A new process on the same database (what a restart after kill -9, or another replica, sees):
    // its memory is empty, the timeline is not.
    await h.restart();
    expect((await h.app.health()).pages).toBe(before);
    await h.run('alice', 'incident ack 1');
    await h.advance('61m');
    expect((await h.app.health()).pages).toBe('ok');
  });

  it('a member no platform knows, in a team with a channel: the page is posted there, but it pings nobody, so the chain moves on now and /healthz says why', async () => {
    h = await Harness.start();
    h.adapter.unlinked.add('dave');
    expect(await h.run('zed', 'incident report sev2 login slow')).toContain('Dave is on call and cannot be messaged directly on any running chat platform: the page went to the team channel, where it pings nobody, and the next person in the chain is paged now');
    h.expectMessage('#payments', /Dave \(could not reach you directly\) New incident #1 \[sev2\] login slow/);
    // Not after the ack timeout (a sev2's reminder at 5 minutes, its mentor at 10): the reminder
    // reaches nobody either, so the mentor is paged within seconds.
    await h.advance('3s');
    h.expectMessage('alice', /Escalated to you as mentor.*#1 \[sev2\] login slow/s);
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('the page to Dave reached nobody: no running chat platform can reach dave (platforms: recording); link them in the config (members[].recording); the team channel has the page, but it cannot ping dave there; the chain moves on now');
    expect((await h.app.health()).pages).toMatch(/^failing: \d pages? reached nobody in the last hour; last: #1 \(dave\): no running chat platform can reach dave/);
  });

  it('a page refused directly and in the team channel: reached nobody, and the mentor is paged now, not after the ack timeout', async () => {
    h = await Harness.start();
    h.adapter.failNext(1, 'undeliverable', 'dave');
    h.adapter.failNext(1, 'undeliverable', '#payments');
    await h.run('zed', 'incident report sev2 checkout down');
    // At the report the channel's record of the incident takes the channel failure, and the
    // fallback post goes through; at the reminder both fail.
    h.adapter.failNext(1, 'undeliverable', 'dave'); // the reminder
    h.adapter.failNext(2, 'undeliverable', '#payments');
    await h.advance('5m');
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('11:05 GMT+1 post in the team channel on recording failed: simulated: direct messages closed');
    expect(show).toContain('11:05 GMT+1 the page to Dave reached nobody: the team channel did not take the page either: simulated: direct messages closed; the chain moves on now');
    expect(show).toMatch(/11:05 GMT\+1 escalated to the mentor \(Alice\)/);
    h.expectMessage('alice', /Escalated to you as mentor/);
    // Without the hurry the mentor would be paged at 10 minutes (reminder at 5, mentor at 10).
    expect(h.messagesFor('alice')[0]?.at).not.toBe('2026-03-03T10:10:00.000Z');
  });

  it('a page whose stand-in in the team channel went out only on a platform that does not know the member (no ping there): reached nobody, the chain moves on now', async () => {
    const other = await withSecond();
    await h.run('zed', 'incident report sev2 checkout down');
    h.adapter.failNext(1, 'undeliverable', 'dave'); // the reminder's DM
    h.adapter.failNext(1, 'undeliverable', '#payments'); // and its stand-in in the channel
    await h.advance('5m');
    // The stand-in went out on "second", where Dave's name pings nobody.
    expect(other.delivered.some((d) => d.to === '#payments' && /Dave \(could not reach you directly\) Reminder/.test(d.text))).toBe(true);
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('the page to Dave reached nobody: the team channel did not take the page either: simulated: direct messages closed; the chain moves on now');
    await h.advance('3s');
    h.expectMessage('alice', /Escalated to you as mentor/);
  });

  it('a member no platform knows, the team channel refusing too: each page counts once, and the reachable mentor keeps her whole ack window', async () => {
    h = await Harness.start();
    h.adapter.unlinked.add('dave');
    h.adapter.failNext(100, 'undeliverable', '#payments');
    await h.run('zed', 'incident report sev2 login slow');
    await h.advance('3s');
    h.expectMessage('alice', /Escalated to you as mentor/);
    // Alice was reached: the lead waits for her ack timeout (5m), not 0 s.
    expect(h.messagesFor('carol').filter((m) => m.message.kind === 'page')).toEqual([]);
    // Two pages to Dave (the page, the reminder) reached nobody: 2, not 4.
    expect(await h.app.metrics.registry.metrics()).toMatch(/^onehand_pages_unreached_total\{kind="page"\} 2$/m);
  });

  it('a member no platform knows: the stand-in channel post that needed a retry pinged nobody all the same, so it is not "went out late" and /healthz stays failing', async () => {
    h = await Harness.start();
    h.adapter.unlinked.add('dave');
    const deliver = h.adapter.deliver.bind(h.adapter);
    let failed = false;
    h.adapter.deliver = async (d) => {
      if (!failed && d.key.startsWith('fallback:')) {
        failed = true;
        throw new Error('simulated 503');
      }
      return deliver(d);
    };
    await h.run('zed', 'incident report sev2 login slow');
    await h.advance('30s');
    expect(failed).toBe(true);
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('reached nobody');
    expect(show).not.toContain('went out late');
    expect((await h.app.health()).pages).toMatch(/^failing:/);
  });

  it('a DM refused, and the stand-in posted only on a platform where the member has no identity: reached nobody when it is posted, not after the ack timeout', async () => {
    const other = await withSecond();
    const canReach = h.adapter.canReach.bind(h.adapter);
    h.adapter.canReach = (r: Recipient) => r.kind !== 'channel' && canReach(r); // the team channel is on "second" only
    await h.run('zed', 'incident report sev2 checkout down');
    h.adapter.failNext(100, 'undeliverable', 'dave'); // Dave's DMs are closed
    await h.advance('5m'); // the reminder fails, falls back to the channel on "second"
    expect(other.delivered.some((d) => d.to === '#payments' && /Dave \(could not reach you directly\) Reminder/.test(d.text))).toBe(true);
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('reached nobody');
    expect(show).toContain('cannot ping dave there');
    expect((await h.app.health()).pages).toMatch(/^failing:/);
  });

  it('a stand-in refused on the platform where it pings the member, then on one where it cannot: counted once, and the lead is not hurried past the mentor\'s ack window', async () => {
    const other = await withSecond();
    await h.run('zed', 'incident report sev2 checkout down');
    h.adapter.failNext(1, 'undeliverable', 'dave'); // the reminder's DM
    h.adapter.failNext(1, 'undeliverable', '#payments'); // its stand-in on recording (pings Dave)
    other.failNext(3, 'throw', '#payments'); // second's channel errors a few times (pings nobody anyway)
    await h.advance('5m');
    await h.advance('1m');
    h.expectMessage('alice', /Escalated to you as mentor/);
    // Alice (mentor) was paged at 10:05 and has 5 minutes: Carol (lead) is not paged yet.
    expect(h.messagesFor('carol').filter((m) => m.message.kind === 'page')).toEqual([]);
    const show = await h.run('carol', 'incident show 1');
    expect(show.split('\n').filter((l) => /reached nobody/.test(l))).toHaveLength(1);
    expect(await h.app.metrics.registry.metrics()).toMatch(/^onehand_pages_unreached_total\{kind="page"\} 1$/m);
  });

  it('a stand-in waiting for a channel not reachable yet, given up a day later: the page is counted once, not again at the giving up', async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev2 checkout down');
    h.adapter.failNext(1, 'undeliverable', 'dave'); // the reminder's DM
    h.adapter.notYetReachable.add('#payments'); // a Teams channel the bot has not seen yet
    await h.advance('5m');
    await h.run('dave', 'incident ack 1');
    expect((await h.run('carol', 'incident show 1')).split('\n').filter((l) => /reached nobody/.test(l))).toHaveLength(1);
    await h.advance('25h');
    expect((await h.run('carol', 'incident show 1')).split('\n').filter((l) => /reached nobody/.test(l))).toHaveLength(1);
    expect(h.logger.entries.some((e) => e.level === 'error' && e.msg === 'urgent team channel post lost')).toBe(true);
  });

  it('the reply names who comes next by the incident\'s own chain (then: [lead]): with the lead unlinked too, it does not promise that anyone is paged', async () => {
    h = await Harness.start({ config: TEST_CONFIG.replace('then: [mentor, lead]', 'then: [lead]') });
    h.adapter.unlinked.add('dave'); // on call
    h.adapter.unlinked.add('carol'); // the lead: the only one after Dave in this chain
    const reply = await h.run('zed', 'incident report sev2 checkout down');
    expect(reply).toMatch(/nobody after them in the chain \(Carol\) can be messaged either: nobody will be reached until an admin links them/);
    await h.stop();
    h = await Harness.start({ config: TEST_CONFIG.replace('then: [mentor, lead]', 'then: []') });
    h.adapter.unlinked.add('dave');
    expect(await h.run('zed', 'incident report sev2 checkout down')).toMatch(/nobody after them in the chain can be messaged either/);
  });

  it('a huddle call that reaches nobody is recorded, but does not move the chain on (only a page of its current step does)', async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev2 checkout down');
    h.adapter.unlinked.add('bob');
    noChannel(h);
    await h.run('dave', 'incident huddle 1 need hands');
    const show = await h.run('carol', 'incident show 1');
    expect(show).toMatch(/the page to Bob reached nobody: .*\(teams\[\]\.channels\)$/m);
    expect(show).not.toMatch(/Bob reached nobody.*the chain moves on/);
    const mark = h.mark();
    await h.advance('4m');
    expect(h.adapter.delivered.slice(mark).filter((d) => /Reminder/.test(d.text))).toEqual([]); // still due at 5 minutes
    await h.advance('1m');
    h.expectMessage('dave', /Reminder: #1/);
  });

  it('the unowned alert of a team with no channel goes to the lead and the on-call directly, and the timeline says so', async () => {
    h = await Harness.start();
    noChannel(h);
    await h.run('zed', 'incident report sev1 nobody acks');
    await h.advance('2h'); // the chain's passes run out, then the unowned alert
    const carol = h.messagesFor('carol').map((m) => m.text);
    expect(carol.some((t) => /Unowned incident #1/.test(t))).toBe(true);
    expect(h.messagesFor('dave').some((m) => /Unowned incident #1/.test(m.text))).toBe(true);
    const unowned = h.messagesFor('carol').find((m) => /Unowned incident #1/.test(m.text));
    expect(unowned?.message.mentions).toEqual(['carol']);
    expect(await h.run('carol', 'incident show 1')).toContain('the team channel is not reachable (team payments has no channel on a running platform (teams[].channels)); told Carol, Dave directly');
    expect((await h.app.health()).pages).toBe('ok'); // they were reached
  });

  it('an unowned alert the team channel refuses, keeps waiting (a Teams channel not seen yet) or cannot take (its platform refuses the bot) goes to the lead and the on-call directly, once per alert', async () => {
    for (const how of ['refused', 'waiting', 'unavailable'] as const) {
      h = await Harness.start();
      if (how === 'refused') h.adapter.failNext(1000, 'undeliverable', '#payments');
      else if (how === 'waiting') h.adapter.notYetReachable.add('#payments');
      else {
        const deliver = h.adapter.deliver.bind(h.adapter);
        h.adapter.deliver = async (d) => (d.recipient.kind === 'channel' ? { status: 'unavailable' as const, reason: 'simulated: the channel refuses the bot (HTTP 401)' } : deliver(d));
      }
      await h.run('zed', 'incident report sev1 nobody acks');
      await h.advance('2h');
      expect(h.messagesFor('carol').some((m) => /Unowned incident #1/.test(m.text))).toBe(true);
      expect(h.messagesFor('dave').some((m) => /Unowned incident #1/.test(m.text))).toBe(true);
      const show = await h.run('carol', 'incident show 1');
      expect(show).toContain('told Carol, Dave directly');
      expect(show).toMatch(/post in the team channel on recording failed: simulated/);
      // Once per post (two unowned alerts in 2 hours), not once per retry of it (from the first
      // alert on: a refused channel also refused the incident's record at the report).
      const lines = show.split('\n');
      expect(lines.slice(lines.findIndex((l) => /nobody acknowledged/.test(l))).filter((l) => /nobody acknowledged|post in the team channel on recording failed/.test(l)).map((l) => l.replace(/^.*? \d\d:\d\d \S+ /, '').slice(0, 30))).toEqual([
        'the whole chain ran and nobody', 'post in the team channel on re', 'the whole chain ran and nobody', 'post in the team channel on re',
      ]);
      expect(h.logger.entries.some((e) => e.level === 'error' && e.msg.startsWith('urgent team channel post'))).toBe(true);
      await h.stop();
    }
    h = await Harness.start(); // for afterEach
  });
  it('an unowned alert refused by the team channel where it pings the lead and on-call, and posted where the platform knows neither: goes to them directly', async () => {
    const other = await withSecond();
    other.unlinked.add('carol'); // "second" knows neither Dave nor Carol
    h.adapter.failNext(1000, 'undeliverable', '#payments');
    await h.run('zed', 'incident report sev1 nobody acks');
    await h.advance('2h');
    expect(other.delivered.some((d) => d.to === '#payments' && /Unowned incident #1/.test(d.text))).toBe(true);
    expect(h.messagesFor('carol').some((m) => /Unowned incident #1/.test(m.text))).toBe(true);
    expect(h.messagesFor('dave').some((m) => /Unowned incident #1/.test(m.text))).toBe(true);
  });
  it('an unowned alert whose team channel is only on a platform that knows neither the lead nor the on-call: posted there, and sent to them directly too', async () => {
    const other = await withSecond();
    other.unlinked.add('carol'); // "second" knows neither Dave nor Carol, and has the only channel
    noChannel(h);
    await h.run('zed', 'incident report sev1 nobody acks');
    await h.advance('2h');
    expect(other.delivered.some((d) => d.to === '#payments' && /Unowned incident #1/.test(d.text))).toBe(true);
    const unowned = h.messagesFor('carol').find((m) => /Unowned incident #1/.test(m.text));
    expect(unowned?.message.mentions).toEqual(['carol']);
    expect(h.messagesFor('dave').some((m) => /Unowned incident #1/.test(m.text))).toBe(true);
    expect(await h.run('carol', 'incident show 1')).toContain("the team channel post cannot ping Carol, Dave (team payments's channel is only on second, where carol, dave are not linked (members[].second): the post cannot ping them there); told them directly too");
    expect((await h.app.health()).pages).toBe('ok');
  });
  it('no reply claims a person was reached when no platform can message them: a manual escalation, a huddle, a handover notice', async () => {
    h = await Harness.start();
    h.adapter.unlinked.add('alice');
    await h.run('zed', 'incident report sev2 checkout slow');
    const escalated = await h.run('dave', 'incident escalate 1');
    expect(escalated).toContain('Escalated #1 to the mentor, Alice. But Alice cannot be messaged directly on any running chat platform: the page went to the team channel, where it pings nobody: nobody was reached until an admin links them in the config (members[].recording); "incident escalate 1 lead" asks the lead');
    const huddle = await h.run('dave', 'incident huddle 1 the database needs two hands');
    expect(huddle).toContain('asked to join now: Bob, Carol');
    expect(huddle).toContain('no running chat platform can message Alice (an admin links them in the config (members[].recording))');
    expect(huddle).not.toMatch(/was asked to join|everyone else in the team/);
    await h.stop();

    // The Monday handover to Alice, whom no platform knows: the outgoing on-call is not told she has been paged.
    h = await Harness.start({ at: '2026-03-09T07:40:00Z' });
    h.adapter.unlinked.add('alice');
    await h.run('zed', 'incident report sev2 invoices fail');
    await h.advanceTo('2026-03-09T08:00:00Z');
    const told = h.expectMessage('dave', /Your Payments shift ended: 1 unacknowledged incident moved to Alice/);
    expect(told.text).not.toContain('has been paged');
    expect(told.text).toContain('who cannot be messaged directly on any running chat platform: the pages went to the team channel, where they ping nobody; the chain moves on to the next person now, until an admin links them in the config (members[].recording)');
  });
});
