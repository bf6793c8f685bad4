/**
 * The fallback ladder on PostgreSQL, where the record transactions of two platforms run side by
 * side: a page refused on both platforms at the same moment must still fall back to the team
 * channel. Each transaction reads the other platform's delivery of the page to decide; read while
 * the other's refusal is not committed yet, each sees "pending, may still reach them" and stands
 * back, and nobody is told. The ladder's decisions about one incident take turns (its row is
 * locked first). The reads of the sibling deliveries are slowed by 100 ms here, so the two
 * transactions overlap every time.
 */
import type { Store, StoreTx } from '../../src/ports/store';
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
import { Harness } from '../harness/harness';
import { RecordingAdapter } from '../harness/recording-adapter';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';

/** slowSiblings: the store, with each transaction's deliveryStates answering 100 ms late. */
function slowSiblings(store: Store): Store {
  const slowTx = (tx: StoreTx): StoreTx => new Proxy(tx, {
    get: (t, p) => {
      if (p === 'deliveryStates') {
        return async (prefix: string) => {
          const states = await t.deliveryStates(prefix);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return states;
        };
      }
      const v: unknown = Reflect.get(t, p);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return new Proxy(store, {
    get: (s, p) => {
      if (p === 'transaction') return (fn: (tx: StoreTx) => Promise<unknown>, o?: unknown) => s.transaction((tx) => fn(slowTx(tx)), o as never);
      const v: unknown = Reflect.get(s, p);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(s) : v;
    },
  });
}

describePg('a page refused on two platforms at once (PostgreSQL)', () => {
  let h: Harness | null = null;
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    await h?.stop();
    h = null;
    await schema.drop();
  });

  it('falls back to the team channel once', async () => {
    class Second extends RecordingAdapter {
      override readonly name = 'second';
      override canReach(r: Parameters<RecordingAdapter['canReach']>[0]): boolean {
        return r.kind !== 'channel' && super.canReach(r); // the team channel is on 'recording' only
      }
    }
    let second: RecordingAdapter | null = null;
    let open!: () => void;
    const together = new Promise<void>((resolve) => (open = resolve));
    h = await Harness.start({
      store: async (clock) => {
        const s = await openPostgresStore(schema.url, { clock });
        await s.migrate();
        return slowSiblings(s);
      },
      adapters: ({ config, clock }) => [(second = new Second(config.world, clock))],
    });
    const other = second as unknown as RecordingAdapter;
    // Both platforms hold Dave's page until both calls are in flight, then refuse it together.
    h.adapter.gates.set('dave', together);
    other.gates.set('dave', together);
    h.adapter.failNext(1, 'undeliverable', 'dave');
    other.failNext(1, 'undeliverable', 'dave');
    await h.app.handle({ text: 'incident report sev1 login broken', caller: { kind: 'guest', adapter: 'recording', address: 'zed', name: 'zed' }, team: 'payments' });
    const tick = h.app.scheduler.tick();
    while (h.adapter.events.filter((e) => e === 'start dave').length + other.events.filter((e) => e === 'start dave').length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    open();
    await tick;
    await h.app.scheduler.tick();
    const channel = h.messagesFor('#payments').map((m) => m.text.split('\n')[0]);
    expect(channel.filter((t) => t?.includes('(could not reach you directly)'))).toHaveLength(1);
    expect(await h.run('carol', 'incident show 1')).toContain('the page goes to the team channel');
  });
});
