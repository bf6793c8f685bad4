import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { discordPlatform } from '../../adapters/discord';
import { registerInteractionsEndpoint } from '../../adapters/discord/interactions-http';
import { parseConfig } from '../../src/config';
import { HttpServer } from '../../src/http/server';
import { SimulatedClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { DateTime } from 'luxon';
import { CHANNELS, DISCORD_CONFIG, startDiscordWorld, USERS, type DiscordWorld } from './setup';
import { body, command, incidentData, reportData } from './helpers';

/** messageIdOf: the id Discord gave the message posted by `call`. */
function messageIdOf(call: { response?: unknown } | undefined): string {
  return String((call?.response as { id?: string } | undefined)?.id);
}

describe('Discord interactions: buttons, refusals, autocomplete', () => {
  let w: DiscordWorld;
  afterEach(() => w.stop());

  async function reported(): Promise<{ pageId: string; recordId: string; dm: string }> {
    await command(w, USERS.zed, CHANNELS.payments, reportData('checkout down', { severity: 'sev2' }));
    await w.flush();
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    const page = w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))[0];
    const record = w.fake.callsTo('POST', new RegExp(`^/channels/${CHANNELS.payments}/messages$`))[0];
    return { pageId: messageIdOf(page), recordId: messageIdOf(record), dm };
  }

  it('Acknowledge on the page updates the card in place (type 7) and edits the channel record instead of posting', async () => {
    w = await startDiscordWorld();
    const { pageId, recordId, dm } = await reported();
    const mark = w.mark();
    const { id } = w.fake.press(USERS.dave, dm, pageId, 'onehand:ack:1');
    const callback = await w.fake.callbackFor(id);
    expect(callback.type).toBe(7);
    const card = callback.data as unknown as ReturnType<typeof body>;
    expect(card.content).toBe('You acknowledged #1 [sev2] checkout down. Escalation stopped; it is yours.');
    expect(card.embeds[0]?.fields.find((f) => f.name === 'State')?.value).toBe('acknowledged');
    expect(card.components).toEqual([{ type: 1, components: [
      { type: 2, style: 3, label: 'Resolve', custom_id: 'onehand:resolve:1' },
      { type: 2, style: 2, label: 'Escalate', custom_id: 'onehand:escalate:1' },
    ] }]);
    expect(card.allowed_mentions).toEqual({ parse: [] });

    await w.flush();
    const after = w.since(mark).filter((c) => !c.path.startsWith('/interactions/'));
    const toChannel = after.filter((c) => c.path.startsWith(`/channels/${CHANNELS.payments}/`));
    expect(toChannel.map((c) => `${c.method} ${c.path}`)).toEqual([`PATCH /channels/${CHANNELS.payments}/messages/${recordId}`]);
    const edited = body(toChannel[0]);
    expect(edited.content).toBe('#1 [sev2] checkout down acknowledged by Dave');
    expect(edited.embeds[0]?.fields.find((f) => f.name === 'State')?.value).toBe('acknowledged');
    expect(edited.components).toEqual([]);
    expect(edited.allowed_mentions).toEqual({ parse: [] });
    // The reporter (a guest) hears it by DM; nobody else is told.
    const dms = after.filter((c) => c.path === '/users/@me/channels').map((c) => (c.body as { recipient_id: string }).recipient_id);
    expect(dms).toEqual([USERS.zed.id]);
  });

  it('a member who may not act gets an ephemeral refusal and the card is not touched', async () => {
    w = await startDiscordWorld();
    const { pageId, dm } = await reported();
    const { id } = w.fake.press(USERS.bob, dm, pageId, 'onehand:resolve:1');
    const callback = await w.fake.callbackFor(id);
    expect(callback.type).toBe(4);
    expect(callback.data?.flags).toBe(64);
    expect(String(callback.data?.content)).toMatch(/^Only the assignee/);
    expect(callback.data?.allowed_mentions).toEqual({ parse: [] });
    expect(await w.h.run('carol', 'incident show 1')).toContain('State: open');
  });

  it('an unlinked Discord user is told, ephemerally, how an admin links them', async () => {
    w = await startDiscordWorld();
    await reported();
    const callback = await command(w, USERS.zed, CHANNELS.payments, incidentData('ack', 1));
    expect(callback.type).toBe(4);
    expect(callback.data?.flags).toBe(64);
    expect(String(callback.data?.content)).toContain(`Your Discord account is not linked to an Onehand member. An admin links you by adding discord: "${USERS.zed.id}" to your member entry in the Onehand config.`);
    // A command anyone may run is not refused: /help, ephemeral.
    const help = await command(w, USERS.zed, CHANNELS.elsewhere, { name: 'help' });
    expect(help.data?.flags).toBe(64);
    expect(String(help.data?.content)).toContain('incident report');
    expect(String(help.data?.content)).not.toContain('not linked');
  });

  it('answers incident id autocomplete with open incidents matching what was typed', async () => {
    w = await startDiscordWorld();
    await command(w, USERS.zed, CHANNELS.payments, reportData('checkout down'));
    await command(w, USERS.zed, CHANNELS.payments, reportData('search slow'));
    const { id } = w.fake.autocomplete(USERS.dave, CHANNELS.payments, { name: 'incident', options: [{ name: 'ack', type: 1, options: [{ name: 'id', type: 4, value: 'chec', focused: true }] }] });
    const callback = await w.fake.callbackFor(id);
    expect(callback).toEqual({ type: 8, data: { choices: [{ name: '#1 [sev3] checkout down (open)', value: 1 }] } });
  });

  it('defers a slow command and then posts the visible answer', async () => {
    w = await startDiscordWorld({ deferAfterMs: 0 });
    const { id, token } = w.fake.slash(USERS.zed, CHANNELS.payments, reportData('slow path'));
    const callback = await w.fake.callbackFor(id);
    expect(callback).toEqual({ type: 5, data: { flags: 64 } });
    const followUp = await w.fake.waitFor('POST', new RegExp(`^/webhooks/\\d+/${token}$`));
    expect(body(followUp).content).toContain('Reported #1 [sev3] slow path');
    expect(body(followUp).flags).toBeUndefined();
    expect(w.fake.callsTo('DELETE', new RegExp(`^/webhooks/\\d+/${token}/messages/@original$`))).toHaveLength(1);
  });
});

describe('Discord HTTP interactions endpoint (Ed25519)', () => {
  let w: DiscordWorld;
  let http: HttpServer;
  afterEach(async () => {
    await http.close();
    await w.stop();
  });

  it('answers a signed PING with type 1, refuses tampered or unsigned requests with 401, and runs commands', async () => {
    w = await startDiscordWorld();
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    http = new HttpServer(new MemoryLogger());
    registerInteractionsEndpoint(http, hex, w.adapter(), new MemoryLogger());
    const port = await http.listen(0, '127.0.0.1');
    const post = (payload: string, headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/discord/interactions`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', ...headers } });
    const sign = (timestamp: string, payload: string) => crypto.sign(null, Buffer.from(timestamp + payload), privateKey).toString('hex');

    const ping = JSON.stringify({ id: '1', type: 1, token: 't', application_id: '1' });
    const ts = String(Math.floor(Date.now() / 1000));
    const ok = await post(ping, { 'x-signature-ed25519': sign(ts, ping), 'x-signature-timestamp': ts });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ type: 1 });

    const tampered = await post(ping.replace('"t"', '"u"'), { 'x-signature-ed25519': sign(ts, ping), 'x-signature-timestamp': ts });
    expect(tampered.status).toBe(401);
    expect((await post(ping, { 'x-signature-ed25519': sign(ts, ping), 'x-signature-timestamp': String(Number(ts) + 1) })).status).toBe(401);
    expect((await post(ping, {})).status).toBe(401);

    const help = JSON.stringify({ id: '2', type: 2, token: 'h', application_id: '1', channel_id: CHANNELS.payments, member: { user: { id: USERS.dave.id, username: 'dave' } }, data: { name: 'help' } });
    const res = await post(help, { 'x-signature-ed25519': sign(ts, help), 'x-signature-timestamp': ts });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { type: number; data: { flags: number; content: string } };
    expect(answer.type).toBe(4);
    expect(answer.data.flags).toBe(64);
    expect(answer.data.content).toContain('Onehand commands:');
  });
});

describe('discordPlatform (the factory `onehand start` calls)', () => {
  const base = () => {
    const parsed = parseConfig(DISCORD_CONFIG);
    if (!parsed.ok) throw new Error('bad config');
    return parsed.config;
  };
  const input = (env: NodeJS.ProcessEnv, logger = new MemoryLogger()) => ({
    config: base(), env, logger, clock: new SimulatedClock(DateTime.fromISO('2026-03-03T10:00:00Z')), http: new HttpServer(logger),
  });

  it('stays off without a token', () => {
    expect(discordPlatform(input({}))).toBeNull();
  });

  it('with a token but no application or guild id: logs which key is missing and how to fix it, never the token', () => {
    const logger = new MemoryLogger();
    expect(discordPlatform(input({ DISCORD_TOKEN: 'secret-token-value', DISCORD_GUILD_ID: '1' }, logger))).toBeNull();
    const entry = logger.entries.find((e) => e.level === 'error');
    expect(entry?.msg).toContain('discord is not started');
    expect(entry?.fields.missing).toEqual(['discord.application_id (or env DISCORD_APPLICATION_ID)']);
    expect(JSON.stringify(logger.entries)).not.toContain('secret-token-value');
  });

  it('reads the token from discord.token_file when set, and names the file when it cannot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-discord-'));
    const withFile = (file: string) => {
      const parsed = parseConfig(`${DISCORD_CONFIG}\ndiscord: { application_id: "1", guild_id: "2", token_file: ${file} }\n`);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
      return parsed.config;
    };
    fs.writeFileSync(path.join(dir, 'token'), 'file-token-value\n');
    const logger = new MemoryLogger();
    expect(discordPlatform({ ...input({}, logger), config: withFile(path.join(dir, 'token')) })?.name).toBe('discord');
    expect(discordPlatform({ ...input({}, logger), config: withFile(path.join(dir, 'nope')) })).toBeNull();
    expect(logger.entries.find((e) => e.level === 'error')?.fields).toMatchObject({ file: path.join(dir, 'nope'), error: 'ENOENT' });
    expect(JSON.stringify(logger.entries)).not.toContain('file-token-value');
  });

  it('builds the adapter from env, and the interactions endpoint when a public key is set', () => {
    const logger = new MemoryLogger();
    const i = input({ DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '1', DISCORD_GUILD_ID: '2', DISCORD_PUBLIC_KEY: 'ab'.repeat(32) }, logger);
    const adapter = discordPlatform(i);
    expect(adapter?.name).toBe('discord');
    expect(i.http.hasRoutes).toBe(true);
    expect(JSON.stringify(logger.entries)).not.toContain('"x"');
  });
});
