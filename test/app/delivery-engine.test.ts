/**
 * The delivery engine, with the real app and SQLite: one slow recipient delays nobody else, a
 * recipient's messages keep their order behind a failure, a member not reachable yet gets what
 * waited as soon as they are (and is reached through the channel meanwhile), and /healthz tells
 * the truth about the database and the platforms.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from 'sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { Harness } from '../harness/harness';
import { RecordingAdapter } from '../harness/recording-adapter';
import { waitUntil } from '../harness/wait';

describe('the delivery engine', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('a recipient whose platform call hangs holds up nobody else: the other page goes out, the hung call is cut at the timeout and retried', async () => {
    h = await Harness.start({ delivery: { timeoutMs: 300, concurrency: 8, fallbackAfter: 3 } });
    const searchOnCall = (await h.run('carol', 'oncall who --team search')).match(/^(\w+) is on call/i)?.[1]?.toLowerCase() ?? 'erin';
    h.adapter.hanging.add('dave');
    await h.app.handle({ text: 'incident report sev2 checkout down', caller: { kind: 'guest', adapter: 'recording', address: 'zed', name: 'zed' }, team: 'payments' });
    await h.app.handle({ text: 'incident report sev2 search down', caller: { kind: 'guest', adapter: 'recording', address: 'yan', name: 'yan' }, team: 'search' });
    await h.app.scheduler.tick();
    const events = h.adapter.events;
    // The other team's on-call was paged while Dave's call was still hanging.
    expect(events.indexOf(`delivered ${searchOnCall}`)).toBeGreaterThan(events.indexOf('start dave'));
    expect(events.indexOf(`delivered ${searchOnCall}`)).toBeLessThan(events.indexOf('aborted dave'));
    h.expectNothingFor('dave');
    expect(await h.run('carol', 'incident show 1')).not.toContain('could not reach'); // one timeout is not yet a fallback
    // Dave's platform answers again: the retry (after 5 s) delivers the page.
    h.adapter.hanging.delete('dave');
    await h.advance('5s');
    h.expectMessage('dave', /New incident #1/);
    expect(h.logger.entries.find((e) => e.msg === 'delivery failed; will retry')?.fields.reason).toBe('recording did not answer within 0.3 s (delivery.timeout)');
  });

  it('a call that lands shortly after its timeout (one the platform cannot abort) counts as sent: the page is not sent a second time', async () => {
    h = await Harness.start({ delivery: { timeoutMs: 300, concurrency: 8, fallbackAfter: 3 } });
    // Dave's call ignores the abort and lands 150 ms after the timeout, as botbuilder's
    // conversation creation on Teams does.
    h.adapter.gates.set('dave', new Promise((resolve) => setTimeout(resolve, 450)));
    await h.app.handle({ text: 'incident report sev2 checkout down', caller: { kind: 'guest', adapter: 'recording', address: 'zed', name: 'zed' }, team: 'payments' });
    await h.app.scheduler.flush();
    h.adapter.gates.delete('dave');
    await h.advance('1m'); // past every backoff: nothing is sent again
    expect(h.messagesFor('dave').map((m) => m.text.split('\n')[0])).toEqual(['@Dave New incident #1 [sev2] checkout down']);
    expect(h.logger.entries.some((e) => e.msg === 'delivery answered after its timeout: counted as sent, not sent again')).toBe(true);
    expect(await h.run('carol', 'incident show 1')).not.toMatch(/failed|retrying/);
  });

  it('a recipient\'s messages keep their order: a later page waits behind one that failed', async () => {
    h = await Harness.start();
    h.adapter.failNext(1, 'throw', 'dave');
    await h.run('zed', 'incident report sev2 first');
    await h.run('yan', 'incident report sev2 second');
    h.expectNothingFor('dave'); // the second page waits behind the first
    await h.advance('5s');
    expect(h.messagesFor('dave').map((m) => m.text.split('\n')[0])).toEqual([
      '@Dave New incident #1 [sev2] first',
      '@Dave New incident #2 [sev2] second',
    ]);
  });

  it('a member not reachable yet: the page goes to the team channel at once, and to them as soon as they are reachable', async () => {
    h = await Harness.start();
    h.adapter.notYetReachable.add('dave');
    await h.run('zed', 'incident report sev1 login broken');
    const fallback = h.expectMessage('#payments', /could not reach you directly/);
    expect(fallback.message.mentions).toEqual(['dave']);
    h.expectNothingFor('dave');
    const health = await h.app.health();
    expect(health.outbox).toMatchObject({ waiting: 1 });
    await h.adapter.becomeReachable('dave');
    await h.app.scheduler.tick();
    h.expectMessage('dave', /New incident #1 \[sev1\] login broken/);
    expect((await h.app.health()).outbox).toMatchObject({ waiting: 0, pending: 0 });
    expect(await h.run('carol', 'incident show 1')).toContain('could not reach Dave directly');
  });

  it('a waiting delivery whose recipient became reachable without this process hearing of it (another replica did) goes out within 5 minutes, not after 24 hours', async () => {
    h = await Harness.start();
    h.adapter.notYetReachable.add('dave');
    await h.run('zed', 'incident report sev2 checkout down');
    h.expectNothingFor('dave');
    h.adapter.notYetReachable.delete('dave'); // no rearm here: another replica took the activity
    await h.advance('4m');
    h.expectNothingFor('dave');
    await h.advance('1m');
    h.expectMessage('dave', /New incident #1 \[sev2\] checkout down/);
    // Looked at every 5 minutes, warned about once.
    expect(h.logger.entries.filter((e) => e.msg === 'delivery waits until the recipient is reachable').length).toBe(1);
  });

  it('a waiting page whose incident was acknowledged meanwhile (on another platform) is not sent late: it is moot', async () => {
    h = await Harness.start();
    h.adapter.notYetReachable.add('dave');
    await h.run('zed', 'incident report sev3 something small');
    await h.run('dave', 'incident ack 1'); // from another platform
    h.adapter.notYetReachable.delete('dave');
    await h.advance('5m'); // the waiting page is looked at again
    h.expectNothingFor('dave');
    expect(h.logger.entries.find((e) => e.msg === 'retried page not sent: no longer needed')?.fields.why).toBe('#1 was acknowledged meanwhile');
  });

  it('a delivery still waiting after 24 hours is given up, loudly', async () => {
    h = await Harness.start();
    h.adapter.notYetReachable.add('dave');
    await h.run('zed', 'incident report sev3 something small'); // still unacknowledged: never moot
    expect((await h.app.health()).outbox?.waiting).toBeGreaterThanOrEqual(1);
    await h.advance('25h');
    const health = await h.app.health();
    expect(health.outbox).toMatchObject({ waiting: 0 });
    expect(health.outbox?.givenUpLastHour).toBeGreaterThanOrEqual(1);
    expect(h.logger.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toContain('delivery given up: the recipient did not become reachable within 24 hours');
  });

  it('/healthz fails while the database refuses writes (a full disk), naming the error, and keeps showing it for a minute', async () => {
    h = await Harness.start();
    expect((await h.app.health()).ok).toBe(true);
    // SQLite's own "database or disk is full": no page may be added to the file.
    const conn = (h.app.store as unknown as { inner: { conn: { exec(sql: string): Promise<void> } } }).inner.conn;
    const pages = await (h.app.store as unknown as { inner: { conn: { all<T>(sql: string, p: unknown[]): Promise<T[]> } } }).inner.conn.all<{ page_count: number }>('PRAGMA page_count', []);
    await conn.exec(`PRAGMA max_page_count = ${pages[0]?.page_count ?? 1}`);
    const reply = await h.run('zed', 'incident report sev2 '.concat('x'.repeat(3000)));
    expect(reply).toMatch(/Something went wrong and nothing was changed/);
    const health = await h.app.health();
    expect(health.ok).toBe(false);
    expect(health.database).toMatch(/^failing: .*(full|SQLITE_FULL)/i);
    await conn.exec('PRAGMA max_page_count = 1073741823');
    expect((await h.app.health()).database).toMatch(/^failing/); // a recent failure still shows, for a minute
  });

  it('/healthz answers while a transaction holds the store: failing, and ok again once it ends', async () => {
    h = await Harness.start();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = h.app.store.transaction(() => gate);
    const [first, second] = await Promise.all([h.app.health(200), h.app.health(200)]);
    expect(first.ok).toBe(false);
    expect(first.database).toMatch(/^failing: no answer within 0\.2 s \(a long or stuck transaction holds the store/);
    expect(second.database).toBe(first.database);
    release();
    await held;
    expect(await h.app.health(200)).toMatchObject({ ok: true, database: 'ok' });
  });
});

describe('the delivery engine, live (woken by commits, not by the timer)', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('a page enqueued while the recipient\'s previous message is still being sent goes out right after it, not at the next timer period', async () => {
    // A timer period of an hour: only the worker's own wake-ups can send the second page in time.
    h = await Harness.start({ timerPeriodMs: 3_600_000 });
    h.app.scheduler.start();
    let open = (): void => undefined;
    h.adapter.gates.set('dave', new Promise<void>((resolve) => (open = resolve)));
    const guest = (name: string) => ({ kind: 'guest' as const, adapter: 'recording', address: name, name });
    await h.app.handle({ text: 'incident report sev2 first', caller: guest('zed'), team: 'payments' });
    await waitUntil(() => h.adapter.events.includes('start dave'));
    // Dave's lane is busy: the claim this commit wakes must skip it.
    await h.app.handle({ text: 'incident report sev2 second', caller: guest('yan'), team: 'payments' });
    await waitUntil(() => h.adapter.events.filter((e) => e === 'delivered #payments').length === 2);
    h.expectNothingFor('dave');
    open();
    await waitUntil(() => h.messagesFor('dave').length === 2, 5_000);
    expect(h.messagesFor('dave').map((m) => m.text.split('\n')[0])).toEqual([
      '@Dave New incident #1 [sev2] first',
      '@Dave New incident #2 [sev2] second',
    ]);
  });

  it('a page standing in for a closed DM goes out in the team channel while the channel\'s records are still being sent, not behind them', async () => {
    h = await Harness.start({ timerPeriodMs: 3_600_000 });
    h.app.scheduler.start();
    // The channel's records are slow (a rate limit, a slow platform); its urgent posts are not held by them.
    let open = (): void => undefined;
    const slow = new Promise<void>((resolve) => (open = resolve));
    const deliver = h.adapter.deliver.bind(h.adapter);
    h.adapter.deliver = async (d) => {
      if (d.recipient.kind === 'channel' && d.message.kind !== 'page') await slow;
      return deliver(d);
    };
    h.adapter.failNext(1, 'undeliverable', 'dave');
    const guest = { kind: 'guest' as const, adapter: 'recording', address: 'zed', name: 'zed' };
    await h.app.handle({ text: 'incident report sev2 checkout down', caller: guest, team: 'payments' });
    await waitUntil(() => h.messagesFor('#payments').some((m) => /could not reach you directly/.test(m.text)), 5_000);
    expect(h.messagesFor('#payments').map((m) => m.text.split('\n')[0])).toEqual([expect.stringMatching(/^@Dave \(could not reach you directly\) New incident #1/)]);
    open();
    await waitUntil(() => h.messagesFor('#payments').length === 2, 5_000);
    expect(h.messagesFor('#payments')[1]?.text).toMatch(/New incident #1 \[sev2\] checkout down/);
  });

  it('a page enqueued while the recipient\'s previous message is being refused goes out right after it, not at the next timer period', async () => {
    // The lane's own row (a notice) reaches nobody (direct messages closed) and, not being a page,
    // enqueues nothing that would wake the worker: the page that came meanwhile must not wait an hour.
    h = await Harness.start({ timerPeriodMs: 3_600_000 });
    h.app.scheduler.start();
    let open = (): void => undefined;
    h.adapter.gates.set('bob', new Promise<void>((resolve) => (open = resolve)));
    h.adapter.failNext(1, 'undeliverable', 'bob');
    await h.app.handle({ text: 'oncall override bob now 4h', caller: { kind: 'member', id: 'carol' } });
    await waitUntil(() => h.adapter.events.includes('start bob'));
    const guest = { kind: 'guest' as const, adapter: 'recording', address: 'zed', name: 'zed' };
    await h.app.handle({ text: 'incident report sev2 checkout down', caller: guest, team: 'payments' });
    await waitUntil(() => h.adapter.events.includes('delivered #payments'));
    open();
    await waitUntil(() => h.messagesFor('bob').length === 1, 5_000);
    expect(h.messagesFor('bob').map((m) => m.text.split('\n')[0])).toEqual(['@Bob New incident #1 [sev2] checkout down']);
  });

  it('a page held behind a failed one goes out as soon as the retry succeeds, not at the next timer period', async () => {
    h = await Harness.start({ timerPeriodMs: 3_600_000 });
    h.app.scheduler.start();
    const guest = (name: string) => ({ kind: 'guest' as const, adapter: 'recording', address: name, name });
    h.adapter.failNext(1, 'throw', 'dave');
    await h.app.handle({ text: 'incident report sev2 first', caller: guest('zed'), team: 'payments' });
    await waitUntil(() => h.logger.entries.some((e) => e.msg === 'delivery failed; will retry'));
    await h.app.handle({ text: 'incident report sev2 second', caller: guest('yan'), team: 'payments' });
    await waitUntil(() => h.adapter.events.filter((e) => e === 'delivered #payments').length === 2);
    h.expectNothingFor('dave'); // the second page waits behind the first
    await new Promise((resolve) => setTimeout(resolve, 100)); // the channel's lane ends (and claims again)
    // The retry comes due; one tick claims it (only it: the second is held behind it).
    h.clock.set(h.clock.now().plus({ seconds: 5 }));
    await h.app.scheduler.tick();
    await waitUntil(() => h.messagesFor('dave').length === 2, 5_000);
    expect(h.messagesFor('dave').map((m) => m.text.split('\n')[0])).toEqual([
      '@Dave New incident #1 [sev2] first',
      '@Dave New incident #2 [sev2] second',
    ]);
  });
});

describe('the delivery engine after failures and crashes', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('a message that keeps failing holds back the recipient\'s later pages only until it has failed fallback_after times', async () => {
    h = await Harness.start();
    h.adapter.failNext(3, 'throw', 'dave');
    await h.run('zed', 'incident report sev2 first');
    await h.run('yan', 'incident report sev2 second');
    h.expectNothingFor('dave');
    await h.advance('15s'); // failures at 10:00:00, :05, :15
    const second = h.expectMessage('dave', /New incident #2 \[sev2\] second/);
    expect(second.at).toBe('2026-03-03T10:00:15.000Z');
    expect(h.expectMessage('#payments', /could not reach you directly\) New incident #1/).at).toBe('2026-03-03T10:00:15.000Z');
    // The first page is retried on its own schedule (5 s, 10 s, 20 s apart) and arrives then.
    await h.advance('20s');
    expect(h.expectMessage('dave', /New incident #1 \[sev2\] first/).at).toBe('2026-03-03T10:00:35.000Z');
    expect((await h.app.health()).outbox).toMatchObject({ pending: 0 });
  });

  it('a page whose message id cannot be kept is marked sent anyway, never sent twice, and the log says why', async () => {
    h = await Harness.start();
    h.adapter.remembers = true;
    // The database refuses what the platform adapter keeps of its messages (ids, for later edits).
    const conn = (h.app.store as unknown as { inner: { conn: { exec(sql: string): Promise<void> } } }).inner.conn;
    await conn.exec(`CREATE TRIGGER refuse_adapter_keys BEFORE INSERT ON kv WHEN NEW.namespace = 'adapter:recording'
      BEGIN SELECT RAISE(ABORT, 'simulated: the adapter namespace refuses writes'); END`);
    await h.run('zed', 'incident report sev1 login broken');
    await h.app.scheduler.tick();
    h.expectMessage('dave', /New incident #1 \[sev1\] login broken/);
    // Past the delivery lease (a mark lost would send the page again then).
    await h.advance('3m');
    expect(h.messagesFor('dave').filter((m) => /New incident #1/.test(m.text))).toHaveLength(1);
    expect(h.messagesFor('#payments').filter((m) => /New incident #1/.test(m.text))).toHaveLength(1);
    expect((await h.app.health()).outbox).toMatchObject({ pending: 0 });
    const warnings = h.logger.entries.filter((e) => e.msg === 'delivery marked sent without what its adapter keeps of it');
    expect(warnings.length).toBeGreaterThan(0);
    expect(String(warnings[0]?.fields.error)).toContain('the adapter namespace refuses writes');
  });

  /** lockedDatabase: the harness on a file another process can lock (the app's busy_timeout short: SQLITE_BUSY at once). */
  async function lockedDatabase(markRetryMs?: number): Promise<{ lock: () => Promise<void>; unlock: () => Promise<void>; gate: (to: string) => () => void }> {
    const dbPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-')), 'onehand.db');
    h = await Harness.start({ dbPath, store: (clock) => openSqliteStore(dbPath, { clock, busyTimeoutMs: 50 }), ...(markRetryMs !== undefined ? { markRetryMs } : {}) });
    const other = new Database(dbPath);
    other.configure('busyTimeout', 5000);
    const sql = (text: string) => new Promise<void>((resolve, reject) => other.exec(text, (err) => (err ? reject(err) : resolve())));
    return {
      // Another process (a backup tool, a second bot started by mistake) takes the file's write lock.
      lock: () => sql('BEGIN IMMEDIATE'),
      unlock: async () => {
        await sql('COMMIT');
        await new Promise<void>((resolve) => other.close(() => resolve()));
      },
      gate: (to) => {
        let open!: () => void;
        h.adapter.gates.set(to, new Promise<void>((resolve) => {
          open = resolve;
        }));
        return () => open();
      },
    };
  }

  /**
   * pageMeetsLock: a sev1 whose page the platform takes only once another process holds the
   * database's write lock, so its mark meets the lock; resolves with the tick that sends it.
   */
  async function pageMeetsLock(db: Awaited<ReturnType<typeof lockedDatabase>>): Promise<{ ticking: Promise<void> }> {
    const toDave = db.gate('dave');
    await h.app.handle({ text: 'incident report sev1 login broken', caller: { kind: 'guest', adapter: 'recording', address: 'zed', name: 'zed' }, team: 'payments' });
    const ticking = h.app.scheduler.tick();
    await waitUntil(() => h.adapter.events.includes('start dave'));
    await db.lock();
    toDave();
    return { ticking };
  }

  it('pages whose marks meet a database another process has locked are marked once the lock goes: each page is sent once', async () => {
    const db = await lockedDatabase();
    const toDave = db.gate('dave');
    const toChannel = db.gate('#payments');
    await h.app.handle({ text: 'incident report sev1 login broken', caller: { kind: 'guest', adapter: 'recording', address: 'zed', name: 'zed' }, team: 'payments' });
    const ticking = h.app.scheduler.tick(); // claims the page and the channel record; both calls wait at their gates
    await waitUntil(() => h.adapter.events.includes('start dave') && h.adapter.events.includes('start #payments'));
    await db.lock();
    try {
      toDave(); // the platform takes the page; its mark meets the lock
      await waitUntil(() => h.logger.entries.some((e) => e.msg === 'cannot mark deliveries sent: the store takes no write; trying again'));
      expect((await h.app.health()).database).toMatch(/^failing: .*database is locked/);
      toChannel(); // a second mark, made while the first waits, waits with it
      await waitUntil(() => h.adapter.events.includes('delivered #payments'));
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await db.unlock();
    }
    await waitUntil(() => h.logger.entries.some((e) => e.msg === 'deliveries marked sent: the store takes writes again'));
    await ticking;
    // Past the delivery lease: a mark given up would have sent its message again by now.
    await h.advance('3m');
    expect(h.messagesFor('dave').filter((m) => /New incident #1/.test(m.text))).toHaveLength(1);
    expect(h.messagesFor('#payments').filter((m) => /New incident #1/.test(m.text))).toHaveLength(1);
    expect((await h.app.health()).outbox).toMatchObject({ pending: 0 });
    expect(h.logger.entries.filter((e) => e.msg.startsWith('deliveries could not be marked sent'))).toEqual([]);
  });

  it('marks that waited as long as they may are tried once without what the adapter keeps, then given up loudly: the page goes out again after its lease', async () => {
    const db = await lockedDatabase(400);
    h.adapter.remembers = true;
    const { ticking } = await pageMeetsLock(db);
    try {
      await waitUntil(() => h.logger.entries.some((e) => e.msg.startsWith('deliveries could not be marked sent')));
      await ticking;
    } finally {
      await db.unlock();
    }
    const given = h.logger.entries.find((e) => e.msg === 'deliveries could not be marked sent: the store took no write; they go out again after their lease');
    expect(given?.level).toBe('error');
    expect(Number(given?.fields.waitedMs)).toBeGreaterThanOrEqual(400);
    expect(h.logger.entries.some((e) => e.msg === 'delivery marked sent without what its adapter keeps of it')).toBe(false);
    // What the log promised: after the lease the page goes out again.
    await h.advance('3m');
    expect(h.messagesFor('dave').filter((m) => /New incident #1/.test(m.text))).toHaveLength(2);
  });

  it('a stop while marks wait for a locked database does not wait out the marks\' 30 s: they are given up, loudly', async () => {
    const db = await lockedDatabase();
    const { ticking } = await pageMeetsLock(db);
    try {
      await waitUntil(() => h.logger.entries.some((e) => e.msg === 'cannot mark deliveries sent: the store takes no write; trying again'));
      const started = Date.now();
      await h.app.stop(); // the tick in progress waits for the page's mark: the stop must cut that short
      expect(Date.now() - started).toBeLessThan(5_000);
      await ticking;
    } finally {
      await db.unlock();
    }
    const given = h.logger.entries.find((e) => e.msg === 'deliveries could not be marked sent: the store took no write; they go out again after their lease');
    expect(given?.level).toBe('error');
    expect(String(given?.fields.error)).toContain('database is locked');
  });

  it('after a kill, what the dead process had claimed goes out at the next start, not after its lease', async () => {
    h = await Harness.start();
    await h.app.handle({ text: 'incident report sev2 claimed then killed', caller: { kind: 'guest', adapter: 'recording', address: 'zed', name: 'zed' }, team: 'payments' });
    const now = h.clock.now();
    const claimed = await h.app.store.transaction((tx) => tx.claimOutbox(now, 100, 'a-process-that-was-killed', now.plus({ minutes: 60 })));
    expect(claimed.length).toBeGreaterThan(0);
    await h.restart();
    await h.app.scheduler.tick();
    expect(h.expectMessage('dave', /New incident #1/).at).toBe('2026-03-03T10:00:00.000Z');
  });
});

describe('the timeline of a page that fails', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('shows a page\'s first failed attempt at once, not only when it falls back', async () => {
    h = await Harness.start();
    h.adapter.failNext(1, 'throw', 'dave');
    await h.run('zed', 'incident report sev2 checkout down');
    expect(await h.run('carol', 'incident show 1')).toContain('page to Dave on recording failed (simulated platform outage (HTTP 503)); retrying');
    await h.advance('5s');
    h.expectMessage('dave', /New incident #1/);
  });

  it('a page refused on one platform and delivered on another says where it reached them, and posts nothing in the channel', async () => {
    class Second extends RecordingAdapter {
      override readonly name = 'second';
    }
    let second: RecordingAdapter | null = null;
    h = await Harness.start({ adapters: ({ config, clock }) => [(second = new Second(config.world, clock))] });
    h.adapter.failNext(1, 'undeliverable', 'dave');
    await h.run('zed', 'incident report sev1 login broken');
    expect((second as RecordingAdapter | null)?.delivered.filter((d) => d.to === 'dave').map((d) => d.text.split('\n')[0])).toEqual(['@Dave New incident #1 [sev1] login broken']);
    expect(h.messagesFor('#payments').map((m) => m.text.split('\n')[0])).toEqual(['New incident #1 [sev1] login broken']);
    const show = await h.run('carol', 'incident show 1');
    expect(show).toMatch(/could not reach Dave on recording \(simulated: direct messages closed\); reached on second|delivery to Dave failed: simulated: direct messages closed/);
    expect(show).not.toContain('the page goes to the team channel');
  });
});
