/**
 * Discord's size limits: every body Onehand sends fits (the fake answers 400/50035 like Discord
 * when one does not), long text is cut with a pointer to `/incident show ID`, and a cut never
 * breaks a mention, a code span or an escape. A 50035 that still happens is undeliverable.
 */
import { cutPointer, DISCORD_LIMITS, fitBody, fitText, safeCut } from '../../adapters/discord/limits';
import { limitErrors } from './fake-discord';
import { CHANNELS, startDiscordWorld, USERS, type DiscordWorld } from './setup';
import { body, command, incidentData, reportData } from './helpers';

describe('Discord limits (pure)', () => {
  it('never cuts inside a mention, a timestamp or a code span, nor leaves a lone trailing backslash', () => {
    const mention = `${'a'.repeat(10)}<@111000000000000004> rest`;
    for (let max = 11; max < 31; max += 1) {
      const at = safeCut(mention, max);
      expect(at === 10 || at >= 31).toBe(true);
    }
    expect(safeCut('abc `code span` tail', 8)).toBe(4);
    expect(safeCut('abc <t:1700000000:R> tail', 10)).toBe(4);
    expect(safeCut('ab\\*cd', 3)).toBe(2); // "ab\" would escape what follows
    expect(safeCut('ab\\\\cd', 4)).toBe(4); // "ab\\" is an escaped backslash: fine
    expect(safeCut('ab😀cd', 3)).toBe(2); // not half an emoji
    // An escaped backtick (user text) opens no code span: the cut stays where it was asked.
    expect(safeCut(`a \\\`b ${'c'.repeat(100)}`, 90)).toBe(90);
    expect(safeCut(`a \`b ${'c'.repeat(100)}`, 90)).toBe(2);
  });

  it('fitText keeps whole lines while they fit, else cuts the line safely, and always ends with the pointer', () => {
    const pointer = cutPointer(7);
    expect(pointer).toBe('… (cut; type `/incident show 7` for the rest)');
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
    const cut = fitText(lines, 2000, pointer);
    expect(cut.length).toBeLessThanOrEqual(2000);
    expect(cut.endsWith(`\n${pointer}`)).toBe(true);
    expect(cut.split('\n').slice(0, -1).every((l) => /^line \d+ x{40}$/.test(l))).toBe(true);
    const one = fitText(`<@111000000000000004> ${'y'.repeat(3000)}`, 2000, pointer);
    expect(one.length).toBeLessThanOrEqual(2000);
    expect(one.startsWith('<@111000000000000004> yyy')).toBe(true);
    expect(one.endsWith(pointer)).toBe(true);
  });

  it('fitBody makes a body over every limit pass the checks Discord makes, and pings only mentions that survived', () => {
    const field = (i: number) => ({ name: `n${i}`.repeat(200), value: 'v'.repeat(3000), inline: true });
    const huge = {
      content: `${'z'.repeat(2100)} <@111000000000000004>`,
      embeds: Array.from({ length: 12 }, () => ({
        title: 't'.repeat(400), color: 1, description: 'd\n'.repeat(5000), fields: Array.from({ length: 30 }, (_, i) => field(i)), footer: { text: 'f'.repeat(3000) }, timestamp: '2026-03-03T10:00:00.000Z',
      })),
      components: Array.from({ length: 7 }, () => ({ type: 1 as const, components: Array.from({ length: 7 }, (_, i) => ({ type: 2 as const, style: 1 as const, label: 'L'.repeat(100), custom_id: `onehand:ack:${i}` })) })),
      allowed_mentions: { parse: [] as [], users: ['111000000000000004'] },
    };
    expect(limitErrors('POST', '/channels/1/messages', huge as unknown as Record<string, unknown>)).not.toBeNull();
    const fitted = fitBody(huge, 3);
    expect(limitErrors('POST', '/channels/1/messages', fitted as unknown as Record<string, unknown>)).toBeNull();
    expect(fitted.content.endsWith(cutPointer(3))).toBe(true);
    expect(fitted.allowed_mentions).toEqual({ parse: [] });
    expect(fitted.embeds.length).toBeGreaterThan(0);
    expect(fitted.components.length).toBeLessThanOrEqual(DISCORD_LIMITS.rows);
  });
});

describe('Discord limits through the real adapter and discord.js', () => {
  let w: DiscordWorld;
  beforeEach(async () => {
    w = await startDiscordWorld();
  });
  afterEach(() => w.stop());

  it('a huge incident (very long title, many long notes): the page, the channel record, edits and `incident show` all fit', async () => {
    const title = `checkout \`${'**down** <@456> [x](http://e) \\ '.repeat(200)}`;
    await command(w, USERS.zed, CHANNELS.payments, reportData(title, { severity: 'sev2', service: 's'.repeat(3000) }));
    await w.flush();
    for (let i = 0; i < 30; i += 1) await w.h.run('carol', `incident note 1 note ${i} ${'n'.repeat(1400)}`);
    await command(w, USERS.zed, CHANNELS.payments, incidentData('note', 1, { text: `from the reporter ${'r'.repeat(5000)}` }));
    await command(w, USERS.carol, CHANNELS.payments, incidentData('resolve', 1, { note: `fixed ${'f'.repeat(5000)}` }));
    await w.flush();
    const show = await command(w, USERS.carol, CHANNELS.payments, incidentData('show', 1));

    const refused = w.fake.calls.filter((c) => c.status === 400);
    expect(refused.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.response).slice(0, 300)}`)).toEqual([]);
    expect((await w.h.app.health()).outboxDepth).toBe(0);

    const dm = w.fake.dmChannelOf(USERS.dave.id);
    const page = body(w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))[0]);
    expect(page.content.length).toBeLessThanOrEqual(2000);
    expect(page.content.length).toBeGreaterThan(1900); // escaped backticks in the title do not pull the cut back
    expect(page.content.startsWith(`<@${USERS.dave.id}> New incident #1 [sev2] checkout`)).toBe(true);
    expect(page.content.endsWith(cutPointer(1))).toBe(true);
    expect(page.allowed_mentions).toEqual({ parse: [], users: [USERS.dave.id] });
    expect(page.embeds[0]?.title.length).toBeLessThanOrEqual(256);

    // The reporter's note and the resolution were edits of the page plus short new messages, all cut to fit.
    const dmCalls = w.fake.calls.filter((c) => c.path.startsWith(`/channels/${dm}/messages`));
    expect(dmCalls.map((c) => c.method)).toEqual(['POST', 'PATCH', 'POST', 'PATCH', 'POST']);
    const record = w.fake.calls.filter((c) => c.path.startsWith(`/channels/${CHANNELS.payments}/messages`));
    expect(record.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    for (const c of [...dmCalls, ...record]) expect(limitErrors(c.method, c.path, c.body as Record<string, unknown>)).toBeNull();
    expect(body(record[1]).embeds[0]?.description?.endsWith(cutPointer(1))).toBe(true);

    // `incident show` as an interaction reply: its headline alone is over the limit, so it is cut with the pointer.
    expect(show.type).toBe(4);
    const reply = show.data as unknown as ReturnType<typeof body>;
    expect(reply.content.length).toBeLessThanOrEqual(2000);
    expect(reply.content.startsWith('#1 [sev2] checkout')).toBe(true);
    expect(reply.content.endsWith(cutPointer(1))).toBe(true);
    expect(reply.allowed_mentions).toEqual({ parse: [] });
  });

  it('a 400/50035 that still happens is undeliverable (the fallback ladder runs), not retried', async () => {
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    w.fake.fail('POST', new RegExp(`^/channels/${dm}/messages$`), 400, { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } }, 1);
    await command(w, USERS.zed, CHANNELS.payments, reportData('too big somehow'));
    await w.flush();
    await w.flush();
    expect(w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))).toHaveLength(1);
    const channel = w.fake.callsTo('POST', new RegExp(`^/channels/${CHANNELS.payments}/messages$`)).map(body);
    expect(channel.some((m) => m.content.startsWith(`<@${USERS.dave.id}> (could not reach you directly)`))).toBe(true);
    expect(await w.h.run('carol', 'incident show 1')).toContain('Discord error 50035');
    expect((await w.h.app.health()).outboxDepth).toBe(0);
  });
});
