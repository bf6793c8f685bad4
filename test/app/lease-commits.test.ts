/**
 * Which of a page's commits wait for PostgreSQL's disk. The incident, its pages and timers, every
 * mark of a send and every timer's work commit durably (synchronous_commit on: a 202 or a command's
 * answer promises them). Claims of outbox rows and timers only take leases: they commit without
 * waiting for the write-ahead log's flush, so a claim does not hold the claim lock (and every
 * replica's pages behind it) through a disk flush. A trigger records the setting each write to the
 * outbox and the timers ran under.
 */
import { Client } from 'pg';
import { DateTime } from 'luxon';
import { buildApp } from '../../src/app/container';
import { escalationKeyPrefix } from '../../src/app/incident-service';
import { parseConfig } from '../../src/config';
import { SimulatedClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
import { TEST_CONFIG, TUESDAY } from '../harness/fixtures';
import { RecordingAdapter } from '../harness/recording-adapter';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';

describePg('commits that wait for the disk, and claims that do not (PostgreSQL)', () => {
  let schema: TestSchema;
  const open: Array<{ close(): Promise<void> }> = [];
  beforeEach(async () => {
    schema = await createSchema();
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
    await schema.drop();
  });

  async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: schema.url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  it('a page\'s incident, enqueue and mark commit durably; only the claims of its row and of the escalation timer skip the flush', async () => {
    const parsed = parseConfig(TEST_CONFIG);
    if (!parsed.ok) throw new Error('test config');
    const clock = new SimulatedClock(DateTime.fromISO(TUESDAY, { setZone: true }));
    const store = await openPostgresStore(schema.url);
    open.push(store);
    await store.migrate();
    await sql('CREATE TABLE write_log (seq serial, tbl text, op text, leased boolean, finished boolean, sync text)');
    await sql(`CREATE FUNCTION log_write() RETURNS trigger AS $$
      BEGIN
        INSERT INTO write_log (tbl, op, leased, finished, sync) VALUES (TG_TABLE_NAME, TG_OP, NEW.lease_owner IS NOT NULL,
          to_jsonb(NEW) ->> CASE WHEN TG_TABLE_NAME = 'outbox' THEN 'sent_at' ELSE 'done_at' END IS NOT NULL,
          current_setting('synchronous_commit'));
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await sql('CREATE TRIGGER log_outbox AFTER INSERT OR UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION log_write()');
    await sql('CREATE TRIGGER log_timers AFTER INSERT OR UPDATE ON timers FOR EACH ROW EXECUTE FUNCTION log_write()');

    const adapter = new RecordingAdapter(parsed.config.world, clock);
    const app = buildApp({ world: parsed.config.world, store, clock, logger: new MemoryLogger(), settings: { timerPeriodMs: 1000, instanceId: 'a' }, adapters: [adapter] });
    await app.start({ loop: false });
    open.push({ close: () => app.stop() });
    await app.handle({ text: 'incident report sev2 checkout returns 502', caller: { kind: 'member', id: 'zed' } });
    await app.scheduler.tick();
    expect(adapter.delivered.some((d) => d.to === 'dave' && /New incident #1/.test(d.text))).toBe(true);
    // The escalation's first step comes due: its timer is claimed, then run.
    const [timer] = await sql<{ due_at: string }>('SELECT due_at FROM timers WHERE key LIKE $1 AND done_at IS NULL AND cancelled_at IS NULL ORDER BY due_at LIMIT 1', [`${escalationKeyPrefix(1)}%`]);
    expect(timer).toBeDefined();
    clock.set(DateTime.fromMillis(Number(timer?.due_at)));
    await app.scheduler.tick();

    const log = await sql<{ tbl: string; op: string; leased: boolean; finished: boolean; sync: string }>('SELECT tbl, op, leased, finished, sync FROM write_log ORDER BY seq');
    const kinds = (tbl: string) => log.filter((w) => w.tbl === tbl).map((w) => `${w.op === 'INSERT' ? 'new' : w.finished ? 'done' : w.leased ? 'claim' : 'other'}:${w.sync}`);
    const outbox = new Set(kinds('outbox'));
    const timers = new Set(kinds('timers'));
    // Every write to either table is one of these: a claim (a lease, nothing else) skips the flush,
    // everything else waits for it.
    expect([...outbox].sort()).toEqual(['claim:off', 'done:on', 'new:on']);
    expect([...timers].sort()).toEqual(['claim:off', 'done:on', 'new:on']);
  }, 30_000);
});
