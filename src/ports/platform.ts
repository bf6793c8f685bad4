/**
 * PlatformFactory is the contract a chat platform implements so that `onehand start` can run it:
 * given the config, the environment and the shared services, it returns the platform's ChatAdapter
 * when its credentials are present, or null (the platform stays off, and says why in the log; see
 * PlatformOff for a platform asked for that cannot run).
 * Adapters implement it; the command line (src/cli/platforms.ts) only lists the factories.
 */
import type { OnehandConfig } from '../config';
import type { HttpServer } from '../http/server';
import type { ChatAdapter } from './chat-adapter';
import type { Clock } from './clock';
import type { Logger } from './logger';

/**
 * RoleLease decides when this process may play a role only one replica may play at a time (a
 * gateway session): it calls `gained` when this process takes the role and `lost` when it must
 * give it up.
 */
export interface RoleLease {
  start(role: { gained(): Promise<void>; lost(): Promise<void> }): void;
  stop(): Promise<void>;
}

export interface PlatformInput {
  readonly config: OnehandConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Register HTTP routes (e.g. POST /api/messages); the server listens on config.http. */
  readonly http: HttpServer;
  /**
   * With replicas on a shared database: a leader lease for a role only one replica may play at a
   * time (e.g. a gateway session). Absent with one process (SQLite): the role is always this one's.
   */
  readonly leader?: (name: string) => RoleLease;
}

/**
 * PlatformOff: a platform its operator asked for (a bot token or credential is set, or its ids are
 * in the config) that cannot run as configured: what is wrong (`problem`, naming the keys or
 * variables) and how to set it (`fix`). `onehand start` runs on without it and says so in its log
 * and on /healthz (the platform shown as degraded); `check-config` warns. With `refusesStart`,
 * `onehand start` stops instead, with an error that says the same.
 */
export interface PlatformOff {
  readonly platform: string;
  readonly problem: string;
  readonly fix: string;
  readonly refusesStart?: boolean;
}

export interface PlatformFactory {
  (input: PlatformInput): ChatAdapter | null;
  /**
   * unstarted: why this platform does not run although its operator asked for it, or null when it
   * runs or nobody asked for it. Reads the environment (and a secret file the config names), never
   * logs, never loads the platform's library: `check-config` calls it too.
   */
  readonly unstarted?: (config: OnehandConfig, env: NodeJS.ProcessEnv) => PlatformOff | null;
}
