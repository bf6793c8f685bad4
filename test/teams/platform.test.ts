import { teamsPlatform, teamsCredentials } from '../../adapters/teams';
import { parseConfig } from '../../src/config';
import { HttpServer } from '../../src/http/server';
import { PLATFORMS } from '../../src/cli/platforms';
import { MemoryLogger } from '../../src/runtime/logger';
import { SystemClock } from '../../src/runtime/clock';
import { TEAMS_CONFIG } from './rig';

describe('teamsPlatform', () => {
  const parsed = parseConfig(TEAMS_CONFIG);
  if (!parsed.ok) throw new Error('config');
  const input = (env: NodeJS.ProcessEnv) => {
    const logger = new MemoryLogger();
    const http = new HttpServer(logger);
    return { config: parsed.config, env, clock: new SystemClock(), logger, http };
  };

  it('is listed in PLATFORMS and stays off without MICROSOFT_APP_ID or ONEHAND_TEAMS=1', () => {
    expect(PLATFORMS).toContain(teamsPlatform);
    const i = input({});
    expect(teamsPlatform(i)).toBeNull();
    expect(i.http.hasRoutes).toBe(false);
  });

  it('runs without auth under ONEHAND_TEAMS=1 and with credentials when an app id is set; secrets are never logged', () => {
    const dev = input({ ONEHAND_TEAMS: '1' });
    expect(teamsPlatform(dev)?.name).toBe('teams');
    expect(dev.http.hasRoutes).toBe(true);
    const prod = input({ MICROSOFT_APP_ID: '9e8f7a6b-1234-4cde-8f00-aabbccddeeff', MICROSOFT_APP_PASSWORD: 's3cret-value', MICROSOFT_APP_TYPE: 'SingleTenant', MICROSOFT_APP_TENANT_ID: 'tenant' });
    expect(teamsPlatform(prod)).not.toBeNull();
    expect(JSON.stringify(prod.logger.entries)).not.toContain('s3cret-value');
  });

  it('explains missing or inconsistent credentials', () => {
    expect(() => teamsCredentials({ MICROSOFT_APP_ID: 'x' })).toThrow(/MICROSOFT_APP_PASSWORD/);
    expect(() => teamsCredentials({ MICROSOFT_APP_ID: 'x', MICROSOFT_APP_PASSWORD: 'p', MICROSOFT_APP_TYPE: 'SingleTenant' })).toThrow(/MICROSOFT_APP_TENANT_ID/);
    expect(() => teamsCredentials({ MICROSOFT_APP_ID: 'x', MICROSOFT_APP_PASSWORD: 'p', MICROSOFT_APP_TYPE: 'Other' })).toThrow(/SingleTenant or MultiTenant/);
    expect(teamsCredentials({ MICROSOFT_APP_ID: 'x', MICROSOFT_APP_PASSWORD: 'p' })).toEqual({ appId: 'x', password: 'p', appType: 'MultiTenant', tenantId: '' });
  });

  it('reads microsoft_teams (tenant id and service URL, both or neither) and refuses bad values with the fix', () => {
    const withTeams = (block: string) => parseConfig(`${TEAMS_CONFIG}\nmicrosoft_teams:\n${block}`);
    const ok = withTeams('  tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47"\n  service_url: "https://smba.trafficmanager.net/emea/"\n');
    expect(ok.ok && ok.config.microsoftTeams).toEqual({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', serviceUrl: 'https://smba.trafficmanager.net/emea/' });
    expect(parsed.ok && parsed.config.microsoftTeams).toEqual({ tenantId: null, serviceUrl: null });
    const problems = (block: string): string[] => {
      const r = withTeams(block);
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problems('  tenant_id: "contoso"\n  service_url: "https://smba.trafficmanager.net/emea/"\n')).toEqual([
      expect.stringMatching(/^microsoft_teams\.tenant_id: "contoso" is not a tenant id; write the directory \(tenant\) id GUID/),
    ]);
    expect(problems('  tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47"\n  service_url: "http://smba.trafficmanager.net/emea/"\n')).toEqual([
      expect.stringMatching(/^microsoft_teams\.service_url: .* is not an https URL/),
    ]);
    expect(problems('  tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47"\n')).toEqual([
      expect.stringMatching(/^microsoft_teams\.service_url: is missing: .*set service_url too/),
    ]);
    expect(problems('  tenant: "x"\n')).toEqual(['microsoft_teams.tenant: unknown key; the keys allowed here are tenant_id, service_url']);
  });
});
