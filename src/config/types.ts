/**
 * The result of loading onehand.yaml: a validated, normalized OnehandConfig, or every problem found.
 */
import type { World } from '../core/model';
import type { ConfigProblem } from './problems';

export type { ConfigProblem } from './problems';

/** OnehandConfig is the normalized config: defaults filled in, durations in milliseconds. */
export interface OnehandConfig {
  world: World;
  /** Raw plugin sections by plugin name, validated later by the plugin registry. */
  plugins: Record<string, unknown>;
  /** `timers.period` (default "1s"): how often the timer loop looks for due work. */
  timers: { periodMs: number };
  /** `http.port` (default null: no HTTP server) and `http.host` (default "127.0.0.1"). */
  http: { port: number | null; host: string };
  /** `discord:` settings (ids are not secrets; the token comes from the env var named by tokenEnv). */
  discord: DiscordSettings;
  /** The file the config came from, or null when it was parsed from text. */
  sourcePath: string | null;
}

export type ConfigResult = { ok: true; config: OnehandConfig } | { ok: false; problems: ConfigProblem[] };

/** DEFAULT_CONFIG_PATH is used when neither --config nor ONEHAND_CONFIG is given. */
export const DEFAULT_CONFIG_PATH = 'config/onehand.yaml';

/** DiscordSettings: each value falls back to an environment variable (see adapters/discord). */
export interface DiscordSettings {
  applicationId: string | null;
  guildId: string | null;
  publicKey: string | null;
  apiBase: string | null;
  /** Environment variable that holds the bot token (default DISCORD_TOKEN). */
  tokenEnv: string;
}
