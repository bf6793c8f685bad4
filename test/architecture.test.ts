/** The layering rule is enforced by lint; this proves the rule is there and bites. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');

// ESLint's config loader needs dynamic import, which jest's VM does not offer: run the real CLI.
async function lint(file: string, code: string): Promise<string[]> {
  const run = spawnSync(process.execPath, [path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', file, '--format', 'json'], { cwd: root, input: code, encoding: 'utf8' });
  const [result] = JSON.parse(run.stdout) as Array<{ messages: Array<{ message: string }> }>;
  return (result?.messages ?? []).map((m) => m.message);
}

describe('src/core stays pure (lint rule)', () => {
  it('refuses I/O, the store, adapters, plugins and reading the clock inside src/core', async () => {
    const messages = await lint('src/core/probe.ts', [
      "import * as fs from 'node:fs';",
      "import { openSqliteStore } from '../store/sqlite/sqlite-store';",
      "import { ConsoleAdapter } from '../../adapters/console/console-adapter';",
      "import { Client } from 'discord.js';",
      'export const x = [fs, openSqliteStore, ConsoleAdapter, Client, Date.now()];',
    ].join('\n'));
    expect(messages.join('\n')).toMatch(/no I\/O/);
    expect(messages.join('\n')).toMatch(/innermost layer/);
    expect(messages.join('\n')).toMatch(/knows no platform/);
    expect(messages.join('\n')).toMatch(/no infrastructure or SDK imports/);
    expect(messages.join('\n')).toMatch(/takes `now` as an argument/);
  });

  it('allows the same imports outside src/core', async () => {
    const messages = await lint('src/app/probe.ts', "import * as fs from 'node:fs';\nexport const x = fs;\n");
    expect(messages).toEqual([]);
  });
});
