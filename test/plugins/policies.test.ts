/**
 * Policies from a plugin: a third-party plugin (test/fixtures/policy-plugin, loaded by the real
 * plugin loader from config) contributes a rotation and an escalation policy; a team picks them in
 * config, and who is paged changes with no change to src/core or src/app. check-config names
 * unknown policies, bad policy settings and bad layers.
 */
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';
import { parseConfig } from '../../src/config';
import { BUILTIN_PLUGIN_NAMES, loadPlugins } from '../../src/runtime/plugin-loader';
import { ROOT, runCli, tempDir, writeFile } from '../cli/run-cli';
import { checkTeamPolicies } from '../../src/app/policies';
import { urgentToLead, weekdayOwner } from '../fixtures/policy-plugin';

const PLUGIN = 'plugins:\n  policy-example:\n    module: ./test/fixtures/policy-plugin\n';
const ROTATION = 'rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }';
const ESCALATION = 'escalation: { ack_timeout: 5m, renotify: 1, then: [mentor, lead] }';

function withPolicies(rotation: string, escalation: string, plugins = PLUGIN): string {
  return `${TEST_CONFIG.replace(ROTATION, rotation).replace(ESCALATION, escalation)}\n${plugins}`;
}

const OWNERS = 'rotation: { policy: weekday-owner, settings: { owners: { Tue: bob, Wed: alice } } }';
const URGENT = 'escalation: { policy: urgent-to-lead, settings: { urgent: [sev1], ack_timeout_seconds: 60 }, ack_timeout: 5m, renotify: 1, then: [mentor, lead] }';

function problemsFor(config: string): string[] {
  const parsed = parseConfig(config, undefined, BUILTIN_PLUGIN_NAMES);
  if (!parsed.ok) return parsed.problems.map((p) => `${p.path}: ${p.message}`);
  const loaded = loadPlugins(parsed.config.plugins, parsed.config.world, ROOT);
  return loaded.ok ? [] : loaded.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('a plugin contributes policies; a team picks them in config', () => {
  it('the plugin\'s rotation decides who is paged (bob owns Tuesdays), where the built-in pages dave', async () => {
    const builtIn = await Harness.start();
    await builtIn.report('zed', 'sev2 checkout is down');
    builtIn.expectMessage('dave', /New incident #1/);
    await builtIn.stop();

    const h = await Harness.start({ config: withPolicies(OWNERS, ESCALATION) });
    expect(await h.report('zed', 'sev2 checkout is down')).toContain('Bob is on call and has been paged');
    h.expectMessage('bob', /New incident #1/);
    h.expectNothingFor('dave', 'alice');
    // Wednesday belongs to alice; Thursday has no owner: a gap, which the lead holds.
    // The policy has no layers: its gaps are worded for it.
    const schedule = await h.run('carol', 'oncall schedule 1');
    expect(schedule).toMatch(/Tue 03 Mar 11:00 .* → Wed 04 Mar 09:00 .*Bob\n.*Wed 04 Mar 09:00 .* → Thu 05 Mar 09:00 .*Alice\n.*Thu 05 Mar 09:00 .* → .*Carol \(gap: the rotation policy "weekday-owner" names nobody; the lead holds it\)/);
    expect(schedule).not.toContain('layer');
    await h.advanceTo('2026-03-05T10:00:00Z');
    await h.report('zed', 'sev2 search is slow');
    h.expectMessage('carol', /New incident #2/);
    const timeline = await h.run('carol', 'incident show 2');
    expect(timeline).toContain('the rotation policy "weekday-owner" names nobody for this time: Carol, the lead, holds the gap');
    expect(timeline).not.toContain('layer');
    await h.stop();
  });

  it('the plugin\'s escalation plan is frozen on the incident: sev1 goes to the lead after 1 minute, also across a restart', async () => {
    const h = await Harness.start({ config: withPolicies(OWNERS, URGENT) });
    await h.report('zed', 'sev1 payments down');
    h.expectMessage('bob', /New incident #1/);
    await h.restart();
    await h.advance('1m');
    h.expectMessage('carol', /Escalated to you as lead/);
    h.expectNothingFor('bob', 'dave');
    // A sev2 keeps the team's plan: a reminder to bob after 5 minutes, then his mentor dave.
    await h.report('zed', 'sev2 slow refunds');
    h.expectMessage('bob', /New incident #2/);
    await h.advance('5m');
    h.expectMessage('bob', /Reminder: #2/);
    await h.advance('5m');
    h.expectMessage('dave', /Escalated to you as mentor/);
    await h.stop();
  });
});

const BROKEN = 'plugins:\n  broken-policy:\n    module: ./test/fixtures/broken-policy-plugin\n';
const BROKEN_ROTATION = 'rotation: { policy: broken-owner }';
const BROKEN_ESCALATION = 'escalation: { policy: broken-plan, ack_timeout: 5m, renotify: 1, then: [mentor, lead] }';

describe('a policy that throws', () => {
  it('check-config names the policy, the plugin, the error and the fix, and exits 1 (no OK, no gap advice)', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'broken.yaml', withPolicies(BROKEN_ROTATION, ESCALATION, BROKEN.replace('./test', `${ROOT}/test`)));
    const result = await runCli(['check-config', file, '--at', '2026-03-02T00:00:00+01:00']);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('OK');
    expect(result.stderr).toContain(`${file}: 1 problem:\n`);
    expect(result.stderr).toContain('teams[0].rotation.policy: the rotation policy "broken-owner" (plugin broken-policy) threw in schedule(): owners table is empty. ' +
      'The bot would answer with a gap: the lead (carol) is on call there, each time it asks; fix schedule() in the code of plugin broken-policy');
    expect(result.stderr).not.toContain('add a layer');
  });

  it('at run time the lead holds the gap, the base plan applies, and each failure is logged once a minute, saying what was answered', async () => {
    const h = await Harness.start({ config: withPolicies(BROKEN_ROTATION, BROKEN_ESCALATION, BROKEN) });
    expect(await h.report('zed', 'sev2 checkout is down')).toContain('Carol is on call and has been paged');
    h.expectMessage('carol', /New incident #1/);
    await h.run('carol', 'oncall who');
    await h.run('carol', 'oncall schedule 1');
    const failures = () => h.logger.entries.filter((e) => e.level === 'error' && e.msg.includes('threw in'));
    const schedule = failures().filter((e) => e.fields.call === 'schedule');
    expect(schedule).toHaveLength(1);
    expect(schedule[0]?.msg).toBe('the rotation policy "broken-owner" (plugin broken-policy) of team payments threw in schedule(): owners table is empty; answered with a gap: the lead (carol) is on call there');
    expect(failures().filter((e) => e.fields.call === 'plan').map((e) => e.msg)).toEqual([
      'the escalation policy "broken-plan" (plugin broken-policy) of team payments threw in plan(): no plan for this severity; answered with the team\'s base plan',
    ]);
    await h.advance('2m');
    await h.run('carol', 'oncall who');
    const again = failures().filter((e) => e.fields.call === 'schedule');
    expect(again).toHaveLength(2);
    expect(again[1]?.fields.repeatsSinceLastLog).toBeGreaterThan(0);
    await h.stop();
  });
});

describe('check-config and policies', () => {
  it('names an unknown policy, with the built-ins and the fix', () => {
    expect(problemsFor(withPolicies('rotation: { policy: weekday-owner, settings: {} }', ESCALATION, ''))).toEqual([
      'teams[0].rotation.policy: no rotation policy named "weekday-owner" (built-in: single, layered); a plugin\'s policy is available once the plugin is enabled under plugins: (with module: for a third-party one)',
    ]);
    expect(problemsFor(withPolicies(ROTATION, 'escalation: { policy: urgent-to-led }'))[0]).toMatch(
      /^teams\[0\]\.escalation\.policy: no escalation policy named "urgent-to-led" \(built-in: default; from plugins: urgent-to-lead \(plugin policy-example\)\)/,
    );
  });

  it('shows the plugin policy\'s own problems under teams[i].rotation.settings', () => {
    expect(problemsFor(withPolicies('rotation: { policy: weekday-owner, settings: { owners: { Tue: zed, Someday: bob } } }', ESCALATION))).toEqual([
      'teams[0].rotation.settings.owners.Tue: "zed" is not a member of team payments; name one of alice, bob, dave',
      'teams[0].rotation.settings.owners.Someday: "Someday" is not a weekday; write Mon, Tue, Wed, Thu, Fri, Sat or Sun',
    ]);
    expect(problemsFor(withPolicies('rotation: { policy: weekday-owner, shift: 1w, settings: {} }', ESCALATION))).toEqual([
      'teams[0].rotation.shift: "shift" belongs to the single rotation; the policy "weekday-owner" takes its settings under settings: (see the plugin\'s documentation)',
    ]);
  });

  it('refuses a policy name that clashes, worded for a built-in or for another plugin', () => {
    const parsed = parseConfig(TEST_CONFIG, undefined, BUILTIN_PLUGIN_NAMES);
    if (!parsed.ok) throw new Error('TEST_CONFIG does not load');
    const problems = (sources: Parameters<typeof checkTeamPolicies>[1]) => checkTeamPolicies(parsed.config.world, sources).map((p) => `${p.path}: ${p.message}`);
    expect(problems([{ name: 'esc', policies: { escalation: { default: urgentToLead } } }])).toEqual([
      'plugins.esc: contributes an escalation policy named "default", which is the name of a built-in policy; rename the policy in the plugin (the built-in names are default)',
    ]);
    expect(problems([{ name: 'one', policies: { rotation: { owners: weekdayOwner } } }, { name: 'two', policies: { rotation: { owners: weekdayOwner } } }])).toEqual([
      'plugins.two: contributes a rotation policy named "owners", which plugin one contributes too; rename the policy in one of the plugins, or enable only one of the two plugins',
    ]);
  });

  it('lists every problem of a restriction at once (a bad time and a bad weekday)', () => {
    const layers = withPolicies('rotation:\n      layers:\n        - { name: nights, members: [bob], shift: 1d, handoff: "18:00", start: 2026-01-05, restrictions: [{ days: [Mon, Funday, Mon], from: "25:00", to: "09:00" }] }', ESCALATION, '');
    expect(problemsFor(layers)).toEqual([
      'teams[0].rotation.layers[0].restrictions[0].days: "Funday" is not a weekday; write Mon, Tue, Wed, Thu, Fri, Sat or Sun',
      'teams[0].rotation.layers[0].restrictions[0].days: "Mon" is listed twice; list each weekday once',
      'teams[0].rotation.layers[0].restrictions[0].from: "25:00" is not a time ("18:00") or a weekday and time ("Sat 09:00")',
    ]);
  });

  it('refuses bad layers, naming the layer key and the fix', () => {
    const layers = (text: string) => withPolicies(`rotation:\n      layers:\n${text}`, ESCALATION, '');
    const problems = problemsFor(layers([
      '        - { name: nights, members: [bob, zed], shift: 1d, handoff: "18:00", start: 2026-01-05, restrictions: [{ days: [Mon, Fry], from: "18:00", to: "09:00" }] }',
      '        - { name: nights, members: [alice], handoff: "Mon 09:00", start: 2026-01-05, restrictions: [{ from: "Sat 09:00", to: "09:00" }] }',
      '        - { name: days, members: [carol], handoff: "Mon 09:00" }',
    ].join('\n')));
    expect(problems).toEqual([
      expect.stringMatching(/^teams\[0\]\.rotation\.layers\[0\]\.members\[1\]: no member with id "zed"/),
      'teams[0].rotation.layers[0].restrictions[0].days: "Fry" is not a weekday; write Mon, Tue, Wed, Thu, Fri, Sat or Sun',
      'teams[0].rotation.layers[1].name: "nights" is already the name of layers[0]; give each layer a unique name',
      'teams[0].rotation.layers[1].restrictions[0].to: "09:00" has no weekday while "Sat 09:00" has one; a weekly window names both (e.g. from "Sat 09:00" to "Mon 09:00"), a daily one neither (with days: [...])',
      'teams[0].rotation.layers[2].start: missing; add "start:" with an ISO date such as 2026-01-05',
    ]);
    expect(problemsFor(withPolicies('rotation:\n      members: [alice]\n      layers: [{ name: a, members: [alice], handoff: "Mon 09:00", start: 2026-01-05, shadow: true }]', ESCALATION, ''))).toEqual([
      'teams[0].rotation.members: with layers, each layer has its own members, shift, handoff and start; move "members" into the layers (or remove layers for a single rotation)',
    ]);
    expect(problemsFor(withPolicies('rotation:\n      layers: [{ name: a, members: [alice], handoff: "Mon 09:00", start: 2026-01-05, shadow: true }]', ESCALATION, ''))).toEqual([
      'teams[0].rotation.layers: every layer is a shadow layer, so nobody would be paged; add a layer without "shadow: true"',
    ]);
  });

  it('check-config words the gaps of a policy without layers for that policy', async () => {
    const file = writeFile(tempDir(), 'owners.yaml', withPolicies(OWNERS, ESCALATION, PLUGIN.replace('./test', `${ROOT}/test`)));
    const result = await runCli(['check-config', file, '--at', '2026-03-02T00:00:00+01:00']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: teams[0].rotation (payments): 5 gaps in the next 4 weeks where the rotation policy "weekday-owner" names nobody (Europe/Berlin): Mon 02 Mar 00:00 → Tue 03 Mar 09:00; ');
    expect(result.stderr).toContain('The lead (carol) holds them; change the team\'s rotation.settings so that the policy "weekday-owner" names someone then');
    expect(result.stderr).not.toContain('layer');
  });

  it('check-config exits 1 on an unknown policy and warns (exit 0) about gaps in a layered schedule', async () => {
    const dir = tempDir();
    const unknown = writeFile(dir, 'unknown.yaml', withPolicies('rotation: { policy: follow-the-moon }', ESCALATION, ''));
    const bad = await runCli(['check-config', unknown]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('teams[0].rotation.policy: no rotation policy named "follow-the-moon"');
    const layered = writeFile(dir, 'layered.yaml', withPolicies([
      'rotation:',
      '      layers:',
      '        - { name: weekdays, members: [alice, bob], shift: 1w, handoff: "Mon 09:00", start: 2026-01-05, restrictions: [{ days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "18:00" }] }',
      '        - { name: weekends, members: [dave], shift: 1w, handoff: "Mon 09:00", start: 2026-01-05, restrictions: [{ from: "Sat 09:00", to: "Mon 09:00" }] }',
    ].join('\n'), ESCALATION, ''));
    const ok = await runCli(['check-config', layered, '--at', '2026-03-02T00:00:00+01:00']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('warning: teams[0].rotation (payments): 20 gaps in the next 4 weeks where no layer has anyone (Europe/Berlin): Mon 02 Mar 18:00 → Tue 03 Mar 09:00; Tue 03 Mar 18:00 → Wed 04 Mar 09:00; Wed 04 Mar 18:00 → Thu 05 Mar 09:00; and 17 more. The lead (carol) holds them; add a layer or widen a layer\'s restrictions to cover them');
  });
});
