/** Fixtures for config tests: a small valid config as plain data, to break one key at a time. */
import { stringify } from 'yaml';
import { parseConfig, type ConfigProblem, type ConfigResult } from '../../src/config';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConfig = any;

export function validConfig(): AnyConfig {
  return {
    admins: ['carol'],
    members: [
      { id: 'alice', name: 'Alice', time_zone: 'Europe/Berlin', mentor: 'bob', discord: '812345678901234567' },
      { id: 'bob', name: 'Bob', time_zone: 'Europe/Berlin', mentor: 'dave' },
      { id: 'carol', name: 'Carol', time_zone: 'Europe/London' },
      { id: 'dave', name: 'Dave', time_zone: 'Europe/Berlin', mentor: 'alice' },
    ],
    teams: [
      {
        id: 'payments',
        name: 'Payments',
        time_zone: 'Europe/Berlin',
        lead: 'carol',
        members: ['alice', 'bob', 'dave'],
        channels: { console: '#payments' },
        rotation: { members: ['alice', 'bob', 'dave'], shift: '1w', handoff: 'Mon 09:00', start: '2026-01-05' },
        escalation: { ack_timeout: '5m', renotify: 1, then: ['mentor', 'lead'] },
      },
    ],
  };
}

/** check parses `config` (plain data or YAML text) and returns its problems; fails if it is valid. */
export function problemsOf(config: AnyConfig, knownPlugins?: readonly string[]): ConfigProblem[] {
  const text = typeof config === 'string' ? config : stringify(config);
  const result = parseConfig(text, undefined, knownPlugins);
  if (result.ok) throw new Error(`expected problems, but the config is valid:\n${text}`);
  return result.problems;
}

export function parse(config: AnyConfig, knownPlugins?: readonly string[]): ConfigResult {
  return parseConfig(typeof config === 'string' ? config : stringify(config), undefined, knownPlugins);
}

/** problemAt returns the one problem at `path`, failing with the full list when there is none. */
export function problemAt(problems: ConfigProblem[], path: string): ConfigProblem {
  const found = problems.filter((p) => p.path === path);
  if (found.length !== 1) {
    throw new Error(`expected one problem at ${path}, got:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  }
  return found[0] as ConfigProblem;
}
