/**
 * The README's console demos, run as written (in a shell, through `npm start`): each starts from a
 * fresh database, so running it twice shows the same story (it used to show the first run's
 * incidents, with the simulated clock behind what they stored), and the quiet-hours walkthrough
 * says what really happens to the held sev3. Only `/tmp/` is swapped for a folder of this test's
 * own, so that it shares no file with a reader trying the demos meanwhile.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, tempDir } from './run-cli';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** demos: the README's shell blocks that run the bot on a database file of their own. */
function demos(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((block) => block.includes('ONEHAND_DATA=') && block.includes('npm start'));
}

function runDemo(block: string, dir: string): string {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DISCORD_|MICROSOFT_APP_|ONEHAND_)/.test(k)));
  const r = spawnSync('bash', ['-e', '-c', block.replaceAll('/tmp/', `${dir}/`)], { cwd: ROOT, env: clean, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the demo failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('the README demos', () => {
  it('each starts from a fresh database: run twice, it tells the same story', () => {
    const blocks = demos();
    expect(blocks).toHaveLength(2);
    const dir = tempDir();
    for (const block of blocks) {
      const first = runDemo(block, dir);
      expect(first).toContain('New incident #1');
      expect(runDemo(block, dir)).toBe(first);
    }
  }, 240_000);

  it('the quiet-hours walkthrough: the held sev3 reaches Dave at 06:00Z as the page it was, and no digest follows, as the README says', () => {
    const block = demos().find((b) => b.includes('typo on pricing page'));
    expect(block).toBeDefined();
    const out = runDemo(block ?? '', tempDir());
    expect(README).toContain('its page arrives at 06:00Z, 07:00 in Berlin, as the page\nit was; a digest follows only when other messages waited for him too, and here none did');
    expect(README).not.toMatch(/followed by\s+a digest of the rest/);
    expect(out).toContain('[2026-12-02 06:00Z] [direct → dave] @Dave Lister New incident #1 [sev3] typo on pricing page');
    expect(out).not.toMatch(/\[direct → dave\] While you were in quiet hours/);
  }, 120_000);
});
