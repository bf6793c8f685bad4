import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * makeFolder: mkdir -p, level by level, with mkdir's own errors (EEXIST for a file in the way,
 * ENOTDIR, EACCES). Node's own recursive mkdir never returns for a folder under /proc (mkdir there
 * answers ENOENT, and it retries for ever at 100% CPU): a mistyped ONEHAND_DATA hung the start
 * instead of failing with the reason.
 */
export function makeFolder(dir: string): void {
  if (isFolder(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeFolder(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    // Made meanwhile by someone else: fine; a file or a dangling link in the way: mkdir's error.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !isFolder(dir)) throw err;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
