/**
 * PLATFORMS: the chat platforms `onehand start` can run, each a factory (the PlatformFactory port,
 * src/ports/platform.ts) that returns an adapter when its credentials are present (else null, and
 * the platform stays off). Adding a platform is one entry here; the core never learns its name.
 */
import { discordPlatform } from '../../adapters/discord';
import { teamsPlatform } from '../../adapters/teams';
import type { PlatformFactory } from '../ports/platform';

export const PLATFORMS: readonly PlatformFactory[] = [discordPlatform, teamsPlatform];
