/**
 * isStoreUnavailable tells a store that takes no write at all (locked, unreachable) from a write
 * the store refused for what it holds: the delivery worker's marks wait for the first and are
 * tried one by one for the second. Checked on the errors the real drivers throw.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { Database } from 'sqlite3';
import { isStoreUnavailable } from '../../src/app/store-monitor';
import { errorText } from '../../src/core/text/error-text';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions as PgStoreOptions } from '../../src/store/postgres/postgres-store';
import { createSchema, describePg, PG_TEST_URL } from '../store/pg-test';

describe('isStoreUnavailable', () => {
  it('is true for a SQLite file another process holds locked, false for a write SQLite refuses for its content', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-')), 'onehand.db');
    const store = await openSqliteStore(file, { busyTimeoutMs: 20 });
    await store.migrate();
    const other = new Database(file);
    const exec = (sql: string) => new Promise<void>((resolve, reject) => other.exec(sql, (err) => (err ? reject(err) : resolve())));
    await exec('BEGIN IMMEDIATE');
    const locked = await store.transaction((tx) => tx.kvSet('test', 'k', 1)).then(() => null, (err: unknown) => err);
    await exec('ROLLBACK');
    await exec(`CREATE TRIGGER refuse BEFORE INSERT ON kv BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const refused = await store.transaction((tx) => tx.kvSet('test', 'k', 1)).then(() => null, (err: unknown) => err);
    await new Promise<void>((resolve) => other.close(() => resolve()));
    await store.close();
    expect(String(locked)).toContain('database is locked');
    expect(isStoreUnavailable(locked)).toBe(true);
    expect(String(refused)).toContain('refused');
    expect(isStoreUnavailable(refused)).toBe(false);
  });
});

describePg('isStoreUnavailable on PostgreSQL', () => {
  it('is true for a PostgreSQL server that refuses or ends the connection, false for a statement it refuses', async () => {
    const down = new Client({ host: '127.0.0.1', port: 1, database: 'test', user: 'postgres', connectionTimeoutMillis: 2000 });
    const refusedConnection = await down.connect().then(() => null, (err: unknown) => err);
    expect(isStoreUnavailable(refusedConnection)).toBe(true);
    // Wrapped by the store (as its cause), still told.
    expect(isStoreUnavailable(new Error('the store said so', { cause: refusedConnection }))).toBe(true);
    const pg = new Client({ connectionString: PG_TEST_URL });
    await pg.connect();
    // A connection the server ends (a restart, a failover): what its next statement fails with.
    const doomed = new Client({ connectionString: PG_TEST_URL });
    doomed.on('error', () => undefined);
    await doomed.connect();
    const pid = (await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    await pg.query('SELECT pg_terminate_backend($1)', [pid]);
    const ended = await doomed.query('SELECT 1').then(() => null, (err: unknown) => err);
    await doomed.end().catch(() => undefined);
    expect(ended).not.toBeNull();
    expect(isStoreUnavailable(ended)).toBe(true);
    try {
      const violated = await pg.query('SELECT 1 / 0').then(() => null, (err: unknown) => err);
      expect((violated as { code?: string }).code).toBe('22012');
      expect(isStoreUnavailable(violated)).toBe(false);
    } finally {
      await pg.end();
    }
  });
});

describePg('PostgreSQL that stops answering', () => {
  /**
   * frozenProxy: a loopback TCP proxy to PostgreSQL that can stop passing bytes either way, as a
   * server that froze or a network that drops packets does (the connections stay open).
   */
  async function frozenProxy(): Promise<{ url: (base: string) => string; freeze: (on: boolean) => void; cut: () => void; close: () => Promise<void> }> {
    const target = new URL(PG_TEST_URL);
    let frozen = false;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        sockets.add(from);
        from.on('data', (chunk) => {
          if (!frozen) to.write(chunk);
        });
        from.on('close', () => to.destroy());
        from.on('error', () => to.destroy());
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
      url: (base) => {
        const u = new URL(base);
        u.hostname = '127.0.0.1';
        u.port = String(port);
        return u.toString();
      },
      freeze: (on) => void (frozen = on),
      cut: () => {
        for (const s of sockets) s.destroy();
        sockets.clear();
      },
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  /** withProxiedStore: a PostgreSQL store on a fresh schema, reached through a frozenProxy; closed after `fn`. */
  async function withProxiedStore(options: PgStoreOptions, fn: (store: PostgresStore, proxy: Awaited<ReturnType<typeof frozenProxy>>) => Promise<void>): Promise<void> {
    const schema = await createSchema();
    const proxy = await frozenProxy();
    const store = await openPostgresStore(proxy.url(schema.url), options);
    try {
      await store.migrate();
      await fn(store, proxy);
      // Once the server answers again, the store works again.
      proxy.freeze(false);
      expect(await store.transaction((tx) => tx.getIncident(1))).toBeNull();
    } finally {
      await store.close();
      await proxy.close();
      await schema.drop();
    }
  }

  /** failureOf: what a transaction on `store` fails with (null: it did not fail). */
  const failureOf = (store: PostgresStore): Promise<unknown> => store.transaction((tx) => tx.getIncident(1)).then(() => null, (err: unknown) => err);

  it('fails a transaction with a store-unavailable error after the read timeout instead of hanging it, and works again once the server answers', async () => {
    await withProxiedStore({ queryTimeoutMs: 700, connectTimeoutMs: 700 }, async (store, proxy) => {
      expect(await store.transaction((tx) => tx.getIncident(1))).toBeNull();
      proxy.freeze(true);
      const started = Date.now();
      const hung = await failureOf(store);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(hung).toBeInstanceOf(Error);
      expect(isStoreUnavailable(hung)).toBe(true);
      // A new connection meets the same silence: it fails by the connect timeout.
      expect(isStoreUnavailable(await failureOf(store))).toBe(true);
    });
  });

  it('a statement that waits past the statement timeout is cancelled by PostgreSQL, and its connection stays usable', async () => {
    const schema = await createSchema();
    const store = await openPostgresStore(schema.url, { statementTimeoutMs: 500, maxConnections: 1 });
    const other = new Client({ connectionString: schema.url });
    await other.connect();
    try {
      await store.migrate();
      await other.query('BEGIN');
      await other.query('LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const waited = await failureOf(store);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(errorText(waited)).toMatch(/statement timeout/);
      expect(isStoreUnavailable(waited)).toBe(false);
      await other.query('ROLLBACK');
      // The pool's one connection was not closed for it: the next transaction runs on it.
      expect(await store.transaction((tx) => tx.getIncident(1))).toBeNull();
    } finally {
      await other.end();
      await store.close();
      await schema.drop();
    }
  });

  it('a connection that dies in the middle of a transaction fails that transaction, and the process goes on', async () => {
    await withProxiedStore({ queryTimeoutMs: 60_000 }, async (store, proxy) => {
      proxy.freeze(true);
      const inFlight = failureOf(store);
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.cut(); // a server restart, a dropped network (before: an unhandled 'error' event ended the process)
      const failed = await inFlight;
      expect(failed).toBeInstanceOf(Error);
      expect(isStoreUnavailable(failed)).toBe(true);
    });
  });
});

