/**
 * Config loading: find the file (--config, ONEHAND_CONFIG, or config/onehand.yaml), read it and
 * validate it. A missing or unreadable file is a problem like any other, never a throw.
 */
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
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
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return { ok: false, problems: [readProblem(path, err)] };
  }
  const encoding = encodingProblem(bytes);
  if (encoding !== null) return { ok: false, problems: [{ path: path === '' ? DOCUMENT_PATH : path, message: encoding }] };
  return parseConfig(bytes.toString('utf8').replace(/^\uFEFF/, ''), path, knownPlugins);
}

/**
 * encodingProblem: the config must be UTF-8 (a UTF-8 byte order mark is fine). UTF-16, which some
 * Windows editors and PowerShell's `>` write, is named with the fix instead of failing as YAML.
 */
function encodingProblem(bytes: Buffer): string | null {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)
    || (bytes.length >= 2 && (bytes[0] === 0 || bytes[1] === 0));
  if (utf16) return 'the file is UTF-16 encoded; save it as UTF-8 (e.g. "Save with encoding: UTF-8" in your editor, or iconv -f UTF-16 -t UTF-8)';
  if (!isUtf8(bytes)) return 'the file is not valid UTF-8; save it as UTF-8';
  return null;
}

function readProblem(path: string, err: unknown): ConfigProblem {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = path === '' ? DOCUMENT_PATH : path;
  // A path somebody named (an argument, --config, ONEHAND_CONFIG) is checked; the default one is
  // where Onehand looked because nobody named one.
  const fix = path === DEFAULT_CONFIG_PATH
    ? 'pass --config PATH or set ONEHAND_CONFIG (config/onehand.yaml is a commented example)'
    : 'check the path (config/onehand.yaml is a commented example)';
  switch (code) {
    case 'ENOENT':
      return { path: where, message: path === DEFAULT_CONFIG_PATH ? `no such file; create it or ${fix}` : `no such file; ${fix}, or create it` };
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
