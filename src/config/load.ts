/**
 * Config loading: find the file (--config, ONEHAND_CONFIG, or config/onehand.yaml), read it and
 * validate it. A missing or unreadable file is a problem like any other, never a throw.
 */
import { readFileSync } from 'node:fs';
import { DOCUMENT_PATH, type ConfigProblem } from './problems';
import { DEFAULT_CONFIG_PATH, type ConfigResult } from './types';
import { parseConfig } from './validate';

export { formatProblems, type ConfigProblem } from './problems';
export { DEFAULT_CONFIG_PATH, type ConfigResult, type OnehandConfig } from './types';
export { parseConfig, validateConfig } from './validate';

/**
 * resolveConfigPath picks the config file: `--config PATH`, else the ONEHAND_CONFIG environment
 * variable, else "config/onehand.yaml" (relative to the working directory). Empty values count as unset.
 */
export function resolveConfigPath(argv: { config?: string }, env: NodeJS.ProcessEnv): string {
  if (typeof argv.config === 'string' && argv.config.trim() !== '') return argv.config;
  const fromEnv = env.ONEHAND_CONFIG;
  if (typeof fromEnv === 'string' && fromEnv.trim() !== '') return fromEnv;
  return DEFAULT_CONFIG_PATH;
}

/**
 * loadConfigFile reads and validates the file at `path`. `knownPlugins` is passed on to parseConfig
 * (names a `plugins` entry may use; default none).
 */
export function loadConfigFile(path: string, knownPlugins: readonly string[] = []): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, problems: [readProblem(path, err)] };
  }
  return parseConfig(text, path, knownPlugins);
}

function readProblem(path: string, err: unknown): ConfigProblem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = path === '' ? DOCUMENT_PATH : path;
  const fix = 'pass --config PATH or set ONEHAND_CONFIG (config/onehand.yaml is a commented example)';
  switch (code) {
    case 'ENOENT':
      return { path: where, message: `no such file; create it or ${fix}` };
    case 'EISDIR':
      return { path: where, message: `is a directory, not a file; ${fix}` };
    case 'EACCES':
    case 'EPERM':
      return { path: where, message: 'cannot read the file (permission denied); make it readable by this user' };
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return { path: where, message: `cannot read the file (${detail}); ${fix}` };
    }
  }
}
