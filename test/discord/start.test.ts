import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DateTime } from 'luxon';
import { ShiftWatch } from '../../src/app/shift-watch';
import { startBot, type RunningBot } from '../../src/cli/start';
import { parseConfig } from '../../src/config';
import { SimulatedClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { APP_ID, FakeDiscord, GUILD_ID } from './fake-discord';
import { CHANNELS, DISCORD_CONFIG, USERS } from './setup';
import { reportData } from './helpers';

describe('onehand start with a Discord token', () => {
  let fake: FakeDiscord;
  let bot: RunningBot | null = null;
  afterEach(async () => {
    await bot?.stop();
    bot = null;
    await fake.close();
  });

  it('connects to the configured API base, registers the commands, runs no console, and reports health', async () => {
    fake = await FakeDiscord.start(Object.values(CHANNELS));
    const parsed = parseConfig(DISCORD_CONFIG);
    if (!parsed.ok) throw new Error('bad config');
    const logger = new MemoryLogger();
    const clock = new SimulatedClock(DateTime.fromISO('2026-03-03T10:00:00Z', { setZone: true }));
    const output: string[] = [];
    bot = await startBot({
      config: parsed.config,
      dataPath: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-discord-')), 'onehand.db'),
      clock, simulated: clock, json: true, logger, input: new PassThrough(), output: (l) => output.push(l),
      env: { DISCORD_TOKEN: 'secret-token-from-env', DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID, DISCORD_API_BASE: fake.apiBase },
    });
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /gateway/bot', `PUT /applications/${APP_ID}/guilds/${GUILD_ID}/commands`]);
    expect(fake.calls[0]?.auth).toBe('Bot secret-token-from-env');
    expect((await bot.app.health()).adapters).toEqual({ discord: 'ok' });
    expect(JSON.stringify(logger.entries)).not.toContain('secret-token-from-env');
    // Frank (the search lead) has no Discord id; search has a channel: his pages go there, and the log says so.
    expect(logger.entries.filter((e) => e.msg === 'member cannot be paged on any running platform').map((e) => [e.fields.member, e.fields.pages])).toEqual([
      ['frank', 'go to the team channel instead, where they ping nobody (the chain moves on at once)'],
    ]);

    const { id } = fake.slash(USERS.zed, CHANNELS.payments, reportData('via start'));
    expect((await fake.callbackFor(id)).type).toBe(4);
    await bot.app.scheduler.tick();
    expect(fake.callsTo('POST', /^\/users\/@me\/channels$/).map((c) => c.body)).toEqual([{ recipient_id: USERS.dave.id }]);
    expect(output).toEqual([]);
    // Standard input is no terminal here: nobody types, nothing to say about it.
    expect(logger.entries.some((e) => e.msg.startsWith('console input is off'))).toBe(false);
  });

  it('tells someone at a terminal that commands typed there are not read while a chat platform runs, and how to type them', async () => {
    fake = await FakeDiscord.start(Object.values(CHANNELS));
    const parsed = parseConfig(DISCORD_CONFIG);
    if (!parsed.ok) throw new Error('bad config');
    const logger = new MemoryLogger();
    const clock = new SimulatedClock(DateTime.fromISO('2026-03-03T10:00:00Z', { setZone: true }));
    const terminal = Object.assign(new PassThrough(), { isTTY: true });
    bot = await startBot({
      config: parsed.config,
      dataPath: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-discord-')), 'onehand.db'),
      clock, simulated: clock, json: true, logger, input: terminal, output: () => undefined,
      env: { DISCORD_TOKEN: 'secret-token-from-env', DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID, DISCORD_API_BASE: fake.apiBase },
    });
    expect(logger.entries.filter((e) => e.msg.startsWith('console input is off')).map((e) => [e.msg, e.fields.adapters])).toEqual([
      ['console input is off: a chat platform runs, so commands typed here are not read; start with --console to type them here too', ['discord']],
    ]);
  });
});

describe('onehand start that fails after Discord connected', () => {
  it('stops the gateway session it opened and rejects: no bot left taking commands without timers', async () => {
    const fake = await FakeDiscord.start(Object.values(CHANNELS));
    // A store error after the adapters started (a full disk, say), in the last step of the start.
    const spy = jest.spyOn(ShiftWatch.prototype, 'ensureScheduled').mockRejectedValue(new Error('SQLITE_FULL: database or disk is full'));
    try {
      const parsed = parseConfig(DISCORD_CONFIG);
      if (!parsed.ok) throw new Error('bad config');
      const clock = new SimulatedClock(DateTime.fromISO('2026-03-03T10:00:00Z', { setZone: true }));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-discord-'));
      await expect(startBot({
        config: parsed.config, dataPath: path.join(dir, 'onehand.db'), clock, simulated: clock, json: true, logger: new MemoryLogger(),
        input: new PassThrough(), output: () => undefined,
        env: { DISCORD_TOKEN: 'secret-token-from-env', DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID, DISCORD_API_BASE: fake.apiBase },
      })).rejects.toThrow('SQLITE_FULL');
      for (let i = 0; i < 200 && fake.gatewaySessions > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(fake.gatewaySessions).toBe(0);
      fs.rmSync(dir, { recursive: true, force: true });
    } finally {
      spy.mockRestore();
      await fake.close();
    }
  });
});
