import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig, validateConfig } from '../../src/config';
import { validConfig, type AnyConfig } from './fixtures';

/** Paths into validConfig() where a random value replaces the valid one. */
const PATHS: (string | number)[][] = [
  [], ['admins'], ['admins', 0], ['members'], ['members', 0], ['members', 0, 'id'], ['members', 0, 'time_zone'],
  ['members', 0, 'mentor'], ['members', 0, 'discord'], ['members', 1, 'name'], ['teams'], ['teams', 0],
  ['teams', 0, 'id'], ['teams', 0, 'lead'], ['teams', 0, 'members'], ['teams', 0, 'members', 1], ['teams', 0, 'channels'],
  ['teams', 0, 'rotation'], ['teams', 0, 'rotation', 'members'], ['teams', 0, 'rotation', 'shift'],
  ['teams', 0, 'rotation', 'handoff'], ['teams', 0, 'rotation', 'start'], ['teams', 0, 'escalation'],
  ['teams', 0, 'escalation', 'renotify'], ['teams', 0, 'escalation', 'then'], ['timers'], ['http'], ['plugins'],
  ['default_team'],
];

function setAt(root: AnyConfig, path: (string | number)[], value: unknown): AnyConfig {
  if (path.length === 0) return value;
  let node = root;
  for (const seg of path.slice(0, -1)) node = node[seg];
  node[path[path.length - 1] as string | number] = value;
  return root;
}

const value = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom('', ' ', 'alice', 'Mon 09:00', '1w', '1d12h', 'Europe/Berlin', '2026-01-05', null, [], {}, 0, -1, 1e21),
);

describe('config validation under random input', () => {
  it('never throws, and every refusal lists at least one specific problem', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PATHS), value, (path, v) => {
        const config = setAt(validConfig(), path, v);
        for (const result of [validateConfig(config), parseConfig(safeStringify(config))]) {
          if (!result.ok) {
            expect(result.problems.length).toBeGreaterThan(0);
            for (const p of result.problems) expect(p.message).not.toMatch(/please report this/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

function safeStringify(value: unknown): string {
  try {
    return stringify(value);
  } catch {
    return '';
  }
}
