/**
 * `onehand start` outside a terminal: with standard input at /dev/null (docker run -d, systemd) or
 * with --no-console it runs headless until SIGTERM; a console whose input stays open stops on
 * SIGTERM too. `bin/onehand.js` runs from any folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { ROOT, tempDir, writeFile } from './run-cli';

const BIN = path.join(ROOT, 'bin', 'onehand.js');

interface Running {
  readonly child: ChildProcess;
  readonly port: Promise<number>;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  stdout(): string;
  stderr(): string;
}

/** startBot spawns `onehand start` on a random HTTP port; `stdin` as for child_process.spawn. */
function startBot(args: string[], stdin: 'ignore' | 'pipe', cwd = ROOT): Running {
  const dir = tempDir();
  const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
  const child = spawn(process.execPath, [BIN, 'start', '--config', config, ...args], {
    cwd,
    env: { ...process.env, ONEHAND_CONFIG: '', ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_HTTP_PORT: '0', ONEHAND_LOG_LEVEL: 'info' },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const port = new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"http":"[^"]*:(\d+)"/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${err}`)));
  });
  port.catch(() => undefined);
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, exit, stdout: () => out, stderr: () => err };
}

async function healthz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
}

describe('onehand start without a terminal', () => {
  it('runs headless when standard input is /dev/null, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const bot = startBot([], 'ignore');
    const port = await bot.port;
    expect(await healthz(port)).toBe(200);
    // Still running after its (empty) input: a second request is answered by the same process.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await healthz(port)).toBe(200);
    expect(bot.child.exitCode).toBeNull();
    expect(bot.stderr()).toContain('no console input');
    // The image's HEALTHCHECK script follows ONEHAND_HTTP_PORT.
    expect(spawnSync(process.execPath, [path.join(ROOT, 'bin', 'healthcheck.js')], { env: { ...process.env, ONEHAND_HTTP_PORT: String(port) } }).status).toBe(0);
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toEqual({ code: 0, signal: null });
    // The stop is in the log: the signal, then the end.
    expect(bot.stderr()).toMatch(/"msg":"stopping: signal received; in-flight work finishes first","signal":"SIGTERM"[\s\S]*"msg":"onehand stopped"/);
  });

  it('--no-console ignores a pipe that closes and keeps running until SIGTERM', async () => {
    const bot = startBot(['--no-console'], 'pipe');
    bot.child.stdin?.end('as zed\nincident report ignored\n');
    const port = await bot.port;
    expect(await healthz(port)).toBe(200);
    // No chat platform and nobody reading: /healthz says its pages reach no person (not a 503).
    const body = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as { adapters: Record<string, string> };
    expect(body.adapters.console).toMatch(/^degraded: no chat platform runs, and nobody reads this console: pages are only printed on standard output, where they page nobody; configure Discord/);
    expect(bot.stderr()).not.toContain('it keeps trying');
    expect(bot.child.exitCode).toBeNull();
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toEqual({ code: 0, signal: null });
    expect(bot.stdout()).toBe(''); // the piped lines were not read as commands
  });

  it('a console whose input stays open stops on SIGTERM', async () => {
    const bot = startBot([], 'pipe');
    const port = await bot.port;
    bot.child.stdin?.write('as zed\noncall who\n');
    expect(await healthz(port)).toBe(200);
    const body = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as { adapters: Record<string, string> };
    expect(body.adapters.console).toBe('ok'); // someone reads this console
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toEqual({ code: 0, signal: null });
  });

  it('--no-console with a simulated clock is a usage error', async () => {
    const bot = startBot(['--no-console', '--clock', 'simulated@2026-03-03T10:00:00Z'], 'ignore');
    expect((await bot.exit).code).toBe(2);
    expect(bot.stderr()).toContain('a simulated clock only moves with console "advance" lines');
  });
});

describe('bin/onehand.js from another folder', () => {
  it('runs the sources with the project\'s tsconfig, not the current folder\'s', async () => {
    const elsewhere = tempDir();
    writeFile(elsewhere, 'tsconfig.json', '{ "compilerOptions": { "experimentalDecorators": false } }');
    const bot = startBot([], 'pipe', elsewhere);
    bot.child.stdin?.end('as zed\noncall who\n');
    const { code } = await bot.exit;
    expect(bot.stderr()).not.toContain('Transform failed');
    expect(code).toBe(0);
    expect(bot.stdout()).toContain('On call for Payments');
  });
});
