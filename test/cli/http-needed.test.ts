/**
 * Integrations and Teams reach Onehand only over its HTTP server. A config that declares them with
 * the server off used to start and wait, silently, for requests that could not arrive: start now
 * refuses with the fix, and check-config warns (the port may come from the environment).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { runCli, tempDir, writeFile } from './run-cli';

const INTEGRATION = `
integrations:
  - { id: prom, type: alertmanager, team: payments, token_env: PROM_TOKEN }
`;

describe('the HTTP server is needed by what the config declares', () => {
  it('start refuses integrations without an HTTP port, in one line that says the fix', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG + INTEGRATION);
    const result = await runCli(['start', '--config', config, '--no-console'], '', { ONEHAND_DATA: path.join(dir, 'x.db'), PROM_TOKEN: 'secret', ONEHAND_HTTP_PORT: '' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').pop()).toBe("onehand: the HTTP server is off, but the integrations' webhooks (prom) can only reach Onehand through it: set http.port in the config (e.g. 8080) or ONEHAND_HTTP_PORT");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('start refuses Teams without an HTTP port', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const result = await runCli(['start', '--config', config, '--no-console'], '', { ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_TEAMS: '1', ONEHAND_HTTP_PORT: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('onehand: the HTTP server is off, but Microsoft Teams (POST /api/messages) can only reach Onehand through it');
  });

  it('a ONEHAND_HTTP_PORT that is not a port stops the start with the fix, no usage text; an empty one counts as unset', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const bad = await runCli(['start', '--config', config, '--no-console'], '', { ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_HTTP_PORT: '80a' });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('onehand: ONEHAND_HTTP_PORT "80a" is not a TCP port: set it to a number from 0 to 65535 (e.g. 8080; 0 picks a free one), or unset it to use http.port from the config');
    const empty = await runCli(['start', '--config', config], 'incident report sev3 printer jam\n', { ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_HTTP_PORT: '' });
    expect(empty.code).toBe(0);
    expect(empty.stderr).not.toContain('ONEHAND_HTTP_PORT');
  });

  it('check-config warns, and says nothing once ONEHAND_HTTP_PORT gives the port', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG + INTEGRATION);
    const off = await runCli(['check-config', config], '', { PROM_TOKEN: 'secret', ONEHAND_HTTP_PORT: '' });
    expect(off.code).toBe(0);
    expect(off.stderr).toContain("warning: http.port is not set (nor ONEHAND_HTTP_PORT in this environment): the integrations' webhooks (prom) cannot reach Onehand");
    const on = await runCli(['check-config', config], '', { PROM_TOKEN: 'secret', ONEHAND_HTTP_PORT: '8080' });
    expect(on.code).toBe(0);
    expect(on.stderr).toBe('');
  });

  it('a port that is taken stops the start at once with exit 1 and the fix, before any work (it used to stay up, half started)', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const dir = tempDir();
      const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
      const result = await runCli(['start', '--config', config, '--no-console'], '', { ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_HTTP_PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n').pop()).toBe(`onehand: cannot listen on 127.0.0.1:${port}: the address is in use (another Onehand, or another program?); choose another http.port / http.host (or ONEHAND_HTTP_PORT / ONEHAND_HTTP_HOST)`);
      expect(result.stderr).not.toContain('onehand started');
      expect(result.stdout).toBe('');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
