/** The Store contract on SQLite: each test gets a fresh temporary database file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../../src/ports/store';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { runStoreContract, type StoreKit } from './contract';

class SqliteKit implements StoreKit {
  private readonly stores: Store[] = [];
  private readonly dirs: string[] = [];
  private readonly fileOf = new Map<Store, string>();

  async fresh(): Promise<Store> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-contract-'));
    this.dirs.push(dir);
    return this.open(path.join(dir, 'onehand.db'));
  }

  async another(store: Store): Promise<Store> {
    const file = this.fileOf.get(store);
    if (!file) throw new Error('not a store of this kit');
    return this.open(file);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.stores.splice(0).map((s) => s.close()));
    for (const dir of this.dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }

  private async open(file: string): Promise<Store> {
    const s = await openSqliteStore(file);
    this.stores.push(s);
    this.fileOf.set(s, file);
    await s.migrate();
    return s;
  }
}

describe('Store contract: SQLite', () => {
  const kit = new SqliteKit();
  runStoreContract(() => kit);
});
