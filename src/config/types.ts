/**
 * The result of loading onehand.yaml: a validated, normalized OnehandConfig, or every problem found.
 */
import type { InsightsSettings } from '../core/insights/figures';
import type { World } from '../core/model';
import type { ConfigProblem } from './problems';

export type { ConfigProblem } from './problems';

/** OnehandConfig is the normalized config: defaults filled in, durations in milliseconds. */
export interface OnehandConfig {
  world: World;
  /** Raw plugin sections by plugin name, validated later by the plugin registry. */
  plugins: Record<string, unknown>;
  /**
   * `timers.period` (default "1s"): how often the timer loop looks for due work; `timers.lease`
   * (default "60s"): how long a claimed timer or delivery stays with its replica, i.e. how soon
   * another replica finishes the work of one that died.
   */
  timers: { periodMs: number; leaseMs: number };
  /**
   * `delivery.timeout` (default "10s"): how long one platform call may take; `delivery.concurrency`
   * (default 8): platform calls in flight at once, per platform; `delivery.fallback_after` (default
   * 3): failed attempts after which a page also goes down the fallback ladder.
   */
  delivery: { timeoutMs: number; concurrency: number; fallbackAfter: number };
  /** `http.port` (default null: no HTTP server) and `http.host` (default "127.0.0.1"). */
  http: { port: number | null; host: string };
  /** `discord:` settings (ids are not secrets; the token comes from the env var named by tokenEnv). */
  discord: DiscordSettings;
  /**
   * `microsoft_teams:` where Onehand may open a Teams 1:1 chat itself (tenant id and Bot Connector
   * service URL, both or neither); null values until set (then it learns them from Teams' first activity).
   */
  microsoftTeams: MicrosoftTeamsSettings;
  /** `integrations:` monitoring webhooks (POST /webhooks/ID), defaults filled in. */
  integrations: IntegrationConfig[];
  /** `insights:` huddle warning (huddles per 100 incidents, default 5) and night window (default 22:00-07:00). */
  insights: InsightsSettings;
  /** The file the config came from, or null when it was parsed from text. */
  sourcePath: string | null;
}

export type ConfigResult = { ok: true; config: OnehandConfig } | { ok: false; problems: ConfigProblem[] };

/** DEFAULT_CONFIG_PATH is used when neither --config nor ONEHAND_CONFIG is given. */
export const DEFAULT_CONFIG_PATH = 'config/onehand.yaml';

/** MicrosoftTeamsSettings: both set, or both null. */
export interface MicrosoftTeamsSettings {
  tenantId: string | null;
  serviceUrl: string | null;
}

/** DiscordSettings: each value falls back to an environment variable (see adapters/discord). */
export interface DiscordSettings {
  applicationId: string | null;
  guildId: string | null;
  publicKey: string | null;
  apiBase: string | null;
  /** Environment variable that holds the bot token (default DISCORD_TOKEN). */
  tokenEnv: string;
  /** Or a file that holds it (absolute, or relative to the config file); it wins over tokenEnv. */
  tokenFile: string | null;
}

export type IntegrationType = 'alertmanager' | 'grafana' | 'generic';

/**
 * IntegrationConfig: one monitoring webhook. Secrets are never here: `tokenEnv` / `hmacSecretEnv`
 * name environment variables, read (and checked to be set) when the bot starts.
 */
export interface IntegrationConfig {
  id: string;
  type: IntegrationType;
  /** Display name, used as the reporter's name (default e.g. "Alertmanager (prom)"). */
  name: string;
  team: string;
  /** Bearer token variable (alertmanager, grafana). */
  tokenEnv: string | null;
  /** HMAC-SHA256 secret variable (generic). */
  hmacSecretEnv: string | null;
  /** Or a file holding the token / the HMAC secret (absolute, or relative to the config file). */
  tokenFile: string | null;
  hmacSecretFile: string | null;
  severity: { label: string; map: Record<string, 'sev1' | 'sev2' | 'sev3' | 'sev4'>; default: 'sev1' | 'sev2' | 'sev3' | 'sev4' };
  /** Label names whose values identify one problem; null: the sender's fingerprint, else a hash of all labels. */
  fingerprintLabels: string[] | null;
  resolve: 'all' | 'any';
  reopenWindowMs: number;
  /**
   * An alert that fires again within this long of the on-call's page for its incident is flapping:
   * the reopening does not page them again (see IncidentService.reopen); 0: off.
   */
  flapWindowMs: number;
  maxBodyBytes: number;
  rateLimit: { requests: number; perMs: number };
  storm: { threshold: number; windowMs: number };
}

/** DELIVERY_DEFAULTS: the `delivery:` settings when the config says nothing (the delivery worker's too). */
export const DELIVERY_DEFAULTS = { timeoutMs: 10_000, concurrency: 8, fallbackAfter: 3 } as const;

/** The most a timed-out platform call is still waited for (a call the platform cannot abort may still land; see DeliveryWorker.attempt). */
export const LATE_GRACE_MS = 5_000;

/** lateGraceMs: the grace a call with this timeout gets after it (at most its timeout again). */
export function lateGraceMs(timeoutMs: number): number {
  return Math.min(timeoutMs, LATE_GRACE_MS);
}

/**
 * minLeaseMs: the shortest timers.lease for a delivery timeout: a claimed delivery's lease must
 * outlast its call, the late answer's grace and a second more, or another replica may claim a
 * page that is still being sent and send it again.
 */
export function minLeaseMs(timeoutMs: number): number {
  return timeoutMs + lateGraceMs(timeoutMs) + 1_000;
}
