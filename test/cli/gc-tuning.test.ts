/**
 * `onehand start` turns off V8's allocation-site pretenuring before the bot builds anything (see
 * src/runtime/gc-tuning.ts: a slow stretch used to tenure the request path's allocation sites for
 * the rest of the process's life, and the intake then spent 1.5-2.5x the CPU per request).
 *
 * V8 tells its pretenuring decisions with --trace-pretenuring (on standard output). A workload whose
 * objects all survive (one allocation site, all kept) is tenured by a default V8 within a few
 * young-generation collections: the control shows that on this Node, and the real `onehand start`
 * (through bin/onehand.js) must leave the same workload untenured. The trace flags are set at run
 * time right before the workload, so nothing the process did before (loading modules) is counted.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PRETENURING_FLAG, tuneGarbageCollector } from '../../src/runtime/gc-tuning';
import { ROOT, tempDir, writeFile } from './run-cli';

/** The workload: one allocation site whose objects all stay alive, then a line saying it ran. */
const WORKLOAD = `
  function workload() {
    const v8 = require('node:v8');
    v8.setFlagsFromString('--trace-pretenuring');
    v8.setFlagsFromString('--trace-pretenuring-statistics');
    const make = (i) => ({ n: i, list: [i] });
    const keep = [];
    for (let i = 0; i < 300000; i++) keep.push(make(i));
    process.stdout.write('workload kept ' + keep.length + '\\n');
  }`;

/**
 * A young generation of 1 MB: the workload's objects then go through many young collections on any
 * V8 (a newer V8's bigger young generation held them in one or two: no decision, now and then).
 */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=1';

/** tenured: how many allocation sites V8 decided to tenure, and whether the workload ran. */
function tenured(stdout: string): { decisions: number; ran: boolean } {
  return { decisions: stdout.split('\n').filter((l) => /pretenuring: .*=> tenure$/.test(l)).length, ran: stdout.includes('workload kept 300000') };
}

describe('onehand start turns off allocation-site pretenuring', () => {
  it('control: a default V8 tenures the workload (so the check below can fail)', () => {
    const out = spawnSync(process.execPath, [SMALL_YOUNG_GENERATION, '-e', `${WORKLOAD}; workload();`], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } });
    expect(out.status).toBe(0);
    expect(tenured(out.stdout).ran).toBe(true);
    expect(tenured(out.stdout).decisions).toBeGreaterThan(0);
  }, 30_000);

  it('onehand start: the flag is off before anything else starts, and the workload stays untenured', () => {
    // The probe watches node:v8's setFlagsFromString: once `onehand start` turns pretenuring off it
    // runs the workload in that process and exits (nothing of the bot has started yet).
    const dir = tempDir();
    const probe = writeFile(dir, 'probe.js', `
      const v8 = require('node:v8');
      const set = v8.setFlagsFromString;
      ${WORKLOAD}
      // Should start never turn it off, the bot would run on: stop after a while, without the line.
      setTimeout(() => process.exit(3), 15000).unref();
      v8.setFlagsFromString = (flags) => {
        set(flags);
        if (flags === '--no-${PRETENURING_FLAG}') {
          workload();
          process.exit(0);
        }
      };`);
    const out = spawnSync(process.execPath, [SMALL_YOUNG_GENERATION, '--require', probe, path.join(ROOT, 'bin', 'onehand.js'), 'start', '--no-console', '--config', path.join(ROOT, 'config', 'onehand.yaml')], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ONEHAND_CONFIG: '', NODE_OPTIONS: '', ONEHAND_DATA: path.join(dir, 'onehand.db') },
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(out.stderr).toBe('');
    expect(tenured(out.stdout)).toEqual({ decisions: 0, ran: true });
  }, 60_000);

  it("an operator who names the flag on node's command line keeps their choice (dashes or underscores)", () => {
    expect(tuneGarbageCollector(['--allocation-site-pretenuring'])).toBe(false);
    expect(tuneGarbageCollector(['--max-old-space-size=512', '--no_allocation_site_pretenuring'])).toBe(false);
  });
});
