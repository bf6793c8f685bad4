import { CHANNELS, startDiscordWorld, USERS, type DiscordWorld } from './setup';
import { body, command, reportData } from './helpers';

describe('Discord delivery: pages, channel records, mentions, failures', () => {
  let w: DiscordWorld;
  beforeEach(async () => {
    w = await startDiscordWorld();
  });
  afterEach(() => w.stop());

  it('a guest reports in the team channel: a visible reply, then a DM to the on-call alone and a quiet channel record', async () => {
    const mark = w.mark();
    const reply = await command(w, USERS.zed, CHANNELS.payments, reportData('checkout down', { severity: 'sev2', service: 'checkout' }));
    expect(reply.type).toBe(4);
    expect(reply.data?.flags).toBeUndefined();
    expect(reply.data?.content).toContain('Reported #1 [sev2] checkout down. Dave is on call');
    expect(reply.data?.allowed_mentions).toEqual({ parse: [] });
    expect(reply.data?.components).toEqual([]);

    await w.flush();
    const calls = w.since(mark).filter((c) => !c.path.startsWith('/interactions/'));
    // The DM and the channel record go out side by side (one delivery lane per recipient).
    const dmCalls = calls.filter((c) => c.path !== `/channels/${CHANNELS.payments}/messages`);
    expect(dmCalls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /users/@me/channels', `POST /channels/${w.fake.dmChannelOf(USERS.dave.id)}/messages`]);
    expect(calls.map((c) => `${c.method} ${c.path}`).filter((c) => c.includes(CHANNELS.payments))).toEqual([`POST /channels/${CHANNELS.payments}/messages`]);
    expect(calls).toHaveLength(3);
    expect(dmCalls[0]?.body).toEqual({ recipient_id: USERS.dave.id });

    const page = body(dmCalls[1]);
    expect(page.content).toBe(`<@${USERS.dave.id}> New incident #1 [sev2] checkout down`);
    expect(page.allowed_mentions).toEqual({ parse: [], users: [USERS.dave.id] });
    expect(page.embeds).toHaveLength(1);
    expect(page.embeds[0]).toMatchObject({
      title: '#1 [sev2] checkout down',
      color: 0xe67e22,
      footer: { text: 'Payments' },
      timestamp: '2026-03-03T10:00:00.000Z',
      fields: [
        { name: 'Service', value: 'checkout', inline: true },
        { name: 'Reporter', value: 'zed', inline: true },
        { name: 'Assignee', value: 'Dave', inline: true },
        { name: 'State', value: 'open', inline: true },
        { name: 'Opened', value: `<t:${Date.parse('2026-03-03T10:00:00Z') / 1000}:R>`, inline: true },
      ],
    });
    expect(page.components).toEqual([{ type: 1, components: [
      { type: 2, style: 1, label: 'Acknowledge', custom_id: 'onehand:ack:1' },
      { type: 2, style: 3, label: 'Resolve', custom_id: 'onehand:resolve:1' },
      { type: 2, style: 2, label: 'Escalate', custom_id: 'onehand:escalate:1' },
    ] }]);

    const record = body(calls.find((c) => c.path === `/channels/${CHANNELS.payments}/messages`));
    expect(record.content).toBe('New incident #1 [sev2] checkout down');
    expect(record.allowed_mentions).toEqual({ parse: [] });
    expect(record.components).toEqual([]);
    expect(record.embeds[0]?.title).toBe('#1 [sev2] checkout down');
  });

  it('text from a reporter pings nobody and cannot fake a mention or markdown, in content and embed', async () => {
    const nasty = `@everyone @here <@&123> <@456> <@!789> <#880000000000000001> **bold** [x](http://evil)`;
    const reply = await command(w, USERS.zed, CHANNELS.payments, reportData(nasty, { service: '@here' }));
    await w.flush();
    const messages = w.fake.callsTo('POST', /^\/channels\/\d+\/messages$/).map(body);
    const replyBody = reply.data as unknown as ReturnType<typeof body>;
    for (const m of [...messages, replyBody]) {
      const texts = [m.content, ...m.embeds.flatMap((e) => [e.title, e.description ?? '', ...e.fields.map((f) => f.value)])];
      for (const text of texts) {
        expect(text).not.toMatch(/@(everyone|here)/);
        // The only live mention anywhere is the one the core chose: the on-call in their page.
        expect(text.replace(`<@${USERS.dave.id}>`, '')).not.toMatch(/<[@#]/);
        expect(text).not.toContain('**bold**');
      }
      expect(m.allowed_mentions.parse).toEqual([]);
      expect(m.allowed_mentions.users ?? []).not.toEqual(expect.arrayContaining(['456', '789']));
    }
    const page = messages.find((m) => m.content.startsWith(`<@${USERS.dave.id}>`));
    const record = messages.find((m) => m !== page);
    expect(messages).toHaveLength(2);
    expect(page?.content).toContain('@\u200beveryone @\u200bhere <\u200b@&123> <\u200b@456> <\u200b@!789> <\u200b#880000000000000001> \\*\\*bold\\*\\*');
    expect(page?.allowed_mentions).toEqual({ parse: [], users: [USERS.dave.id] });
    expect(page?.embeds[0]?.title).toContain('\\*\\*bold\\*\\*');
    expect(page?.embeds[0]?.fields[0]).toEqual({ name: 'Service', value: '@\u200bhere', inline: true });
    expect(record?.allowed_mentions).toEqual({ parse: [] });
  });

  it('a 5xx that discord.js gives up on is thrown, and the outbox delivers the page on the retry', async () => {
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    w.fake.fail('POST', new RegExp(`^/channels/${dm}/messages$`), 503, { message: 'upstream unavailable', code: 0 }, 1);
    await command(w, USERS.zed, CHANNELS.payments, reportData('flaky platform'));
    await w.flush();
    expect(w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))).toHaveLength(1);
    expect((await w.h.app.health()).outboxDepth).toBe(1);
    await w.h.advance('5s');
    const posts = w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`));
    expect(posts).toHaveLength(2);
    expect(body(posts[1]).content).toContain('New incident #1');
    expect((await w.h.app.health()).outboxDepth).toBe(0);
    // The channel record went out once, on the first drain.
    expect(w.fake.callsTo('POST', new RegExp(`^/channels/${CHANNELS.payments}/messages$`))).toHaveLength(1);
  });

  it('a 429 is waited out by discord.js (retry-after) and the page goes through in the same attempt', async () => {
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    w.fake.fail('POST', new RegExp(`^/channels/${dm}/messages$`), 429, { message: 'You are being rate limited.', retry_after: 0.05, global: false }, 1,
      { 'retry-after': '0.05', 'x-ratelimit-scope': 'user', 'x-ratelimit-bucket': 'fake', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.05' });
    await command(w, USERS.zed, CHANNELS.payments, reportData('rate limited'));
    await w.flush();
    expect(w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))).toHaveLength(2);
    expect((await w.h.app.health()).outboxDepth).toBe(0);
  });

  it('DMs closed (50007): undeliverable, so the team channel gets a fallback mentioning only the on-call', async () => {
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    w.fake.fail('POST', new RegExp(`^/channels/${dm}/messages$`), 403, { message: 'Cannot send messages to this user', code: 50007 }, 1);
    await command(w, USERS.zed, CHANNELS.payments, reportData('dms closed'));
    await w.flush();
    await w.flush();
    const channelPosts = w.fake.callsTo('POST', new RegExp(`^/channels/${CHANNELS.payments}/messages$`)).map(body);
    expect(channelPosts).toHaveLength(2);
    const fallback = channelPosts.find((m) => m.content.includes('could not reach you directly'));
    expect(fallback?.content).toBe(`<@${USERS.dave.id}> (could not reach you directly) New incident #1 [sev3] dms closed`);
    expect(fallback?.allowed_mentions).toEqual({ parse: [], users: [USERS.dave.id] });
    expect(fallback?.components).toEqual([]);
    const show = await w.h.run('carol', 'incident show 1');
    expect(show).toContain('could not reach Dave directly (Discord error 50007: Cannot send messages to this user); the page goes to the team channel');
  });

  it('classifies Discord errors: 50007 undeliverable, anything else thrown', async () => {
    const adapter = w.adapter();
    w.fake.fail('POST', /^\/users\/@me\/channels$/, 400, { message: 'Unknown User', code: 10013 }, 1);
    const outcome = await adapter.deliver({ key: 'k1', recipient: { kind: 'guest', adapter: 'discord', address: '123456789012345678', name: 'x' }, message: { kind: 'notice', headline: ['hi'], lines: [], actions: [], mentions: [] }, incidentId: null });
    expect(outcome).toEqual({ status: 'undeliverable', reason: 'Discord error 10013: Unknown User' });
    w.fake.fail('POST', /^\/channels\/\d+\/messages$/, 500, { message: 'boom', code: 0 }, 1);
    await expect(adapter.deliver({ key: 'k2', recipient: { kind: 'channel', team: 'payments' }, message: { kind: 'notice', headline: ['hi'], lines: [], actions: [], mentions: [] }, incidentId: null })).rejects.toThrow(/Discord delivery failed/);
  });

  it('versions of one message (same updateKey, e.g. a storm summary) edit the first post instead of posting again', async () => {
    const mark = w.mark();
    const version = (n: number) => ({ kind: 'notice' as const, headline: [`Storm: ${n} incidents`], lines: [], actions: [], mentions: [], updateKey: 'storm:1' });
    // Through the outbox, as the app sends them: the first post's id is kept with its mark.
    for (const [key, n] of [['s1', 11], ['s2', 30]] as const) {
      await w.h.app.store.transaction((tx) => tx.enqueue([{ key, adapter: 'discord', recipient: { kind: 'member', id: 'dave' }, message: version(n), incidentId: null, notBefore: w.h.clock.now() }]));
      await w.flush();
    }
    const calls = w.since(mark).filter((c) => /\/messages/.test(c.path));
    expect(calls.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    expect(JSON.stringify(calls[1]?.body)).toContain('Storm: 30 incidents');
    // Kept in the adapter's namespace, where it reads it.
    expect(await w.h.app.store.transaction((tx) => tx.kvPeek('adapter:discord', 'upd:storm:1:m:dave'))).toMatchObject({ messageId: expect.any(String) });
  });
});
