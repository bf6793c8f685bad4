import { CHANNELS, startDiscordWorld, USERS, type DiscordWorld } from './setup';
import { body, command, incidentData, reportData } from './helpers';

describe('a whole incident on Discord, end to end', () => {
  let w: DiscordWorld;
  beforeEach(async () => {
    w = await startDiscordWorld();
  });
  afterEach(() => w.stop());

  it('report -> page DM -> no ack -> mentor DM -> ack by button -> resolve -> channel record edited', async () => {
    const davesDm = w.fake.dmChannelOf(USERS.dave.id);
    const alicesDm = w.fake.dmChannelOf(USERS.alice.id);
    const dmRecipients = () => w.fake.callsTo('POST', /^\/users\/@me\/channels$/).map((c) => (c.body as { recipient_id: string }).recipient_id);
    const postsTo = (channel: string) => w.fake.callsTo('POST', new RegExp(`^/channels/${channel}/messages$`));
    const patchesTo = (channel: string) => w.fake.callsTo('PATCH', new RegExp(`^/channels/${channel}/messages/\\d+$`));

    // 10:00 a customer-facing guest reports; only the on-call is paged.
    await command(w, USERS.zed, CHANNELS.payments, reportData('payments failing', { severity: 'sev1', service: 'payments-api' }));
    await w.flush();
    expect(dmRecipients()).toEqual([USERS.dave.id]);
    const page = postsTo(davesDm)[0];
    expect(body(page).allowed_mentions).toEqual({ parse: [], users: [USERS.dave.id] });
    expect(body(page).embeds[0]?.color).toBe(0xed4245);
    const recordId = String((postsTo(CHANNELS.payments)[0]?.response as { id: string }).id);

    // No ack: 10:05 a reminder (a new DM, so it notifies), 10:10 the mentor.
    await w.h.advance('5m');
    expect(postsTo(davesDm)).toHaveLength(2);
    expect(body(postsTo(davesDm)[1]).content).toContain('Reminder: #1');
    expect(dmRecipients()).toEqual([USERS.dave.id]);
    await w.h.advance('5m');
    expect(dmRecipients()).toEqual([USERS.dave.id, USERS.alice.id]);
    const mentorPage = body(postsTo(alicesDm)[0]);
    expect(mentorPage.content).toContain(`<@${USERS.alice.id}> Escalated to you as mentor: #1 [sev1] payments failing`);
    expect(mentorPage.allowed_mentions).toEqual({ parse: [], users: [USERS.alice.id] });

    // Dave acknowledges with the button on the reminder.
    const reminderId = String((postsTo(davesDm)[1]?.response as { id: string }).id);
    const press = w.fake.press(USERS.dave, davesDm, reminderId, 'onehand:ack:1');
    expect((await w.fake.callbackFor(press.id)).type).toBe(7);
    await w.flush();
    // Alice (paged) is told by an edit of her page, the channel record is edited, the reporter gets a DM.
    expect(patchesTo(alicesDm)).toHaveLength(1);
    expect(body(patchesTo(alicesDm)[0]).content).toContain('acknowledged by Dave');
    expect(body(patchesTo(alicesDm)[0]).allowed_mentions).toEqual({ parse: [] });
    expect(patchesTo(CHANNELS.payments).map((c) => c.path)).toEqual([`/channels/${CHANNELS.payments}/messages/${recordId}`]);
    expect(dmRecipients()).toEqual([USERS.dave.id, USERS.alice.id, USERS.zed.id]);

    // Dave resolves with the slash command.
    const resolved = await command(w, USERS.dave, CHANNELS.payments, incidentData('resolve', 1, { note: 'rolled back' }));
    expect(resolved.type).toBe(4);
    expect(String(resolved.data?.content)).toContain('Resolved #1 [sev1] payments failing.');
    await w.flush();
    const edits = patchesTo(CHANNELS.payments);
    expect(edits).toHaveLength(2);
    const last = body(edits[1]);
    expect(last.content).toBe('#1 [sev1] payments failing resolved by Dave: rolled back');
    expect(last.embeds[0]?.fields.find((f) => f.name === 'State')?.value).toBe('resolved');
    expect(last.components).toEqual([]);
    expect(last.allowed_mentions).toEqual({ parse: [] });
    // Alice's card loses its buttons; the channel only ever got its one record (plus no extra posts).
    expect(body(patchesTo(alicesDm)[1]).components).toEqual([]);
    expect(postsTo(CHANNELS.payments)).toHaveLength(1);
    expect(dmRecipients()).toEqual([USERS.dave.id, USERS.alice.id, USERS.zed.id]);
  });
});
