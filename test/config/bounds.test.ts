/**
 * Every duration and size in the config is bounded, with the range in the message: values that
 * check-config used to accept and that broke at run time (an ack timeout beyond the calendar, a
 * timer period past Node's 24.8-day timer limit, a 1 ms lease, a 64 GiB body limit).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile, parseConfig } from '../../src/config';
import { TEST_CONFIG } from '../harness/fixtures';
import { tempDir } from '../cli/run-cli';

function problems(text: string): string[] {
  const result = parseConfig(text);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

const withEscalation = (escalation: string) => TEST_CONFIG.replace('escalation: { ack_timeout: 5m, renotify: 1, then: [mentor, lead] }', `escalation: ${escalation}`);
const withIntegration = (keys: string) => `${TEST_CONFIG}\nintegrations:\n  - { id: prom, type: alertmanager, team: payments, token_env: T, ${keys} }\n`;

describe('config bounds', () => {
  it('refuses absurd durations with the range and the default', () => {
    expect(problems(withEscalation('{ ack_timeout: 99999999999999999999w }'))).toEqual([
      'teams[0].escalation.ack_timeout: "99999999999999999999w" is longer than ten years; write a duration such as "90s", "15m", "1h30m", "2d" or "1w"',
    ]);
    expect(problems(withEscalation('{ ack_timeout: 30d }'))).toEqual([
      'teams[0].escalation.ack_timeout: "30d" is out of range; ack_timeout (the time to acknowledge before the next escalation step) is from 1s to 7d, default 5m',
    ]);
    expect(problems(`${TEST_CONFIG}\ntimers: { period: 30d }\n`)).toEqual([
      'timers.period: "30d" is out of range; period (how often the timer loop looks for due work) is from 10ms to 1m, default 1s',
    ]);
    expect(problems(`${TEST_CONFIG}\ntimers: { lease: 1ms }\n`)[0]).toMatch(/^timers.lease: "1ms" is out of range; lease .* is from 2s to 1h, default 60s$/);
    expect(problems(withIntegration('reopen_window: 400d, rate_limit: { per: 2d }, storm: { window: 0ms }'))).toEqual([
      'integrations[0].reopen_window: "400d" is out of range; reopen_window (how long after a resolve a new firing reopens the incident) is from 1s to 30d, default 1h',
      'integrations[0].rate_limit.per: "2d" is out of range; per (the rate limit\'s period) is from 1s to 1d, default 1m',
      'integrations[0].storm.window: "0ms" is out of range; window (the window in which new incidents count towards a storm) is from 1s to 1d, default 5m',
    ]);
    // A zero is a duration out of range: the range is what to write instead.
    expect(problems(withEscalation('{ ack_timeout: 0s }'))).toEqual([
      'teams[0].escalation.ack_timeout: "0s" is out of range; ack_timeout (the time to acknowledge before the next escalation step) is from 1s to 7d, default 5m',
    ]);
  });

  it('a lease must outlast two timer periods', () => {
    expect(problems(`${TEST_CONFIG}\ntimers: { period: 50s, lease: 60s }\n`)).toEqual([
      'timers.lease: 1m is shorter than twice timers.period (50s); a claim would lapse before the loop comes back to it and another replica would redo the work; make the lease at least 1m40s',
    ]);
    expect(problems(`${TEST_CONFIG}\ntimers: { period: 100ms, lease: 16s }\n`)).toEqual([]);
  });

  it('a lease must outlast a delivery call and a late answer\'s grace (delivery.timeout + min(timeout, 5s) + 1s)', () => {
    expect(problems(`${TEST_CONFIG}\ntimers: { lease: 15s }\n`)).toEqual([
      'timers.lease: 15s is too short for delivery.timeout (10s): a delivery\'s lease must outlast its call by 6s (a late answer\'s grace and a second), or another replica may send a page that is still being sent again; make the lease at least 16s (or the timeout shorter)',
    ]);
    expect(problems(`${TEST_CONFIG}\ntimers: { lease: 16s }\n`)).toEqual([]);
    expect(problems(`${TEST_CONFIG}\ntimers: { period: 100ms, lease: 3s }\ndelivery: { timeout: 1s }\n`)).toEqual([]);
    expect(problems(`${TEST_CONFIG}\ndelivery: { timeout: 55s }\n`)[0]).toMatch(/^timers.lease: 1m is too short for delivery.timeout \(55s\).*make the lease at least 1m1s/);
  });

  it('refuses a body limit outside 1KiB..16MiB, and shifts over a year', () => {
    expect(problems(withIntegration('max_body: 65536MiB'))).toEqual([
      'integrations[0].max_body: "65536MiB" is out of range; a body limit is from 1KiB to 16MiB (default 1MiB)',
    ]);
    expect(problems(withIntegration('max_body: 16MiB'))).toEqual([]);
    expect(problems(TEST_CONFIG.replace('shift: 1w', 'shift: 53w'))).toEqual([
      'teams[0].rotation.shift: "53w" is longer than a year; a shift is at most 52 weeks (52 weeks)',
    ]);
  });

  it('names a UTF-16 file instead of failing as YAML', () => {
    const dir = tempDir();
    const file = path.join(dir, 'onehand.yaml');
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEST_CONFIG, 'utf16le')]));
    const result = loadConfigFile(file);
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'the file is UTF-16 encoded; save it as UTF-8 (e.g. "Save with encoding: UTF-8" in your editor, or iconv -f UTF-16 -t UTF-8)',
    ]);
    fs.writeFileSync(file, `\uFEFF${TEST_CONFIG}`); // a UTF-8 byte order mark is fine
    expect(loadConfigFile(file).ok).toBe(true);
  });
});
