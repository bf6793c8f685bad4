/**
 * openConfiguredStore: the store `onehand` uses, chosen by the environment. ONEHAND_DATABASE_URL
 * set to a postgres:// (or postgresql://) URL selects PostgreSQL, shared by every replica;
 * otherwise SQLite at ONEHAND_DATA (default ./data/onehand.db), for one process. The description
 * it returns is for logs: it never contains the URL's password. The PostgreSQL store (and `pg`) is
 * loaded only when a URL is set.
 */
import type { Clock } from '../ports/clock';
import type { Store } from '../ports/store';
import { defaultDataPath, openSqliteStore } from './sqlite/sqlite-store';

function postgres(): typeof import('./postgres/postgres-store') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./postgres/postgres-store') as typeof import('./postgres/postgres-store');
}

export const DATABASE_URL_ENV = 'ONEHAND_DATABASE_URL';

/** Errors of a path that cannot hold the database file (as opposed to a file that is there but bad). */
const PATH_ERRORS: ReadonlySet<string> = new Set(['ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ENOENT', 'EISDIR', 'SQLITE_CANTOPEN', 'SQLITE_READONLY']);

export interface StoreLocation {
  readonly kind: 'sqlite' | 'postgres';
  /** The file path, or the URL with its password replaced by "***". */
  readonly where: string;
}

/** storeLocation: which store the environment selects; throws on a URL that is not postgres://. */
export function storeLocation(env: Readonly<Record<string, string | undefined>>): StoreLocation & { readonly target: string } {
  const url = env[DATABASE_URL_ENV]?.trim();
  if (url) {
    const { isPostgresUrl, redactUrl } = postgres();
    if (!isPostgresUrl(url)) {
      // Only the scheme is named: the rest of a URL may hold a password.
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
      throw new Error(`${DATABASE_URL_ENV} must be a postgres:// or postgresql:// URL (got ${scheme ? `a ${scheme}:// URL` : 'a value that is not a URL'}), e.g. postgres://onehand:PASSWORD@db.example:5432/onehand; unset it to use the SQLite file`);
    }
    return { kind: 'postgres', where: redactUrl(url), target: url };
  }
  const path = defaultDataPath(env);
  return { kind: 'sqlite', where: path, target: path };
}

export async function openConfiguredStore(
  env: Readonly<Record<string, string | undefined>>,
  options: { clock?: Clock; onError?: (err: Error) => void } = {},
): Promise<{ store: Store; location: StoreLocation }> {
  const { target, ...location } = storeLocation(env);
  if (location.kind === 'postgres') {
    const store = await postgres().openPostgresStore(target, { ...(options.clock ? { clock: options.clock } : {}), ...(options.onError ? { onError: options.onError } : {}) });
    return { store, location };
  }
  try {
    return { store: await openSqliteStore(target, options.clock ? { clock: options.clock } : {}), location };
  } catch (err) {
    // A path that cannot hold the file (a folder that is a file, no permission, a read-only or
    // special file system): name the setting and the fix, not only the system's error. Any other
    // failure (a file that is not a database, say) is told as it is: pointing ONEHAND_DATA
    // elsewhere would start the bot on an empty database, without its incidents.
    const why = err instanceof Error ? err.message : String(err);
    const code = String((err as { code?: unknown } | null)?.code ?? '');
    const where = `the SQLite database at ${target} (ONEHAND_DATA${env.ONEHAND_DATA ? '' : ', default ./data/onehand.db'})`;
    if (!PATH_ERRORS.has(code)) throw new Error(`cannot open ${where}: ${why}`, { cause: err });
    throw new Error(`cannot open ${where}: ${why}; set ONEHAND_DATA to a file path in a writable folder`, { cause: err });
  }
}
