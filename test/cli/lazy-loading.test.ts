/**
 * A lighter process: `onehand` loads discord.js, botbuilder, pg and jszip only when they are used.
 * A child process loads the CLI with the shipped example config and runs every platform factory,
 * then lists the heavy packages in its module cache: none without credentials; discord.js once a
 * Discord token is set, botbuilder once Teams is enabled.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './run-cli';

const HEAVY = /node_modules[\\/](discord\.js|botbuilder|pg|jszip)[\\/]/;

function loadedWith(env: Record<string, string>): string[] {
  const script = `
    process.env.TSX_TSCONFIG_PATH = ${JSON.stringify(path.join(ROOT, 'tsconfig.json'))};
    require('tsx/cjs');
    const fs = require('node:fs');
    require('./src/cli/main.ts');
    const { PLATFORMS } = require('./src/cli/platforms.ts');
    const { parseConfig } = require('./src/config');
    const { HttpServer } = require('./src/http/server');
    const { JsonLogger } = require('./src/runtime/logger');
    const { SystemClock } = require('./src/runtime/clock');
    const { BUILTIN_PLUGIN_NAMES } = require('./src/runtime/plugin-loader');
    const parsed = parseConfig(fs.readFileSync('config/onehand.yaml', 'utf8'), undefined, BUILTIN_PLUGIN_NAMES);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const logger = new JsonLogger('error');
    const started = PLATFORMS.map((f) => f({ config: parsed.config, env: process.env, clock: new SystemClock(), logger, http: new HttpServer(logger) }));
    const heavy = new Set(Object.keys(require.cache).map((k) => (${HEAVY.toString()}.exec(k) || [])[1]).filter(Boolean));
    process.stdout.write(JSON.stringify({ started: started.filter(Boolean).length, heavy: [...heavy].sort() }));
    process.exit(0);
  `;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DISCORD_|MICROSOFT_APP_|ONEHAND_TEAMS)/.test(k)));
  const out = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 });
  if (out.status !== 0) throw new Error(`child failed (${out.status}): ${out.stderr}`);
  const result = JSON.parse(out.stdout) as { started: number; heavy: string[] };
  return [`started ${result.started}`, ...result.heavy];
}

describe('onehand loads platform SDKs only when configured', () => {
  it('without credentials: neither discord.js, botbuilder, pg nor jszip is loaded', () => {
    expect(loadedWith({})).toEqual(['started 0']);
  }, 60_000);

  it('with a Discord token: discord.js is loaded (and only it)', () => {
    expect(loadedWith({ DISCORD_TOKEN: 'token', DISCORD_APPLICATION_ID: '1', DISCORD_GUILD_ID: '2' })).toEqual(['started 1', 'discord.js']);
  }, 60_000);

  it('with Teams enabled: botbuilder is loaded (and only it)', () => {
    expect(loadedWith({ ONEHAND_TEAMS: '1' })).toEqual(['started 1', 'botbuilder']);
  }, 60_000);
});
