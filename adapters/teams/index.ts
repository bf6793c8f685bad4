/**
 * teamsPlatform: the Teams entry of PLATFORMS. Teams runs when MICROSOFT_APP_ID is set (with
 * MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TYPE and, for SingleTenant, MICROSOFT_APP_TENANT_ID), or
 * with ONEHAND_TEAMS=1 and no app id: then no authentication at all, for local development and tests.
 *
 * botbuilder (about 30 MB and half a second to load) is loaded only when Teams is enabled: this
 * file imports nothing heavy. Import the adapter and the app package builder from their own modules.
 */
import type { OnehandConfig } from '../../src/config';
import type { ChatAdapter } from '../../src/ports/chat-adapter';
import type { PlatformFactory, PlatformInput, PlatformOff } from '../../src/ports/platform';
import type { TeamsCredentials } from './adapter';

/** loadAdapter: the adapter module (and botbuilder), loaded on first use. */
function loadAdapter(): typeof import('./adapter') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./adapter') as typeof import('./adapter');
}

/** credentialProblem: what is wrong with the Teams credentials in the env (an app id is set), and the fix; null when nothing is. */
function credentialProblem(env: NodeJS.ProcessEnv): { readonly problem: string; readonly fix: string } | null {
  if ((env.MICROSOFT_APP_PASSWORD ?? '') === '') return { problem: 'MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not', fix: 'set the client secret of the bot\'s app registration' };
  const type = (env.MICROSOFT_APP_TYPE?.trim() || 'MultiTenant');
  if (type !== 'MultiTenant' && type !== 'SingleTenant') return { problem: `MICROSOFT_APP_TYPE is "${type}"`, fix: 'use SingleTenant or MultiTenant' };
  if (type === 'SingleTenant' && (env.MICROSOFT_APP_TENANT_ID?.trim() ?? '') === '') {
    return { problem: 'MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID (the directory id of your tenant)', fix: 'set MICROSOFT_APP_TENANT_ID (Microsoft Entra ID > Overview > Tenant ID), or MICROSOFT_APP_TYPE=MultiTenant' };
  }
  return null;
}

/** teamsCredentials reads the env: credentials, null for no-auth mode, or a clear error. */
export function teamsCredentials(env: NodeJS.ProcessEnv): TeamsCredentials | null {
  const appId = env.MICROSOFT_APP_ID?.trim() ?? '';
  if (appId === '') return null;
  const wrong = credentialProblem(env);
  if (wrong) throw new Error(`${wrong.problem}; ${wrong.fix}`);
  const type = env.MICROSOFT_APP_TYPE?.trim() || 'MultiTenant';
  return { appId, password: env.MICROSOFT_APP_PASSWORD ?? '', appType: type as TeamsCredentials['appType'], tenantId: env.MICROSOFT_APP_TENANT_ID?.trim() ?? '' };
}

/**
 * teamsUnstarted: why Teams does not run although asked for (see PlatformOff): credentials that
 * `onehand start` refuses (an app id without its password, ...), or a password without the app id
 * (Teams then stays off); null when Teams runs or nobody asked for it.
 */
function teamsUnstarted(_config: OnehandConfig, env: NodeJS.ProcessEnv): PlatformOff | null {
  if ((env.MICROSOFT_APP_ID?.trim() ?? '') !== '') {
    const wrong = credentialProblem(env);
    return wrong ? { platform: 'teams', ...wrong, refusesStart: true } : null;
  }
  if (env.ONEHAND_TEAMS === '1' || (env.MICROSOFT_APP_PASSWORD ?? '') === '') return null;
  return {
    platform: 'teams',
    problem: 'MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not, so Teams does not start',
    fix: 'set MICROSOFT_APP_ID to the bot\'s Microsoft App ID (Azure Bot > Configuration), with MICROSOFT_APP_TYPE and, for SingleTenant, MICROSOFT_APP_TENANT_ID',
  };
}

function makeTeams({ config, env, logger, http }: PlatformInput): ChatAdapter | null {
  const enabled = (env.MICROSOFT_APP_ID?.trim() ?? '') !== '' || env.ONEHAND_TEAMS === '1';
  if (!enabled) {
    const off = teamsUnstarted(config, env);
    if (off) logger.error(`teams is not started: ${off.problem}`, { fix: off.fix });
    return null;
  }
  const credentials = teamsCredentials(env);
  logger.info('teams adapter enabled', { auth: credentials ? credentials.appType : 'off (ONEHAND_TEAMS=1, no app id)' });
  const { tenantId, serviceUrl } = config.microsoftTeams;
  const { TeamsAdapter } = loadAdapter();
  return new TeamsAdapter({ world: config.world, logger, http, credentials, tenant: tenantId && serviceUrl ? { tenantId, serviceUrl } : null });
}

export const teamsPlatform: PlatformFactory = Object.assign(makeTeams, { unstarted: teamsUnstarted });
