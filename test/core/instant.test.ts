/**
 * Local times typed in commands and on the command line (`--at`, `--from`, `--to`, `oncall override`
 * and `away`) inside a DST fold mean the first occurrence, whatever the machine's date: luxon's
 * fromISO guesses the fold's offset from the current date, which gave different instants in July
 * and in November.
 */
import { DateTime, Settings } from 'luxon';
import { parseEndArg, parseInstantArg } from '../../src/core/time/instant';
import { runCli, tempDir, writeFile } from '../cli/run-cli';
import * as path from 'node:path';

const realNow = Settings.now;
afterEach(() => {
  Settings.now = realNow;
});

const utc = (dt: DateTime | null) => dt?.toUTC().toISO();
const machineDates = ['2026-07-01T12:00:00Z', '2026-11-15T12:00:00Z', '2027-01-20T12:00:00Z'];

describe('parseInstantArg in a DST fold', () => {
  it.each(machineDates)('is the first occurrence when the machine date is %s', (today) => {
    Settings.now = () => Date.parse(today);
    const now = DateTime.utc();
    expect(utc(parseInstantArg('2026-10-25T02:15', 'Europe/Berlin', now))).toBe('2026-10-25T00:15:00.000Z'); // +02:00, not +01:00
    expect(utc(parseInstantArg('2026-11-01T01:30', 'America/New_York', now))).toBe('2026-11-01T05:30:00.000Z'); // EDT
    expect(utc(parseInstantArg('2026-04-05T01:45', 'Australia/Lord_Howe', now))).toBe('2026-04-04T14:45:00.000Z'); // +11:00, in the half-hour fold
    // An explicit offset picks the second occurrence.
    expect(utc(parseInstantArg('2026-10-25T02:15+01:00', 'Europe/Berlin', now))).toBe('2026-10-25T01:15:00.000Z');
    // A gap moves forward by its length: 02:30 on the spring-forward day is 03:30.
    expect(parseInstantArg('2026-03-29T02:30', 'Europe/Berlin', now)?.toISO()).toBe('2026-03-29T03:30:00.000+02:00');
    // A length in days lands on the wall clock, in a fold on the first occurrence.
    const start = parseInstantArg('2026-10-24T02:15', 'Europe/Berlin', now) as DateTime;
    expect(utc(parseEndArg('1d', start, 'Europe/Berlin', now))).toBe('2026-10-25T00:15:00.000Z');
    expect(utc(parseEndArg('1d2h', start, 'Europe/Berlin', now))).toBe('2026-10-25T02:15:00.000Z');
  });

  it('refuses what is not a date-time', () => {
    expect(parseInstantArg('2026-13-01T09:00', 'Europe/Berlin', DateTime.utc())).toBeNull();
    expect(parseInstantArg('tomorrow', 'Europe/Berlin', DateTime.utc())).toBeNull();
  });
});

describe('onehand who --at in a fold', () => {
  it('names the member of the first occurrence (a daily 02:30 handoff in Berlin)', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', `
members:
  - { id: ann, time_zone: Europe/Berlin }
  - { id: ben, time_zone: Europe/Berlin }
teams:
  - id: wk
    time_zone: Europe/Berlin
    lead: ann
    members: [ann, ben]
    rotation: { shift: 1d, handoff: "02:30", start: 2026-01-01 }
`);
    // 02:15 first occurrence (00:15Z) is before that day's 02:30 handoff (00:30Z).
    const r = await runCli(['who', '--config', config, '--team', 'wk', '--at', '2026-10-25T02:15'], '', { ONEHAND_DATA: path.join(dir, 'none.db') });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/ from 2026-10-24T02:30:00\+02:00 to 2026-10-25T02:30:00\+02:00\n$/);
  });
});
