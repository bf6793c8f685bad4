/** The Store contract on PostgreSQL: each test gets a fresh schema, dropped afterwards. */
import type { Store } from '../../src/ports/store';
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
import { runStoreContract, type StoreKit } from './contract';
import { createSchema, describePg, type TestSchema } from './pg-test';

class PostgresKit implements StoreKit {
  private readonly stores: Store[] = [];
  private readonly schemas: TestSchema[] = [];
  private readonly urlOf = new Map<Store, string>();

  async fresh(): Promise<Store> {
    const schema = await createSchema();
    this.schemas.push(schema);
    return this.open(schema.url);
  }

  async another(store: Store): Promise<Store> {
    const url = this.urlOf.get(store);
    if (!url) throw new Error('not a store of this kit');
    return this.open(url);
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.stores.splice(0).map((s) => s.close()));
    await Promise.all(this.schemas.splice(0).map((s) => s.drop()));
  }

  private async open(url: string): Promise<Store> {
    const s = await openPostgresStore(url, { maxConnections: 8 });
    this.stores.push(s);
    this.urlOf.set(s, url);
    await s.migrate();
    return s;
  }
}

describePg('Store contract: PostgreSQL', () => {
  const kit = new PostgresKit();
  runStoreContract(() => kit);
});
