/**
 * News that matters notifies on Teams: an edit of a card notifies nobody, so acknowledged,
 * resolved, reassigned and a reporter's note reach the people concerned as a new message too,
 * while their card is updated in place. The team channel's record is only ever updated.
 */
import { TeamsRig, USERS, PAYMENTS_CHANNEL, cardOf, cardText } from './rig';
import { expectValidCard } from './schemas';

const DAVE_CHAT = 'a:personal-29:dave';

describe('Teams: news is a new message, the card is updated in place', () => {
  let rig: TeamsRig;
  beforeEach(async () => {
    rig = await TeamsRig.start();
    await rig.post(rig.personalInstall(USERS.dave));
    await rig.post(rig.personalInstall(USERS.alice));
    await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
    await rig.h.run('zed', 'incident report sev2 checkout returns 502');
    await rig.flush();
  });
  afterEach(() => rig.stop());

  /** what happened in a conversation since call number `from`: "POST <text>" / "PUT <text>". */
  const since = (from: number, conversation: string): string[] =>
    rig.connector.calls.slice(from)
      .filter((c) => c.status < 300 && c.conversation === conversation && (c.method === 'PUT' || (c.method === 'POST' && /\/activities/.test(c.path))))
      .map((c) => `${c.method} ${cardText(cardOf(c.body)).split('\n')[0] ?? ''}`);

  it('after an ack, the on-call gets their page updated and a new message; the channel record is only updated', async () => {
    expect(rig.connector.sentTo(DAVE_CHAT)).toHaveLength(1);
    const mark = rig.connector.calls.length;

    await rig.h.run('carol', 'incident ack 1');
    await rig.flush();

    expect(since(mark, DAVE_CHAT)).toEqual([
      'PUT #1 [sev2] checkout returns 502 acknowledged by Carol',
      'POST #1 [sev2] checkout returns 502 acknowledged by Carol',
    ]);
    const [update, notice] = rig.connector.calls.slice(mark).filter((c) => c.conversation === DAVE_CHAT && c.status < 300);
    // The update replaces the page itself, with the fresh card (state, timeline).
    expect(update!.activityId).toMatch(/^msg-/);
    expect(cardText(cardOf(update!.body))).toMatch(/State: Acknowledged/);
    // The notice is short: the headline only, no incident card, no buttons, pings nobody.
    const card = cardOf(notice!.body);
    expectValidCard(card);
    expect(card.actions).toBeUndefined();
    expect(cardText(card)).toBe('#1 [sev2] checkout returns 502 acknowledged by Carol');
    expect(notice!.body.entities).toBeUndefined();

    expect(since(mark, PAYMENTS_CHANNEL)).toEqual(['PUT #1 [sev2] checkout returns 502 acknowledged by Carol']);
  });

  it('resolved, reassigned and a note from the reporter each reach the people concerned as new messages', async () => {
    let mark = rig.connector.calls.length;
    await rig.h.run('zed', 'incident note 1 it is also slow in the app');
    await rig.flush();
    expect(since(mark, DAVE_CHAT)).toEqual([
      'PUT zed added to #1 [sev2] checkout returns 502: it is also slow in the app',
      'POST zed added to #1 [sev2] checkout returns 502: it is also slow in the app',
    ]);

    mark = rig.connector.calls.length;
    await rig.h.run('carol', 'incident assign 1 alice');
    await rig.flush();
    expect(since(mark, DAVE_CHAT)).toEqual([
      'PUT #1 [sev2] checkout returns 502 was assigned to Alice by Carol; it is theirs now.',
      'POST #1 [sev2] checkout returns 502 was assigned to Alice by Carol; it is theirs now.',
    ]);
    // Alice is paged (a new message that pings her); the channel record is updated.
    expect(since(mark, 'a:personal-29:alice')).toEqual(['POST Alice Carol assigned #1 [sev2] checkout returns 502 to you']);
    expect(since(mark, PAYMENTS_CHANNEL).every((c) => c.startsWith('PUT '))).toBe(true);

    mark = rig.connector.calls.length;
    await rig.h.run('carol', 'incident resolve 1');
    await rig.flush();
    for (const chat of [DAVE_CHAT, 'a:personal-29:alice']) {
      expect(since(mark, chat)).toEqual(['PUT #1 [sev2] checkout returns 502 resolved by Carol', 'POST #1 [sev2] checkout returns 502 resolved by Carol']);
    }
    expect(since(mark, PAYMENTS_CHANNEL)).toEqual(['PUT #1 [sev2] checkout returns 502 resolved by Carol']);
  });
});
