/** `onehand import` through the real bin: what an admin leaving PagerDuty, Opsgenie or Grafana OnCall runs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli, tempDir, writeFile } from './run-cli';

const FIX = 'test/fixtures/import';
const PD = ['schedule.json', 'escalation-policy.json', 'users.json'].map((f) => `${FIX}/pagerduty/${f}`);

describe('onehand import', () => {
  it('prints the config on standard output and each thing it could not map on standard error', async () => {
    const r = await runCli(['import', 'pagerduty', ...PD]);
    expect(r.stdout).toContain('# Onehand config imported from PagerDuty');
    expect(r.stdout).toMatch(/shift: 1d +# rotation_turn_length_seconds 86400/);
    expect(r.stderr).toContain('not imported: team daily-engineering-rotation: PagerDuty escalation policy "Another Escalation Policy" (PT20YPA), rule 1 also pages user Kyler Kuhn');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('writes --out, which check-config accepts, and will not overwrite it without --force', async () => {
    const dir = tempDir();
    const schedule = JSON.parse(fs.readFileSync(PD[0] as string, 'utf8'));
    schedule.schedule.schedule_layers[0].restrictions = [];
    const input = writeFile(dir, 'schedule.json', JSON.stringify(schedule));
    const out = path.join(dir, 'onehand.yaml');
    const r = await runCli(['import', 'pagerduty', input, PD[1] as string, PD[2] as string, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${out} \\(1 team, 1 member\\); 3 things not imported, listed on standard error and at the end of the file$`, 'm'));
    const check = await runCli(['check-config', out]);
    expect(check.stdout).toContain(`${out}: OK (1 team, 1 member`);
    const again = await runCli(['import', 'pagerduty', input, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${out} exists; choose another --out path, or add --force to replace it`);
    expect((await runCli(['import', 'pagerduty', input, '--out', out, '--force'])).code).toBe(0);
  });

  it('refuses an --out path in a missing folder, or a folder, with the fix (exit 2, no raw ENOENT, nothing written)', async () => {
    const dir = tempDir();
    const missing = path.join(dir, 'configs', 'onehand.yaml');
    const r = await runCli(['import', 'pagerduty', ...PD, '--out', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`onehand: --out ${missing}: the folder ${path.join(dir, 'configs')} does not exist; create it first (mkdir -p ${path.join(dir, 'configs')}) or choose a --out path in an existing folder`);
    expect(r.stderr).not.toContain('ENOENT');
    expect(r.stderr).not.toContain('not imported:');
    expect(fs.existsSync(path.join(dir, 'configs'))).toBe(false);
    const folder = await runCli(['import', 'pagerduty', ...PD, '--out', dir, '--force']);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`--out ${dir} is a folder; name the file to write, e.g. ${dir}/onehand.yaml`);
    expect(folder.stderr).not.toContain('EISDIR');
  });

  it('names an unknown tool (exit 2), an unreadable file, a file that is not JSON, and another tool\'s JSON (exit 1)', async () => {
    const unknown = await runCli(['import', 'victorops', 'x.json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('cannot import from "victorops"; the tools are pagerduty, opsgenie, grafana-oncall');
    const missing = await runCli(['import', 'opsgenie', '/nonexistent/schedule.json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('onehand: cannot read /nonexistent/schedule.json: no such file\n');
    const html = writeFile(tempDir(), 'page.json', '<html>401 Unauthorized</html>');
    const notJson = await runCli(['import', 'opsgenie', html]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain(`${html} is not JSON`);
    const wrong = await runCli(['import', 'grafana-oncall', `${FIX}/opsgenie/schedule.json`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('this looks like an Opsgenie response, not Grafana OnCall\'s: use "onehand import opsgenie"');
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
  });
});
