/**
 * Inbound events on Teams: an activity delivered twice runs once, and a reply the connector cannot
 * take in the turn still reaches the caller (through the outbox), without an HTTP 500.
 */
import { TeamsRig, USERS, cardOf, cardText } from './rig';

const ALICE_CHAT = 'a:personal-29:alice';

describe('Teams inbound events', () => {
  let rig: TeamsRig;
  beforeEach(async () => {
    rig = await TeamsRig.start();
  });
  afterEach(async () => {
    await rig.stop();
    jest.restoreAllMocks();
  });

  it('opens one incident when Teams delivers the same message activity twice, and answers both with the same reply', async () => {
    const report = rig.personalMessage(USERS.alice, 'incident report sev2 checkout returns 502');
    expect((await rig.post(report)).status).toBe(200);
    expect((await rig.post(report)).status).toBe(200);
    const replies = rig.connector.sentTo(ALICE_CHAT);
    expect(replies).toHaveLength(2);
    expect(cardText(cardOf(replies[0]!.body))).toContain('Reported #1 [sev2] checkout returns 502');
    expect(cardOf(replies[1]!.body)).toEqual(cardOf(replies[0]!.body));

    const list = await rig.h.run('carol', 'incident list --all');
    expect(list).toMatch(/#1/);
    expect(list).not.toMatch(/#2/);
    // A new activity with the same words is a new report.
    await rig.post(rig.personalMessage(USERS.alice, 'incident report sev2 checkout returns 502'));
    expect(await rig.h.run('carol', 'incident list --all')).toMatch(/#2/);
  });

  it('acknowledges once when a card action is delivered twice; the replay gets the same answer', async () => {
    await rig.post(rig.personalInstall(USERS.dave));
    await rig.h.run('zed', 'incident report sev2 checkout returns 502');
    const ack = rig.cardAction(USERS.dave, 'ack', { incidentId: 1 });
    const first = (await rig.post(ack)).body as { value: Record<string, unknown> };
    const again = (await rig.post(ack)).body as { value: Record<string, unknown> };
    expect(cardText(first.value)).toMatch(/You acknowledged #1/);
    expect(cardText(again.value)).toMatch(/You acknowledged #1/);
    const show = await rig.h.run('carol', 'incident show 1');
    expect(show.match(/acknowledged by Dave/g)).toHaveLength(1);
  });

  it('answers 200 when the connector is down during a report, and delivers "Reported #1" once it is back', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    await rig.post(rig.personalInstall(USERS.alice));
    await rig.post(rig.personalInstall(USERS.dave));
    rig.connector.failNext(1000, 503, '0');
    const res = await rig.post(rig.personalMessage(USERS.alice, 'incident report sev1 payments down'));
    expect(res.status).toBe(200);
    expect(rig.connector.calls.some((c) => c.status === 503 && c.conversation === ALICE_CHAT)).toBe(true);
    expect(rig.connector.sentTo(ALICE_CHAT)).toEqual([]);
    expect(await rig.h.run('carol', 'incident show 1')).toMatch(/payments down/);

    await rig.h.advance('1m'); // still down: the outbox keeps trying
    expect(rig.connector.sentTo(ALICE_CHAT)).toEqual([]);
    rig.connector.recover();
    await rig.h.advance('10m');
    const replies = rig.connector.sentTo(ALICE_CHAT);
    expect(replies.map((c) => cardText(cardOf(c.body))).filter((t) => t.includes('Reported #1 [sev1] payments down'))).toHaveLength(1);
    // The page reached the on-call too, once.
    expect(rig.connector.sentTo('a:personal-29:dave').filter((c) => /New incident #1/.test(String(c.body.text)))).toHaveLength(1);
  });

  it('answers 200 when the connector stalls on the reply, and the reply still arrives through the outbox', async () => {
    await rig.stop();
    rig = await TeamsRig.start({ replyTimeoutMs: 200 });
    await rig.post(rig.personalInstall(USERS.alice));
    rig.connector.hangNext(1);
    const res = await rig.post(rig.personalMessage(USERS.alice, 'incident report sev2 search is slow'));
    expect(res.status).toBe(200);
    await rig.flush();
    const replies = rig.connector.sentTo(ALICE_CHAT).filter((c) => cardText(cardOf(c.body)).includes('Reported #1 [sev2] search is slow'));
    expect(replies).toHaveLength(1);
  });
});
