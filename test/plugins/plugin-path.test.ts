/**
 * A plugin named by path in the compiled layout (the Docker image: /app/config/onehand.yaml,
 * /app/dist/..., no TypeScript sources): `module: ../plugins/example-counter` finds the compiled
 * plugin under dist/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { parseConfig } from '../../src/config';
import { BUILTIN_PLUGIN_NAMES, loadPlugins, pluginCandidates } from '../../src/runtime/plugin-loader';
import { tempDir } from '../cli/run-cli';

const COMPILED_PLUGIN = `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.plugin = {
  name: 'compiled-counter',
  checkConfig: (raw) => ({ ok: true, config: raw || {} }),
  activate: () => ({}),
};
`;

/** imageLayout writes /app as the Docker image has it; returns its root. */
function imageLayout(): string {
  const app = tempDir();
  fs.mkdirSync(path.join(app, 'config'));
  fs.mkdirSync(path.join(app, 'dist', 'plugins', 'counter'), { recursive: true });
  fs.writeFileSync(path.join(app, 'dist', 'plugins', 'counter', 'index.js'), COMPILED_PLUGIN);
  return app;
}

function load(sections: string, configDir: string, appRoot: string) {
  const parsed = parseConfig(`${TEST_CONFIG}\nplugins:\n${sections}`, undefined, BUILTIN_PLUGIN_NAMES);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('; '));
  return loadPlugins(parsed.config.plugins, parsed.config.world, configDir, appRoot);
}

describe('plugins by path in the compiled layout', () => {
  it('finds a plugin of the app tree under dist/', () => {
    const app = imageLayout();
    const loaded = load('  tally:\n    module: ../plugins/counter\n', path.join(app, 'config'), path.join(app, 'dist'));
    expect(loaded.ok && loaded.plugins.map((p) => p.name)).toEqual(['tally']);
  });

  it('looks only where the path points when running the sources, or for paths outside the app', () => {
    const app = imageLayout();
    const fromSources = load('  tally:\n    module: ../plugins/counter\n', path.join(app, 'config'), app);
    expect(fromSources.ok ? [] : fromSources.problems.map((p) => p.message)).toEqual([expect.stringContaining('cannot find "../plugins/counter"')]);
    expect(pluginCandidates('/elsewhere/plugin', path.join(app, 'dist'))).toEqual(['/elsewhere/plugin']);
    expect(pluginCandidates(path.join(app, 'dist', 'plugins', 'x'), path.join(app, 'dist'))).toEqual([path.join(app, 'dist', 'plugins', 'x')]);
  });
});
