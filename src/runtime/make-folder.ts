import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * makeFolder: mkdir -p, level by level. Node's own recursive mkdir never returns for a folder under
 * /proc (mkdir there answers ENOENT, and it retries for ever at 100% CPU): a mistyped ONEHAND_DATA
 * hung the start instead of failing with the reason.
 */
export function makeFolder(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeFolder(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
