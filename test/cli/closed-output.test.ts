/**
 * A reader that stops early (`onehand schedule ... | head -1`, `onehand start ... | head`) closes
 * the pipe under the command: a one-shot command ends quietly with 0, a running bot stops
 * gracefully (the line it was handling commits, no later one is read) and exits 1, so that a
 * supervisor restarting on failure brings it back. Never a stack trace.
 */
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { spawnCli, tempDir, writeFile } from './run-cli';

/** closeAfterFirstOutput: the child's stdout is closed by its reader after the first chunk. */
function closeAfterFirstOutput(args: string[], input: string, env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.once('data', () => child.stdout?.destroy());
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    child.stdin?.end(input);
  });
}

describe('standard output closed by its reader', () => {
  it('a long schedule piped into a reader that stops after its first line ends with 0 and no stack trace', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const result = await closeAfterFirstOutput(['schedule', '--config', config, '--team', 'payments', '--from', '2026-01-01', '--to', '2028-12-31'], '', {});
    expect(result).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('a console bot whose output reader goes away stops gracefully and exits 1 (a supervisor restarts it), with one warning and no error', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const lines = ['as zed', 'oncall who', ...Array.from({ length: 30 }, (_, i) => `incident report disk ${i} full`)].join('\n');
    const result = await closeAfterFirstOutput(['start', '--config', config, '--clock', 'simulated@2026-03-03T10:00:00Z'], `${lines}\n`, {
      ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_LOG_LEVEL: 'info',
    });
    expect(result.code).toBe(1);
    expect(result.signal).toBeNull();
    const logged = result.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logged.filter((l) => l.level === 'error' || l.level === 'warn').map((l) => `${l.level} ${l.msg}`))
      .toEqual(['warn standard output was closed by its reader: stopping (exit code 1)']);
    expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});
