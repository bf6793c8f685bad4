/**
 * The SQLite store copies its write-ahead log into the database file beside the writes (see
 * src/store/sqlite/checkpointer.ts): the log stays bounded under steady writes, nothing is lost,
 * and a checkpoint that fails hands the copying back to SQLite's commits (told, never silent).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from 'sqlite3';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { Checkpointer } from '../../src/store/sqlite/checkpointer';

let dir: string;
let file: string;
const open: SqliteStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-ckpt-'));
  file = path.join(dir, 'onehand.db');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function store(): Promise<SqliteStore> {
  const s = await openSqliteStore(file);
  open.push(s);
  await s.migrate();
  return s;
}

const walBytes = (): number => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);
const MiB = 1024 * 1024;
/** 100 KiB of text that does not compress away (SQLite stores it as it is anyway). */
const value = (i: number): string => `${i}:`.padEnd(100 * 1024, String.fromCharCode(97 + (i % 26)));

/**
 * writeSteadily: `n` transactions back to back, each writing 100 KiB (40 MiB for 400: ten times
 * what SQLite's default checkpoint lets the log hold), the largest log size seen along the way.
 */
async function writeSteadily(s: SqliteStore, n: number): Promise<number> {
  let largest = 0;
  for (let i = 0; i < n; i++) {
    await s.transaction((tx) => tx.kvSet('load', `k${i}`, value(i)));
    largest = Math.max(largest, walBytes());
  }
  return largest;
}

function checkpointerOf(s: SqliteStore): Checkpointer {
  return (s as unknown as { checkpointer: Checkpointer }).checkpointer;
}

it('keeps the write-ahead log bounded under steady writes, copying it beside them, and loses nothing', async () => {
  const s = await store();
  const largest = await writeSteadily(s, 400);
  // Copied beside the writes, the log would never be copied whole while commits keep landing, and
  // would grow to the 40 MiB written: the copy that finishes it inside the store's mutex starts it over.
  expect(largest).toBeLessThan(20 * MiB);
  expect(checkpointerOf(s).counts.held).toBeGreaterThan(0);
  await s.close();
  // The last connection out copied the rest and removed the log.
  expect(walBytes()).toBe(0);
  const again = await store();
  const values = await again.transaction(async (tx) => Promise.all([0, 199, 399].map((i) => tx.kvGet('load', `k${i}`))));
  expect(values).toEqual([value(0), value(199), value(399)]);
});

it('hands the copying back to SQLite when a checkpoint fails, and tells it', async () => {
  const s = await store();
  const told: string[] = [];
  s.onBackgroundError((err) => told.push(err instanceof Error ? err.message : String(err)));
  // The checkpoint connection breaks (as a failing disk would make its checkpoints fail).
  const broken = checkpointerOf(s) as unknown as { db: Database };
  await new Promise<void>((resolve) => broken.db.close(() => resolve()));
  await s.transaction((tx) => tx.kvSet('load', 'first', 'x'));
  await checkpointerOf(s).checkpointNow();
  expect(told).toHaveLength(1);
  expect(told[0]).toMatch(/copying SQLite's write-ahead log into the database file failed .*SQLite now does it inside commits again.*check the disk and restart Onehand/);
  // SQLite's own checkpoints (every 1,000 pages, inside a commit) keep the log near 4 MiB again.
  const largest = await writeSteadily(s, 400);
  expect(largest).toBeLessThan(8 * MiB);
  expect(told).toHaveLength(1);
});

it('closes after the calls queued before close(), refusing those made after it', async () => {
  const s = await store();
  const before = s.transaction((tx) => tx.kvSet('order', 'before', 1));
  const closing = s.close();
  const after = s.transaction((tx) => tx.kvSet('order', 'after', 1));
  await expect(before).resolves.toBeUndefined();
  await expect(after).rejects.toThrow('SqliteStore is closed');
  await closing;
  const again = await store();
  expect(await again.transaction(async (tx) => [await tx.kvGet('order', 'before'), await tx.kvGet('order', 'after')])).toEqual([1, undefined]);
});
