/**
 * teamsPlatform: the Teams entry of PLATFORMS. Teams runs when MICROSOFT_APP_ID is set (with
 * MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TYPE and, for SingleTenant, MICROSOFT_APP_TENANT_ID), or
 * with ONEHAND_TEAMS=1 and no app id: then no authentication at all, for local development and tests.
 *
 * botbuilder (about 30 MB and half a second to load) is loaded only when Teams is enabled: this
 * file imports nothing heavy. Import the adapter and the app package builder from their own modules.
 */
import type { PlatformFactory } from '../../src/ports/platform';
import type { TeamsCredentials } from './adapter';

/** loadAdapter: the adapter module (and botbuilder), loaded on first use. */
function loadAdapter(): typeof import('./adapter') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./adapter') as typeof import('./adapter');
}

/** teamsCredentials reads the env: credentials, null for no-auth mode, or a clear error. */
export function teamsCredentials(env: NodeJS.ProcessEnv): TeamsCredentials | null {
  const appId = env.MICROSOFT_APP_ID?.trim() ?? '';
  if (appId === '') return null;
  const password = env.MICROSOFT_APP_PASSWORD ?? '';
  if (password === '') throw new Error('MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not; set the client secret of the bot\'s app registration');
  const type = (env.MICROSOFT_APP_TYPE?.trim() || 'MultiTenant');
  if (type !== 'MultiTenant' && type !== 'SingleTenant') throw new Error(`MICROSOFT_APP_TYPE is "${type}"; use SingleTenant or MultiTenant`);
  const tenantId = env.MICROSOFT_APP_TENANT_ID?.trim() ?? '';
  if (type === 'SingleTenant' && tenantId === '') throw new Error('MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID (the directory id of your tenant)');
  return { appId, password, appType: type, tenantId };
}

export const teamsPlatform: PlatformFactory = ({ config, env, logger, http }) => {
  const enabled = (env.MICROSOFT_APP_ID?.trim() ?? '') !== '' || env.ONEHAND_TEAMS === '1';
  if (!enabled) return null;
  const credentials = teamsCredentials(env);
  logger.info('teams adapter enabled', { auth: credentials ? credentials.appType : 'off (ONEHAND_TEAMS=1, no app id)' });
  const { tenantId, serviceUrl } = config.microsoftTeams;
  const { TeamsAdapter } = loadAdapter();
  return new TeamsAdapter({ world: config.world, logger, http, credentials, tenant: tenantId && serviceUrl ? { tenantId, serviceUrl } : null });
};
