/**
 * The last mile on Discord, with the real discord.js against the loopback fake: a 401 never
 * silently stops the pages, the gateway's fate is logged and shown in /healthz, repeats are
 * dropped by nonce, and a start that cannot work fails within seconds with one clear line.
 */
import { nonceOf } from '../../adapters/discord/adapter';
import { runCli, tempDir, writeFile } from '../cli/run-cli';
import { APP_ID, FakeDiscord, GUILD_ID } from './fake-discord';
import { body, command, reportData } from './helpers';
import { CHANNELS, DISCORD_CONFIG, startDiscordWorld, USERS, type DiscordWorld } from './setup';

const UNAUTHORIZED = { message: '401: Unauthorized', code: 0 };

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Discord: auth, gateway and repeats', () => {
  let w: DiscordWorld;
  beforeEach(async () => {
    w = await startDiscordWorld();
  });
  afterEach(() => w.stop());

  const dmPosts = () => w.fake.callsTo('POST', new RegExp(`^/channels/${w.fake.dmChannelOf(USERS.dave.id)}/messages$`));

  it('one 401 on a page: the token is applied again, the page and every later page go out', async () => {
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    w.fake.fail('POST', new RegExp(`^/channels/${dm}/messages$`), 401, UNAUTHORIZED, 1);
    await command(w, USERS.zed, CHANNELS.payments, reportData('first after the 401'));
    await w.flush();
    await command(w, USERS.zed, CHANNELS.payments, reportData('second after the 401'));
    await w.flush();
    const delivered = dmPosts().filter((c) => c.response && (c.response as { id?: string }).id).map((c) => body(c).content);
    expect(delivered).toEqual([expect.stringContaining('first after the 401'), expect.stringContaining('second after the 401')]);
    expect(dmPosts().every((c) => c.auth === 'Bot fake-bot-token')).toBe(true);
    const health = await w.h.app.health();
    expect(health.adapters).toEqual({ discord: 'ok' });
    expect(health.outboxDepth).toBe(0);
  });

  it('a token Discord keeps refusing: logged, /healthz fails with the fix, the timeline says so; it heals when Discord accepts it again', async () => {
    w.fake.fail('POST', /^\/channels\/\d+\/messages$/, 401, UNAUTHORIZED, 100);
    await command(w, USERS.zed, CHANNELS.payments, reportData('token revoked'));
    await w.flush();
    await w.flush();
    const health = await w.h.app.health();
    expect(health.ok).toBe(false);
    expect(health.adapters.discord).toMatch(/^failing: Discord refuses the bot token \(HTTP 401\): set a valid token/);
    expect(w.h.logger.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toContain('discord authentication failed; pages go to other platforms and team channels');
    // The page went down the ladder (the team channel on Discord refuses too): recorded, never silent.
    const show = await w.h.run('carol', 'incident show 1');
    expect(show).toMatch(/could not reach Dave/);
    // Discord accepts the token again: the next page goes out and health recovers.
    w.fake.clearFailures();
    await command(w, USERS.zed, CHANNELS.payments, reportData('token fixed'));
    // Dave's pages keep their order: the new one waits behind the refused one, retried 5 s on.
    await w.h.advance('5s');
    await w.flush();
    const sent = dmPosts().filter((c) => (c.status ?? 200) < 300).map((c) => String(body(c).content));
    expect(sent.some((t) => t.includes('token fixed'))).toBe(true);
    // The page refused meanwhile was kept and retried, not given up: it goes out too, once. (Its
    // stand-in in the team channel was refused too, so it reached nobody and the chain moved on at
    // once: the reminder went out with it.)
    expect(sent.filter((t) => t.includes('New incident #1 [sev3] token revoked'))).toHaveLength(1);
    expect((await w.h.app.health()).adapters).toEqual({ discord: 'ok' });
  });

  it('a Discord outage: the page reaches nobody and /healthz says so; when Discord answers again the page goes out, the timeline says it went out late and /healthz counts it no more', async () => {
    const outage = { message: '503: Service Unavailable', code: 0 };
    w.fake.fail('POST', /^\/channels\/\d+\/messages$/, 503, outage, 1000);
    await command(w, USERS.zed, CHANNELS.payments, reportData('checkout down in the outage'));
    // Three tries of the page (5 s, then 10 s apart), then the team channel's three.
    for (let i = 0; i < 8; i++) {
      await w.flush();
      await w.h.advance('10s');
    }
    await w.flush();
    const during = await w.h.app.health();
    expect(during.pages).toMatch(/^failing: \d+ pages? reached nobody in the last hour; last: #1 \(dave\): the team channel did not take the page either/);
    expect(await w.h.run('carol', 'incident show 1')).toContain('the page to Dave reached nobody');
    w.fake.clearFailures();
    await w.h.advance('5m'); // the retries' backoff
    await w.flush();
    await w.flush();
    const sent = dmPosts().filter((c) => (c.status ?? 200) < 300).map((c) => String(body(c).content));
    expect(sent.filter((t) => t.includes('New incident #1 [sev3] checkout down in the outage'))).toHaveLength(1);
    const show = await w.h.run('carol', 'incident show 1');
    expect(show).toMatch(/the page to Dave went out late on discord, \d+m(\d+s)? after 2 pages reached nobody/);
    expect(show.match(/went out late/g)).toHaveLength(1); // the channel post standing in for it went out too: one line for Dave
    const after = await w.h.app.health();
    expect(after.pages).toBe('ok; 2 pages reached nobody for a while in the last hour, then a late page reached the person');
    expect(w.h.logger.entries.some((e) => e.level === 'info' && e.msg === 'page went out late, after reaching nobody')).toBe(true);
    // The same from the store after a restart (another replica, or after kill -9).
    await w.h.restart();
    expect((await w.h.app.health()).pages).toBe(after.pages);
  });

  it('every new message carries a nonce from its delivery key with enforce_nonce, so Discord drops a repeat', async () => {
    await command(w, USERS.zed, CHANNELS.payments, reportData('nonce'));
    await w.flush();
    const [page] = dmPosts();
    const sent = page?.body as { nonce?: string; enforce_nonce?: boolean };
    expect(sent.enforce_nonce).toBe(true);
    expect(sent.nonce).toMatch(/^[A-Za-z0-9_-]{25}$/);
    // The same delivery again (as after a crash before it was marked sent): the same message comes back.
    const adapter = w.adapter();
    const msg = { kind: 'notice' as const, headline: ['hello'], lines: [], actions: [], mentions: [] };
    await adapter.deliver({ key: 'repeat-me@discord', recipient: { kind: 'member', id: 'dave' }, message: msg, incidentId: null });
    await adapter.deliver({ key: 'repeat-me@discord', recipient: { kind: 'member', id: 'dave' }, message: msg, incidentId: null });
    const repeats = dmPosts().filter((c) => (c.body as { nonce?: string }).nonce === nonceOf('repeat-me@discord'));
    expect(repeats).toHaveLength(2);
    expect((repeats[0]?.response as { id: string }).id).toBe((repeats[1]?.response as { id: string }).id);
  });

  it('a dropped gateway connection is logged, resumed and logged again', async () => {
    w.fake.closeGateway(4000);
    await until('the resume to be logged', () => w.h.logger.entries.some((e) => e.msg === 'discord gateway resumed'));
    const msgs = w.h.logger.entries.map((e) => e.msg);
    expect(msgs).toContain('discord gateway closed; discord.js reconnects');
    expect(w.h.logger.entries.find((e) => e.msg === 'discord gateway closed; discord.js reconnects')?.fields.code).toBe(4000);
    expect(msgs).toContain('discord gateway reconnecting');
    expect((await w.h.app.health()).adapters).toEqual({ discord: 'ok' });
  });

  it('an outage discord.js keeps retrying is logged once, not at every try, and its end says how many tries it took', async () => {
    const from = w.h.logger.entries.length;
    const since = () => w.h.logger.entries.slice(from);
    w.fake.dropGateway(6);
    w.fake.closeGateway(4000);
    await until('the gateway to be back', () => since().some((e) => e.msg === 'discord gateway resumed' || e.msg === 'discord gateway ready'), 20_000);
    const warned = since().filter((e) => e.level === 'warn').map((e) => e.msg);
    expect(warned.filter((m) => m === 'discord gateway closed; discord.js reconnects')).toHaveLength(1);
    expect(warned.filter((m) => m === 'discord gateway reconnecting')).toHaveLength(1);
    const back = since().find((e) => e.msg === 'discord gateway resumed' || e.msg === 'discord gateway ready');
    expect(back?.fields.tries).toBeGreaterThanOrEqual(6);
    expect((await w.h.app.health()).adapters).toEqual({ discord: 'ok' });
  }, 30_000);

  it('a fatal gateway close (4004) is one clear error and a failing /healthz; pages still go out by REST', async () => {
    w.fake.closeGateway(4004);
    await until('the fatal close to be logged', () => w.h.logger.entries.some((e) => e.level === 'error'));
    const errors = w.h.logger.entries.filter((e) => e.level === 'error');
    expect(errors.map((e) => e.msg)).toEqual(['discord gateway closed for good; commands no longer arrive']);
    expect(errors[0]?.fields).toMatchObject({ code: 4004, fix: expect.stringContaining('the bot token is wrong or was reset') });
    const health = await w.h.app.health();
    expect(health.ok).toBe(false);
    expect(health.adapters.discord).toMatch(/^failing: the Discord gateway closed with 4004 and will not reconnect: authentication failed/);
    await w.h.run('zed', 'incident report sev2 reported elsewhere');
    expect(dmPosts().map((c) => body(c).content).at(-1)).toContain('reported elsewhere');
  });
});

describe('Discord that cannot be reached at start', () => {
  let w: DiscordWorld | null = null;
  afterEach(() => w?.stop());

  it('Onehand runs on without it: /healthz says so, pages go out by REST, and the gateway connects once Discord answers', async () => {
    w = await startDiscordWorld({
      reconnectMs: 200,
      // Discord's gateway endpoint answers 502 for the start and the first tries after it.
      beforeStart: (fake) => fake.fail('GET', /^\/gateway\/bot$/, 502, { message: '502: Bad Gateway', code: 0 }, 3),
    });
    const world = w;
    const errors = world.h.logger.entries.filter((e) => e.level === 'error');
    expect(errors.map((e) => e.msg)).toEqual(['discord gateway not reachable at start; Onehand runs on without Discord commands and tries again']);
    expect(errors[0]?.fields.fix).toMatch(/reaches discord\.com/);
    // Not "adapter started" after that error, as if all were well.
    expect(world.h.logger.entries.filter((e) => e.msg.startsWith('adapter started')).map((e) => [e.level, e.msg, e.fields.adapter])).toEqual([
      ['warn', 'adapter started without its platform; it keeps trying (see /healthz)', 'discord'],
    ]);
    expect(world.fake.callsTo('PUT', /commands$/)).toHaveLength(0);
    // Shown, not a failed probe: a readiness probe must not take the webhooks out during a Discord outage.
    const health = await world.h.app.health();
    expect(health.ok).toBe(true);
    expect(health.adapters.discord).toMatch(/^degraded: the Discord gateway could not be reached (at|since) start \(HTTP 502.*\); trying again; pages go by REST$/);

    // The rest of Onehand works: a report pages Dave, by REST, while the gateway is down.
    await world.h.run('zed', 'incident report sev2 checkout down while discord is away');
    await world.flush();
    const dm = world.fake.dmChannelOf(USERS.dave.id);
    expect(world.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`)).map((c) => body(c).content).at(-1)).toContain('checkout down while discord is away');

    await until('the gateway to connect', () => world.h.logger.entries.some((e) => e.msg === 'discord gateway reached after a start without it; commands arrive again'), 10_000);
    expect(world.h.logger.entries.filter((e) => e.msg === 'discord gateway still not reachable; trying again').length).toBeGreaterThanOrEqual(1);
    expect((await world.h.app.health()).adapters).toEqual({ discord: 'ok' });
    expect(world.fake.callsTo('PUT', /commands$/)).toHaveLength(1);
    const { id } = world.fake.slash(USERS.zed, CHANNELS.payments, reportData('after the gateway came back'));
    expect((await world.fake.callbackFor(id)).type).toBe(4);
  }, 20_000);

  it('Discord answers at last, and refuses the token: one error with the fix, /healthz failing, no more tries', async () => {
    w = await startDiscordWorld({
      reconnectMs: 100,
      beforeStart: (fake) => {
        fake.fail('GET', /^\/gateway\/bot$/, 502, { message: '502: Bad Gateway', code: 0 }, 1);
        fake.fail('GET', /^\/gateway\/bot$/, 401, UNAUTHORIZED, 1);
      },
    });
    const world = w;
    await until('the refusal', () => world.h.logger.entries.some((e) => e.msg === 'discord refuses the bot; no more tries until a restart'), 5000);
    const health = await world.h.app.health();
    expect(health.ok).toBe(false);
    expect(health.adapters.discord).toMatch(/^failing: Discord refuses the bot: Discord refuses the bot token \(HTTP 401\); set a valid token/);
    await new Promise((r) => setTimeout(r, 500));
    expect(world.fake.callsTo('GET', /^\/gateway\/bot$/)).toHaveLength(2);
  });

  it('a stop while it waits to try again ends the tries: no gateway session opens afterwards', async () => {
    w = await startDiscordWorld({ reconnectMs: 300, beforeStart: (fake) => fake.fail('GET', /^\/gateway\/bot$/, 502, { message: '502: Bad Gateway', code: 0 }, 1) });
    const fake = w.fake;
    await w.h.stop();
    await new Promise((r) => setTimeout(r, 600));
    expect(fake.gatewaySessions).toBe(0);
    expect(fake.callsTo('GET', /^\/gateway\/bot$/)).toHaveLength(1);
    await fake.close();
    w = null;
  });
});

describe('onehand start with a token Discord refuses', () => {
  let fake: FakeDiscord;
  afterEach(() => fake.close());

  it('exits with code 1 and one clear line within seconds, not after the ready timeout', async () => {
    fake = await FakeDiscord.start(Object.values(CHANNELS));
    fake.fail('GET', /^\/gateway\/bot$/, 401, UNAUTHORIZED, 10);
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', DISCORD_CONFIG);
    const result = await runCli(['start', '--config', config], '', {
      DISCORD_TOKEN: 'revoked-token', DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID, DISCORD_API_BASE: fake.apiBase,
      ONEHAND_DATA: `${dir}/onehand.db`, ONEHAND_HTTP_PORT: '0',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Discord did not start/);
    expect(result.stderr).not.toMatch(/unhandled rejection/);
    expect(result.stderr).not.toContain('revoked-token');
  }, 20_000);
});
