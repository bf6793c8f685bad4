/**
 * A whole incident played on Teams: a product user reports in the team channel, the on-call is
 * paged alone, nobody acknowledges, the mentor is paged at 10 minutes, the on-call acknowledges from
 * the card, resolves from the card, and the channel's card is edited in place all along.
 */
import { TeamsRig, USERS, PAYMENTS_CHANNEL, cardOf, cardText, actionVerbs } from './rig';
import { expectValidCard } from './schemas';

describe('an incident end to end on Teams', () => {
  let rig: TeamsRig;
  beforeEach(async () => {
    rig = await TeamsRig.start();
  });
  afterEach(() => rig.stop());

  it('report → page → no ack → mentor at 10m → ack by card → resolve by card → channel card updated', async () => {
    for (const u of [USERS.dave, USERS.alice, USERS.carol]) expect((await rig.post(rig.personalInstall(u))).status).toBe(200);
    await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
    const start = rig.connector.calls.length;

    await rig.post(rig.channelMessage(USERS.zed, 'incident report sev2 checkout returns 502 --service checkout'));
    await rig.flush();
    const daveChat = 'a:personal-29:dave';
    const aliceChat = 'a:personal-29:alice';
    const carolChat = 'a:personal-29:carol';
    expect(rig.connector.sentTo(daveChat).map((c) => String(c.body.text))).toEqual(['<at>Dave</at> New incident #1 [sev2] checkout returns 502']);
    expect(rig.connector.sentTo(aliceChat)).toEqual([]);
    const record = rig.connector.sentTo(PAYMENTS_CHANNEL);
    expect(record).toHaveLength(1);

    await rig.h.advance('5m');
    expect(rig.connector.sentTo(daveChat)).toHaveLength(2); // the reminder
    expect(rig.connector.sentTo(aliceChat)).toEqual([]);
    await rig.h.advance('5m');
    const mentorPage = rig.connector.sentTo(aliceChat);
    expect(mentorPage).toHaveLength(1);
    expect(mentorPage[0]!.body.text).toMatch(/^<at>Alice<\/at> Escalated to you as mentor: #1/);
    expect(mentorPage[0]!.body.entities).toEqual([{ type: 'mention', text: '<at>Alice</at>', mentioned: { id: 'aad-alice', name: 'Alice' } }]);
    expect(rig.connector.sentTo(carolChat)).toEqual([]);

    // Dave acknowledges from the card on his page.
    const acked = await rig.post(rig.cardAction(USERS.dave, 'ack', { incidentId: 1 }, daveChat, String(rig.connector.sentTo(daveChat)[0]!.path.split('/').pop())));
    const ackCard = (acked.body as { value: Record<string, unknown> }).value;
    expect(cardText(ackCard)).toMatch(/You acknowledged #1/);
    expect(actionVerbs(ackCard)).toEqual(['resolve', 'escalate']);
    await rig.flush();
    // The mentor's page card is edited to say it is handled; the channel card too.
    const aliceUpdates = rig.connector.updates().filter((c) => c.conversation === aliceChat);
    expect(aliceUpdates).toHaveLength(1);
    expect(cardText(cardOf(aliceUpdates[0]!.body))).toMatch(/acknowledged by Dave/);
    let channelUpdates = rig.connector.updates().filter((c) => c.conversation === PAYMENTS_CHANNEL);
    expect(channelUpdates.length).toBeGreaterThanOrEqual(1);
    expect(cardText(cardOf(channelUpdates.at(-1)!.body))).toMatch(/State: Acknowledged/);

    // Then resolves from the card.
    const resolved = await rig.post(rig.cardAction(USERS.dave, 'resolve', { incidentId: 1 }));
    const resolvedCard = (resolved.body as { value: Record<string, unknown> }).value;
    expect(cardText(resolvedCard)).toMatch(/State: Resolved/);
    expect(actionVerbs(resolvedCard)).toEqual([]);
    await rig.flush();
    channelUpdates = rig.connector.updates().filter((c) => c.conversation === PAYMENTS_CHANNEL);
    const finalCard = cardOf(channelUpdates.at(-1)!.body);
    expectValidCard(finalCard, 'final channel card');
    expect(cardText(finalCard)).toMatch(/State: Resolved/);
    expect(cardText(finalCard)).toMatch(/resolved by Dave/);
    // Every update edited the one channel post.
    expect(new Set(channelUpdates.map((c) => c.activityId)).size).toBe(1);
    expect(rig.connector.sentTo(PAYMENTS_CHANNEL)).toHaveLength(1);

    // One hand: carol (the lead) and bob were never written to; nobody got a huddle.
    expect(rig.connector.sentTo(carolChat)).toEqual([]);
    const calls = rig.connector.calls.slice(start);
    expect(calls.every((c) => c.status < 300)).toBe(true);
    // The reporter, a guest who wrote in the channel, is told in a 1:1 chat Onehand starts with them.
    const created = calls.filter((c) => c.path === '/v3/conversations');
    expect(created.map((c) => c.body.members)).toEqual([[{ id: '29:zed', name: '' }]]);
    const posts = calls.filter((c) => c.method === 'POST' && /\/activities$/.test(c.path)).map((c) => c.conversation ?? '');
    const toZed = posts.filter((c) => c.startsWith('a:created-'));
    // The mentor's page is edited, and the news (acknowledged, resolved) is also a new message to her, so it notifies.
    expect(posts.filter((c) => !c.startsWith('a:created-')).sort()).toEqual([PAYMENTS_CHANNEL, aliceChat, aliceChat, aliceChat, daveChat, daveChat].sort());
    expect(rig.connector.sentTo(aliceChat).slice(1).map((c) => cardText(cardOf(c.body)))).toEqual(['#1 [sev2] checkout returns 502 acknowledged by Dave', '#1 [sev2] checkout returns 502 resolved by Dave']);
    expect(toZed.length).toBeGreaterThanOrEqual(1);
    expect(rig.h.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});
