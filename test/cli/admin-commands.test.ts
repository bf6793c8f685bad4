/** check-config, who and schedule: what an admin runs before going live. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { runCli, tempDir, writeFile } from './run-cli';

const env = () => ({ ONEHAND_DATA: path.join(tempDir(), 'none', 'onehand.db') });

describe('onehand check-config', () => {
  it('accepts the shipped example', async () => {
    const r = await runCli(['check-config', 'config/onehand.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^config\/onehand.yaml: OK \(2 teams, 6 members, plugins: handoff-summary, quiet-hours\)$/m);
  });

  it('refuses with exit 1 and every problem named by its key path', async () => {
    const dir = tempDir();
    const broken = TEST_CONFIG
      .replace('{ id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob }', '{ id: alice, name: Alice, time_zone: Mars/Olympus, mentor: alice }')
      .replace('handoff: "Mon 09:00"', 'handoff: "Mon 25:00"')
      .replace('ack_timeout: 5m', 'ack_timeout: soon')
      .replace('members: [erin, frank]', 'members: [erin, frank, zoe]')
      .replace('    lead: frank', '    lead: frank\n    rotaton: {}');
    const file = writeFile(dir, 'broken.yaml', broken);
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(1);
    for (const expected of [
      'members[0].time_zone',
      'members[0].mentor',
      'teams[0].rotation.handoff: "Mon 25:00" is not a weekday and time (e.g. "Mon 09:00")',
      'teams[0].escalation.ack_timeout',
      'teams[1].members[2]',
      'teams[1].rotaton',
    ]) {
      expect(r.stderr).toContain(expected);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain('plugins\' own settings'); // it configures no plugin
    // A plugin's settings wait for the members and teams: the output says they were not checked yet.
    const withPlugin = await runCli(['check-config', writeFile(dir, 'plugin.yaml', `${broken}\nplugins:\n  quiet-hours:\n    urgent: [sev2]\n`)]);
    expect(withPlugin.code).toBe(1);
    expect(withPlugin.stderr).toMatch(/\nthe plugins' own settings are checked once these are fixed \(they are read against the members and teams\)\n$/);
  });

  it('warns (exit 0) when an integration\'s secret variable is not set in this environment', async () => {
    const file = writeFile(tempDir(), 'onehand.yaml', `${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: ONEHAND_TEST_UNSET_TOKEN }\n`);
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: integrations[0].token_env (prom): environment variable ONEHAND_TEST_UNSET_TOKEN is not set');
    const set = await runCli(['check-config', file], '', { ONEHAND_TEST_UNSET_TOKEN: 'x', ONEHAND_HTTP_PORT: '8080' });
    expect(set.stderr).toBe('');
  });

  it('warns (exit 0) about members a team may page with no id on a platform switched on (their pages reach nobody where the team has no channel there either), and teams without a channel there', async () => {
    const config = `${TEST_CONFIG.replace('{ id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob }', '{ id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob, discord: "812345678901234567" }')}
discord: { application_id: "123456789012345678", guild_id: "234567890123456789" }
`.replace('    lead: frank\n', '    lead: frank\n    channels: { discord: "323456789012345678" }\n');
    const r = await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', config)]);
    expect(r.code).toBe(0);
    // Payments has no Discord channel: a page to Dave has nowhere to go, not "the team channel instead".
    expect(r.stderr).toContain('warning: teams[0] (payments): Dave (dave) has no id on discord: pages to them reach nobody (the team has no channel on discord either), and the chain moves on to the next person at once; add discord: "<id>" to members[3]');
    expect(r.stderr).not.toMatch(/teams\[0\] \(payments\).*go to the team channel instead/);
    expect(r.stderr).toContain('warning: teams[0] (payments): no team channel on discord');
    // Search has one: a page to Frank goes there, where it pings nobody.
    expect(r.stderr).toContain('warning: teams[1] (search): Frank (frank) has no id on discord: pages to them go to the team channel instead, where they ping nobody, and the chain moves on to the next person at once; add discord: "<id>" to members[5]');
    expect(r.stderr).not.toContain('(alice) has no id');
    expect(r.stderr).not.toContain('teams[1] (search): no team channel');
    // Without a platform switched on (the console reaches everyone), nothing to say.
    expect((await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', TEST_CONFIG)])).stderr).toBe('');
  });

  it('warns (exit 0) about an Etc/GMT zone, whose sign is the other way round, saying what it means and the fix', async () => {
    const config = TEST_CONFIG.replace('{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice }', '{ id: dave, name: Dave, time_zone: Etc/GMT+5, mentor: alice }');
    expect(config).not.toBe(TEST_CONFIG);
    const r = await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', config)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning: members[3].time_zone (dave): "Etc/GMT+5" is UTC-05:00, not what it seems (the Etc/GMT zones count the other way round); if UTC-05:00 is meant, better write the place (a place knows its daylight saving rules), and if not, Etc/GMT-5\n');
    // Etc/GMT itself (UTC) is plain.
    const utc = await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', config.replace('Etc/GMT+5', 'Etc/GMT'))]);
    expect(utc.stderr).toBe('');
    // The config takes the zone in any case: so does the warning.
    const lower = await runCli(['check-config', writeFile(tempDir(), 'onehand.yaml', config.replace('Etc/GMT+5', 'etc/gmt+5'))]);
    expect(lower.stderr).toContain('"etc/gmt+5" is UTC-05:00, not what it seems');
  });

  it('calendar-link prints the feed links from ONEHAND_CALENDAR_SECRET, and without it fails (exit 1) naming the variable', async () => {
    const file = writeFile(tempDir(), 'onehand.yaml', TEST_CONFIG);
    const without = await runCli(['calendar-link', '--config', file, '--team', 'payments'], '', { ...env(), ONEHAND_CALENDAR_SECRET: '' });
    expect(without.code).toBe(1);
    expect(without.stderr).toBe('onehand: ONEHAND_CALENDAR_SECRET is not set; the links are derived from it (set the same value as the bot\'s)\n');
    const withIt = await runCli(['calendar-link', '--config', file, '--team', 'payments', '--base', 'https://oncall.example'], '', { ...env(), ONEHAND_CALENDAR_SECRET: 's3cret' });
    expect(withIt.code).toBe(0);
    expect(withIt.stdout).toMatch(/^payments: https:\/\/oncall\.example\/calendar\/payments\.ics\?token=[\w-]+$/m);
    expect(withIt.stdout).toMatch(/^payments\/alice: https:\/\/oncall\.example\/calendar\/payments\/alice\.ics\?token=[\w-]+$/m);
  });

  it('refuses a bad --at with one usage error (exit 2) before checking: no OK first', async () => {
    const r = await runCli(['check-config', 'config/onehand.yaml', '--at', 'tomorrow']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^onehand: --at "tomorrow" is not an ISO date-time \(e\.g\. 2026-03-30T09:00:00\+02:00, or 2026-03-30 read in each team's time zone\)\n/);
    expect(r.stderr.match(/is not an ISO date-time/g)).toHaveLength(1);
  });

  it('checks one file: a second one (or a path and --config) is a usage error, not ignored', async () => {
    const two = await runCli(['check-config', 'config/onehand.yaml', 'other.yaml']);
    expect([two.code, two.stdout]).toEqual([2, '']);
    expect(two.stderr).toMatch(/^onehand: one config file at a time; got 2: config\/onehand.yaml other.yaml\n/);
    const both = await runCli(['check-config', 'config/onehand.yaml', '--config', 'other.yaml']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^onehand: give the config file once: config\/onehand.yaml or --config other.yaml\n/);
  });

  it('names a missing file instead of crashing', async () => {
    const r = await runCli(['check-config', '/nonexistent/onehand.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/onehand.yaml');
  });
});

describe('onehand who and schedule', () => {
  let config: string;
  beforeAll(() => {
    config = writeFile(tempDir(), 'onehand.yaml', TEST_CONFIG);
  });

  it('who --at names the member of that shift', async () => {
    const r = await runCli(['who', '--config', config, '--team', 'payments', '--at', '2026-03-03T10:00:00Z'], '', env());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('dave (Dave) is on call for payments from 2026-03-02T09:00:00+01:00 to 2026-03-09T09:00:00+01:00\n');
  });

  it('who and schedule count the time off the config declares (quiet-hours time_off), before the bot ever ran as after', async () => {
    // The shipped example: Frank is off from 24 December to 1 January; the bot would tell Erin she covers.
    const before = await runCli(['who', '--config', 'config/onehand.yaml', '--team', 'search', '--at', '2026-12-24T12:00'], '', env());
    expect([before.code, before.stdout]).toEqual([0, 'erin (Erin Hannon) is on call for search from 2026-12-24T08:30:00-05:00 to 2026-12-25T08:30:00-05:00\n']);
    const dir = tempDir();
    const ran = { ONEHAND_DATA: path.join(dir, 'onehand.db') };
    expect((await runCli(['migrate', '--config', 'config/onehand.yaml'], '', ran)).code).toBe(0); // a database without the declared absences
    const schedule = await runCli(['schedule', '--config', 'config/onehand.yaml', '--team', 'search', '--from', '2026-12-24T00:00', '--to', '2026-12-27T00:00', '--json'], '', ran);
    expect((JSON.parse(schedule.stdout) as Array<{ member: string }>).map((s) => s.member)).toEqual(['erin', 'erin', 'erin', 'erin']);
  });

  it('schedule --json is exact across the Berlin spring-forward week', async () => {
    const r = await runCli(['schedule', '--config', config, '--team', 'payments', '--from', '2026-03-23T09:00:00+01:00', '--to', '2026-04-13T09:00:00+02:00', '--json'], '', env());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      // 2026-03-23 is week 11 since 2026-01-05: 11 mod 3 = 2 -> dave
      { member: 'dave', start: '2026-03-23T09:00:00+01:00', end: '2026-03-30T09:00:00+02:00', override: false },
      { member: 'alice', start: '2026-03-30T09:00:00+02:00', end: '2026-04-06T09:00:00+02:00', override: false },
      { member: 'bob', start: '2026-04-06T09:00:00+02:00', end: '2026-04-13T09:00:00+02:00', override: false },
    ]);
  });

  it('schedule --json for daily New York shifts across the November fall-back', async () => {
    const r = await runCli(['schedule', '--config', config, '--team', 'search', '--from', '2026-10-31T08:00:00-04:00', '--to', '2026-11-02T08:00:00-05:00', '--json'], '', env());
    const shifts = JSON.parse(r.stdout) as Array<{ start: string; end: string }>;
    expect(shifts.map((s) => [s.start, s.end])).toEqual([
      ['2026-10-31T08:00:00-04:00', '2026-11-01T08:00:00-05:00'],
      ['2026-11-01T08:00:00-05:00', '2026-11-02T08:00:00-05:00'],
    ]);
  });

  it('bad arguments are usage errors (exit 2) that say what to fix', async () => {
    const noTeam = await runCli(['who', '--config', config], '', env());
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toContain('--team is required (teams: payments, search)');
    const badDate = await runCli(['schedule', '--config', config, '--team', 'payments', '--from', 'yesterday', '--to', '2026-04-01'], '', env());
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--from "yesterday" is not an ISO date-time');
    // The message, then that command's usage only (not every command's, which buried the message).
    expect(badDate.stderr.split('\n').slice(1)).toEqual([
      '',
      'Usage:',
      '  schedule      shifts in a window: onehand schedule --team T --from ISO --to ISO [--json]',
      "                  (at most three years; shifts are cut at the window's edges)",
      '',
      '(onehand help lists every command; every command but import, help and version takes --config PATH)',
      '',
    ]);
    // A command's --help (or `onehand help COMMAND`) is its usage, exit 0; --version the version.
    for (const args of [['who', '--help'], ['help', 'who'], ['who', '--team', 'payments', '-h']]) {
      const help = await runCli(args, '', env());
      expect([help.code, help.stderr]).toEqual([0, '']);
      expect(help.stdout).toMatch(/^Usage:\n {2}who {11}who is on call: onehand who --team T/);
    }
    const version = await runCli(['--version'], '', env());
    expect([version.code, version.stdout]).toEqual([0, `onehand ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`]);
    // An option given twice, or words a command does not take, are refused (not the last or none silently used).
    const twice = await runCli(['who', '--team', 'payments', '--team', 'search'], '', env());
    expect([twice.code, twice.stdout]).toEqual([2, '']);
    expect(twice.stderr).toMatch(/^onehand: --team is given twice; give it once\n\nUsage:\n {2}who /);
    const extraVersion = await runCli(['--version', 'extra'], '', env());
    expect([extraVersion.code, extraVersion.stderr.split('\n')[0]]).toEqual([2, 'onehand: "--version" takes no arguments; got "extra"']);
    const extraHelp = await runCli(['help', 'start', 'extra'], '', env());
    expect([extraHelp.code, extraHelp.stderr.split('\n')[0]]).toEqual([2, 'onehand: "help" takes one command at most ("onehand help start"); got "start extra"']);
    const unknown = await runCli(['frob'], '', env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^onehand: unknown command "frob"\n\nUsage: onehand <command> \[options\]\n\nCommands:\n {2}start/);
  });
});

describe('onehand migrate', () => {
  it('says what it applied on a new database, and that there was nothing to apply the second time', async () => {
    const dir = tempDir();
    const env = { ONEHAND_DATA: path.join(dir, 'onehand.db') };
    const first = await runCli(['migrate'], '', env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^sqlite .*onehand\.db: schema up to date, applied \d+ migrations \(1, 2, [\d, ]+\)\n$/);
    const again = await runCli(['migrate'], '', env);
    expect(again.stdout).toMatch(/^sqlite .*onehand\.db: schema up to date, nothing to apply\n$/);
  });
});
