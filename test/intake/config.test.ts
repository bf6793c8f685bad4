/** The `integrations:` config section and the start-time check of its secrets. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
      id: 'prom', type: 'alertmanager', name: 'Alertmanager (prom)', team: 'payments', tokenEnv: 'AM_TOKEN', hmacSecretEnv: null, tokenFile: null, hmacSecretFile: null,
      severity: { label: 'severity', map: { critical: 'sev1', error: 'sev2', warning: 'sev3', info: 'sev4' }, default: 'sev3' },
      fingerprintLabels: null, resolve: 'all', reopenWindowMs: 3600_000, flapWindowMs: 900_000, maxBodyBytes: 1024 * 1024,
      rateLimit: { requests: 600, perMs: 60_000 }, storm: { threshold: 10, windowMs: 300_000 },
    }]);
  });

  it('a severity map adds to the default one, its own entries winning in any case', () => {
    const r = parseConfig(`${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: AM_TOKEN, severity: { map: { Critical: sev2, page: sev1 } } }\n`);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.integrations[0]?.severity.map).toEqual({ error: 'sev2', warning: 'sev3', info: 'sev4', Critical: 'sev2', page: 'sev1' });
  });

  it('reads a secret from a file named in config (relative to the config file), or says which file failed', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-secret-'));
    fs.writeFileSync(path.join(dir, 'am_token'), 'from-a-file\n');
    const r = parseConfig(`${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_file: am_token }\n  - { id: hook, type: generic, team: payments, hmac_secret_file: ${path.join(dir, 'missing')} }\n`);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(() => readIntegrationSecrets(r.config.integrations, {}, dir)).toThrow(`integrations[1].hmac_secret_file (hook): cannot read ${path.join(dir, 'missing')} (ENOENT)`);
    fs.writeFileSync(path.join(dir, 'missing'), 'hmac');
    expect(readIntegrationSecrets(r.config.integrations, {}, dir)).toEqual(new Map([['prom', 'from-a-file'], ['hook', 'hmac']]));
    expect(problems(`\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: T, token_file: f }\n`)).toEqual(['integrations[0].token_file: give either "token_env" or "token_file", not both']);
  });

  it('lists every problem with its key path and the fix', () => {
    expect(problems(`
integrations:
  - { id: prom, type: alertmanager, team: paymnts, token_env: AM_TOKEN }
  - { id: prom, type: alertmanagr, team: payments, token_env: AM_TOKEN }
  - { id: hook, type: generic, team: payments, token_env: X }
  - { id: am2, type: alertmanager, team: search, token: abc }
  - { id: am3, type: alertmanager, team: search, token_env: "not a var", max_body: 1 GB, reopen_window: soon, flap_window: 2d, severity: { map: { critical: sev9 } }, colour: red }
`)).toEqual([
      'integrations[0].team: no team with id "paymnts"; did you mean "payments"?',
      'integrations[1].id: "prom" is already the id of integrations[0]; give each integration a unique id',
      'integrations[1].type: "alertmanagr" is not an integration type: "alertmanager", "grafana" or "generic"; did you mean "alertmanager"?',
      'integrations[2].token_env: a generic integration is authenticated by its HMAC signature; remove "token_env" and use "hmac_secret_env" or "hmac_secret_file"',
      'integrations[2].hmac_secret_env: missing; a generic integration is signed with an HMAC secret: add "hmac_secret_env:" with the name of an environment variable holding it (or "hmac_secret_file:" with a file path)',
      'integrations[3].token: secrets are never written in config; put it in an environment variable and name it with "token_env" or "token_file" (e.g. token_env: ONEHAND_TOKEN)',
      'integrations[3].token_env: missing; alertmanager sends a bearer token: add "token_env:" with the name of an environment variable holding it (or "token_file:" with a file path)',
      'integrations[4].token_env: "not a var" is not an environment variable name; write a name such as ONEHAND_AM_TOKEN',
      'integrations[4].max_body: "1 GB" is not a size; write e.g. "1MiB", "512KiB" or a number of bytes',
      expect.stringMatching(/^integrations\[4\]\.reopen_window: /),
      'integrations[4].flap_window: "2d" is out of range; flap_window (how long after the on-call\'s page an alert firing again counts as flapping and does not page them again; off turns it off) is from 1s to 1d, default 15m',
      'integrations[4].severity.map.critical: "sev9" is not a severity: sev1, sev2, sev3 or sev4; did you mean "sev1"?',
      'integrations[4].colour: unknown key; the keys allowed here are id, type, team, name, token_env, hmac_secret_env, token_file, hmac_secret_file, severity, fingerprint_labels, resolve, reopen_window, flap_window, max_body, rate_limit, storm',
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

describe('config: flap_window', () => {
  const withFlap = (value: string) => parseConfig(`${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: AM_TOKEN, flap_window: ${value} }\n`);
  it('takes a duration, or off (also YAML false), and names the fix for anything else', () => {
    const ms = (value: string) => {
      const r = withFlap(value);
      return r.ok ? r.config.integrations[0]?.flapWindowMs : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(ms('30m')).toBe(1_800_000);
    expect(ms('off')).toBe(0);
    expect(ms('Off')).toBe(0);
    expect(ms('false')).toBe(0);
    expect(ms('soon')).toEqual(['integrations[0].flap_window: "soon" is not a duration; write one such as "15m" (the default), or off to page every reopening']);
    expect(ms('true')).toEqual(['integrations[0].flap_window: is true; write a duration such as "15m" (the default), or off']);
  });
});
