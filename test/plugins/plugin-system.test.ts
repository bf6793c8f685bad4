import * as path from 'node:path';
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';
import { parseConfig } from '../../src/config';
import { BUILTIN_PLUGIN_NAMES, loadPlugins } from '../../src/runtime/plugin-loader';
import { runCli, tempDir, writeFile } from '../cli/run-cli';

const ROOT = path.resolve(__dirname, '..', '..');

function problemsFor(plugins: string): string[] {
  const parsed = parseConfig(`${TEST_CONFIG}\nplugins:\n${plugins}`, undefined, BUILTIN_PLUGIN_NAMES);
  if (!parsed.ok) return parsed.problems.map((p) => `${p.path}: ${p.message}`);
  const loaded = loadPlugins(parsed.config.plugins, parsed.config.world, ROOT);
  return loaded.ok ? [] : loaded.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('plugins: loading and config', () => {
  it('refuses invalid plugin settings at start, naming the key', () => {
    expect(problemsFor('  quiet-hours:\n    defaults: { nights: "22:00-25:00" }\n    members: { zoe: {} }\n    urgnt: [sev1]\n')).toEqual([
      'plugins.quiet-hours.urgnt: unknown key; did you mean "urgent"? (keys: urgent, escalation, defaults, teams, members)',
      'plugins.quiet-hours.defaults.nights: "22:00-25:00" is not a time window; write "22:00-07:00" (or false for none)',
      'plugins.quiet-hours.members.zoe: "zoe" is not a member id (members[].id)',
    ]);
    expect(problemsFor('  handoff-summary: { next_shifts: -1 }\n')).toEqual(['plugins.handoff-summary.next_shifts: -1 is not a whole number from 0 to 10']);
    expect(problemsFor('  quiet-hour: {}\n')[0]).toMatch(/^plugins.quiet-hour: no plugin named "quiet-hour" .*did you mean "quiet-hours"\?/);
    expect(problemsFor('  tally: { module: ./plugins/nope }\n')[0]).toMatch(/^plugins.tally.module: cannot find ".\/plugins\/nope"; install the npm package, or give a path/);
  });

  it('check-config reports plugin problems with exit 1', async () => {
    const file = writeFile(tempDir(), 'onehand.yaml', `${TEST_CONFIG}\nplugins:\n  handoff-summary: { nxt: 1 }\n`);
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('plugins.handoff-summary.nxt: unknown key; the only setting is next_shifts');
  });

  it('loads a third-party plugin from a path; its command appears in the grammar and in help', async () => {
    const h = await Harness.start({ config: `${TEST_CONFIG}\nplugins:\n  tally:\n    module: ./plugins/example-counter\n    title: Reported\n` });
    await h.run('zed', 'incident report sev2 one');
    await h.run('zed', 'incident report sev2 two');
    await h.run('zed', 'incident report sev1 three');
    expect(await h.run('alice', 'incident tally')).toBe('Reported for Payments: sev1: 1, sev2: 2, sev3: 0, sev4: 0');
    expect(await h.run('alice', 'help')).toContain('incident tally [--team TEAM] — Count the incidents reported');
    expect(await h.run('zed', 'incident tally')).toContain('Only members of the team may do this');
    await h.stop();
  });
});

describe('plugins: decisions on escalation pages', () => {
  it('a dropped mentor page is not counted as an escalation: the lead is paged at that step instead', async () => {
    const h = await Harness.start({ config: `${TEST_CONFIG}\nplugins:\n  drop:\n    module: ./test/plugins/fixtures/drop-mentor-plugin\n` });
    await h.run('zed', 'incident report sev2 checkout down');
    await h.advance('10m');
    h.expectNothingFor('alice');
    expect(h.expectMessage('carol', /Escalated to you as lead/).at).toBe('2026-03-03T10:10:00.000Z');
    expect(await h.run('carol', 'incident show 1')).toContain('escalation step skipped: mentors are never paged here');
    await h.stop();
  });
});

describe('plugins: a dropped page is never reported as sent', () => {
  it('the report, a reporter\'s note and the timeline say the page was held back, and why', async () => {
    const h = await Harness.start({ config: `${TEST_CONFIG}\nplugins:\n  drop:\n    module: ./test/plugins/fixtures/drop-sev4-plugin\n` });
    expect(await h.run('zed', 'incident report sev4 a typo on the pricing page')).toContain('Dave is on call and was not paged: a plugin held the page back (sev4 pages nobody here); the next person in the chain is paged now');
    expect(await h.run('zed', 'incident note 1 it is on the German page')).toBe('Your note is on #1; it was not sent to Dave (sev4 pages nobody here).');
    expect(await h.run('carol', 'incident show 1')).toContain('page to Dave dropped (drop): sev4 pages nobody here');
    h.expectNothingFor('dave');
    // The chain does not wait out ack timeouts for pages nobody got: the mentor has it at once.
    await h.advance('1s');
    expect(h.expectMessage('alice', /Escalated to you as mentor.*#1 \[sev4\] a typo/s).at).toBe('2026-03-03T10:00:00.000Z');
    h.expectNothingFor('dave');
    await h.stop();
  });
});

describe('plugins: a hook that never returns', () => {
  it('the page, the escalation and other commands go on past its deadline; /healthz names it; a late write through its call is refused', async () => {
    const h = await Harness.start({ config: `${TEST_CONFIG}\nplugins:\n  hanging:\n    module: ./test/plugins/fixtures/hanging-plugin\n`, hookDeadlineMs: 200 });
    await h.run('zed', 'incident report sev2 checkout down');
    h.expectMessage('dave', /New incident #1/);
    const health = await h.app.health();
    expect(health.ok).toBe(false);
    expect(health.plugins.hanging).toMatch(/^failing: \d+ error\(s\), last at .*: beforeNotify: did not return within 0.2 s \(a hook must not wait for anything slow/);
    // Its own timer (due at 1m) hangs too; the escalation behind it still runs.
    await h.advance('5m');
    h.expectMessage('dave', /Reminder/);
    expect(h.logger.entries.some((e) => e.msg.startsWith('plugin hook failed') && e.fields.hook === 'onTimer')).toBe(true);
    // A command that never answers is refused with the reason, and the bot answers the next one.
    expect(await h.run('zed', 'incident stall')).toBe('The hanging plugin\'s command did not answer within 0.2 s; nothing was changed. Try again later; an admin finds the details in Onehand\'s log.');
    expect(await h.run('dave', 'incident ack 1')).toMatch(/acknowledged/i);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { leaked } = await import('./fixtures/hanging-plugin');
    expect(leaked.error).toBe('plugin hanging: this call ended with its onIncidentEvent hook; a hook must await its work before it returns');
    await h.stop();
  });
});

describe('plugins: isolation', () => {
  it('a plugin that throws does not stop a page, and /healthz shows it failing', async () => {
    const h = await Harness.start({ config: `${TEST_CONFIG}\nplugins:\n  broken:\n    module: ./test/plugins/fixtures/throwing-plugin\n` });
    await h.run('zed', 'incident report sev2 checkout down');
    h.expectMessage('dave', /New incident #1/);
    const health = await h.app.health();
    expect(health.ok).toBe(false);
    expect(health.plugins.broken).toMatch(/^failing: \d+ error\(s\), last at .*: (beforeNotify|onIncidentEvent): boom$/);
    await h.advance('5m');
    h.expectMessage('dave', /Reminder/);
    await h.stop();
  });
});
