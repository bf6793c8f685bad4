/**
 * Structure: adapters and plugins implement ports (src/ports) and never import the command line
 * (src/cli), which imports them: a contract an adapter implements lives in src/ports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

it('no adapter or plugin imports src/cli', () => {
  const offenders = [...sources(path.join(ROOT, 'adapters')), ...sources(path.join(ROOT, 'plugins'))]
    .filter((file) => /from\s+['"][./]*\/src\/cli\//.test(fs.readFileSync(file, 'utf8')))
    .map((file) => path.relative(ROOT, file));
  expect(offenders).toEqual([]);
});
