/**
 * A chat platform asked for but not running: a Discord token without the application and guild
 * ids, a Teams password without the app id. `onehand start` runs on without it, but says so in its
 * log and on /healthz (degraded, with the missing keys and the fix), and `check-config` warns.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { ROOT, runCli, tempDir, writeFile } from './run-cli';

const BIN = path.join(ROOT, 'bin', 'onehand.js');

/** cleanEnv: this process's environment without any chat platform credentials of the host. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DISCORD_|MICROSOFT_APP_|ONEHAND_TEAMS)/.test(k)));
  return { ...clean, ONEHAND_CONFIG: '', ...extra };
}

interface Health { ok: boolean; adapters: Record<string, string> }

/** healthOfHeadlessStart: `onehand start --no-console` with `env`: its /healthz body and its log, after SIGTERM. */
async function healthOfHeadlessStart(env: Record<string, string>): Promise<{ status: number; body: Health; log: string }> {
  const dir = tempDir();
  const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
  const child = spawn(process.execPath, [BIN, 'start', '--no-console', '--config', config], {
    cwd: ROOT,
    env: cleanEnv({ ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_HTTP_PORT: '0', ONEHAND_LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /"http":"[^"]*:(\d+)"/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${log}`)));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: res.status, body: (await res.json()) as Health, log };
  } finally {
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }
}

describe('a chat platform asked for but not running', () => {
  it('DISCORD_TOKEN without the application and guild ids: /healthz shows discord degraded with the missing keys, and the start log says so', async () => {
    const { status, body, log } = await healthOfHeadlessStart({ DISCORD_TOKEN: 'secret-token-value' });
    expect(status).toBe(200); // shown, not a failing probe
    expect(body.adapters.discord).toBe('degraded: not running: a bot token is set (DISCORD_TOKEN) but discord.application_id (or env DISCORD_APPLICATION_ID) and discord.guild_id (or env DISCORD_GUILD_ID) are missing; '
      + 'add application_id and guild_id under "discord:" in the config (application id: Developer Portal > General Information; guild id: Developer Mode > right-click the server > Copy Server ID), or set DISCORD_APPLICATION_ID and DISCORD_GUILD_ID in the environment');
    const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string; problem?: string });
    expect(lines.find((l) => l.msg.startsWith('discord is not running'))).toMatchObject({
      level: 'warn', msg: 'discord is not running, though it was asked for: no page goes there (/healthz shows it as degraded)',
    });
    expect(log).not.toContain('secret-token-value');
  }, 30_000);

  it('MICROSOFT_APP_PASSWORD without MICROSOFT_APP_ID: /healthz shows teams degraded, naming the variable to set', async () => {
    const { body } = await healthOfHeadlessStart({ MICROSOFT_APP_PASSWORD: 's3cret-value' });
    expect(body.adapters.teams).toMatch(/^degraded: not running: MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not, so Teams does not start; set MICROSOFT_APP_ID to the bot's Microsoft App ID/);
  }, 30_000);

  it('nothing asked for: no platform is shown as not running', async () => {
    const { body } = await healthOfHeadlessStart({});
    expect(Object.keys(body.adapters)).toEqual(['console']);
  }, 30_000);
});

describe('onehand check-config warns about a chat platform asked for that would not run', () => {
  it('DISCORD_TOKEN without the ids: names the missing keys and variables (exit 0)', async () => {
    const r = await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', TEST_CONFIG)], '', { DISCORD_TOKEN: 'secret-token-value', DISCORD_APPLICATION_ID: '', DISCORD_GUILD_ID: '' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning: discord: a bot token is set (DISCORD_TOKEN) but discord.application_id (or env DISCORD_APPLICATION_ID) and discord.guild_id (or env DISCORD_GUILD_ID) are missing (in this environment): '
      + 'onehand start runs without discord (its log and /healthz say so); add application_id and guild_id under "discord:" in the config (application id: Developer Portal > General Information; guild id: Developer Mode > right-click the server > Copy Server ID), or set DISCORD_APPLICATION_ID and DISCORD_GUILD_ID in the environment\n');
  });

  it('the Discord ids in the config but no token: names the variable', async () => {
    const config = `${TEST_CONFIG}\ndiscord: { application_id: "123456789012345678", guild_id: "234567890123456789" }\n`;
    const r = await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', config)], '', { DISCORD_TOKEN: '' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: discord: discord.application_id is set (in the config or DISCORD_APPLICATION_ID) but there is no bot token: DISCORD_TOKEN is not set (in this environment): onehand start runs without discord');
  });

  it('Teams: an app id without its password (the start refuses), and a password without the app id', async () => {
    const file = writeFile(tempDir(), 'onehand.yaml', TEST_CONFIG);
    const noPassword = await runCli(['check-config', file], '', { MICROSOFT_APP_ID: '9e8f7a6b-1234-4cde-8f00-aabbccddeeff', MICROSOFT_APP_PASSWORD: '' });
    expect(noPassword.code).toBe(0);
    expect(noPassword.stderr).toContain('warning: teams: MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not (in this environment): onehand start refuses to start; set the client secret of the bot\'s app registration\n');
    const noId = await runCli(['check-config', file], '', { MICROSOFT_APP_ID: '', MICROSOFT_APP_PASSWORD: 's3cret-value' });
    expect(noId.stderr).toMatch(/^warning: teams: MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not, so Teams does not start \(in this environment\): onehand start runs without teams \(its log and \/healthz say so\); set MICROSOFT_APP_ID/);
    expect(noId.stderr).not.toContain('s3cret-value');
  });
});
