/**
 * discordPlatform: the factory `onehand start` calls. It returns the Discord adapter when a bot
 * token is present (in the env var named by discord.token_env, default DISCORD_TOKEN) and the
 * application and guild ids are known (config discord.application_id / guild_id, or env
 * DISCORD_APPLICATION_ID / DISCORD_GUILD_ID); else null, with a log line naming what is missing.
 * The token is never logged.
 *
 * discord.js (about 40 MB and half a second to load) is loaded only when the factory starts the
 * adapter: this file imports nothing heavy, so a bot without Discord never loads it. Import the
 * adapter's parts (adapter, render, slash-commands) from their own modules.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { PlatformFactory } from '../../src/ports/platform';
import type { Logger } from '../../src/ports/logger';
import { INTERACTIONS_PATH, registerInteractionsEndpoint } from './interactions-http';

/** The leader lease whose holder keeps the Discord gateway session. */
export const DISCORD_GATEWAY_LEASE = 'discord-gateway';

/** loadAdapter: the adapter module (and discord.js), loaded on first use. */
function loadAdapter(): typeof import('./adapter') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./adapter') as typeof import('./adapter');
}

export const discordPlatform: PlatformFactory = ({ config, env, logger, http, leader }) => {
  const settings = config.discord;
  const token = settings.tokenFile !== null ? readTokenFile(settings.tokenFile, config.sourcePath, logger) : env[settings.tokenEnv]?.trim();
  if (!token) return null;
  const applicationId = settings.applicationId ?? nonEmpty(env.DISCORD_APPLICATION_ID);
  const guildId = settings.guildId ?? nonEmpty(env.DISCORD_GUILD_ID);
  const missing = [
    ...(applicationId ? [] : ['discord.application_id (or env DISCORD_APPLICATION_ID)']),
    ...(guildId ? [] : ['discord.guild_id (or env DISCORD_GUILD_ID)']),
  ];
  if (!applicationId || !guildId) {
    logger.error('discord is not started: a bot token is set but settings are missing', {
      missing,
      fix: 'add them under "discord:" in the config (application id: Developer Portal > General Information; guild id: Developer Mode > right-click the server > Copy Server ID), or set the env variables',
    });
    return null;
  }
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
};

function nonEmpty(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

/** readTokenFile: the bot token from discord.token_file (relative to the config file), or null with a clear log line. */
function readTokenFile(file: string, sourcePath: string | null, logger: Logger): string | null {
  const where = isAbsolute(file) ? file : resolve(sourcePath ? dirname(resolve(sourcePath)) : process.cwd(), file);
  try {
    const token = readFileSync(where, 'utf8').trim();
    if (token === '') logger.error('discord is not started: discord.token_file is empty', { file: where, fix: 'put the bot token in that file' });
    return token || null;
  } catch (err) {
    logger.error('discord is not started: discord.token_file cannot be read', { file: where, error: (err as NodeJS.ErrnoException).code ?? 'error', fix: 'check the path and the file permissions' });
    return null;
  }
}
