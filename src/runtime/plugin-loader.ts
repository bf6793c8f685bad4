/**
 * loadPlugins turns the config's `plugins:` section into active plugins: built-ins by name,
 * third-party ones from `module:` (an npm package name, or a path relative to the config file).
 * Every problem (module not found, not a plugin, invalid settings) is a ConfigProblem with its key
 * path, like any config error, so a bad plugin config is refused at start and by check-config.
 * Then each team's rotation and escalation policy is looked up among the built-ins and the enabled
 * plugins' policies, and a plugin policy's settings are checked (checkTeamPolicies).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ActivePlugin } from '../app/plugin-host';
import { checkTeamPolicies } from '../app/policies';
import type { ConfigProblem } from '../config';
import type { World } from '../core/model';
import type { Plugin } from '../ports/plugin';
import { BUILTIN_PLUGINS } from '../../plugins';

export type PluginLoadResult = { ok: true; plugins: ActivePlugin[] } | { ok: false; problems: ConfigProblem[] };

export const BUILTIN_PLUGIN_NAMES: readonly string[] = [...BUILTIN_PLUGINS.keys()];

function isPlugin(value: unknown): value is Plugin<unknown> {
  const v = value as Partial<Plugin<unknown>> | null;
  return !!v && typeof v === 'object' && typeof v.name === 'string' && typeof v.checkConfig === 'function' && typeof v.activate === 'function';
}

/** fromModule finds the plugin a module exports: `default`, `plugin`, or the module itself. */
function fromModule(mod: Record<string, unknown>): Plugin<unknown> | null {
  for (const candidate of [mod.default, mod.plugin, mod]) if (isPlugin(candidate)) return candidate;
  return null;
}

/**
 * APP_ROOT: the folder that holds src/, adapters/ and plugins/: the clone when running the sources,
 * `dist/` when running the compiled code (a clone after `npm run build`, the Docker image).
 */
const APP_ROOT = path.resolve(__dirname, '..', '..');

/**
 * pluginCandidates: where a `module:` path may be. In the compiled layout a path into the app's own
 * tree (`../plugins/example-counter` from /app/config) names TypeScript source that is not shipped;
 * its compiled twin under dist/ is tried after it.
 */
export function pluginCandidates(target: string, appRoot: string = APP_ROOT): string[] {
  if (!path.isAbsolute(target) || path.basename(appRoot) !== 'dist') return [target];
  const project = path.dirname(appRoot);
  const inside = path.relative(project, target);
  if (inside.startsWith('..') || path.isAbsolute(inside) || inside === 'dist' || inside.startsWith(`dist${path.sep}`)) return [target];
  return [target, path.join(appRoot, inside)];
}

/** requireFirst requires the first candidate that exists; the error of the first one otherwise. */
function requireFirst(candidates: readonly string[]): unknown {
  let first: unknown = null;
  for (const candidate of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(candidate);
    } catch (err) {
      const notFound = (err as { code?: unknown })?.code === 'MODULE_NOT_FOUND' && String((err as { message?: unknown }).message).includes(candidate);
      if (!notFound) throw err;
      first ??= err;
    }
  }
  throw first;
}

/** isTypeScriptSource: running compiled, a path whose module exists only as TypeScript (Node cannot load it). */
function isTypeScriptSource(target: string, appRoot: string): boolean {
  return path.basename(appRoot) === 'dist' && [`${target}.ts`, path.join(target, 'index.ts')].some((f) => existsSync(f));
}

export function loadPlugins(sections: Record<string, unknown>, world: World, baseDir: string, appRoot: string = APP_ROOT): PluginLoadResult {
  const problems: ConfigProblem[] = [];
  const plugins: ActivePlugin[] = [];
  for (const [name, raw] of Object.entries(sections)) {
    const at = (p: string) => `plugins.${name}${p ? `.${p}` : ''}`;
    const section = raw && typeof raw === 'object' && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : raw;
    let plugin: Plugin<unknown> | null | undefined = BUILTIN_PLUGINS.get(name) as Plugin<unknown> | undefined;
    if (section && typeof section === 'object' && 'module' in section) {
      const ref = String((section as Record<string, unknown>).module);
      delete (section as Record<string, unknown>).module;
      const target = ref.startsWith('.') || path.isAbsolute(ref) ? path.resolve(baseDir, ref) : ref;
      try {
        plugin = fromModule(requireFirst(pluginCandidates(target, appRoot)) as Record<string, unknown>);
        if (!plugin) {
          problems.push({ path: at('module'), message: `"${ref}" does not export a plugin (an object with name, checkConfig and activate); see README: Writing a plugin` });
          continue;
        }
      } catch (err) {
        const text = (err as { message?: unknown })?.message;
        const missing = (err as { code?: unknown })?.code === 'MODULE_NOT_FOUND' && String(text).includes(target);
        const message = missing && isTypeScriptSource(target, appRoot)
          ? `"${ref}" is TypeScript source, which the compiled Onehand (dist/, the Docker image) cannot load; compile the plugin to JavaScript (tsc) and point module at the output`
          : missing ? `cannot find "${ref}"; install the npm package, or give a path relative to the config file such as "./plugins/my-plugin"` : `"${ref}" failed to load: ${typeof text === 'string' ? text.split('\n')[0] : String(err)}`;
        problems.push({ path: at('module'), message });
        continue;
      }
    }
    if (!plugin) {
      problems.push({ path: at(''), message: `no plugin named "${name}" (built-in: ${BUILTIN_PLUGIN_NAMES.join(', ')})` });
      continue;
    }
    let checked;
    try {
      checked = plugin.checkConfig(section, world);
    } catch (err) {
      problems.push({ path: at(''), message: `the plugin's config check failed: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (!checked.ok) {
      for (const p of checked.problems) problems.push({ path: at(p.path), message: p.message });
      continue;
    }
    try {
      plugins.push({ name, hooks: plugin.activate(checked.config), ...(plugin.policies ? { policies: plugin.policies } : {}) });
    } catch (err) {
      problems.push({ path: at(''), message: `the plugin failed to start: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  // The policies teams pick (rotation.policy, escalation.policy) must exist among the built-ins and
  // the enabled plugins' policies, and a plugin policy's settings must pass its check.
  if (problems.length === 0) problems.push(...checkTeamPolicies(world, plugins));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, plugins };
}
