/**
 * The console adapter end to end: a scripted session piped into `onehand start --json` with a
 * simulated clock, read back as JSON deliveries.
 */
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { jsonLines, runCli, spawnCli, tempDir, writeFile, type Delivery } from './run-cli';

const at = '2026-03-03T10:00:00Z'; // a Tuesday: dave is on call for payments

function setup(): { config: string; env: Record<string, string> } {
  const dir = tempDir();
  return { config: writeFile(dir, 'onehand.yaml', TEST_CONFIG), env: { ONEHAND_DATA: path.join(dir, 'data', 'onehand.db') } };
}

const deliveries = (lines: Delivery[]) => lines.filter((l) => !l.reply);

describe('onehand start on the console', () => {
  it('--console beside a chat platform reads commands but reaches nobody: a page is not "delivered" to the terminal, it goes down the ladder (here: nobody can be paged on Teams, and the reply says so)', async () => {
    const { config, env } = setup();
    const result = await runCli(['start', '--config', config, '--json', '--console', '--clock', `simulated@${at}`], 'as zed\nincident report sev2 checkout returns 502\n', { ...env, ONEHAND_TEAMS: '1', ONEHAND_HTTP_PORT: '0' });
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(deliveries(lines)).toEqual([]);
    expect(lines.find((l) => l.reply)?.text).toMatch(/Dave is on call and cannot be reached: no running chat platform can message them and the team has no channel; nobody after them in the chain \(Alice, Carol\) can be messaged either: nobody will be reached until an admin links them in the config \(members\[\]\.teams\)/);
    expect(result.stderr).toContain('"msg":"member cannot be paged on any running platform","team":"payments","member":"dave","platforms":["teams"]');
  });

  it('plays a whole escalation: on-call alone, re-page, mentor, lead at their times; ack stops it; huddle reaches the team', async () => {
    const { config, env } = setup();
    const script = [
      '# a product user reports in the support channel',
      'as zed',
      'incident report sev2 checkout returns 502',
      'advance 16m',
      'as carol',
      'incident ack 1',
      'advance 1h',
      'as dave',
      'incident huddle 1 failover needs three people',
      '',
    ].join('\n');
    const result = await runCli(['start', '--config', config, '--json', '--clock', `simulated@${at}`], script, env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = deliveries(jsonLines(result.stdout));
    const direct = out.filter((d) => d.kind === 'direct').map((d) => [d.at, d.to, d.text.split('\n')[0]]);
    expect(direct).toEqual([
      ['2026-03-03T10:00:00.000Z', 'dave', '@Dave New incident #1 [sev2] checkout returns 502'],
      ['2026-03-03T10:05:00.000Z', 'dave', '@Dave Reminder: #1 [sev2] checkout returns 502 is still not acknowledged (5m)'],
      ['2026-03-03T10:10:00.000Z', 'alice', '@Alice Escalated to you as mentor: #1 [sev2] checkout returns 502 has not been acknowledged by Dave for 10m'],
      ['2026-03-03T10:15:00.000Z', 'carol', '@Carol Escalated to you as lead: #1 [sev2] checkout returns 502 has not been acknowledged by Dave for 15m'],
      // carol acks at 10:16: the people paged hear it, and the reporter.
      ['2026-03-03T10:16:00.000Z', 'dave', '#1 [sev2] checkout returns 502 acknowledged by Carol'],
      ['2026-03-03T10:16:00.000Z', 'alice', '#1 [sev2] checkout returns 502 acknowledged by Carol'],
      ['2026-03-03T10:16:00.000Z', 'zed', 'Your incident #1 [sev2] checkout returns 502 was acknowledged by Carol, who is working on it.'],
      // nothing during the next hour; then the huddle, to the team but not its caller
      ['2026-03-03T11:16:00.000Z', 'alice', expect.stringContaining('Huddle on #1') as unknown as string],
      ['2026-03-03T11:16:00.000Z', 'bob', expect.stringContaining('Reason: failover needs three people') as unknown as string],
      ['2026-03-03T11:16:00.000Z', 'carol', expect.stringContaining('Huddle on #1') as unknown as string],
    ]);
    const channel = out.filter((d) => d.kind === 'channel');
    expect(channel.map((d) => d.to)).toEqual(['#payments', '#payments', '#payments']);
    expect(channel.every((d) => !d.text.includes('@'))).toBe(true);
    expect(out.every((d) => d.incident === 1)).toBe(true);
  });

  it('answers bad commands with a usage line and goes on', async () => {
    const { config, env } = setup();
    const result = await runCli(['start', '--config', config, '--json', '--clock', `simulated@${at}`], 'as alice\nincident ack\nincident report\noncall who\n', env);
    expect(result.code).toBe(0);
    const replies = jsonLines(result.stdout).filter((l) => l.reply).map((l) => l.text);
    expect(replies[0]).toBe('Missing ID: the incident number, e.g. 12.\n  Usage: incident ack ID');
    expect(replies[1]).toContain('Missing TITLE');
    expect(replies[2]).toContain('On call for Payments: Dave');
  });

  it('as NAME takes any name, spaces and all; a bare "as" gets its usage, not "unknown command"', async () => {
    const { config, env } = setup();
    const result = await runCli(['start', '--config', config, '--json', '--clock', `simulated@${at}`], 'as\nas dave incident ack 1\nas Jane from Support\nincident report printer on fire\n', env);
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines[0]).toMatchObject({ reply: true, text: expect.stringMatching(/^as NAME: switch who is typing/) as unknown as string });
    expect(lines[1]).toMatchObject({ reply: true, text: 'as dave switches who is typing; put the command on a line of its own after it ("incident ack 1" was not run)' });
    expect(lines[2]).toMatchObject({ reply: true, to: 'Jane from Support', text: expect.stringContaining('Reported #1 [sev3] printer on fire') as unknown as string });
    expect(deliveries(lines).filter((d) => d.kind === 'direct').map((d) => d.to)).toEqual(['dave']);
  });

  it('a bare "advance" gets its usage, not "unknown command"', async () => {
    const { config, env } = setup();
    const result = await runCli(['start', '--config', config, '--json', '--clock', `simulated@${at}`], 'advance\nadvance soon\n', env);
    expect(result.code).toBe(0);
    const replies = jsonLines(result.stdout).filter((l) => l.reply).map((l) => l.text);
    expect(replies[0]).toBe('advance DURATION: move the simulated clock forward, e.g. "advance 15m" or "advance 2d"');
    expect(replies[1]).toMatch(/^advance: /);
  });

  it('refuses to start on an invalid config, listing every problem', async () => {
    const dir = tempDir();
    const bad = writeFile(dir, 'bad.yaml', TEST_CONFIG.replace('time_zone: Europe/Berlin\n    lead: carol', 'time_zone: Europe/Berlinn\n    lead: caroll'));
    const result = await runCli(['start', '--config', bad], '', { ONEHAND_DATA: path.join(dir, 'x.db') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('teams[0].time_zone');
    expect(result.stderr).toContain('teams[0].lead');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('the example config runs as the README says', async () => {
    const dir = tempDir();
    const result = await runCli(['start', '--json', '--clock', 'simulated@2026-03-03T10:00:00Z'], 'as someone\nincident report the site is down\n', { ONEHAND_DATA: path.join(dir, 'x.db') });
    expect(result.code).toBe(0);
    const out = deliveries(jsonLines(result.stdout));
    expect(out.filter((d) => d.kind === 'direct')).toHaveLength(1);
  });
});

describe('durable timers across a real process restart', () => {
  it('a step due while the process was down fires exactly once, late, and the plan goes on', async () => {
    const { config, env } = setup();
    const start = (clock: string, input: string) => runCli(['start', '--config', config, '--json', '--clock', `simulated@${clock}`], input, env);

    const first = await start(at, 'as zed\nincident report sev2 disk full\nadvance 3m\n');
    expect(deliveries(jsonLines(first.stdout)).map((d) => d.to)).toEqual(['dave', '#payments']);

    // Down from 10:03 to 10:07: the 10:05 re-page is overdue and fires at start.
    const second = await start('2026-03-03T10:07:00Z', '');
    expect(deliveries(jsonLines(second.stdout)).map((d) => [d.at, d.to, d.text.split(' ')[1]])).toEqual([['2026-03-03T10:07:00.000Z', 'dave', 'Reminder:']]);

    // Starting again at the same instant fires nothing: the step happened exactly once.
    const third = await start('2026-03-03T10:07:00Z', '');
    expect(deliveries(jsonLines(third.stdout))).toEqual([]);

    // The next step is 5 minutes after the late re-page.
    const fourth = await start('2026-03-03T10:11:59Z', 'advance 1s\n');
    expect(deliveries(jsonLines(fourth.stdout)).map((d) => [d.at, d.to])).toEqual([['2026-03-03T10:12:00.000Z', 'alice']]);
  });

  it('a process killed with SIGKILL loses nothing: the page and the timers are in the database', async () => {
    const { config, env } = setup();
    const child = spawnCli(['start', '--config', config, '--json', '--clock', `simulated@${at}`], env);
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"to":"#payments"')) resolve();
      });
      child.stdin?.write('as zed\nincident report sev1 killed mid-incident\n');
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    const after = await runCli(['start', '--config', config, '--json', '--clock', '2026-03-03T10:30:00Z'.replace(/^/, 'simulated@')], '', env);
    const replayed = deliveries(jsonLines(after.stdout));
    // The 10:05 re-page was due while the process was dead: it fires once, at the restart.
    expect(replayed.filter((d) => d.text.includes('Reminder: #1')).map((d) => [d.at, d.to])).toEqual([['2026-03-03T10:30:00.000Z', 'dave']]);
    // Deliveries are at least once: a send whose success was not yet recorded when the process
    // died is sent again (never lost). Nobody but the on-call and the channel hears anything.
    expect(replayed.every((d) => d.to === 'dave' || d.to === '#payments')).toBe(true);
  });
});

describe('the shipped example config on the console: both plugins at work', () => {
  it('a night (sev3 waits for the morning digest, sev1 goes through every step at once) and a handoff with its note', async () => {
    const dir = tempDir();
    const script = [
      'as zed', 'advance 12h', // Tue 22:00Z: 23:00 in Berlin, Dave (on call) is in quiet hours
      'incident report sev3 typo on the pricing page',
      'incident report sev1 checkout is down',
      'advance 15m', // the mentor at 22:10, the lead at 22:15, although they sleep: sev1 is urgent
      'as carol', 'incident ack 2',
      'advance 8h45m', // to Wed 07:00Z
      'as dave', 'oncall handoff note the retry queue is slow',
      'advance 5d2h', // across Monday's 09:00 Berlin handoff to Alice
      '',
    ].join('\n');
    const result = await runCli(['start', '--json', '--clock', 'simulated@2026-12-01T10:00:00Z'], script, { ONEHAND_DATA: path.join(dir, 'x.db') });
    expect(result.code).toBe(0);
    const out = deliveries(jsonLines(result.stdout));
    const toDave = out.filter((d) => d.to === 'dave').map((d) => [d.at, d.text.split('\n')[0]]);
    expect(toDave.slice(0, 3)).toEqual([
      ['2026-12-01T22:00:00.000Z', '@Dave Lister New incident #2 [sev1] checkout is down'],
      ['2026-12-01T22:05:00.000Z', '@Dave Lister Reminder: #2 [sev1] checkout is down is still not acknowledged (5m)'],
      // 07:00 in Berlin: the held sev3 goes out as its page, then the digest of the rest (#2's news).
      ['2026-12-02T06:00:00.000Z', '@Dave Lister New incident #1 [sev3] typo on the pricing page'],
    ]);
    expect(toDave[3]).toEqual(['2026-12-02T06:00:00.000Z', 'While you were in quiet hours, 1 notification waited for you:']);
    // The sleeping mentor and lead were paged for the sev1: urgent severities go through every step.
    const night = out.filter((d) => (d.to === 'alice' || d.to === 'carol') && d.at < '2026-12-02T06:00:00.000Z').map((d) => [d.to, d.at, d.text.split('\n')[0]]);
    expect(night).toEqual([
      ['alice', '2026-12-01T22:10:00.000Z', '@Alice Liddell Escalated to you as mentor: #2 [sev1] checkout is down has not been acknowledged by Dave Lister for 10m'],
      ['carol', '2026-12-01T22:15:00.000Z', '@Carol Danvers Escalated to you as lead: #2 [sev1] checkout is down has not been acknowledged by Dave Lister for 15m'],
    ]);
    const handoff = out.find((d) => d.to === 'alice' && d.text.startsWith('Handoff for Payments'));
    expect(handoff?.at).toBe('2026-12-07T08:00:00.000Z');
    expect(handoff?.text).toContain('Handoff for Payments: Dave Lister → Alice Liddell');
    expect(handoff?.text).toContain('the retry queue is slow');
    expect(out.filter((d) => d.to === '#payments' && d.text.startsWith('Handoff for Payments'))).toHaveLength(1);
  });
});
