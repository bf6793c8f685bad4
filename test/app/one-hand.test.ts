/**
 * The one rule, checked command by command: for each command, exactly the expected people (and
 * the quiet team channel) receive something, and every message pings at most its own recipient.
 */
import { Harness } from '../harness/harness';

describe('one hand by default: who is told, for every command', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.start();
  });
  afterEach(() => h.stop());

  async function told(who: string, text: string): Promise<string[]> {
    const mark = h.mark();
    await h.run(who, text);
    const deliveries = h.adapter.delivered.slice(mark);
    for (const d of deliveries) {
      // A message may ping its own direct recipient and nobody else; channel records ping nobody.
      expect(d.message.mentions).toEqual(d.kind === 'channel' ? [] : d.message.mentions.filter((m) => m === d.to));
    }
    return h.recipientsSince(mark);
  }

  it('report: the on-call and the quiet channel record; the reporter gets the reply only', async () => {
    expect(await told('zed', 'incident report sev2 checkout down')).toEqual(['#payments', 'dave']);
  });

  it('read-only commands tell nobody', async () => {
    await told('zed', 'incident report sev3 x');
    for (const cmd of ['oncall who', 'oncall schedule 2', 'incident list', 'incident list --all', 'incident show 1', 'help', 'help incident ack']) {
      expect(await told('alice', cmd)).toEqual([]);
    }
  });

  it('note by a responder stays on the timeline; note by the reporter reaches the assignee only', async () => {
    await told('zed', 'incident report sev3 x');
    expect(await told('dave', 'incident note 1 looking at the logs')).toEqual([]);
    expect(await told('zed', 'incident note 1 it started after the 10:00 deploy')).toEqual(['dave']);
  });

  it('reply reaches a reporter who is a member and was paged for it too (the mentor reporting)', async () => {
    await told('alice', 'incident report sev3 alice saw it');
    await h.advance('10m'); // alice is dave's mentor: the escalation pages her
    expect(await told('dave', 'incident reply 1 on it, give me ten minutes')).toEqual(['alice']);
    expect(h.messagesFor('alice').pop()?.text).toContain('Dave writes: on it, give me ten minutes');
  });

  it('reply reaches the reporter only', async () => {
    await told('zed', 'incident report sev3 x');
    expect(await told('dave', 'incident reply 1 rolling back now')).toEqual(['zed']);
  });

  it('ack: reporter and channel; resolve: reporter and channel (the actor is not told what they did)', async () => {
    await told('zed', 'incident report sev3 x');
    expect(await told('dave', 'incident ack 1')).toEqual(['#payments', 'zed']);
    expect(await told('dave', 'incident resolve 1 rolled back')).toEqual(['#payments', 'zed']);
  });

  it('escalate: only the person escalated to', async () => {
    await told('zed', 'incident report sev3 x');
    expect(await told('dave', 'incident escalate 1 mentor')).toEqual(['alice']);
    expect(await told('dave', 'incident escalate 1 lead')).toEqual(['carol']);
  });

  it('after escalation, ack and resolve tell everyone who was paged, but nobody else', async () => {
    await told('zed', 'incident report sev3 x');
    await told('dave', 'incident escalate 1 mentor');
    expect(await told('alice', 'incident ack 1')).toEqual(['#payments', 'dave', 'zed']);
    expect(await told('alice', 'incident resolve 1')).toEqual(['#payments', 'dave', 'zed']);
  });

  it('reopen: the current on-call, the reporter, the channel', async () => {
    await told('zed', 'incident report sev3 x');
    await told('dave', 'incident resolve 1');
    expect(await told('dave', 'incident reopen 1 errors are back')).toEqual(['#payments', 'dave', 'zed']);
  });

  it('huddle: the team, never another team', async () => {
    await told('zed', 'incident report sev3 x');
    expect(await told('dave', 'incident huddle 1 three services down')).toEqual(['#payments', 'alice', 'bob', 'carol']);
  });

  it('override and swap: only the members whose shifts change', async () => {
    // Bob gains the hours, Dave loses them: both are told, nobody else.
    expect(await told('carol', 'oncall override bob now 4h')).toEqual(['bob', 'dave']);
    expect(await told('carol', 'oncall swap alice bob')).toEqual(['alice', 'bob']);
    // Whoever gains a shift through the absence is told too (Bob covers Alice's week).
    expect(await told('carol', 'oncall away alice 2026-04-01T00:00 1w')).toEqual(['alice', 'bob']);
  });

  it('refusals and bad commands tell nobody', async () => {
    await told('zed', 'incident report sev3 x');
    for (const [who, cmd] of [
      ['zed', 'incident ack 1'],
      ['erin', 'incident resolve 1'],
      ['bob', 'oncall override bob now 4h'],
      ['alice', 'incident frobnicate 1'],
      ['alice', 'incident ack'],
      ['alice', 'incident ack 99'],
    ] as const) {
      expect(await told(who, cmd)).toEqual([]);
    }
  });
});

describe('the on-call reports an incident themselves', () => {
  it('it is theirs and acknowledged: no page to themselves, no escalation to their mentor; the channel has the record', async () => {
    const h = await Harness.start();
    try {
      const reply = await h.run('dave', 'incident report sev2 I broke the deploy');
      expect(reply).toContain('Reported #1 [sev2] I broke the deploy. You are on call, so it is yours and acknowledged: nobody was paged');
      expect(await h.app.store.transaction((tx) => tx.getIncident(1))).toMatchObject({ state: 'acknowledged', assignee: 'dave' });
      h.expectMessage('#payments', /New incident #1 \[sev2\] I broke the deploy/);
      await h.advance('30m');
      expect(h.adapter.delivered.filter((d) => d.to === 'dave' || d.to === 'alice' || d.to === 'carol')).toEqual([]);
      expect(await h.run('dave', 'incident show 1')).toMatch(/reported by Dave.*\n.*acknowledged/);
    } finally {
      await h.stop();
    }
  });
});
