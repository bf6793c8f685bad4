/** The `integrations:` config section and the start-time check of its secrets. */
import { parseConfig } from '../../src/config';
import { readIntegrationSecrets } from '../../src/intake/webhooks';
import { TEST_CONFIG } from '../harness/fixtures';

function problems(section: string): string[] {
  const r = parseConfig(TEST_CONFIG + section);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('config: integrations', () => {
  it('fills in the defaults', () => {
    const r = parseConfig(`${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: AM_TOKEN }\n`);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.integrations).toEqual([{
      id: 'prom', type: 'alertmanager', name: 'Alertmanager (prom)', team: 'payments', tokenEnv: 'AM_TOKEN', hmacSecretEnv: null,
      severity: { label: 'severity', map: { critical: 'sev1', error: 'sev2', warning: 'sev3', info: 'sev4' }, default: 'sev3' },
      fingerprintLabels: null, resolve: 'all', reopenWindowMs: 3600_000, maxBodyBytes: 1024 * 1024,
      rateLimit: { requests: 60, perMs: 60_000 }, storm: { threshold: 10, windowMs: 300_000 },
    }]);
  });

  it('lists every problem with its key path and the fix', () => {
    expect(problems(`
integrations:
  - { id: prom, type: alertmanager, team: paymnts, token_env: AM_TOKEN }
  - { id: prom, type: alertmanagr, team: payments, token_env: AM_TOKEN }
  - { id: hook, type: generic, team: payments, token_env: X }
  - { id: am2, type: alertmanager, team: search, token: abc }
  - { id: am3, type: alertmanager, team: search, token_env: "not a var", max_body: 1 GB, reopen_window: soon, severity: { map: { critical: sev9 } }, colour: red }
`)).toEqual([
      'integrations[0].team: no team with id "paymnts"; did you mean "payments"?',
      'integrations[1].id: "prom" is already the id of integrations[0]; give each integration a unique id',
      'integrations[1].type: "alertmanagr" is not an integration type: "alertmanager", "grafana" or "generic"; did you mean "alertmanager"?',
      'integrations[2].token_env: a generic integration is authenticated by its HMAC signature; remove "token_env" and use "hmac_secret_env"',
      'integrations[2].hmac_secret_env: missing; a generic integration is signed: add "hmac_secret_env:" with the name of an environment variable holding the HMAC secret',
      'integrations[3].token: secrets are never written in config; set an environment variable and name it with "token_env" (e.g. token_env: ONEHAND_TOKEN)',
      'integrations[3].token_env: missing; alertmanager sends a bearer token: add "token_env:" with the name of an environment variable holding it',
      'integrations[4].token_env: "not a var" is not an environment variable name; write a name such as ONEHAND_AM_TOKEN',
      'integrations[4].max_body: "1 GB" is not a size; write e.g. "1MiB", "512KiB" or a number of bytes',
      expect.stringMatching(/^integrations\[4\]\.reopen_window: /),
      'integrations[4].severity.map.critical: "sev9" is not a severity: sev1, sev2, sev3 or sev4; did you mean "sev1"?',
      'integrations[4].colour: unknown key; the keys allowed here are id, type, team, name, token_env, hmac_secret_env, severity, fingerprint_labels, resolve, reopen_window, max_body, rate_limit, storm',
    ]);
  });

  it('at start, a missing secret variable is an error naming it', () => {
    const r = parseConfig(`${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: AM_TOKEN }\n  - { id: hook, type: generic, team: payments, hmac_secret_env: HOOK_SECRET }\n`);
    if (!r.ok) throw new Error('invalid');
    expect(() => readIntegrationSecrets(r.config.integrations, { HOOK_SECRET: 's' })).toThrow(
      'cannot start the alert intake:\nintegrations[0].token_env (prom): environment variable AM_TOKEN is not set; export it with the bearer token the sender uses');
    expect(readIntegrationSecrets(r.config.integrations, { AM_TOKEN: 't', HOOK_SECRET: 's' })).toEqual(new Map([['prom', 't'], ['hook', 's']]));
  });
});
