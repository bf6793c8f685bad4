/**
 * PostgreSQL for tests: the database at $ONEHAND_TEST_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), one fresh schema per store, dropped afterwards.
 *
 * `describePg` runs its tests only when PostgreSQL answers. When it does not, the tests fail under
 * CI=true (CI must test PostgreSQL: .ci/run starts it) and are skipped with a message elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const PG_TEST_URL = process.env.ONEHAND_TEST_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test';

let reachable: boolean | undefined;

/** pgReachable: whether a connection to PG_TEST_URL succeeds (checked once per test file, synchronously). */
export function pgReachable(): boolean {
  if (reachable === undefined) {
    const probe = spawnSync(process.execPath, ['-e', `
      const { Client } = require('pg');
      const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
      c.connect().then(() => c.query('SELECT 1')).then(() => c.end()).then(() => process.exit(0), () => process.exit(1));
    `, PG_TEST_URL], { timeout: 10_000 });
    reachable = probe.status === 0;
  }
  return reachable;
}

/** describePg: `describe` when PostgreSQL answers; otherwise a failure under CI=true, else a skip. */
export function describePg(name: string, fn: () => void): void {
  if (pgReachable()) {
    describe(name, fn);
    return;
  }
  const why = `PostgreSQL does not answer at ${PG_TEST_URL.replace(/:[^:@/]*@/, ':***@')} (set ONEHAND_TEST_DATABASE_URL, or start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`${why}; CI must run the PostgreSQL tests`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${why}`);
  describe.skip(name, fn);
}

/** withSearchPath: `url` with its connections' search_path set to `schema`. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** TestSchema: a fresh, empty schema and a URL whose connections use it. */
export interface TestSchema {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createSchema(prefix = 'onehand_test'): Promise<TestSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE SCHEMA ${name}`);
  return {
    name,
    url: withSearchPath(PG_TEST_URL, name),
    drop: () => admin(`DROP SCHEMA IF EXISTS ${name} CASCADE`),
  };
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_TEST_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
