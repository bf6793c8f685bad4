/**
 * DiscordWorld: the real app (harness: temp SQLite, simulated clock) with the real Discord adapter
 * and discord.js client talking to a FakeDiscord on loopback. No recording adapter: everything the
 * app says goes through Discord, so tests assert on the REST payloads.
 */
import { DiscordAdapter } from '../../adapters/discord/adapter';
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';
import { APP_ID, FakeDiscord, GUILD_ID, type DiscordUser, type RestCall } from './fake-discord';

export const USERS = {
  alice: { id: '111000000000000001', username: 'alice' },
  bob: { id: '111000000000000002', username: 'bob' },
  carol: { id: '111000000000000003', username: 'carol' },
  dave: { id: '111000000000000004', username: 'dave' },
  erin: { id: '111000000000000005', username: 'erin' },
  /** Not linked in config: a guest. */
  zed: { id: '999000000000000009', username: 'zed' },
} satisfies Record<string, DiscordUser>;

export const CHANNELS = { payments: '880000000000000001', search: '880000000000000002', elsewhere: '880000000000000099' };

/** DISCORD_CONFIG: the harness world with Discord ids (frank and root stay unlinked). */
export const DISCORD_CONFIG = (() => {
  let config = TEST_CONFIG;
  for (const [member, user] of Object.entries(USERS)) {
    if (member === 'zed') continue;
    config = config.replace(new RegExp(`\\{ id: ${member}, ([^}]*) \\}`), `{ id: ${member}, $1, discord: "${user.id}" }`);
  }
  config = config.replace('    lead: carol\n', `    lead: carol\n    channels: { discord: "${CHANNELS.payments}" }\n`);
  config = config.replace('    lead: frank\n', `    lead: frank\n    channels: { discord: "${CHANNELS.search}" }\n`);
  return config;
})();

export interface DiscordWorld {
  readonly h: Harness;
  readonly fake: FakeDiscord;
  readonly adapter: () => DiscordAdapter;
  /** flush delivers what the outbox holds now. */
  flush(): Promise<void>;
  /** since: calls recorded after mark `n` (see `mark`). */
  since(n: number): RestCall[];
  mark(): number;
  stop(): Promise<void>;
}

export async function startDiscordWorld(options: { deferAfterMs?: number; extraConfig?: string; reconnectMs?: number; beforeStart?: (fake: FakeDiscord) => void } = {}): Promise<DiscordWorld> {
  const fake = await FakeDiscord.start(Object.values(CHANNELS));
  options.beforeStart?.(fake);
  let adapter: DiscordAdapter | null = null;
  let h: Harness;
  try {
    h = await Harness.start({
      config: DISCORD_CONFIG + (options.extraConfig ?? ''),
      recording: false,
      adapters: ({ config, logger }) => {
        adapter = new DiscordAdapter({
          world: config.world, token: 'fake-bot-token', applicationId: APP_ID, guildId: GUILD_ID, apiBase: fake.apiBase, logger,
          restRetries: 0, restTimeoutMs: 2000, readyTimeoutMs: 5000, deferAfterMs: options.deferAfterMs ?? 2500,
          ...(options.reconnectMs !== undefined ? { reconnectMs: options.reconnectMs } : {}),
        });
        return [adapter];
      },
    });
  } catch (err) {
    await fake.close();
    throw err;
  }
  return {
    h, fake,
    adapter: () => adapter as unknown as DiscordAdapter,
    flush: () => h.app.scheduler.tick(),
    since: (n) => fake.calls.slice(n),
    mark: () => fake.calls.length,
    stop: async () => {
      await h.stop();
      await fake.close();
    },
  };
}
