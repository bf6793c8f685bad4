import type { StoreTx, TransactionOptions } from '../../src/ports/store';
import { Harness } from '../harness/harness';

describe('escalation of an unacknowledged incident', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(() => h.stop());

  it('an escalation whose transaction fails once is paged and counted in /metrics once, when it is done', async () => {
    await h.run('zed', 'incident report sev2 checkout returns 502');
    const store = h.app.store;
    const original = store.transaction.bind(store);
    let failed = false;
    // The transaction that escalates to the mentor fails once, after it ran (a disk error at its commit).
    store.transaction = ((fn: (tx: StoreTx) => Promise<unknown>, options?: TransactionOptions) => original(async (tx) => {
      let escalating = false;
      const watched = new Proxy(tx, {
        get(target, prop) {
          const value: unknown = Reflect.get(target, prop);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (JSON.stringify(args[0] ?? null)?.includes('"kind":"escalated"')) escalating = true;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const result = await fn(watched);
      if (escalating && !failed) {
        failed = true;
        throw new Error('simulated disk I/O error at commit');
      }
      return result;
    }, options)) as typeof store.transaction;
    await h.advance('10m');
    await h.advance('2m'); // the failed step is tried again once its claim's lease (a minute) is over
    expect(failed).toBe(true);
    expect(h.messagesFor('alice').filter((m) => /Escalated to you as mentor: #1/.test(m.text))).toHaveLength(1);
    const metrics = (await h.app.metrics.render()).body;
    expect(metrics).toContain('onehand_escalation_steps_total{step="mentor",trigger="auto"} 1\n');
  });

  it('pages the on-call alone, then re-pages, then the mentor, then the lead, each at its time', async () => {
    const reply = await h.run('zed', 'incident report sev2 checkout returns 502');
    expect(reply).toContain('Reported #1 [sev2] checkout returns 502');
    expect(reply).toContain('Dave is on call');

    const page = h.expectMessage('dave', /New incident #1 \[sev2\] checkout returns 502/);
    expect(page.message.mentions).toEqual(['dave']);
    expect(page.message.actions).toEqual(['ack', 'resolve', 'escalate']);
    const record = h.expectMessage('#payments', /New incident #1/);
    expect(record.message.mentions).toEqual([]);
    expect(record.message.actions).toEqual([]);
    h.expectNothingFor('alice', 'bob', 'carol', 'erin', 'frank', 'zed');

    await h.advance('4m59s');
    h.expectNothingFor('dave', 'alice', 'carol');

    await h.advance('1s');
    const reminder = h.expectMessage('dave', /Reminder: #1/);
    expect(reminder.at).toBe('2026-03-03T10:05:00.000Z');
    h.expectNothingFor('alice', 'bob', 'carol');

    await h.advance('5m');
    const mentor = h.expectMessage('alice', /Escalated to you as mentor: #1/);
    expect(mentor.at).toBe('2026-03-03T10:10:00.000Z');
    expect(mentor.message.mentions).toEqual(['alice']);
    h.expectNothingFor('dave', 'bob', 'carol');

    await h.advance('5m');
    const lead = h.expectMessage('carol', /Escalated to you as lead: #1/);
    expect(lead.at).toBe('2026-03-03T10:15:00.000Z');
    h.expectNothingFor('dave', 'alice', 'bob', 'zed');

    // The chain runs once more (repeat: 1), then the team channel hears of an unowned incident,
    // mentioning only the lead and the on-call, every hour; never a huddle.
    await h.advance('5m');
    expect(h.expectMessage('dave', /Reminder \(round 2 of the chain\): #1/).at).toBe('2026-03-03T10:20:00.000Z');
    await h.advance('10m');
    h.expectMessage('dave', /Reminder \(round 2 of the chain\): #1/);
    expect(h.expectMessage('alice', /Escalated to you as mentor \(round 2 of the chain\): #1/).at).toBe('2026-03-03T10:30:00.000Z');
    await h.advance('5m');
    h.expectMessage('carol', /Escalated to you as lead \(round 2 of the chain\): #1/);
    h.expectNothingFor('bob', '#payments', 'zed');
    await h.advance('5m');
    const unowned = h.expectMessage('#payments', /Unowned incident #1 \[sev2\]/);
    expect(unowned.at).toBe('2026-03-03T10:40:00.000Z');
    expect(unowned.message.mentions).toEqual(['carol', 'dave']);
    await h.advance('59m');
    h.expectNothingFor('#payments', 'dave', 'alice', 'bob', 'carol');
    await h.advance('1m');
    expect(h.expectMessage('#payments', /Unowned incident #1/).at).toBe('2026-03-03T11:40:00.000Z');
    expect(h.unseen()).toEqual([]);
    await h.run('carol', 'incident ack 1');
    h.unseen().forEach((d) => h.expectMessage(d.to, d.text));
    await h.advance('5h');
    expect(h.unseen()).toEqual([]);
  });

  it('stops escalating when the on-call acknowledges, and tells the reporter who has it', async () => {
    await h.run('zed', 'incident report search is slow');
    await h.advance('3m');
    const reply = await h.run('dave', 'incident ack 1');
    expect(reply).toContain('You acknowledged #1');
    h.expectMessage('dave', /New incident/);
    h.expectMessage('#payments', /New incident/);
    h.expectMessage('#payments', /acknowledged by Dave/);
    const told = h.expectMessage('zed', /acknowledged by Dave/);
    expect(told.message.mentions).toEqual([]);
    await h.advance('1h');
    expect(h.unseen()).toEqual([]);
  });

  it('acknowledging after the mentor was paged tells the mentor, so they can stand down', async () => {
    await h.run('zed', 'incident report sev1 payments down');
    await h.advance('10m');
    h.expectMessage('alice', /Escalated to you as mentor/);
    await h.run('dave', 'incident ack 1');
    h.expectMessage('alice', /acknowledged by Dave/);
    await h.advance('1h');
    h.expectNothingFor('carol');
  });

  it('skips the mentor step for an on-call without a mentor and pages the lead at that time', async () => {
    const config = (await import('../harness/fixtures')).TEST_CONFIG.replace('{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice }', '{ id: dave, name: Dave, time_zone: Europe/London }');
    await h.stop();
    h = await Harness.start({ config });
    await h.run('zed', 'incident report no mentor');
    await h.advance('10m');
    h.expectMessage('carol', /Escalated to you as lead/);
    h.expectNothingFor('alice', 'bob');
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('escalation step skipped: the assignee has no mentor');
  });

  it('after a reassignment, escalating to the new assignee\'s mentor pages them, though they were paged before as the on-call', async () => {
    await h.run('zed', 'incident report sev2 checkout down'); // Dave is paged as the on-call
    await h.run('carol', 'incident assign 1 bob'); // Bob's mentor is Dave
    expect(await h.run('bob', 'incident escalate 1 mentor')).toMatch(/^Escalated #1 to the mentor, Dave\./);
    h.expectMessage('dave', /asks for your help as mentor on #1/);
    // Asked again in the same round: refused, he has been paged.
    expect(await h.run('bob', 'incident escalate 1 mentor')).toBe('Dave (the mentor) has already been paged for #1.');
  });

  it('skips a mentor who is marked away and pages the lead at that time, saying why', async () => {
    expect(await h.run('carol', 'oncall away alice now 2d')).toContain('Alice is away');
    await h.run('zed', 'incident report sev2 checkout down');
    await h.advance('10m');
    expect(h.expectMessage('carol', /Escalated to you as lead: #1/).at).toBe('2026-03-03T10:10:00.000Z');
    expect(h.messagesFor('alice').filter((m) => /Escalated to you/.test(m.text))).toEqual([]);
    expect(await h.run('carol', 'incident show 1')).toMatch(/escalation step skipped: Alice \(the mentor\) is marked away until Thu 11:00 their time \(Europe\/Berlin\)/);
  });

  it('after a reopen, waits are counted from the reopening, not from the first report', async () => {
    await h.run('zed', 'incident report sev2 flapping');
    await h.run('dave', 'incident resolve 1');
    await h.advance('1d');
    await h.run('dave', 'incident reopen 1 back again');
    await h.advance('5m');
    expect(h.expectMessage('dave', /Reminder: #1/).text).toContain('is still not acknowledged (5m)');
  });

  it('freezes the policy: the incident keeps the ack timeout it opened with', async () => {
    await h.run('zed', 'incident report frozen policy');
    const stored = await h.app.store.transaction((tx) => tx.getIncident(1));
    expect(stored?.policy).toEqual({ ackTimeoutMs: 300000, renotify: 1, then: ['mentor', 'lead'], repeat: 1, unownedEveryMs: 3_600_000, handoff: 'reassign' });
  });

  it('early escalation pages the mentor now, and the automatic steps do not page them twice', async () => {
    await h.run('zed', 'incident report need help');
    const reply = await h.run('dave', 'incident escalate 1');
    expect(reply).toContain('Escalated #1 to the mentor, Alice');
    h.expectMessage('alice', /Dave asks for your help as mentor/);
    await h.advance('10m');
    h.expectMessage('dave', /Reminder/);
    h.expectNothingFor('alice');
    h.expectMessage('carol', /Escalated to you as lead/);
    expect(await h.run('dave', 'incident escalate 1 mentor')).toContain('already been paged');
    // Asking yourself pages nobody: refused, with the next step.
    const before = h.messagesFor('alice').length;
    expect(await h.run('alice', 'incident escalate 1 mentor --now')).toBe('You are the mentor of #1, so this would page you. To take it on yourself: "incident assign 1 alice"; to page the lead: "incident escalate 1 lead".');
    expect(h.messagesFor('alice')).toHaveLength(before);
  });

  it('a huddle in a team of two names the one it asked', async () => {
    const h2 = await Harness.start();
    await h2.report('zed', 'sev2 search index stale', 'search');
    const onCall = (await h2.run('frank', 'oncall who --team search')).includes('Erin') ? 'erin' : 'frank';
    const other = onCall === 'erin' ? 'Frank' : 'Erin';
    expect(await h2.run(onCall, 'incident huddle 1 two heads')).toBe(`Huddle called on #1; ${other} was asked to join. The reason is on the timeline.`);
    await h2.stop();
  });

  it('a huddle reaches the whole team, only on request, with its reason kept', async () => {
    await h.run('zed', 'incident report database failover');
    expect(await h.run('zed', 'incident huddle 1 help')).toContain('Only the on-call, their mentor or the team lead may do this');
    const reply = await h.run('dave', 'incident huddle 1 failover needs three people');
    expect(reply).toBe('Huddle called on #1; everyone else in the team (3: Alice, Bob, Carol) was asked to join. The reason is on the timeline.');
    for (const member of ['alice', 'bob', 'carol']) {
      const m = h.expectMessage(member, /Huddle on #1 .* Reason: failover needs three people/);
      expect(m.message.mentions).toEqual([member]);
    }
    h.expectMessage('dave', /New incident/);
    h.expectNothingFor('dave', 'erin', 'frank', 'zed');
    const show = await h.run('carol', 'incident show 1');
    expect(show).toContain('huddle called by Dave: failover needs three people');
  });
});
