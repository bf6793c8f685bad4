/**
 * News that matters notifies on Discord: an edit of a message notifies nobody, so acknowledged,
 * resolved, reassigned and a reporter's note reach the people concerned as a new message too,
 * while their page is edited in place. The team channel's record is only ever edited.
 */
import { CHANNELS, startDiscordWorld, USERS, type DiscordWorld } from './setup';
import { body, command, incidentData, reportData } from './helpers';

describe('Discord: news is a new message, the page is edited in place', () => {
  let w: DiscordWorld;
  let dm: string;
  let pageId: string;
  let recordId: string;
  beforeEach(async () => {
    w = await startDiscordWorld();
    dm = w.fake.dmChannelOf(USERS.dave.id);
    await command(w, USERS.zed, CHANNELS.payments, reportData('checkout down', { severity: 'sev2' }));
    await w.flush();
    pageId = (w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))[0]?.response as { id: string }).id;
    recordId = (w.fake.callsTo('POST', new RegExp(`^/channels/${CHANNELS.payments}/messages$`))[0]?.response as { id: string }).id;
  });
  afterEach(() => w.stop());

  /** what reached a channel since call `from`: "POST" / "PATCH <message id>", with the content. */
  const since = (from: number, channel: string) =>
    w.since(from).filter((c) => c.path.startsWith(`/channels/${channel}/messages`)).map((c) => ({
      call: c.method === 'PATCH' ? `PATCH ${c.path.split('/').pop() ?? ''}` : c.method,
      content: body(c).content,
      body: body(c),
    }));

  it('after an ack, the on-call\'s DM gets a PATCH of the page and a new POST; the channel record only a PATCH', async () => {
    const mark = w.mark();
    await command(w, USERS.carol, CHANNELS.payments, incidentData('ack', 1));
    await w.flush();

    const dmCalls = since(mark, dm);
    expect(dmCalls.map((c) => c.call)).toEqual([`PATCH ${pageId}`, 'POST']);
    const [edit, notice] = dmCalls;
    expect(edit!.body.embeds[0]?.fields.find((f) => f.name === 'State')?.value).toBe('acknowledged');
    // Short, with the incident reference; no card, no buttons; mentions set explicitly (nobody).
    expect(notice!.content).toBe('#1 [sev2] checkout down acknowledged by Carol');
    expect(notice!.body.embeds).toEqual([]);
    expect(notice!.body.components).toEqual([]);
    expect(notice!.body.allowed_mentions).toEqual({ parse: [] });

    expect(since(mark, CHANNELS.payments).map((c) => c.call)).toEqual([`PATCH ${recordId}`]);
  });

  it('a reporter\'s note, a reassignment and the resolution each notify the people concerned', async () => {
    let mark = w.mark();
    await command(w, USERS.zed, CHANNELS.payments, incidentData('note', 1, { text: 'the app is slow too' }));
    await w.flush();
    expect(since(mark, dm).map((c) => `${c.call}: ${c.content}`)).toEqual([
      `PATCH ${pageId}: zed added to #1 [sev2] checkout down: the app is slow too`,
      'POST: zed added to #1 [sev2] checkout down: the app is slow too',
    ]);
    expect(since(mark, CHANNELS.payments)).toEqual([]);

    mark = w.mark();
    await w.h.run('carol', 'incident assign 1 alice');
    await w.flush();
    expect(since(mark, dm).map((c) => `${c.call}: ${c.content}`)).toEqual([
      `PATCH ${pageId}: #1 [sev2] checkout down was assigned to Alice by Carol; it is theirs now.`,
      'POST: #1 [sev2] checkout down was assigned to Alice by Carol; it is theirs now.',
    ]);
    const aliceDm = w.fake.dmChannelOf(USERS.alice.id);
    const alicePage = since(mark, aliceDm);
    expect(alicePage.map((c) => c.call)).toEqual(['POST']);
    expect(alicePage[0]!.body.allowed_mentions).toEqual({ parse: [], users: [USERS.alice.id] });
    expect(since(mark, CHANNELS.payments).map((c) => c.call)).toEqual([`PATCH ${recordId}`]);

    mark = w.mark();
    await w.h.run('carol', 'incident resolve 1');
    await w.flush();
    for (const channel of [dm, aliceDm]) {
      const calls = since(mark, channel);
      expect(calls.map((c) => c.call)).toEqual([expect.stringMatching(/^PATCH \d+$/), 'POST']);
      expect(calls[1]!.content).toBe('#1 [sev2] checkout down resolved by Carol');
    }
    expect(since(mark, CHANNELS.payments).map((c) => c.call)).toEqual([`PATCH ${recordId}`]);
  });
});
