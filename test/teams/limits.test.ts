/**
 * Teams' message size limit (about 100 KB of UTF-16): a huge incident is cut to fit, with a pointer
 * to `incident show ID`, and never refused; a 413 that still happens is given up at once (so the
 * fallback runs) instead of being retried for a day.
 */
import { cutText, fitActivity, renderMessage } from '../../adapters/teams/cards';
import { message } from '../../src/core/messages/message';
import { TeamsRig, USERS, PAYMENTS_CHANNEL, cardOf, cardText } from './rig';
import { TEAMS_MESSAGE_LIMIT_BYTES } from './fake-connector';
import { expectValidCard } from './schemas';

const DAVE_CHAT = 'a:personal-29:dave';
const utf16Bytes = (body: unknown): number => JSON.stringify(body).length * 2;

describe('Teams message size', () => {
  let rig: TeamsRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
    jest.restoreAllMocks();
  });

  it('cuts a huge incident (long notes, long title) so every card fits, with a pointer to incident show', async () => {
    rig = await TeamsRig.start();
    await rig.post(rig.personalInstall(USERS.dave));
    await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
    const title = `checkout ${'très lent 🐢 <b>&amp; '.repeat(400)}`;
    await rig.h.run('zed', `incident report sev2 ${title}`);
    for (let i = 1; i <= 30; i++) await rig.post(rig.personalMessage(USERS.dave, `incident note 1 note ${i}: ${`${i} » “quoted” \\ <tag> `.repeat(300)}`));
    const show = await rig.post(rig.personalMessage(USERS.dave, 'incident show 1'));
    expect(show.status).toBe(200);
    await rig.flush();

    expect(rig.connector.calls.filter((c) => c.status === 413)).toEqual([]);
    const answer = rig.connector.sentTo(DAVE_CHAT).at(-1)!;
    expect(utf16Bytes(answer.body)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const card = cardOf(answer.body);
    expectValidCard(card, 'cut show');
    const text = cardText(card);
    expect(text).toMatch(/^#1 \[sev2\] checkout très lent 🐢/);
    expect(text).toContain('Cut to fit in Teams: type **incident show 1** for the rest.');
    expect(text).toMatch(/Severity: sev2/);
    expect((card.actions as unknown[]).length).toBeGreaterThan(0);
    // Whole lines were left out from the end; the ones kept are in order.
    const notes = [...text.matchAll(/note (\d+):/g)].map((m) => Number(m[1]));
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.length).toBeLessThan(30);

    // The reminder page carries the latest notes in "Recent": cut too, still a page with its actions.
    await rig.h.advance('5m');
    const reminder = rig.connector.sentTo(DAVE_CHAT).filter((c) => /^<at>Dave<\/at> Reminder: #1/.test(String(c.body.text)));
    expect(reminder).toHaveLength(1);
    const reminderCard = cardOf(reminder[0]!.body);
    expect(cardText(reminderCard)).toContain('Cut to fit in Teams: type **incident show 1** for the rest.');
    expect(cardText(reminderCard)).toMatch(/note 30:/); // the newest note is kept
    expect((reminderCard.actions as Array<{ verb: string }>).map((a) => a.verb)).toEqual(['ack', 'resolve', 'escalate']);
    // Every card Onehand posted or edited fits, the channel record included.
    expect(rig.connector.calls.filter((c) => c.status === 413)).toEqual([]);
    for (const call of [...rig.connector.posts(), ...rig.connector.updates()]) expect(utf16Bytes(call.body)).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
  });

  it('gives a message Teams still refuses as too large (413) up at once: not retried, recorded on the incident', async () => {
    rig = await TeamsRig.start();
    await rig.post(rig.personalInstall(USERS.dave));
    await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
    const before = rig.connector.calls.length;
    rig.connector.tooLargeIn.add(PAYMENTS_CHANNEL);
    await rig.h.run('zed', 'incident report sev2 checkout returns 502');
    await rig.h.advance('30m');
    const tries = rig.connector.calls.slice(before).filter((c) => c.conversation === PAYMENTS_CHANNEL);
    expect(tries.map((c) => c.status)).toEqual([413]);
    expect(await rig.h.run('carol', 'incident show 1')).toMatch(/too large \(HTTP 413\)/);
  });

  it('never cuts inside an emoji, an HTML entity or an escape', () => {
    expect(cutText('ab🐢cd', 4)).toBe('ab…');
    expect(cutText('ab&lt;cd', 5)).toBe('ab…');
    expect(cutText('ab\\*cd', 4)).toBe('ab…');
    expect(cutText('ab\\*cd', 5)).toBe('ab\\*…');
    expect(cutText('abc', 3)).toBe('abc');
  });

  it('leaves a message that fits untouched', () => {
    const m = message('reply', ['hello ', { t: 'user', v: '<b>' }], { lines: [['a line']] });
    const r = renderMessage(m, { teamsIdOf: () => null });
    expect(fitActivity(r, null)).toEqual(r);
    expect(JSON.stringify(r)).not.toMatch(/Cut to fit|onehandRole/);
  });
});

describe('Teams connector that stalls', () => {
  let rig: TeamsRig;
  afterEach(async () => {
    await rig.stop();
  });

  it('gives up on a send when the delivery signal aborts: the request is cancelled and deliver rejects', async () => {
    rig = await TeamsRig.start();
    await rig.post(rig.personalInstall(USERS.dave));
    const teams = rig.h.app.adapters.all().find((a) => a.name === 'teams')!;
    rig.connector.hangNext(1);
    const controller = new AbortController();
    const sending = teams.deliver({
      key: 'stall-1', recipient: { kind: 'member', id: 'dave' }, incidentId: null, signal: controller.signal,
      message: message('notice', ['are you there?']),
    });
    await rig.connector.nextHang();
    controller.abort();
    await expect(sending).rejects.toThrow(/Teams connector/);
    for (let i = 0; i < 100 && !rig.connector.hung[0]?.clientClosed; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rig.connector.hung).toEqual([{ path: `/v3/conversations/${encodeURIComponent(DAVE_CHAT)}/activities`, clientClosed: true }]);
    expect(teams.health?.()).toEqual({ ok: true, degraded: true, detail: expect.stringMatching(/^the last call failed \(Teams connector/) }); // shown; the worker's count fails the platform
  });
});
