/**
 * PLATFORMS: the chat platforms `onehand start` can run, each a factory that returns an adapter
 * when its credentials are present (else null, and the platform stays off). Adding a platform is
 * one entry here; the core never learns its name.
 */
import { discordPlatform } from '../../adapters/discord';
import { teamsPlatform } from '../../adapters/teams';
import type { OnehandConfig } from '../config';
import type { HttpServer } from '../http/server';
import type { GatewayGate } from '../../adapters/discord/adapter';
import type { ChatAdapter } from '../ports/chat-adapter';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';

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
  readonly leader?: (name: string) => GatewayGate;
}

export type PlatformFactory = (input: PlatformInput) => ChatAdapter | null;

export const PLATFORMS: readonly PlatformFactory[] = [discordPlatform, teamsPlatform];
