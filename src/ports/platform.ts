/**
 * PlatformFactory is the contract a chat platform implements so that `onehand start` can run it:
 * given the config, the environment and the shared services, it returns the platform's ChatAdapter
 * when its credentials are present, or null (the platform stays off, and says why in the log).
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

export type PlatformFactory = (input: PlatformInput) => ChatAdapter | null;
