/**
 * discordPlatform: the factory `onehand start` calls. It returns the Discord adapter when a bot
 * token is present (in the env var named by discord.token_env, default DISCORD_TOKEN) and the
 * application and guild ids are known (config discord.application_id / guild_id, or env
 * DISCORD_APPLICATION_ID / DISCORD_GUILD_ID); else null, with a log line naming what is missing.
 * `discordPlatform.unstarted` names the same for /healthz and check-config: a token without the
 * ids, the ids without a token, a token file that cannot be read. The token is never logged.
 *
 * discord.js (about 40 MB and half a second to load) is loaded only when the factory starts the
 * adapter: this file imports nothing heavy, so a bot without Discord never loads it. Import the
 * adapter's parts (adapter, render, slash-commands) from their own modules.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { OnehandConfig } from '../../src/config';
import type { ChatAdapter } from '../../src/ports/chat-adapter';
import type { PlatformFactory, PlatformInput, PlatformOff } from '../../src/ports/platform';
import { INTERACTIONS_PATH, registerInteractionsEndpoint } from './interactions-http';

/** The leader lease whose holder keeps the Discord gateway session. */
export const DISCORD_GATEWAY_LEASE = 'discord-gateway';

/** loadAdapter: the adapter module (and discord.js), loaded on first use. */
function loadAdapter(): typeof import('./adapter') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./adapter') as typeof import('./adapter');
}

/**
 * DiscordSetup: what the factory starts Discord with, or why Discord stays off although its
 * operator asked for it (a token, or the ids in the config), with the log line the factory writes.
 */
type DiscordSetup =
  | { readonly kind: 'none' }
  | { readonly kind: 'off'; readonly off: PlatformOff; readonly log: { readonly msg: string; readonly fields: Record<string, unknown> } }
  | { readonly kind: 'ready'; readonly token: string; readonly applicationId: string; readonly guildId: string };

/** discordSetup: reads the token (env or file) and the ids (config, else env); never logs. */
function discordSetup(config: OnehandConfig, env: NodeJS.ProcessEnv): DiscordSetup {
  const settings = config.discord;
  const applicationId = settings.applicationId ?? nonEmpty(env.DISCORD_APPLICATION_ID);
  const guildId = settings.guildId ?? nonEmpty(env.DISCORD_GUILD_ID);
  const read = settings.tokenFile !== null ? readTokenFile(settings.tokenFile, config.sourcePath) : { token: nonEmpty(env[settings.tokenEnv]) };
  if ('problem' in read) return { kind: 'off', off: { platform: 'discord', problem: read.problem, fix: read.fix }, log: read.log };
  const token = read.token;
  if (!token) {
    // The ids without a token: Discord was meant (a token forgotten in `docker run -e`, say).
    if (applicationId === null) return { kind: 'none' };
    const problem = `discord.application_id is set (in the config or DISCORD_APPLICATION_ID) but there is no bot token: ${settings.tokenEnv} is not set`;
    const fix = `set ${settings.tokenEnv} to the bot token (Developer Portal > Bot > Reset Token), or name a file holding it with discord.token_file`;
    return { kind: 'off', off: { platform: 'discord', problem, fix }, log: { msg: 'discord is not started: no bot token', fields: { missing: [`env ${settings.tokenEnv} (or discord.token_file)`], fix } } };
  }
  const missing = [
    ...(applicationId ? [] : ['discord.application_id (or env DISCORD_APPLICATION_ID)']),
    ...(guildId ? [] : ['discord.guild_id (or env DISCORD_GUILD_ID)']),
  ];
  if (!applicationId || !guildId) {
    const keys = [...(applicationId ? [] : ['application_id']), ...(guildId ? [] : ['guild_id'])];
    const vars = [...(applicationId ? [] : ['DISCORD_APPLICATION_ID']), ...(guildId ? [] : ['DISCORD_GUILD_ID'])];
    const fix = `add ${keys.join(' and ')} under "discord:" in the config (application id: Developer Portal > General Information; guild id: Developer Mode > right-click the server > Copy Server ID), or set ${vars.join(' and ')} in the environment`;
    const from = settings.tokenFile !== null ? 'discord.token_file' : settings.tokenEnv;
    return {
      kind: 'off',
      off: { platform: 'discord', problem: `a bot token is set (${from}) but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing`, fix },
      log: { msg: 'discord is not started: a bot token is set but settings are missing', fields: { missing, fix } },
    };
  }
  return { kind: 'ready', token, applicationId, guildId };
}

/** discordUnstarted: why Discord does not run although asked for (see PlatformOff), or null. */
function discordUnstarted(config: OnehandConfig, env: NodeJS.ProcessEnv): PlatformOff | null {
  const setup = discordSetup(config, env);
  return setup.kind === 'off' ? setup.off : null;
}

function makeDiscord({ config, env, logger, http, leader }: PlatformInput): ChatAdapter | null {
  const settings = config.discord;
  const setup = discordSetup(config, env);
  if (setup.kind === 'none') return null;
  if (setup.kind === 'off') {
    logger.error(setup.log.msg, setup.log.fields);
    return null;
  }
  const { token, applicationId, guildId } = setup;
  const { DiscordAdapter } = loadAdapter();
  const adapter = new DiscordAdapter({
    world: config.world,
    token,
    applicationId,
    guildId,
    apiBase: settings.apiBase ?? nonEmpty(env.DISCORD_API_BASE),
    logger,
    // Several replicas: only the holder of this lease keeps the gateway session; all send by REST.
    ...(leader ? { gateway: leader(DISCORD_GATEWAY_LEASE) } : {}),
  });
  const publicKey = settings.publicKey ?? nonEmpty(env.DISCORD_PUBLIC_KEY);
  if (publicKey) {
    try {
      registerInteractionsEndpoint(http, publicKey, adapter, logger);
      logger.info('discord interactions endpoint enabled', { path: INTERACTIONS_PATH, http: config.http.port === null ? 'off: set http.port' : config.http.port });
    } catch (err) {
      logger.error('discord interactions endpoint not enabled', { reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return adapter;
}

export const discordPlatform: PlatformFactory = Object.assign(makeDiscord, { unstarted: discordUnstarted });

function nonEmpty(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

type TokenRead = { readonly token: string | null } | { readonly problem: string; readonly fix: string; readonly log: { readonly msg: string; readonly fields: Record<string, unknown> } };

/** readTokenFile: the bot token from discord.token_file (relative to the config file), or what is wrong with the file. */
function readTokenFile(file: string, sourcePath: string | null): TokenRead {
  const where = isAbsolute(file) ? file : resolve(sourcePath ? dirname(resolve(sourcePath)) : process.cwd(), file);
  try {
    const token = readFileSync(where, 'utf8').trim();
    if (token !== '') return { token };
    const fix = 'put the bot token in that file';
    return { problem: `discord.token_file (${where}) is empty`, fix, log: { msg: 'discord is not started: discord.token_file is empty', fields: { file: where, fix } } };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const fix = 'check the path and the file permissions';
    return { problem: `discord.token_file (${where}) cannot be read (${code})`, fix, log: { msg: 'discord is not started: discord.token_file cannot be read', fields: { file: where, error: code, fix } } };
  }
}
