/**
 * SqliteStore implements the Store port on one SQLite file in WAL mode, through the async
 * node-sqlite3 driver.
 *
 * One connection serves the whole process. `transaction` is serialized by an in-process mutex (FIFO,
 * urgent callers first: see Store.transaction), so callers may start transactions from many async
 * tasks at once: each callback runs alone, between `BEGIN IMMEDIATE` and `COMMIT` (or `ROLLBACK`
 * when it throws). Other processes on the same file wait up to `busy_timeout` (5 s) for the write
 * lock. Statements are prepared once and cached per SQL text; the cache holds a bounded set because
 * every SQL text is built from a fixed shape.
 *
 * Known limits: a transaction callback must await every StoreTx call it makes (a call that settles
 * after the callback returned may land after COMMIT); calling `transaction`, `migrate` or `close` from
 * inside a transaction callback throws instead of deadlocking. Override and absence ids are random
 * UUIDs (node:crypto randomUUID).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { makeFolder } from '../../runtime/make-folder';
import { dirname } from 'node:path';
import type { DateTime } from 'luxon';
import { byIncident, checkLimit, deliveryState, fromMs, INCIDENT_COLUMNS, prefixUpperBound, incidentParams, interval, leaseParams, runAfterCommit, toIncident as decodeIncident, toMs, toStorm, versionsOf, type IncidentDbRow, type StormDbRow } from '../values';
import { NestingGuard } from '../nesting';
import { PairMap, TripleMap } from '../../core/keyed-maps';
import { Database, OPEN_CREATE, OPEN_READWRITE, type RunResult, type Statement } from 'sqlite3';
import type { Clock } from '../../ports/clock';
import { SystemClock } from '../../runtime/clock';
import { laneOf } from '../../ports/store';
import type {
  AlertChange,
  UnreachedPages,
  ClaimOptions,
  DeliveryState,
  IncidentFilter,
  OutboxStats,
  IntakeAlert,
  IntakeAlertKey,
  IntakeGroupRepeat,
  IntakeGroupState,
  IntakeRepeat,
  IntakeRepeatPlan,
  KnownIntakeAlert,
  StormRow,
  NewIntakeIncident,
  NewOutboxRow,
  OutboxRow,
  Recipient,
  Store,
  StoredAbsence,
  StoredOverride,
  StoreTx,
  TimerRow,
  TransactionOptions,
} from '../../ports/store';
import type { MemberId, TeamId } from '../../core/model';
import type {
  Incident,
  IncidentState,
  NewIncident,
  NewTimelineEvent,
  Principal,
  TimelineEvent,
} from '../../core/incident/types';
import type { Message } from '../../core/messages/message';
import { applyMigrations, MIGRATIONS, type Migration } from './migrations';
import { BACKSTOP_PAGES, Checkpointer } from './checkpointer';
import { acquireInstanceLock, type InstanceLock } from './instance-lock';

/** DEFAULT_DATA_PATH is where the database lives when ONEHAND_DATA is not set. */
export const DEFAULT_DATA_PATH = './data/onehand.db';

/** defaultDataPath returns `ONEHAND_DATA` when set and non-empty, else `./data/onehand.db`. */
export function defaultDataPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env['ONEHAND_DATA'];
  return configured !== undefined && configured.trim() !== '' ? configured : DEFAULT_DATA_PATH;
}

export interface SqliteStoreOptions {
  /** Stamps the bookkeeping instants the port gives no instant for (created_at, done_at, dead_at, ...). */
  readonly clock?: Clock;
  /** The schema to migrate to; tests only. Defaults to MIGRATIONS. */
  readonly migrations?: readonly Migration[];
  /** A call that holds the store this long while others wait is told (see SqliteStore.watchHeld); default 30 s. */
  readonly heldLimitMs?: number;
  /** How long a write waits for another process's lock on the file before it fails SQLITE_BUSY (busy_timeout); default 5 s. */
  readonly busyTimeoutMs?: number;
}

/** See SqliteStoreOptions.heldLimitMs. */
const HELD_LIMIT_MS = 30_000;


/**
 * openSqliteStore opens (creating it and its parent directory when missing) the database at `path`
 * and sets WAL mode, busy_timeout (5000 ms unless options say), foreign_keys=ON and synchronous=NORMAL. It does not migrate:
 * call `migrate()` before the first transaction. `:memory:` opens a private in-memory database
 * (journal mode "memory"), handy for fast tests.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) makeFolder(dirname(path));
  const conn = await Connection.open(path);
  try {
    const busyTimeoutMs = Math.max(0, Math.round(options.busyTimeoutMs ?? 5000));
    await conn.exec(`PRAGMA journal_mode=WAL; PRAGMA busy_timeout=${busyTimeoutMs}; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;`);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  const store = new SqliteStore(conn, options.clock ?? new SystemClock(), options.migrations ?? MIGRATIONS, options.heldLimitMs ?? HELD_LIMIT_MS);
  if (!inMemory) {
    store.file = path;
    try {
      await store.checkpointBeside(path);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }
  return store;
}

export class SqliteStore implements Store {
  /** One process serves the file, its transactions one at a time (the mutex). */
  readonly singleProcess = true;
  private readonly backgroundListeners = new Set<(err: unknown) => void>();
  private readonly mutex = new Mutex();
  /** A ROLLBACK failed, so the connection may still be inside a transaction (see quickRepeats). */
  private maybeInTransaction = false;
  /** Refuses a call from inside a transaction (see NestingGuard). */
  private readonly nesting = new NestingGuard<SqliteTx>('SqliteStore');
  private closed = false;
  /** close() was called: new calls are refused, those queued before it still run. */
  private closing = false;
  private readonly enqueuedListeners = new Set<() => void>();
  private readonly intake = new IntakeMemory();
  private foldTimer: NodeJS.Timeout | null = null;
  /** Copies the write-ahead log into the file beside the writes (see Checkpointer); null in memory. */
  private checkpointer: Checkpointer | null = null;
  /** When the scheduled fold runs (performance.now()). */
  private foldDue = 0;
  /** The database file (null in memory), and the lock of the process serving it (see recoverAtStart). */
  file: string | null = null;
  private lock: InstanceLock | null = null;
  private readonly heldWatch: NodeJS.Timeout;
  /** The hold (its start) last told by watchHeld, so one hold is told once. */
  private heldTold: number | null = null;

  /** Use openSqliteStore. */
  constructor(
    private readonly conn: Connection,
    private readonly clock: Clock,
    private readonly migrations: readonly Migration[],
    private readonly heldLimitMs: number = HELD_LIMIT_MS,
  ) {
    this.heldWatch = setInterval(() => this.watchHeld(), Math.max(10, Math.min(5_000, heldLimitMs / 4)));
    this.heldWatch.unref();
  }

  /**
   * watchHeld tells (onBackgroundError: logged, and in /healthz) a call that has held the store
   * longer than heldLimitMs while other calls wait for it: every write of every team waits behind
   * it. Transactions are meant to take milliseconds (a big request is cut into 10 ms chunks); such
   * a hold is a hung SQLite call or a transaction waiting for something that waits for it (a call
   * to this store from inside its transaction: tests refuse those, see NestingGuard).
   */
  private watchHeld(): void {
    const since = this.mutex.heldSince;
    if (since === null || this.mutex.waiting === 0 || since === this.heldTold) return;
    const heldMs = performance.now() - since;
    if (heldMs < this.heldLimitMs) return;
    this.heldTold = since;
    const err = new Error(`one transaction has held the SQLite store for ${Math.round(heldMs / 1000)} s while ${this.mutex.waiting} other call(s) wait: every write waits behind it (a hung SQLite call, or a transaction that waits for a call to the store made from inside it); restart Onehand if it does not end`);
    this.tellBackground(err);
  }

  /**
   * checkpointBeside: the log is copied by a Checkpointer of its own instead of inside commits
   * (openSqliteStore calls it once for a file); SQLite's own checkpoint stays as a backstop at
   * BACKSTOP_PAGES. Should its connection not open, SQLite keeps checkpointing inside commits as it
   * does by default: slower commits now and then, nothing lost. The finishing copy gives up its
   * turn once close() began.
   */
  async checkpointBeside(path: string): Promise<void> {
    let checkpointer: Checkpointer;
    try {
      checkpointer = await Checkpointer.open(path, {
        hold: (fn) => this.mutex.run(false, async () => {
          if (!this.closing) await fn();
        }),
        fallBack: () => this.mutex.run(false, async () => {
          if (!this.closed) await this.conn.exec('PRAGMA wal_autocheckpoint=1000');
        }),
        onError: (err) => {
          this.tellBackground(err);
        },
      });
    } catch {
      return;
    }
    this.checkpointer = checkpointer;
    await this.conn.exec(`PRAGMA wal_autocheckpoint=${BACKSTOP_PAGES}`);
  }

  /**
   * migrate applies pending migrations, each in its own transaction. It throws when the database
   * has a schema version newer than this code knows ("database schema version N is newer ...").
   */
  async migrate(): Promise<number[]> {
    this.refuseNesting('migrate');
    return this.mutex.run(false, async () => {
      this.assertOpen();
      const applied = await applyMigrations(this.conn, this.migrations, () => this.clock.now().toMillis());
      this.checkpointer?.wrote();
      return applied;
    });
  }

  /**
   * transaction runs `fn` alone on the connection inside BEGIN IMMEDIATE ... COMMIT and returns its
   * result; when `fn` throws (or COMMIT fails) it rolls back and rethrows. Callers queue in FIFO
   * order, urgent ones (`options.urgent`: the delivery worker's) before the others; the worker's
   * transactions are short and coalesced (one claim at a time, marks shared), so they delay the
   * others without starving them. The StoreTx handed to `fn` throws once `fn` has settled.
   */
  async transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    this.refuseNesting('transaction');
    return this.mutex.run(options?.urgent === true, async () => {
      this.assertOpen();
      const tx = new SqliteTx(this.conn, this.clock, this.intake);
      await this.conn.exec('BEGIN IMMEDIATE');
      this.maybeInTransaction = false;
      let result: T;
      try {
        result = await this.nesting.within(tx, () => fn(tx));
        await tx.flushTimeline();
      } catch (err) {
        tx.finish();
        await this.conn.exec('ROLLBACK').catch(() => {
          this.maybeInTransaction = true;
        });
        throw err;
      }
      tx.finish();
      try {
        await this.conn.exec('COMMIT');
      } catch (err) {
        // SQLite may have rolled back already; a failing ROLLBACK must not hide the COMMIT error.
        await this.conn.exec('ROLLBACK').catch(() => {
          this.maybeInTransaction = true;
        });
        throw err;
      }
      this.checkpointer?.wrote();
      if (tx.committed().logged) this.foldSoon();
      if (tx.enqueued) for (const listener of this.enqueuedListeners) setImmediate(listener);
      runAfterCommit(tx.afterCommits);
      return result;
    });
  }

  /**
   * quickRepeats: see Store.quickRepeats. The memory is the truth while SQLite's data_version is
   * the one it was checked at (only another connection's commit changes it), so the log row is
   * inserted by one autocommit statement whose WHERE compares data_version: a stale memory inserts
   * nothing (and is dropped), and a commit by another connection between the statement's read and
   * its write fails the statement (SQLITE_BUSY_SNAPSHOT) instead of writing on a stale view.
   */
  async quickRepeats(keys: readonly IntakeAlertKey[], plan: (known: readonly KnownIntakeAlert[]) => IntakeRepeatPlan | null, now: DateTime): Promise<KnownIntakeAlert[] | null> {
    this.refuseNesting('quickRepeats');
    const at = toMs(now, 'now');
    // A batch with a fingerprint the memory does not know (a new alert: a big request's chunk, a
    // new incident) declines at once, without waiting for its turn at the store: it would decline
    // there too and then wait again for its transaction. Everything is checked again in its turn.
    if (this.intake.dataVersion < 0) return null;
    const memos = new Array<GroupMemo>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as IntakeAlertKey;
      const memo = this.intake.group(k.integration, k.fingerprint);
      if (memo === undefined || memo.incidentId === undefined) return null;
      memos[i] = memo;
    }
    const generation = this.intake.generation;
    return this.mutex.run(false, async () => {
      this.assertOpen();
      const memory = this.intake;
      if (memory.dataVersion < 0) return null;
      if (this.maybeInTransaction) {
        // A ROLLBACK failed: an autocommit INSERT could land in a transaction left open. BEGIN
        // fails inside one (then the batch takes a transaction, which fails loudly at its BEGIN).
        try {
          await this.conn.exec('BEGIN IMMEDIATE; ROLLBACK');
          this.maybeInTransaction = false;
        } catch {
          return null;
        }
      }
      const known: KnownIntakeAlert[] = new Array<KnownIntakeAlert>(keys.length);
      // What the memory knew before the wait is what it knows now unless it changed meanwhile.
      const same = memory.generation === generation;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as IntakeAlertKey;
        const memo = same ? memos[i] : (memos[i] = memory.group(k.integration, k.fingerprint) as GroupMemo);
        const alert = memo?.alerts.get(k.alertKey);
        const incidentId = memo?.incidentId;
        if (alert === undefined || incidentId === undefined) return null;
        known[i] = { status: alert.status, startsAt: alert.startsAt, incidentId };
      }
      const repeats = plan(known);
      if (repeats === null) return null;
      if (repeats.alerts.length === 0 && repeats.groups.length === 0) return known;
      // While the store's sums cover the whole log, the row names the alerts and groups an earlier
      // row of the log defined by their number (see RepeatSums.encode).
      const sums = memory.sums;
      const row = sums === null ? null : sums.encode(repeats.alerts, repeats.groups, { keys, memos });
      let changes = 0;
      try {
        ({ changes } = await this.conn.run(SQL.logIntakeRepeatsIfCurrent, [at, row?.data ?? repeatLogData(repeats.alerts, repeats.groups), memory.dataVersion]));
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      }
      if (changes === 0) {
        // Another connection wrote: the next transaction's checkMemory drops the memory.
        memory.dataVersion = -1;
        return null;
      }
      this.checkpointer?.wrote();
      memory.foldPending = true;
      if (memory.sums === sums) row?.added(at);
      else memory.sums = null; // not expected (nothing else runs while this holds the store); the fold then sums the log
      if (memory.sums?.full) memory.sums = null;
      this.foldSoon();
      return known;
    });
  }

  /**
   * foldSoon folds the repeat log FOLD_AFTER_MS from now (FOLD_LOG_AFTER_MS when the fold will have
   * to sum the log itself, or when the sums hold more than FOLD_SOON_ALERTS alerts: a fold's time
   * grows with the alerts it updates, and it holds the store), in a transaction of its own (one fold
   * sums many transactions' repeats). A fold due sooner replaces one scheduled for later.
   * Anything that reads or changes the counts folds first anyway, so this only keeps the log short
   * and the counts fresh for readers on other connections.
   */
  private foldSoon(): void {
    if (this.closing) return;
    const sums = this.intake.sums;
    const delay = sums === null || sums.alerts > FOLD_SOON_ALERTS ? FOLD_LOG_AFTER_MS : FOLD_AFTER_MS;
    const due = performance.now() + delay;
    if (this.foldTimer !== null) {
      if (this.foldDue <= due) return;
      clearTimeout(this.foldTimer);
    }
    this.foldDue = due;
    this.foldTimer = setTimeout(() => {
      this.foldTimer = null;
      if (this.closing) return;
      this.transaction((tx) => (tx as SqliteTx).foldNow()).catch((err: unknown) => {
        // The log stays (nothing is lost: readers fold first) and the next intake transaction's
        // commit schedules a fold again. The error is told (logged, and in /healthz).
        this.tellBackground(err);
      });
    }, delay);
    this.foldTimer.unref();
  }

  /**
   * recoverAtStart: SQLite serves one process, so at start every lease on a timer or delivery is
   * a dead process's: release them, and what a kill left claimed goes out now.
   */
  /**
   * serveAlone: the bot starts serving this file: it takes the file's instance lock (see
   * InstanceLock) before anything else, or fails naming the process that serves it. Each attempt
   * runs in a write transaction, so two bots starting at once take turns.
   */
  async serveAlone(): Promise<void> {
    this.refuseNesting('serveAlone');
    if (this.file === null || this.lock !== null) return;
    this.lock = await acquireInstanceLock(this.file, {}, (attempt) => this.mutex.run(false, async () => {
      this.assertOpen();
      await this.conn.exec('BEGIN IMMEDIATE');
      try {
        return attempt();
      } finally {
        await this.conn.exec('COMMIT');
      }
    }));
  }

  async recoverAtStart(): Promise<void> {
    this.refuseNesting('recoverAtStart');
    await this.mutex.run(false, async () => {
      this.assertOpen();
      await this.conn.exec(SQL.releaseLeases);
      this.checkpointer?.wrote();
    });
    await this.transaction((tx) => (tx as SqliteTx).foldNow());
  }

  /** onEnqueued: `listener` runs (on a later turn) after each commit that enqueued a delivery. */
  onEnqueued(listener: () => void): () => void {
    this.enqueuedListeners.add(listener);
    return () => this.enqueuedListeners.delete(listener);
  }

  onBackgroundError(listener: (err: unknown) => void): () => void {
    this.backgroundListeners.add(listener);
    return () => this.backgroundListeners.delete(listener);
  }

  /** stopping: the bot begins to stop; a bot starting on this file meanwhile waits for it (see InstanceLock). */
  stopping(): void {
    this.lock?.stopping();
  }

  /** close waits for queued transactions, finalizes cached statements and closes the file; idempotent. */
  async close(): Promise<void> {
    this.refuseNesting('close');
    this.closing = true;
    // A fold due now would be refused (and told as an error); the next start folds the log.
    if (this.foldTimer !== null) clearTimeout(this.foldTimer);
    this.foldTimer = null;
    // Before the mutex: a checkpoint that waits for the mutex must not wait for this close (it
    // returns at once, see checkpointBeside). The store's own connection, the last one out,
    // copies the rest of the log and removes it.
    await this.checkpointer?.close();
    await this.mutex.run(false, async () => {
      if (this.closed) return;
      this.closed = true;
      clearInterval(this.heldWatch);
      if (this.foldTimer !== null) clearTimeout(this.foldTimer);
      this.foldTimer = null;
      await this.conn.close();
      this.lock?.release();
      this.lock = null;
    });
  }

  /**
   * refuseNesting refuses a call from inside a transaction, and a call made after close() began
   * (close waits for the calls queued before it, and only those).
   */
  private refuseNesting(what: string): void {
    this.nesting.refuse(what);
    if (this.closing && what !== 'close') throw new Error('SqliteStore is closed');
  }

  /** tellBackground hands an error of the store's own work to its listeners; one that throws stops no other (and no timer). */
  private tellBackground(err: unknown): void {
    for (const listener of this.backgroundListeners) {
      try {
        listener(err);
      } catch {
        // a listener's own failure is its own; the store's work goes on
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteStore is closed');
  }
}

// ---------------------------------------------------------------------------------------------
// StoreTx


type IncidentRow = IncidentDbRow<string>;
const toIncident = (r: IncidentRow) => decodeIncident(r, (v) => JSON.parse(v));

interface TimelineRow {
  incident_id: number;
  seq: number;
  at: number;
  kind: string;
  actor: string | null;
  data: string;
}

interface OverrideRow {
  seq: number;
  id: string;
  team: string;
  member: string;
  start_ms: number;
  end_ms: number;
  created_by: string;
  reason: string | null;
}

interface AbsenceRow {
  id: string;
  member: string;
  start_ms: number;
  end_ms: number;
}

function toOverride(r: OverrideRow): StoredOverride {
  return { id: r.id, team: r.team, member: r.member, start: fromMs(r.start_ms), end: fromMs(r.end_ms), seq: r.seq, createdBy: r.created_by, reason: r.reason };
}

function toAbsence(r: AbsenceRow): StoredAbsence {
  return { id: r.id, member: r.member as MemberId, start: fromMs(r.start_ms), end: fromMs(r.end_ms) };
}

/**
 * How far before the instant a transaction first asks about the store's memory of overrides and
 * absences reaches (see SqliteTx.listOverrides): later transactions ask from later instants, or a
 * little before (a schedule, a shift's start).
 */
const ROTATION_MEMORY_BACK_MS = 14 * 86_400_000;

interface TimerDbRow {
  id: number;
  key: string;
  kind: string;
  due_at: number;
  payload: string;
}

interface OutboxDbRow {
  id: number;
  key: string;
  adapter: string;
  lane: string;
  waiting_since: number | null;
  recipient: string;
  message: string;
  incident_id: number | null;
  not_before: number;
  attempts: number;
  created_at: number;
}

interface IntakeGroupDbRow {
  incident_id: number | null;
  count: number;
  first_seen: number;
  last_seen: number;
  state: string | null;
  resolved_at: number | null;
}

/** ANSWERED: the page-unreached event `u` went out after all: a later page-reached-late event of its incident for the same member (see pagesUnreachedSince). */
const ANSWERED = `EXISTS (SELECT 1 FROM timeline d WHERE d.incident_id = u.incident_id AND d.seq > u.seq AND d.kind = 'page-reached-late' AND d.data ->> '$.member' IS u.data ->> '$.member')`;

/**
 * The store's SQL. Rows travel as one JSON array parameter, read with `jsonb_each`, not `json_each`:
 * the same rows and values (`->>` gives the same SQL values, `->` the same JSON text), but each
 * element stays binary instead of being rendered to text and parsed again by every `->>`. Measured
 * on the bulk inserts of a 10,000-alert request: 40-45% less SQLite time per statement.
 */
const SQL = {
  insertIncident: `INSERT INTO incidents (${INCIDENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getIncident: 'SELECT * FROM incidents WHERE id = ?',
  updateIncident: `UPDATE incidents SET team = ?, title = ?, severity = ?, source = ?, service = ?, fingerprint = ?, state = ?,
    assignee = ?, reporter = ?, escalation_level = ?, policy = ?, opened_at = ?, acknowledged_at = ?, resolved_at = ?, updated_at = ?
    WHERE id = ?`,
  appendTimeline: `INSERT INTO timeline (incident_id, seq, at, kind, actor, data)
    SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5 FROM timeline WHERE incident_id = ?1
    RETURNING seq`,
  timeline: 'SELECT * FROM timeline WHERE incident_id = ? ORDER BY seq',
  timelines: 'SELECT * FROM timeline WHERE incident_id IN (SELECT value FROM jsonb_each(?1)) ORDER BY incident_id, seq',
  addOverride: `INSERT INTO overrides (id, team, member, start_ms, end_ms, created_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)
    RETURNING seq`,
  listOverrides: 'SELECT * FROM overrides WHERE team = ? AND end_ms > ? AND start_ms < ? ORDER BY seq',
  overridesEndingAfter: 'SELECT * FROM overrides WHERE team = ? AND end_ms > ? ORDER BY seq',
  absencesEndingAfter: 'SELECT * FROM absences WHERE end_ms > ? ORDER BY start_ms, id',
  deleteOverride: 'DELETE FROM overrides WHERE id = ?',
  addAbsence: 'INSERT INTO absences (id, member, start_ms, end_ms) VALUES (?, ?, ?, ?)',
  listAbsences: 'SELECT * FROM absences WHERE end_ms > ? AND start_ms < ? ORDER BY start_ms, id',
  deleteAbsence: 'DELETE FROM absences WHERE id = ?',
  scheduleTimer: 'INSERT INTO timers (key, kind, due_at, payload) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
  // The key range lets SQLite use the unique key index; substr keeps the match exact.
  cancelTimersBounded: `UPDATE timers SET cancelled_at = ?1
    WHERE key >= ?2 AND key < ?3 AND substr(key, 1, length(?2)) = ?2 AND done_at IS NULL AND cancelled_at IS NULL`,
  cancelTimersUnbounded: `UPDATE timers SET cancelled_at = ?1
    WHERE key >= ?2 AND substr(key, 1, length(?2)) = ?2 AND done_at IS NULL AND cancelled_at IS NULL`,
  pendingTimersAfter: `SELECT id, key, kind, due_at, payload FROM timers
    WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) AND substr(key, 1, length(?1)) = ?1 AND done_at IS NULL AND cancelled_at IS NULL AND due_at > ?3`,
  hurryTimers: `UPDATE timers SET due_at = ?2
    WHERE id IN (SELECT value FROM json_each(?1)) AND done_at IS NULL AND cancelled_at IS NULL AND due_at > ?2`,
  claimDueTimers: `UPDATE timers SET lease_owner = ?1, lease_until = ?2
    WHERE id IN (
      SELECT id FROM timers
      WHERE done_at IS NULL AND cancelled_at IS NULL AND due_at <= ?3 AND (lease_until IS NULL OR lease_until < ?3)
      ORDER BY due_at, id LIMIT ?4)
    RETURNING id, key, kind, due_at, payload`,
  completeTimer: `UPDATE timers SET done_at = ?
    WHERE id = ? AND lease_owner = ? AND done_at IS NULL AND cancelled_at IS NULL`,
  oldestDueTimer: `SELECT due_at, kind, key FROM timers WHERE done_at IS NULL AND cancelled_at IS NULL ORDER BY due_at, id LIMIT 1`,
  // A leased timer cannot be claimed before its lease ends (claims need lease_until < now).
  nextTimerDue: `SELECT MIN(due) AS due FROM (
      SELECT CASE WHEN lease_until IS NOT NULL AND lease_until >= due_at THEN lease_until + 1 ELSE due_at END AS due
      FROM timers WHERE done_at IS NULL AND cancelled_at IS NULL) AS t WHERE due > ?`,
  // One statement per chunk: the rows travel as one JSON array; ON CONFLICT skips known keys.
  enqueue: `INSERT INTO outbox (key, adapter, recipient, message, incident_id, not_before, attempts, created_at, lane)
    SELECT j.value ->> '$.k', j.value ->> '$.a', j.value -> '$.r', j.value -> '$.m', j.value ->> '$.i', j.value ->> '$.n', 0, ?2, j.value ->> '$.l'
    FROM jsonb_each(?1) AS j WHERE true ORDER BY j.key
    ON CONFLICT (key) DO NOTHING`,
  // Quiet earlier versions (same updateKey, no page, no mention, not news) still waiting in the lane
  // are done: the latest version says it all, and a backlog of edits never delays a page behind it.
  supersedeVersions: `UPDATE outbox SET sent_at = ?3, last_error = 'superseded by a later version'
    WHERE lane = ?1 AND sent_at IS NULL AND dead_at IS NULL AND (lease_until IS NULL OR lease_until < ?3)
      AND json_extract(message, '$.updateKey') = ?2 AND json_extract(message, '$.kind') <> 'page'
      AND json_array_length(message, '$.mentions') = 0 AND COALESCE(json_extract(message, '$.news'), 0) = 0
      AND id < (SELECT MAX(id) FROM outbox WHERE lane = ?1 AND sent_at IS NULL AND dead_at IS NULL AND json_extract(message, '$.updateKey') = ?2)`,
  // The outbox claim, big backlog: the earliest ?6 due rows of each lane, skipping the lanes in ?5,
  // lanes someone is sending, and rows behind an earlier row of their lane that failed fewer than ?7
  // times and is not sent yet.
  claimOutbox: `WITH
      busy(lane) AS (
        SELECT lane FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL AND lease_until >= ?3 AND lane IS NOT NULL
        UNION SELECT value FROM jsonb_each(?5)),
      held(lane, first) AS (
        SELECT lane, MIN(id) FROM outbox
        WHERE sent_at IS NULL AND dead_at IS NULL AND waiting_since IS NULL AND attempts > 0 AND attempts < ?7
        GROUP BY lane)
    UPDATE outbox SET lease_owner = ?1, lease_until = ?2
    WHERE id IN (
      SELECT id FROM (
        SELECT o.id, o.not_before, ROW_NUMBER() OVER (PARTITION BY o.lane ORDER BY o.not_before, o.id) AS rn
        FROM outbox AS o LEFT JOIN held AS h ON h.lane = o.lane
        WHERE o.sent_at IS NULL AND o.dead_at IS NULL AND o.not_before <= ?3 AND (o.lease_until IS NULL OR o.lease_until < ?3)
          AND o.lane NOT IN (SELECT lane FROM busy)
          AND (h.first IS NULL OR o.id <= h.first))
      WHERE rn <= ?6
      ORDER BY not_before, id LIMIT ?4)
    RETURNING id, key, adapter, lane, recipient, message, incident_id, not_before, attempts, created_at, waiting_since`,
  // The outbox claim, small outbox: the pending rows' lanes, leases and failures (chooseClaims picks;
  // ?1 is one more than it takes), then the leases of the chosen ids.
  pendingForClaim: `SELECT id, lane, not_before, lease_until, attempts, waiting_since FROM outbox INDEXED BY outbox_pending
    WHERE sent_at IS NULL AND dead_at IS NULL LIMIT ?1`,
  leaseChosen: `UPDATE outbox SET lease_owner = ?2, lease_until = ?3
    WHERE id IN (SELECT value FROM jsonb_each(?1)) AND sent_at IS NULL AND dead_at IS NULL AND (lease_until IS NULL OR lease_until < ?4)
    RETURNING id, key, adapter, lane, recipient, message, incident_id, not_before, attempts, created_at, waiting_since`,
  markSent: `UPDATE outbox SET sent_at = COALESCE(sent_at, ?2), dead_at = NULL, lease_owner = NULL, lease_until = NULL, waiting_since = NULL
    WHERE id = ?1`,
  markFailed: `UPDATE outbox SET attempts = attempts + 1, last_error = ?2, lease_owner = NULL, lease_until = NULL,
    not_before = COALESCE(?3, not_before), dead_at = CASE WHEN ?3 IS NULL THEN ?4 ELSE NULL END, waiting_since = NULL
    WHERE id = ?1`,
  releaseClaims: `UPDATE outbox SET lease_owner = NULL, lease_until = NULL
    WHERE id IN (SELECT value FROM jsonb_each(?1)) AND lease_owner = ?2 AND sent_at IS NULL AND dead_at IS NULL`,
  releaseLeases: `UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND sent_at IS NULL AND dead_at IS NULL;
    UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND done_at IS NULL AND cancelled_at IS NULL;`,
  markWaiting: `UPDATE outbox SET attempts = attempts + 1, last_error = ?2, lease_owner = NULL, lease_until = NULL,
    not_before = ?3, waiting_since = COALESCE(waiting_since, ?4)
    WHERE id = ?1`,
  extendLeases: `UPDATE outbox SET lease_until = ?3
    WHERE id IN (SELECT value FROM jsonb_each(?1)) AND lease_owner = ?2 AND sent_at IS NULL AND dead_at IS NULL
    RETURNING id`,
  retryNow: `UPDATE outbox SET not_before = ?2
    WHERE adapter = ?1 AND attempts > 0 AND not_before > ?2 AND waiting_since IS NULL AND sent_at IS NULL AND dead_at IS NULL`,
  rearmLane: `UPDATE outbox SET not_before = ?2, waiting_since = NULL
    WHERE lane = ?1 AND waiting_since IS NOT NULL AND sent_at IS NULL AND dead_at IS NULL`,
  deliveryStates: 'SELECT id, key, adapter, attempts, sent_at, dead_at, waiting_since FROM outbox WHERE key >= ?1 AND key < ?2 ORDER BY id',
  deliveryStatesFrom: 'SELECT id, key, adapter, attempts, sent_at, dead_at, waiting_since FROM outbox WHERE key >= ?1 ORDER BY id',
  outboxStats: `SELECT
      (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL) AS pending,
      (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL AND waiting_since IS NOT NULL) AS waiting,
      (SELECT MIN(not_before) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL AND waiting_since IS NULL) AS oldest,
      (SELECT COUNT(*) FROM outbox WHERE dead_at >= ?1) AS dead`,
  outboxDepth: 'SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL',
  // The literal kind: SQLite uses the partial index timeline_page_unreached only for it.
  unreachedCount: `SELECT COUNT(*) AS n, COALESCE(SUM(${ANSWERED}), 0) AS late FROM timeline u WHERE u.kind = 'page-unreached' AND u.at >= ?1`,
  unreachedLast: `SELECT * FROM timeline u WHERE u.kind = 'page-unreached' AND u.at >= ?1 AND NOT ${ANSWERED} ORDER BY u.at DESC, u.incident_id DESC, u.seq DESC LIMIT 1`,
  nextDeliveryDue: `SELECT MIN(due) AS due FROM (
      SELECT CASE WHEN lease_until IS NOT NULL AND lease_until >= not_before THEN lease_until + 1 ELSE not_before END AS due
      FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL) AS o WHERE due > ?`,
  observeIntakeGroup: `INSERT INTO intake_groups (integration, fingerprint, incident_id, count, first_seen, last_seen)
    VALUES (?1, ?2, NULL, ?4, ?3, ?3)
    ON CONFLICT (integration, fingerprint) DO UPDATE SET count = count + ?4,
      last_seen = CASE WHEN ?4 = 1 THEN MAX(last_seen, excluded.last_seen) ELSE last_seen END
    RETURNING incident_id, count, first_seen, last_seen,
      (SELECT state FROM incidents WHERE id = incident_id) AS state,
      (SELECT resolved_at FROM incidents WHERE id = incident_id) AS resolved_at`,
  setIntakeGroupIncident: `UPDATE intake_groups SET incident_id = ?3, count = 1, first_seen = ?4, last_seen = ?4
    WHERE integration = ?1 AND fingerprint = ?2`,
  intakeGroupOf: 'SELECT integration, fingerprint, count, first_seen, last_seen FROM intake_groups WHERE incident_id = ? LIMIT 1',
  observeIntakeAlert: `INSERT INTO intake_alerts (integration, fingerprint, alert_key, status, starts_at, prev_status, prev_starts_at,
      labels, annotations, count, first_seen, last_seen)
    VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, ?6, ?7, 1, ?8, ?8)
    ON CONFLICT (integration, fingerprint, alert_key) DO UPDATE SET
      prev_status = status, prev_starts_at = starts_at, status = excluded.status, starts_at = excluded.starts_at,
      labels = excluded.labels, annotations = excluded.annotations, count = count + 1, last_seen = excluded.last_seen
    RETURNING prev_status, prev_starts_at`,
  knownIntakeAlerts: `SELECT CAST(j.key AS INTEGER) AS idx, a.status AS status, a.starts_at AS starts_at, g.incident_id AS incident_id
    FROM jsonb_each(?1) AS j
    LEFT JOIN intake_alerts AS a
      ON a.integration = j.value ->> '$.i' AND a.fingerprint = j.value ->> '$.f' AND a.alert_key = j.value ->> '$.k'
    LEFT JOIN intake_groups AS g ON g.integration = j.value ->> '$.i' AND g.fingerprint = j.value ->> '$.f'`,
  logIntakeRepeats: 'INSERT INTO intake_repeats (at, data) VALUES (?, ?)',
  logIntakeRepeatsIfCurrent: 'INSERT INTO intake_repeats (at, data) SELECT ?, ? WHERE (SELECT data_version FROM pragma_data_version()) = ?',
  // The fold: the logged repeats, summed per alert and per group, added to the counts. An alert
  // counts only the repeats of its current firing (same startsAt), as when they were logged.
  // A row's entries in "r" ("h") are [number, n]: the alert (group) an entry of "a" ("g") of a row
  // with the same "e" defined with that number (see RepeatSums.encode). The definitions are read
  // once (MATERIALIZED) and looked up by epoch and number (CROSS JOIN keeps that order: left to
  // itself SQLite nested the definitions' rows inside every reference, and a restart's fold of a
  // log of 40 such rows took 10 s; now 0.4 s for 1,000).
  foldRepeatAlerts: `WITH def AS MATERIALIZED (
      SELECT r.data ->> '$.e' AS ep, e.value ->> 5 AS id, e.value ->> 0 AS i, e.value ->> 1 AS f, e.value ->> 2 AS k, e.value ->> 4 AS s
      FROM intake_repeats AS r, jsonb_each(r.data, '$.a') AS e WHERE e.value ->> 5 IS NOT NULL)
    UPDATE intake_alerts SET count = count + d.n, last_seen = MAX(last_seen, d.at)
    FROM (SELECT i, f, k, s, SUM(n) AS n, MAX(at) AS at FROM (
        SELECT e.value ->> 0 AS i, e.value ->> 1 AS f, e.value ->> 2 AS k, e.value ->> 4 AS s, e.value ->> 3 AS n, r.at AS at
          FROM intake_repeats AS r, jsonb_each(r.data, '$.a') AS e
        UNION ALL
        SELECT def.i, def.f, def.k, def.s, x.value ->> 1, r.at
          FROM intake_repeats AS r, jsonb_each(r.data, '$.r') AS x CROSS JOIN def
          WHERE def.ep = r.data ->> '$.e' AND def.id = x.value ->> 0
      ) GROUP BY 1, 2, 3, 4) AS d
    WHERE integration = d.i AND fingerprint = d.f AND alert_key = d.k AND status = 'firing' AND starts_at IS d.s`,
  foldRepeatGroups: `WITH def AS MATERIALIZED (
      SELECT r.data ->> '$.e' AS ep, e.value ->> 3 AS id, e.value ->> 0 AS i, e.value ->> 1 AS f
      FROM intake_repeats AS r, jsonb_each(r.data, '$.g') AS e WHERE e.value ->> 3 IS NOT NULL)
    UPDATE intake_groups SET count = count + d.n, last_seen = MAX(last_seen, d.at)
    FROM (SELECT i, f, SUM(n) AS n, MAX(at) AS at FROM (
        SELECT e.value ->> 0 AS i, e.value ->> 1 AS f, e.value ->> 2 AS n, r.at AS at
          FROM intake_repeats AS r, jsonb_each(r.data, '$.g') AS e
        UNION ALL
        SELECT def.i, def.f, x.value ->> 1, r.at
          FROM intake_repeats AS r, jsonb_each(r.data, '$.h') AS x CROSS JOIN def
          WHERE def.ep = r.data ->> '$.e' AND def.id = x.value ->> 0
      ) GROUP BY 1, 2) AS d
    WHERE integration = d.i AND fingerprint = d.f`,
  clearRepeats: 'DELETE FROM intake_repeats',
  countRepeats: 'SELECT COUNT(*) AS n FROM intake_repeats',
  // The fold from the store's own sums (RepeatSums): one JSON entry per alert / group.
  foldSummedAlerts: `UPDATE intake_alerts SET count = count + d.n, last_seen = MAX(last_seen, d.at)
    FROM (SELECT value ->> 0 AS i, value ->> 1 AS f, value ->> 2 AS k, value ->> 3 AS s, value ->> 4 AS n, value ->> 5 AS at FROM jsonb_each(?1)) AS d
    WHERE integration = d.i AND fingerprint = d.f AND alert_key = d.k AND status = 'firing' AND starts_at IS d.s`,
  foldSummedGroups: `UPDATE intake_groups SET count = count + d.n, last_seen = MAX(last_seen, d.at)
    FROM (SELECT value ->> 0 AS i, value ->> 1 AS f, value ->> 2 AS n, value ->> 3 AS at FROM jsonb_each(?1)) AS d
    WHERE integration = d.i AND fingerprint = d.f`,
  // openIntakeIncidents, five statements per chunk of rows (each row a JSON array or object).
  // The intake's new incidents: each row is the incident's columns, then its group's integration
  // and fingerprint; a row whose group exists already (another writer opened it) opens nothing.
  insertIntakeIncidents: `INSERT INTO incidents (${INCIDENT_COLUMNS})
    SELECT ${INCIDENT_COLUMNS.split(', ').map((_, i) => `j.value ->> ${i}`).join(', ')} FROM jsonb_each(?1) AS j
    WHERE NOT EXISTS (SELECT 1 FROM intake_groups AS g WHERE g.integration = j.value ->> ${INCIDENT_COLUMNS.split(', ').length} AND g.fingerprint = j.value ->> ${INCIDENT_COLUMNS.split(', ').length + 1})
    RETURNING id, source, fingerprint`,
  // Their groups, each [integration, fingerprint, incident id].
  claimIntakeGroups: `INSERT INTO intake_groups (integration, fingerprint, incident_id, count, first_seen, last_seen)
    SELECT value ->> 0, value ->> 1, value ->> 2, 1, ?2, ?2 FROM jsonb_each(?1) WHERE true
    ON CONFLICT (integration, fingerprint) DO NOTHING`,
  // Timeline rows, each [incident_id, seq, at, kind, actor, data]: the bulk intake open's and the
  // rows a transaction's appendTimeline kept back.
  insertTimelineRows: `INSERT INTO timeline (incident_id, seq, at, kind, actor, data)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM jsonb_each(?1) WHERE true`,
  insertIntakeAlerts: `INSERT INTO intake_alerts (integration, fingerprint, alert_key, status, starts_at, prev_status, prev_starts_at,
      labels, annotations, count, first_seen, last_seen)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, NULL, NULL, value ->> 5, value ->> 6, 1, ?2, ?2
    FROM jsonb_each(?1) WHERE true
    ON CONFLICT (integration, fingerprint, alert_key) DO UPDATE SET
      prev_status = status, prev_starts_at = starts_at, status = excluded.status, starts_at = excluded.starts_at,
      labels = excluded.labels, annotations = excluded.annotations, count = count + 1, last_seen = excluded.last_seen`,
  openIncidentIdsOf: `SELECT id FROM incidents WHERE team = ? AND state = 'open' AND assignee = ? ORDER BY opened_at, id`,
  firingIntakeAlerts: `SELECT COUNT(*) AS n FROM intake_alerts WHERE integration = ? AND fingerprint = ? AND status = 'firing'`,
  countIncidentsSince: `SELECT COUNT(*) AS n FROM incidents WHERE team = ?1 AND opened_at >= ?3
    AND source >= ?2 AND substr(source, 1, length(?2)) = ?2`,
  activeStorm: 'SELECT * FROM intake_storms WHERE team = ? AND ended_at IS NULL',
  getStorm: 'SELECT * FROM intake_storms WHERE id = ?',
  insertStorm: `INSERT INTO intake_storms (team, member, integration, started_at, last_at, incidents, version, ended_at, severity)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateStorm: `UPDATE intake_storms SET member = ?2, last_at = ?3, incidents = ?4, version = ?5, ended_at = ?6, severity = ?7 WHERE id = ?1`,
  inboundReply: 'SELECT reply FROM inbound WHERE id = ?',
  rememberInbound: 'INSERT INTO inbound (id, reply, at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
  pruneInbound: 'DELETE FROM inbound WHERE at < ?',
  kvGet: 'SELECT value FROM kv WHERE namespace = ? AND key = ?',
  kvSet: `INSERT INTO kv (namespace, key, value) VALUES (?, ?, ?)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value`,
  kvDelete: 'DELETE FROM kv WHERE namespace = ? AND key = ?',
  tryLease: `INSERT INTO leases (name, owner, until_ms) VALUES (?1, ?2, ?4)
    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
    WHERE leases.owner = excluded.owner OR leases.until_ms < ?3`,
  releaseLease: 'DELETE FROM leases WHERE name = ? AND owner = ?',
} as const;

/** Rows per enqueue statement: bounds the JSON text handed to SQLite at once. */
const ENQUEUE_CHUNK = 1000;
/**
 * How long after a commit that logged repeats the store folds the log (see foldSoon). A fold from
 * the store's own sums updates each alert and group that repeated once, however often it repeated
 * (measured: 16 ms for the 1,000 alerts of the benchmark), so folding once a second instead of
 * every 200 ms does a fifth of the work for the same counts: under the benchmark's load 1.45 KB
 * written to the database per request instead of 2.3 KB. Without the sums SQLite sums the log
 * itself, which takes time with the log's length (37 ms for 0.2 s of repeats, 150 ms for 1 s), so
 * the store folds sooner then, keeping each fold short.
 */
const FOLD_AFTER_MS = 1000;
const FOLD_LOG_AFTER_MS = 200;
/** Past this many alerts in the sums (a fold of about 30 ms here) the store folds after FOLD_LOG_AFTER_MS. */
const FOLD_SOON_ALERTS = 2000;

/** An alert's status and startsAt as committed (what knownIntakeAlerts needs of it). */
interface RememberedAlert {
  readonly status: string | null;
  readonly startsAt: string | null;
}

/** FORGET: a transaction's mark for "the store's memory of this row may be wrong: drop it". */
const FORGET = Symbol('forget');

/**
 * recalled: what a transaction knows of a row (`mine`), else what the store's memory does
 * (undefined: ask the database).
 */
function recalled<V>(mine: V | typeof FORGET | undefined, memory: () => V | undefined): V | undefined {
  if (mine === FORGET) return undefined;
  return mine !== undefined ? mine : memory();
}

/** The store's memory is dropped (and refilled from the database on demand) past this many alerts. */
const MEMORY_MAX_ALERTS = 200_000;

/**
 * IntakeMemory: what the store remembers of the intake tables between transactions, so the common
 * case of a busy webhook (repeats of alerts that are firing already) reads nothing from the file.
 * A SQLite file serves one Onehand process (see README: Storage), so every change to these rows
 * goes through this store: each transaction notes the rows it read or wrote, and its notes reach
 * the memory only when it commits (a rolled-back transaction leaves the memory as it was).
 *
 * - by group (integration, fingerprint): the group's incident (null: none), and its alerts by
 *   alert key -> status and startsAt (see GroupMemo: one lookup finds both);
 * - foldPending: the repeat log may hold rows (true at open: a killed process may have left some).
 *
 * Should another process change the file anyway, SQLite's data_version tells, and the memory is
 * dropped before it is used.
 */
class IntakeMemory {
  private readonly groups = new PairMap<GroupMemo>();
  private alertCount = 0;
  /**
   * Counts the changes to what the memory knows of groups and alerts: what a lookup found is still
   * what the memory knows while this has not changed (quickRepeats looks up before it waits for
   * the store, and uses what it found after the wait if nothing changed meanwhile).
   */
  generation = 0;
  foldPending = true;
  /**
   * The repeat log summed per alert and per group, as this store wrote it since the log was last
   * empty, so a fold updates each row once from these sums instead of making SQLite parse and
   * group every logged repeat again. null: the log may hold rows this store did not sum (at open,
   * or after another connection wrote); the fold then sums the log itself.
   */
  sums: RepeatSums | null = null;
  /** SQLite's data_version when the memory was last checked (see SqliteTx.checkMemory). */
  dataVersion = -1;
  /**
   * The rotation's rows as the database holds them, each list with every row that ends after its
   * `floor` (ms): the overrides by team, and the absences (see SqliteTx.listOverrides). Dropped with
   * the rest of the memory, and by a transaction that writes either.
   */
  readonly overrides = new Map<TeamId, { readonly floor: number; readonly rows: readonly StoredOverride[] }>();
  absences: { readonly floor: number; readonly rows: readonly StoredAbsence[] } | null = null;

  /** group: what the memory knows of a group (its incident, its alerts), if anything. */
  group(integration: string, fingerprint: string): GroupMemo | undefined {
    return this.groups.get(integration, fingerprint);
  }

  alert(integration: string, fingerprint: string, alertKey: string): RememberedAlert | undefined {
    return this.groups.get(integration, fingerprint)?.alerts.get(alertKey);
  }

  incident(integration: string, fingerprint: string): number | null | undefined {
    return this.groups.get(integration, fingerprint)?.incidentId;
  }

  /** setAlert remembers an alert (FORGET: forgets it). */
  setAlert(integration: string, fingerprint: string, alertKey: string, value: RememberedAlert | typeof FORGET): void {
    this.generation++;
    const memo = this.groups.get(integration, fingerprint);
    if (value === FORGET) {
      if (memo?.alerts.delete(alertKey)) {
        this.alertCount--;
        this.dropIfEmpty(integration, fingerprint, memo);
      }
      return;
    }
    if (memo === undefined) {
      this.groups.set(integration, fingerprint, { incidentId: undefined, alerts: new Map([[alertKey, value]]) });
      this.alertCount++;
      return;
    }
    const before = memo.alerts.size;
    memo.alerts.set(alertKey, value);
    this.alertCount += memo.alerts.size - before;
  }

  /** setIncident remembers a group's incident (FORGET: forgets it). */
  setIncident(integration: string, fingerprint: string, value: number | null | typeof FORGET): void {
    this.generation++;
    const memo = this.groups.get(integration, fingerprint);
    if (value === FORGET) {
      if (memo === undefined) return;
      memo.incidentId = undefined;
      this.dropIfEmpty(integration, fingerprint, memo);
      return;
    }
    if (memo === undefined) this.groups.set(integration, fingerprint, { incidentId: value, alerts: new Map() });
    else memo.incidentId = value;
  }

  clear(): void {
    this.generation++;
    this.groups.clear();
    this.alertCount = 0;
    this.forgetRotation();
  }

  forgetRotation(): void {
    this.overrides.clear();
    this.absences = null;
  }

  /** Too much to keep remembering: dropped (and refilled from the database on demand). */
  get full(): boolean {
    return this.alertCount > MEMORY_MAX_ALERTS || this.groups.size > MEMORY_MAX_ALERTS;
  }

  private dropIfEmpty(integration: string, fingerprint: string, memo: GroupMemo): void {
    if (memo.incidentId === undefined && memo.alerts.size === 0) this.groups.delete(integration, fingerprint);
  }
}

/** GroupMemo: what the store's memory knows of a group: its incident (undefined: not known; null: none) and alerts. */
interface GroupMemo {
  incidentId: number | null | undefined;
  readonly alerts: Map<string, RememberedAlert>;
  /** The group's part of the store's repeat sums, while `sumsOf` is those sums (see RepeatSums.group). */
  sumsOf?: RepeatSums;
  sumGroup?: SumGroup;
}

/** BatchMemos: a quickRepeats batch's keys, and the memory's entry of each key's group. */
interface BatchMemos {
  readonly keys: readonly IntakeAlertKey[];
  readonly memos: readonly GroupMemo[];
}

/** An alert's sum: integration, fingerprint, alert key, startsAt, n, latest at, and its number in the log (see RepeatSums.encode). */
type AlertSum = [string, string, string, string | null, number, number, number | undefined];
/** A group's sum: integration, fingerprint, n, latest at, and its number in the log. */
type GroupSum = [string, string, number, number, number | undefined];

/**
 * SumGroup: a group's part of a RepeatSums: the group's sum, and its alerts' by alert key (a sum
 * for another startsAt of the same alert goes under `alert key \0 startsAt`, see locate).
 */
interface SumGroup {
  sum: GroupSum | undefined;
  readonly alerts: Map<string, AlertSum>;
}

/**
 * RepeatSums: repeat-log rows summed per (integration, fingerprint, alert key, startsAt) and per
 * (integration, fingerprint), with the latest `at` of each: what the fold's GROUP BY over the log
 * would compute. `rows` counts the log rows summed, checked against the log before it is trusted.
 * A RepeatSums starts with an empty log (and only then), so it also knows every row the log holds:
 * `encode` lets a row name an alert or group an earlier row defined by a number instead of in full.
 */
class RepeatSums {
  rows = 0;
  private readonly byGroup = new PairMap<SumGroup>();
  private alertCount = 0;
  private groupCount = 0;
  /**
   * Tells this log's numbered entries from those of any other (another process on the file, or
   * this one before its last fold): rows carry it, and a number means something only in rows with
   * the same epoch.
   */
  private readonly epoch = randomInt(1, 2 ** 47);
  private nextId = 1;
  /** The key `locate` found (or would insert) the alert's sum under. */
  private locatedKey = '';

  /** How many alert sums (distinct alerts and startsAt) these hold. */
  get alerts(): number {
    return this.alertCount;
  }

  /** The sums, as the fold reads them (foldSummedAlerts, foldSummedGroups). */
  alertSums(): AlertSum[] {
    const out: AlertSum[] = [];
    for (const g of this.byGroup.values()) for (const sum of g.alerts.values()) out.push(sum);
    return out;
  }

  groupSums(): GroupSum[] {
    const out: GroupSum[] = [];
    for (const g of this.byGroup.values()) if (g.sum !== undefined) out.push(g.sum);
    return out;
  }

  /**
   * group: a group's part of these sums (made, empty, when it has none). `memo`, the store's
   * memory of that group (quickRepeats looked it up already), keeps the part for the next batch:
   * a busy webhook's alerts are then found without a lookup by key.
   */
  private group(integration: string, fingerprint: string, memo: GroupMemo | undefined): SumGroup {
    if (memo !== undefined && memo.sumsOf === this) return memo.sumGroup as SumGroup;
    let part = this.byGroup.get(integration, fingerprint);
    if (part === undefined) {
      part = { sum: undefined, alerts: new Map() };
      this.byGroup.set(integration, fingerprint, part);
    }
    if (memo !== undefined) {
      memo.sumsOf = this;
      memo.sumGroup = part;
    }
    return part;
  }

  /**
   * locate finds an alert's sum in its group's part. Should the same alert come with another
   * startsAt before a fold (it fired again), that one is summed apart, as the fold's GROUP BY over
   * the log would.
   */
  private locate(part: SumGroup, a: IntakeRepeat): AlertSum | undefined {
    this.locatedKey = a.alertKey;
    const sum = part.alerts.get(a.alertKey);
    if (sum === undefined || sum[3] === a.startsAt) return sum;
    this.locatedKey = `${a.alertKey}\u0000${a.startsAt ?? '\u0001'}`;
    return part.alerts.get(this.locatedKey);
  }

  /**
   * encode writes a log row (see repeatLogData) in which an alert or group that an earlier row
   * defined is named by its number: `"r": [[number, n], ...]` and `"h"` for groups, where the full
   * entries of `"a"` and `"g"` carry a number as their last element. A busy webhook repeats the same
   * alerts many times between two folds, so most rows are short and fit in one of SQLite's pages
   * (a row of full entries, about 90 bytes an alert, spanned several). A number is taken into these
   * sums only by `add`, after the row that defines it committed, so a row only ever names what the
   * log holds already; the log's own fold (after a crash) resolves the numbers (foldRepeatAlerts).
   * `batch` is quickRepeats' keys and the memory's entry of each key's group: an entry of the row
   * whose `first` names one of those keys (checked) finds its group's part through that entry.
   */
  encode(alerts: readonly IntakeRepeat[], groups: readonly IntakeGroupRepeat[], batch?: BatchMemos): { data: string; added(at: number): void } {
    // What each entry found (its group's part, its sum or the key a new one goes under), kept for
    // `added`: the fast path looks each alert up once.
    const alertParts = new Array<SumGroup>(alerts.length);
    const alertSums = new Array<AlertSum | string>(alerts.length);
    const alertIds = new Array<number | undefined>(alerts.length);
    // The row's JSON is written as it goes: the references (most of a busy webhook's row) are
    // numbers only; the full entries' strings go through JSON.stringify.
    const full: unknown[] = [];
    let refs = '';
    for (let i = 0; i < alerts.length; i++) {
      const a = alerts[i] as IntakeRepeat;
      const part = this.group(a.integration, a.fingerprint, memoOf(batch, a));
      alertParts[i] = part;
      const sum = this.locate(part, a);
      alertSums[i] = sum ?? this.locatedKey;
      const id = sum?.[6];
      if (id !== undefined) refs = appendRef(refs, id, a.n);
      else {
        alertIds[i] = this.nextId++;
        full.push([a.integration, a.fingerprint, a.alertKey, a.n, a.startsAt, alertIds[i]]);
      }
    }
    const groupParts = new Array<SumGroup>(groups.length);
    const groupIds = new Array<number | undefined>(groups.length);
    const fullGroups: unknown[] = [];
    let groupRefs = '';
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as IntakeGroupRepeat;
      const part = this.group(g.integration, g.fingerprint, memoOf(batch, g));
      groupParts[i] = part;
      const id = part.sum?.[4];
      if (id !== undefined) groupRefs = appendRef(groupRefs, id, g.n);
      else {
        groupIds[i] = this.nextId++;
        fullGroups.push([g.integration, g.fingerprint, g.n, groupIds[i]]);
      }
    }
    let data = `{"e":${this.epoch}`;
    if (full.length > 0) data += `,"a":${JSON.stringify(full)}`;
    if (fullGroups.length > 0) data += `,"g":${JSON.stringify(fullGroups)}`;
    if (refs !== '') data += `,"r":[${refs}]`;
    if (groupRefs !== '') data += `,"h":[${groupRefs}]`;
    data += '}';
    return {
      data,
      // The row committed: sum it, and take the numbers it defined.
      added: (at) => {
        this.rows++;
        for (let i = 0; i < alerts.length; i++) this.sumAlert(alertParts[i] as SumGroup, alertSums[i] as AlertSum | string, alerts[i] as IntakeRepeat, at, alertIds[i]);
        for (let i = 0; i < groups.length; i++) this.sumGroup(groupParts[i] as SumGroup, groups[i] as IntakeGroupRepeat, at, groupIds[i]);
      },
    };
  }

  /** add sums one log row. */
  add(alerts: readonly IntakeRepeat[], groups: readonly IntakeGroupRepeat[], at: number): void {
    this.rows++;
    for (const a of alerts) {
      const part = this.group(a.integration, a.fingerprint, undefined);
      this.sumAlert(part, this.locate(part, a) ?? this.locatedKey, a, at, undefined);
    }
    for (const g of groups) this.sumGroup(this.group(g.integration, g.fingerprint, undefined), g, at, undefined);
  }

  /**
   * sumAlert adds `a` to its sum, or makes one under the key given (an entry of a row, once, may
   * define its number). A key is looked up again: an earlier entry of the same row may have made it.
   */
  private sumAlert(part: SumGroup, found: AlertSum | string, a: IntakeRepeat, at: number, id: number | undefined): void {
    const sum = typeof found === 'string' ? part.alerts.get(found) : found;
    if (sum === undefined) {
      part.alerts.set(found as string, [a.integration, a.fingerprint, a.alertKey, a.startsAt, a.n, at, id]);
      this.alertCount++;
      return;
    }
    sum[4] += a.n;
    if (at > sum[5]) sum[5] = at;
    sum[6] ??= id;
  }

  /** sumGroup adds `g` to its group's sum, or makes it. */
  private sumGroup(part: SumGroup, g: IntakeGroupRepeat, at: number, id: number | undefined): void {
    const sum = part.sum;
    if (sum === undefined) {
      part.sum = [g.integration, g.fingerprint, g.n, at, id];
      this.groupCount++;
      return;
    }
    sum[2] += g.n;
    sum[3] = Math.max(sum[3], at);
    sum[4] ??= id;
  }

  /** plus: a copy of these sums with `logs` added (the store's own stay as they are until a commit). */
  plus(logs: readonly LoggedRepeats[]): RepeatSums {
    const out = new RepeatSums();
    out.rows = this.rows;
    this.byGroup.forEach((part, integration, fingerprint) => {
      const copy: SumGroup = { sum: part.sum === undefined ? undefined : [...part.sum], alerts: new Map() };
      for (const [key, sum] of part.alerts) copy.alerts.set(key, [...sum]);
      out.byGroup.set(integration, fingerprint, copy);
    });
    out.alertCount = this.alertCount;
    out.groupCount = this.groupCount;
    for (const log of logs) out.add(log.alerts, log.groups, log.at);
    return out;
  }

  /** Too many distinct alerts to keep summing (the fold then sums the log itself). */
  get full(): boolean {
    return this.alertCount > MEMORY_MAX_ALERTS || this.groupCount > MEMORY_MAX_ALERTS;
  }
}

/**
 * appendRef: `[number,n]` after a row's references so far (its "r" or "h", see RepeatSums.encode),
 * appended piece by piece: 5.7 µs for 150 references, 8-10 with template strings, 16 as arrays
 * through JSON.stringify.
 */
function appendRef(refs: string, id: number, n: number): string {
  let out = refs === '' ? '[' : `${refs},[`;
  out += id;
  out += ',';
  out += n;
  out += ']';
  return out;
}

/**
 * memoOf: the memory's entry for the group of a repeat-plan entry, when its `first` names a key of
 * the batch in that group (checked: a plan could name any index).
 */
function memoOf(batch: BatchMemos | undefined, entry: IntakeGroupRepeat): GroupMemo | undefined {
  if (batch === undefined || entry.first === undefined) return undefined;
  const k = batch.keys[entry.first];
  return k !== undefined && k.fingerprint === entry.fingerprint && k.integration === entry.integration ? batch.memos[entry.first] : undefined;
}

/** A repeat-log row as a transaction wrote it, for the sums at its commit. */
interface LoggedRepeats {
  readonly alerts: readonly IntakeRepeat[];
  readonly groups: readonly IntakeGroupRepeat[];
  readonly at: number;
}

/** repeatLogData: one repeat-log row's data (see migration 6). */
function repeatLogData(alerts: readonly IntakeRepeat[], groups: readonly IntakeGroupRepeat[]): string {
  return JSON.stringify({
    a: alerts.map((a) => [a.integration, a.fingerprint, a.alertKey, a.n, a.startsAt]),
    g: groups.map((g) => [g.integration, g.fingerprint, g.n]),
  });
}

/** Stored error texts are cut to this many characters. */
const MAX_ERROR_LENGTH = 2000;

/**
 * SqliteTx is the StoreTx of one transaction. Every method throws once the transaction finished.
 * Methods validate instants (an invalid DateTime throws RangeError) and limits.
 */
class SqliteTx implements StoreTx {
  private open = true;
  /** What runs once this transaction committed (see StoreTx.afterCommit). */
  readonly afterCommits: Array<() => void> = [];
  /** Whether this transaction enqueued a delivery (listeners run after its commit). */
  enqueued = false;
  /** Whether this transaction logged repeats not folded yet. */
  private logged = false;
  /** Whether this transaction folded the repeat log (and logged nothing since). */
  private folded = false;
  /** The transaction's one check of the memory (see checkMemory): true when it dropped the memory. */
  private memoryCheck: Promise<boolean> | null = null;
  /** Repeat-log rows this transaction wrote since it last folded (for the store's sums at commit). */
  private logs: LoggedRepeats[] = [];
  /** Whether this transaction emptied the repeat log (folded). */
  private emptiedLog = false;
  /** Whether this transaction wrote overrides or absences (see wroteRotation). */
  private rotationWritten = false;
  /** Intake rows as this transaction left them (or FORGET), for the store's memory at commit. */
  private readonly alertsSeen = new TripleMap<RememberedAlert | typeof FORGET>();
  private readonly groupsSeen = new PairMap<number | null | typeof FORGET>();
  /**
   * Timelines this transaction read or started (an incident it inserted), kept up to date by its
   * appendTimeline: opening an incident reads its timeline several times (the card, the
   * escalation, plugins), each a store round trip otherwise. Only this transaction writes while it
   * runs, and only appendTimeline and the bulk intake open (which starts no entry) add events.
   */
  private readonly timelineCache = new Map<number, TimelineEvent[]>();
  /** Rows appended to cached timelines, not written yet (see appendTimeline). */
  private pendingTimeline: TimelineRow[] = [];

  constructor(
    private readonly conn: Connection,
    private readonly clock: Clock,
    private readonly memory: IntakeMemory,
  ) {}

  isOpen(): boolean {
    return this.open;
  }

  finish(): void {
    this.open = false;
  }

  // Incidents ---------------------------------------------------------------------------------

  afterCommit(fn: () => void): void {
    this.check();
    this.afterCommits.push(fn);
  }

  async insertIncident(incident: NewIncident): Promise<Incident> {
    this.check();
    const { lastID } = await this.conn.run(SQL.insertIncident, incidentParams(incident, JSON.stringify));
    this.timelineCache.set(lastID, []);
    return { ...incident, id: lastID };
  }

  async getIncident(id: number): Promise<Incident | null> {
    this.check();
    const rows = await this.conn.all<IncidentRow>(SQL.getIncident, [id]);
    return rows[0] ? toIncident(rows[0]) : null;
  }

  /** Throws when the incident does not exist. */
  async updateIncident(incident: Incident): Promise<void> {
    this.check();
    const { changes } = await this.conn.run(SQL.updateIncident, [...incidentParams(incident, JSON.stringify), incident.id]);
    if (changes === 0) throw new Error(`incident ${incident.id} does not exist`);
  }

  async openIncidentIdsOf(team: TeamId, assignee: MemberId): Promise<number[]> {
    this.check();
    const rows = await this.conn.all<{ id: number }>(SQL.openIncidentIdsOf, [team, assignee]);
    return rows.map((r) => r.id);
  }

  /** Newest first (opened_at, then id, descending). An empty `states` matches nothing. */
  async listIncidents(filter: IncidentFilter): Promise<Incident[]> {
    this.check();
    const states = filter.states === undefined ? undefined : [...new Set(filter.states)];
    if (states?.length === 0) return [];
    const limit = filter.limit === undefined ? -1 : checkLimit(filter.limit);
    if (limit === 0) return [];

    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.team !== undefined) {
      where.push('team = ?');
      params.push(filter.team);
    }
    if (states !== undefined) {
      where.push(`state IN (${states.map(() => '?').join(', ')})`);
      params.push(...states);
    }
    if (filter.activeBetween !== undefined) {
      where.push('opened_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)');
      params.push(toMs(filter.activeBetween.to, 'activeBetween.to'), toMs(filter.activeBetween.from, 'activeBetween.from'));
    }
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return [];
      where.push('id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(filter.ids.map(Number)));
    }
    if (filter.movedFrom !== undefined) {
      const { team, from, to } = filter.movedFrom;
      await this.flushTimeline();
      where.push(`team != ? AND EXISTS (SELECT 1 FROM timeline AS t WHERE t.incident_id = incidents.id AND t.kind = 'reassigned'
        AND t.at >= ? AND t.at < ? AND t.data ->> '$.fromTeam' = ? AND t.data ->> '$.team' IS NOT ?)`);
      params.push(team, toMs(from, 'movedFrom.from'), toMs(to, 'movedFrom.to'), team, team);
    }
    const sql = `SELECT * FROM incidents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT ?`;
    const rows = await this.conn.all<IncidentRow>(sql, [...params, limit]);
    return rows.map(toIncident);
  }

  // Timeline ----------------------------------------------------------------------------------

  /**
   * Throws (FOREIGN KEY constraint) when the incident does not exist. An event of a timeline this
   * transaction knows whole (see timelineCache) gets its seq from there, and its row is written with
   * the others in one statement, before the transaction reads several timelines and before it
   * commits: opening an incident appends four or five events, a store round trip each otherwise.
   */
  async appendTimeline(event: NewTimelineEvent): Promise<TimelineEvent> {
    this.check();
    const at = toMs(event.at, 'timeline at');
    const actor = event.actor === null ? null : JSON.stringify(event.actor);
    const data = JSON.stringify(event.data);
    const cached = this.timelineCache.get(event.incidentId);
    if (cached !== undefined) {
      const row: TimelineRow = { incident_id: event.incidentId, seq: (cached[cached.length - 1]?.seq ?? 0) + 1, at, kind: event.kind, actor, data };
      this.pendingTimeline.push(row);
      // As a read would give it back (UTC instant, JSON values), not the caller's objects.
      cached.push(toTimelineEvent(row));
      return { ...event, seq: row.seq };
    }
    const rows = await this.conn.all<{ seq: number }>(SQL.appendTimeline, [event.incidentId, at, event.kind, actor, data]);
    const seq = rows[0]?.seq;
    if (seq === undefined) throw new Error('appendTimeline: SQLite returned no seq');
    return { ...event, seq };
  }

  /** flushTimeline writes the rows appendTimeline kept back (the store calls it before COMMIT). */
  async flushTimeline(): Promise<void> {
    if (this.pendingTimeline.length === 0) return;
    const rows = this.pendingTimeline;
    this.pendingTimeline = [];
    await this.conn.run(SQL.insertTimelineRows, [JSON.stringify(rows.map((r) => [r.incident_id, r.seq, r.at, r.kind, r.actor, r.data]))]);
  }

  async timeline(incidentId: number): Promise<TimelineEvent[]> {
    this.check();
    let events = this.timelineCache.get(incidentId);
    if (events === undefined) {
      const rows = await this.conn.all<TimelineRow>(SQL.timeline, [incidentId]);
      events = rows.map(toTimelineEvent);
      // Every incident has events (reported, at least) unless this transaction inserted it, which
      // starts its entry: an empty answer may be an incident that does not exist, and is not kept.
      if (events.length > 0) this.timelineCache.set(incidentId, events);
    }
    return [...events];
  }

  async timelines(incidentIds: readonly number[]): Promise<TimelineEvent[][]> {
    this.check();
    await this.flushTimeline();
    const events: TimelineEvent[] = [];
    for (let start = 0; start < incidentIds.length; start += ENQUEUE_CHUNK) {
      const rows = await this.conn.all<TimelineRow>(SQL.timelines, [JSON.stringify(incidentIds.slice(start, start + ENQUEUE_CHUNK))]);
      for (const r of rows) events.push(toTimelineEvent(r));
    }
    return byIncident(incidentIds, events);
  }

  // Overrides and absences --------------------------------------------------------------------

  /**
   * wroteRotation: this transaction changes overrides or absences: the store's memory of them is
   * dropped, and this transaction reads them from the database only (its own rows are not
   * committed; it may still roll back).
   */
  private wroteRotation(): void {
    this.rotationWritten = true;
    this.memory.forgetRotation();
  }

  /** Throws RangeError unless start < end. */
  async addOverride(o: Omit<StoredOverride, 'id' | 'seq'>): Promise<StoredOverride> {
    this.check();
    const [start, end] = interval(o.start, o.end, 'override');
    this.wroteRotation();
    const id = randomUUID();
    const rows = await this.conn.all<{ seq: number }>(SQL.addOverride, [id, o.team, o.member, start, end, o.createdBy, o.reason]);
    const seq = rows[0]?.seq;
    if (seq === undefined) throw new Error('addOverride: SQLite returned no seq');
    return { id, seq, team: o.team, member: o.member, start: fromMs(start), end: fromMs(end), createdBy: o.createdBy, reason: o.reason };
  }

  /**
   * listOverrides: from the store's memory of the team's overrides when it covers `from` (nearly
   * every transaction asks who is on call, and most of them around now: two statements, each a
   * hop to SQLite's thread and back, for rows that change a few times a week). The memory is the
   * truth while SQLite's data_version has not changed (checked once per transaction, see
   * checkMemory) and no transaction of this store wrote overrides or absences since it was read.
   */
  async listOverrides(team: TeamId, from: DateTime, to: DateTime): Promise<StoredOverride[]> {
    this.check();
    const start = toMs(from, 'from');
    const end = toMs(to, 'to');
    if (this.rotationWritten) return (await this.conn.all<OverrideRow>(SQL.listOverrides, [team, start, end])).map(toOverride);
    await this.checkMemory();
    let known = this.memory.overrides.get(team);
    if (known === undefined || start < known.floor) {
      const floor = start - ROTATION_MEMORY_BACK_MS;
      known = { floor, rows: (await this.conn.all<OverrideRow>(SQL.overridesEndingAfter, [team, floor])).map(toOverride) };
      if (!this.rotationWritten) this.memory.overrides.set(team, known);
    }
    return known.rows.filter((o) => o.end.toMillis() > start && o.start.toMillis() < end);
  }

  async deleteOverride(id: string): Promise<boolean> {
    this.check();
    this.wroteRotation();
    const { changes } = await this.conn.run(SQL.deleteOverride, [id]);
    return changes > 0;
  }

  async deleteAbsence(id: string): Promise<boolean> {
    this.check();
    this.wroteRotation();
    const { changes } = await this.conn.run(SQL.deleteAbsence, [id]);
    return changes > 0;
  }

  /** Throws RangeError unless start < end. */
  async addAbsence(a: Omit<StoredAbsence, 'id'>): Promise<StoredAbsence> {
    this.check();
    const [start, end] = interval(a.start, a.end, 'absence');
    this.wroteRotation();
    const id = randomUUID();
    await this.conn.run(SQL.addAbsence, [id, a.member, start, end]);
    return { id, member: a.member, start: fromMs(start), end: fromMs(end) };
  }

  /** Ordered by start, then id. From the store's memory when it covers `from` (see listOverrides). */
  async listAbsences(from: DateTime, to: DateTime): Promise<StoredAbsence[]> {
    this.check();
    const start = toMs(from, 'from');
    const end = toMs(to, 'to');
    if (this.rotationWritten) return (await this.conn.all<AbsenceRow>(SQL.listAbsences, [start, end])).map(toAbsence);
    await this.checkMemory();
    let known = this.memory.absences;
    if (known === null || start < known.floor) {
      const floor = start - ROTATION_MEMORY_BACK_MS;
      known = { floor, rows: (await this.conn.all<AbsenceRow>(SQL.absencesEndingAfter, [floor])).map(toAbsence) };
      if (!this.rotationWritten) this.memory.absences = known;
    }
    return known.rows.filter((a) => a.end.toMillis() > start && a.start.toMillis() < end);
  }

  // Timers ------------------------------------------------------------------------------------

  async scheduleTimer(timer: Omit<TimerRow, 'id'>): Promise<boolean> {
    this.check();
    const { changes } = await this.conn.run(SQL.scheduleTimer, [
      timer.key,
      timer.kind,
      toMs(timer.dueAt, 'timer dueAt'),
      JSON.stringify(timer.payload),
    ]);
    return changes > 0;
  }

  /** Cancels leased (claimed, not completed) timers too: their completeTimer then returns false. */
  async cancelTimers(keyPrefix: string): Promise<number> {
    this.check();
    const now = this.clock.now().toMillis();
    const upper = prefixUpperBound(keyPrefix);
    const { changes } =
      upper === null
        ? await this.conn.run(SQL.cancelTimersUnbounded, [now, keyPrefix])
        : await this.conn.run(SQL.cancelTimersBounded, [now, keyPrefix, upper]);
    return changes;
  }

  async pendingTimers(keyPrefix: string): Promise<TimerRow[]> {
    this.check();
    const rows = await this.pendingTimersAfter(keyPrefix, Number.MIN_SAFE_INTEGER);
    return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async hurryTimers(keyPrefix: string, dueAt: DateTime, only?: (timer: TimerRow) => boolean): Promise<number> {
    this.check();
    const at = toMs(dueAt, 'dueAt');
    const ids = (await this.pendingTimersAfter(keyPrefix, at)).filter((t) => !only || only(t)).map((t) => t.id);
    if (ids.length === 0) return 0;
    return (await this.conn.run(SQL.hurryTimers, [JSON.stringify(ids), at])).changes;
  }

  /** Ordered by dueAt, then id. Throws RangeError unless leaseUntil is after now. */
  async claimDueTimers(now: DateTime, limit: number, owner: string, leaseUntil: DateTime): Promise<TimerRow[]> {
    this.check();
    const params = leaseParams(now, limit, owner, leaseUntil);
    if (params === null) return [];
    const rows = await this.conn.all<TimerDbRow>(SQL.claimDueTimers, params);
    rows.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
    return rows.map(toTimer);
  }

  /** pendingTimersAfter: the pending timers whose key starts with `keyPrefix`, due after `atMs`. */
  private async pendingTimersAfter(keyPrefix: string, atMs: number): Promise<TimerRow[]> {
    return (await this.conn.all<TimerDbRow>(SQL.pendingTimersAfter, [keyPrefix, prefixUpperBound(keyPrefix), atMs])).map(toTimer);
  }

  /** True while `owner` holds the lease, even an expired one nobody else has claimed since. */
  async completeTimer(id: number, owner: string): Promise<boolean> {
    this.check();
    const { changes } = await this.conn.run(SQL.completeTimer, [this.clock.now().toMillis(), id, owner]);
    return changes > 0;
  }

  /** For a timer under an unexpired lease this is the first instant it can be claimed again. */
  async nextTimerDue(after?: DateTime): Promise<DateTime | null> {
    this.check();
    const rows = await this.conn.all<{ due: number | null }>(SQL.nextTimerDue, [after ? toMs(after, 'after') : -1]);
    const due = rows[0]?.due ?? null;
    return due === null ? null : fromMs(due);
  }

  async oldestDueTimer(): Promise<{ dueAt: DateTime; kind: string; key: string } | null> {
    this.check();
    const row = (await this.conn.all<{ due_at: number; kind: string; key: string }>(SQL.oldestDueTimer, []))[0];
    return row ? { dueAt: fromMs(row.due_at), kind: row.kind, key: row.key } : null;
  }

  // Outbox ------------------------------------------------------------------------------------

  async enqueue(rows: readonly NewOutboxRow[]): Promise<number> {
    this.check();
    if (rows.length === 0) return 0;
    const createdAt = this.clock.now().toMillis();
    const encoded = rows.map((r) => ({
      k: r.key,
      a: r.adapter,
      r: r.recipient,
      m: r.message,
      i: r.incidentId,
      n: toMs(r.notBefore, `outbox notBefore of ${r.key}`),
      l: laneOf(r.adapter, r.recipient, r.message),
    }));
    let added = 0;
    for (let i = 0; i < encoded.length; i += ENQUEUE_CHUNK) {
      const chunk = JSON.stringify(encoded.slice(i, i + ENQUEUE_CHUNK));
      added += (await this.conn.run(SQL.enqueue, [chunk, createdAt])).changes;
    }
    for (const [lane, updateKey] of versionsOf(encoded)) await this.conn.run(SQL.supersedeVersions, [lane, updateKey, createdAt]);
    if (added > 0) this.enqueued = true;
    return added;
  }

  async enqueueAll(rows: readonly NewOutboxRow[]): Promise<void> {
    await this.enqueue(rows);
  }

  /** Ordered by notBefore, then id. Throws RangeError unless leaseUntil is after now. */
  async claimOutbox(now: DateTime, limit: number, owner: string, leaseUntil: DateTime, options: ClaimOptions = {}): Promise<OutboxRow[]> {
    this.check();
    const params = leaseParams(now, limit, owner, leaseUntil);
    if (params === null) return [];
    const perLane = options.perLane === undefined ? limit : Math.max(1, checkLimit(options.perLane));
    const hold = Math.max(1, checkLimit(options.holdBehindFailures ?? 3));
    // With up to CLAIM_IN_JS_ROWS pending rows (the usual outbox) the choice is made here from one
    // index scan and the leases taken by one UPDATE of the chosen ids: the same rows as the claim
    // statement, at a third of its cost (its sorts, window and automatic index took 0.5 ms a claim
    // even on an empty outbox). A backlog beyond that (a platform down during a storm) is left to
    // the statement, in SQLite's thread, rather than read whole into the main thread every claim.
    // The UPDATE checks each row again; nothing else writes meanwhile (this transaction holds the
    // database), so what was chosen is what is leased.
    const [, untilMs, nowMs] = params;
    const pending = await this.conn.all<PendingClaimRow>(SQL.pendingForClaim, [CLAIM_IN_JS_ROWS + 1]);
    let rows: OutboxDbRow[];
    if (pending.length > CLAIM_IN_JS_ROWS) {
      rows = await this.conn.all<OutboxDbRow>(SQL.claimOutbox, [...params, JSON.stringify(options.skipLanes ?? []), perLane, hold]);
    } else {
      const chosen = chooseClaims(pending, nowMs, limit, perLane, hold, options.skipLanes ?? []);
      if (chosen.length === 0) return [];
      rows = await this.conn.all<OutboxDbRow>(SQL.leaseChosen, [JSON.stringify(chosen), owner, untilMs, nowMs]);
    }
    rows.sort((a, b) => a.not_before - b.not_before || a.id - b.id);
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      adapter: r.adapter,
      lane: r.lane,
      recipient: JSON.parse(r.recipient) as Recipient,
      message: JSON.parse(r.message) as Message,
      incidentId: r.incident_id,
      notBefore: fromMs(r.not_before),
      attempts: r.attempts,
      createdAt: fromMs(r.created_at),
      waitingSince: r.waiting_since === null ? null : fromMs(r.waiting_since),
    }));
  }

  async releaseLeases(ids: readonly number[], owner: string): Promise<number> {
    this.check();
    if (ids.length === 0) return 0;
    return (await this.conn.run(SQL.releaseClaims, [JSON.stringify(ids), owner])).changes;
  }

  /** Throws when the row does not exist. */
  async markWaiting(id: number, reason: string, deadline: DateTime): Promise<void> {
    this.check();
    const text = reason.length > MAX_ERROR_LENGTH ? `${reason.slice(0, MAX_ERROR_LENGTH - 1)}…` : reason;
    const { changes } = await this.conn.run(SQL.markWaiting, [id, text, toMs(deadline, 'deadline'), this.clock.now().toMillis()]);
    if (changes === 0) throw new Error(`outbox row ${id} does not exist`);
  }

  async extendLeases(ids: readonly number[], owner: string, until: DateTime): Promise<number[]> {
    this.check();
    if (ids.length === 0) return [];
    const rows = await this.conn.all<{ id: number }>(SQL.extendLeases, [JSON.stringify(ids), owner, toMs(until, 'until')]);
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  async retryNow(adapter: string, now: DateTime): Promise<number> {
    this.check();
    const { changes } = await this.conn.run(SQL.retryNow, [adapter, toMs(now, 'now')]);
    if (changes > 0) this.enqueued = true;
    return changes;
  }

  async rearmLane(lane: string, now: DateTime): Promise<number> {
    this.check();
    const { changes } = await this.conn.run(SQL.rearmLane, [lane, toMs(now, 'now')]);
    if (changes > 0) this.enqueued = true;
    return changes;
  }

  async deliveryStates(keyPrefix: string): Promise<DeliveryState[]> {
    this.check();
    const upper = prefixUpperBound(keyPrefix);
    const rows = await this.conn.all<{ id: number; key: string; adapter: string; attempts: number; sent_at: number | null; dead_at: number | null; waiting_since: number | null }>(
      upper === null ? SQL.deliveryStatesFrom : SQL.deliveryStates, upper === null ? [keyPrefix] : [keyPrefix, upper]);
    return rows.map((r) => ({ id: r.id, key: r.key, adapter: r.adapter, state: deliveryState(r), attempts: r.attempts }));
  }

  async outboxStats(since: DateTime): Promise<OutboxStats> {
    this.check();
    const rows = await this.conn.all<{ pending: number; waiting: number | null; oldest: number | null; dead: number }>(SQL.outboxStats, [toMs(since, 'since')]);
    const r = rows[0];
    return { pending: r?.pending ?? 0, waiting: r?.waiting ?? 0, oldestDue: r?.oldest == null ? null : fromMs(r.oldest), deadSince: r?.dead ?? 0 };
  }

  async pagesUnreachedSince(since: DateTime): Promise<UnreachedPages> {
    this.check();
    await this.flushTimeline();
    const ms = toMs(since, 'since');
    const r = (await this.conn.all<{ n: number; late: number }>(SQL.unreachedCount, [ms]))[0];
    const late = r?.late ?? 0;
    const count = (r?.n ?? 0) - late;
    if (count === 0) return { count, last: null, late };
    const row = (await this.conn.all<TimelineRow>(SQL.unreachedLast, [ms]))[0];
    return { count, last: row ? toTimelineEvent(row) : null, late };
  }

  /** Keeps the first sent instant when called twice; throws when the row does not exist. */
  async markSent(id: number, at: DateTime): Promise<void> {
    this.check();
    const { changes } = await this.conn.run(SQL.markSent, [id, toMs(at, 'sent at')]);
    if (changes === 0) throw new Error(`outbox row ${id} does not exist`);
  }

  /** Throws when the row does not exist. The error text is cut to 2000 characters. */
  async markFailed(id: number, error: string, retryAt: DateTime | null): Promise<void> {
    this.check();
    const retry = retryAt === null ? null : toMs(retryAt, 'retryAt');
    const text = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
    const { changes } = await this.conn.run(SQL.markFailed, [id, text, retry, this.clock.now().toMillis()]);
    if (changes === 0) throw new Error(`outbox row ${id} does not exist`);
  }

  async nextDeliveryDue(after?: DateTime): Promise<DateTime | null> {
    this.check();
    const rows = await this.conn.all<{ due: number | null }>(SQL.nextDeliveryDue, [after ? toMs(after, 'after') : -1]);
    const due = rows[0]?.due ?? null;
    return due === null ? null : fromMs(due);
  }

  async outboxDepth(): Promise<number> {
    this.check();
    const rows = await this.conn.all<{ n: number }>(SQL.outboxDepth, []);
    return rows[0]?.n ?? 0;
  }

  // Alert intake ------------------------------------------------------------------------------

  async observeIntakeGroup(integration: string, fingerprint: string, now: DateTime, firing: boolean): Promise<IntakeGroupState> {
    this.check();
    await this.foldRepeats();
    const rows = await this.conn.all<IntakeGroupDbRow>(SQL.observeIntakeGroup, [integration, fingerprint, toMs(now, 'now'), firing ? 1 : 0]);
    const r = rows[0];
    if (!r) throw new Error('observeIntakeGroup: SQLite returned no row');
    this.groupsSeen.set(integration, fingerprint, r.incident_id);
    return {
      incidentId: r.incident_id,
      incidentState: r.state as IncidentState | null,
      resolvedAt: r.resolved_at === null ? null : fromMs(r.resolved_at),
      count: r.count,
      firstSeen: fromMs(r.first_seen),
      lastSeen: fromMs(r.last_seen),
    };
  }

  /** Throws when the group does not exist (observeIntakeGroup creates it). */
  async setIntakeGroupIncident(integration: string, fingerprint: string, incidentId: number, now: DateTime): Promise<void> {
    this.check();
    await this.foldRepeats();
    const { changes } = await this.conn.run(SQL.setIntakeGroupIncident, [integration, fingerprint, incidentId, toMs(now, 'now')]);
    if (changes === 0) throw new Error(`intake group ${integration}/${fingerprint} does not exist`);
    this.groupsSeen.set(integration, fingerprint, incidentId);
  }

  async intakeGroupOf(incidentId: number): Promise<{ integration: string; fingerprint: string; count: number; firstSeen: DateTime; lastSeen: DateTime } | null> {
    this.check();
    await this.foldRepeats();
    const rows = await this.conn.all<{ integration: string; fingerprint: string; count: number; first_seen: number; last_seen: number }>(SQL.intakeGroupOf, [incidentId]);
    const r = rows[0];
    return r ? { integration: r.integration, fingerprint: r.fingerprint, count: r.count, firstSeen: fromMs(r.first_seen), lastSeen: fromMs(r.last_seen) } : null;
  }

  async observeIntakeAlert(alert: IntakeAlert, now: DateTime): Promise<AlertChange> {
    this.check();
    await this.foldRepeats();
    this.alertsSeen.set(alert.integration, alert.fingerprint, alert.alertKey, { status: alert.status, startsAt: alert.startsAt });
    const rows = await this.conn.all<{ prev_status: string | null; prev_starts_at: string | null }>(SQL.observeIntakeAlert, [
      alert.integration,
      alert.fingerprint,
      alert.alertKey,
      alert.status,
      alert.startsAt,
      JSON.stringify(alert.labels),
      JSON.stringify(alert.annotations),
      toMs(now, 'now'),
    ]);
    const r = rows[0];
    return { previousStatus: (r?.prev_status ?? null) as AlertChange['previousStatus'], previousStartsAt: r?.prev_starts_at ?? null };
  }

  /**
   * knownIntakeAlerts answers from the store's memory of intake rows (this transaction's own
   * changes first), and asks the database only for keys it does not know, remembering the answers.
   */
  async knownIntakeAlerts(keys: readonly IntakeAlertKey[]): Promise<KnownIntakeAlert[]> {
    this.check();
    const out: Array<KnownIntakeAlert | undefined> = new Array<KnownIntakeAlert | undefined>(keys.length);
    const recall = (): number[] => {
      const missing: number[] = [];
      keys.forEach((k, i) => {
        const alert = recalled(this.alertsSeen.get(k.integration, k.fingerprint, k.alertKey), () => this.memory.alert(k.integration, k.fingerprint, k.alertKey));
        const incidentId = recalled(this.groupsSeen.get(k.integration, k.fingerprint), () => this.memory.incident(k.integration, k.fingerprint));
        if (alert === undefined || incidentId === undefined) missing.push(i);
        else out[i] = { status: alert.status, startsAt: alert.startsAt, incidentId };
      });
      return missing;
    };
    // The memory's check and the query for what it does not know go to SQLite at once (one wait
    // for its thread, not two); when the check dropped the memory, everything is recalled and
    // asked again (another process wrote: rare).
    const [dropped] = await Promise.all([this.checkMemory(), this.askKnown(keys, recall(), out)]);
    if (dropped) await this.askKnown(keys, recall(), out);
    return out as KnownIntakeAlert[];
  }

  /** askKnown: the database's rows for keys[i] of each i in `missing`, into `out` and this transaction's memory. */
  private async askKnown(keys: readonly IntakeAlertKey[], missing: readonly number[], out: Array<KnownIntakeAlert | undefined>): Promise<void> {
    for (let start = 0; start < missing.length; start += ENQUEUE_CHUNK) {
      const chunk = missing.slice(start, start + ENQUEUE_CHUNK);
      const rows = await this.conn.all<{ idx: number; status: string | null; starts_at: string | null; incident_id: number | null }>(
        SQL.knownIntakeAlerts, [JSON.stringify(chunk.map((i) => ({ i: keys[i]?.integration, f: keys[i]?.fingerprint, k: keys[i]?.alertKey })))]);
      const byIdx = new Map(rows.map((r) => [r.idx, r]));
      chunk.forEach((i, j) => {
        const r = byIdx.get(j);
        const k = keys[i] as IntakeAlertKey;
        const known = { status: r?.status ?? null, startsAt: r?.starts_at ?? null, incidentId: r?.incident_id ?? null };
        out[i] = known;
        this.alertsSeen.set(k.integration, k.fingerprint, k.alertKey, { status: known.status, startsAt: known.startsAt });
        this.groupsSeen.set(k.integration, k.fingerprint, known.incidentId);
      });
    }
  }

  /**
   * checkMemory drops the store's memory when another connection (another process on the file,
   * which Onehand does not do, but a person might) committed since this one last looked: SQLite's
   * data_version changes exactly then. Once per transaction; every caller waits for that one
   * check. True when it dropped the memory.
   */
  private checkMemory(): Promise<boolean> {
    this.memoryCheck ??= (async () => {
      const version = (await this.conn.all<{ data_version: number }>('PRAGMA data_version', []))[0]?.data_version ?? -1;
      if (version === this.memory.dataVersion) return false;
      this.memory.clear();
      this.memory.foldPending = true;
      this.memory.sums = null;
      this.memory.dataVersion = version;
      return true;
    })();
    return this.memoryCheck;
  }

  /** recordIntakeRepeats appends one row to the repeat log; the counts follow at the next fold. */
  async recordIntakeRepeats(alerts: readonly IntakeRepeat[], groups: readonly IntakeGroupRepeat[], now: DateTime): Promise<void> {
    this.check();
    const at = toMs(now, 'now');
    if (alerts.length === 0 && groups.length === 0) return;
    await this.conn.run(SQL.logIntakeRepeats, [at, repeatLogData(alerts, groups)]);
    this.logs.push({ alerts, groups, at });
    this.logged = true;
  }

  /**
   * foldRepeats folds the repeat log into the counts, once per transaction (again after this
   * transaction logged more): every method that reads or changes intake_alerts or intake_groups
   * rows calls it first, so nobody sees a count without its repeats, and a new firing never
   * receives the repeats of the one before.
   */
  private async foldRepeats(): Promise<void> {
    if (this.folded && !this.logged) return;
    // Another connection may have logged repeats: its commit sets foldPending (see checkMemory).
    await this.checkMemory();
    if (!this.memory.foldPending && !this.logged) {
      this.folded = true;
      return;
    }
    // The sums of what the log holds (the store's, unless this transaction emptied the log, plus
    // this transaction's rows), used only when they cover exactly the rows in the log.
    const base = this.emptiedLog ? new RepeatSums() : this.memory.sums;
    const sums = base === null || this.logs.length === 0 ? base : base.plus(this.logs);
    const rows = sums === null ? -1 : (await this.conn.all<{ n: number }>(SQL.countRepeats, []))[0]?.n;
    if (sums !== null && rows === sums.rows) {
      const alertSums = sums.alertSums();
      const groupSums = sums.groupSums();
      if (alertSums.length > 0) await this.conn.run(SQL.foldSummedAlerts, [JSON.stringify(alertSums)]);
      if (groupSums.length > 0) await this.conn.run(SQL.foldSummedGroups, [JSON.stringify(groupSums)]);
    } else {
      await this.conn.run(SQL.foldRepeatAlerts, []);
      await this.conn.run(SQL.foldRepeatGroups, []);
    }
    if (rows !== 0) await this.conn.run(SQL.clearRepeats, []);
    this.folded = true;
    this.logged = false;
    this.emptiedLog = true;
    this.logs = [];
  }

  /** foldNow: the fold, as the whole of a transaction (the store's timer, and at start). */
  async foldNow(): Promise<void> {
    this.check();
    this.folded = false;
    this.memory.foldPending ||= this.logged;
    await this.foldRepeats();
  }

  /**
   * committed applies what this transaction learnt about intake rows to the store's memory, and
   * says whether it left repeats in the log. Only called after COMMIT succeeded.
   */
  committed(): { logged: boolean } {
    const memory = this.memory;
    this.alertsSeen.forEach((value, integration, fingerprint, key) => memory.setAlert(integration, fingerprint, key, value));
    this.groupsSeen.forEach((value, integration, fingerprint) => memory.setIncident(integration, fingerprint, value));
    if (memory.full) memory.clear();
    if (this.logged) this.memory.foldPending = true;
    else if (this.folded) this.memory.foldPending = false;
    if (this.emptiedLog) this.memory.sums = new RepeatSums();
    for (const log of this.logs) this.memory.sums?.add(log.alerts, log.groups, log.at);
    if (this.memory.sums?.full) this.memory.sums = null;
    return { logged: this.logged };
  }

  /**
   * openIntakeIncidents: three waits for SQLite per chunk of rows. The incidents go first, each
   * only where its group does not exist yet (a group another writer opened is rare, and such a
   * row opens nothing); then the alerts; then, together, the groups (claimed with their incidents'
   * ids, so nothing has to link them after) and the timeline rows. The main thread builds each
   * statement's JSON while SQLite's thread runs the one before (the statement is handed to it
   * when called, and awaited after), so the two work side by side instead of in turn.
   */
  async openIntakeIncidents(rows: readonly NewIntakeIncident[], now: DateTime): Promise<Array<Incident | null>> {
    this.check();
    await this.foldRepeats();
    const at = toMs(now, 'now');
    const out: Array<Incident | null> = [];
    const incidentKey = (source: string, fingerprint: string | null) => `${source}\u0000${fingerprint ?? ''}`;
    const alertsJson = (list: readonly NewIntakeIncident[]) => JSON.stringify(list.map(({ alert: a }) => [
      a.integration, a.fingerprint, a.alertKey, a.status, a.startsAt, JSON.stringify(a.labels), JSON.stringify(a.annotations),
    ]));
    for (let start = 0; start < rows.length; start += ENQUEUE_CHUNK) {
      const chunk = rows.slice(start, start + ENQUEUE_CHUNK);
      const [inserted, allAlerts] = await alongside(
        this.conn.all<{ id: number; source: string; fingerprint: string | null }>(SQL.insertIntakeIncidents, [
          JSON.stringify(chunk.map((r) => [...incidentParams(r.incident, JSON.stringify), r.alert.integration, r.alert.fingerprint])),
        ]),
        () => alertsJson(chunk),
      );
      const ids = new Map<string, number>();
      for (const r of inserted) {
        ids.set(incidentKey(r.source, r.fingerprint), r.id);
        this.timelineCache.delete(r.id);
      }
      const idOf = (r: NewIntakeIncident): number | undefined => ids.get(incidentKey(r.incident.source, r.incident.fingerprint));
      const whole = inserted.length === chunk.length;
      const mine = whole ? chunk : chunk.filter((r) => idOf(r) !== undefined);
      // Every incident inserted is one row's: else one would be left without its group (a key
      // SQLite gave back changed, rows sharing a source and fingerprint). Fail whole instead.
      if (ids.size !== inserted.length || (whole ? chunk.some((r) => idOf(r) === undefined) : mine.length !== inserted.length)) {
        throw new Error(`openIntakeIncidents: ${inserted.length} incidents inserted for ${mine.length} of the rows (rows must differ in source and fingerprint, and keep them as stored)`);
      }
      if (mine.length > 0) {
        const [, [groups, events]] = await alongside(this.conn.run(SQL.insertIntakeAlerts, [mine === chunk ? allAlerts : alertsJson(mine), at]), () => [
          JSON.stringify(mine.map((r) => [r.alert.integration, r.alert.fingerprint, idOf(r)])),
          JSON.stringify(mine.flatMap((r) => r.events.map((e, i) => [idOf(r), i + 1, at, e.kind, e.actor === null ? null : JSON.stringify(e.actor), JSON.stringify(e.data)]))),
        ] as const);
        // Two writes that need nothing of each other go to SQLite at once: one wait for the
        // connection's thread instead of two (see Connection.runAll). Should SQLite roll the
        // transaction back by itself under one (disk full, I/O error), the other, run on its own
        // then, changes nothing: both need this transaction's incidents (foreign keys). The
        // alerts' insert, which would stand on its own, went before, alone.
        await this.conn.runAll([
          [SQL.claimIntakeGroups, [groups, at]],
          ...(mine.some((r) => r.events.length > 0) ? [[SQL.insertTimelineRows, [events]] as const] : []),
        ]);
      }
      for (const r of chunk) {
        const { alert: a } = r;
        const id = idOf(r);
        out.push(id === undefined ? null : { ...r.incident, id });
        // A group another writer created: forget what this transaction knew of it (ask again).
        this.groupsSeen.set(a.integration, a.fingerprint, id ?? FORGET);
        this.alertsSeen.set(a.integration, a.fingerprint, a.alertKey, id === undefined ? FORGET : { status: a.status, startsAt: a.startsAt });
      }
    }
    return out;
  }

  async firingIntakeAlerts(integration: string, fingerprint: string): Promise<number> {
    this.check();
    const rows = await this.conn.all<{ n: number }>(SQL.firingIntakeAlerts, [integration, fingerprint]);
    return rows[0]?.n ?? 0;
  }

  async countIncidentsSince(team: TeamId, sourcePrefix: string, since: DateTime): Promise<number> {
    this.check();
    const rows = await this.conn.all<{ n: number }>(SQL.countIncidentsSince, [team, sourcePrefix, toMs(since, 'since')]);
    return rows[0]?.n ?? 0;
  }

  async activeStorm(team: TeamId): Promise<StormRow | null> {
    this.check();
    const rows = await this.conn.all<StormDbRow>(SQL.activeStorm, [team]);
    return rows[0] ? toStorm(rows[0]) : null;
  }

  /** One writer at a time holds the whole store: a lock or none reads the same. */
  async getStorm(id: number, _options?: { readonly lock?: boolean }): Promise<StormRow | null> {
    this.check();
    const rows = await this.conn.all<StormDbRow>(SQL.getStorm, [id]);
    return rows[0] ? toStorm(rows[0]) : null;
  }

  async insertStorm(storm: Omit<StormRow, 'id'>): Promise<StormRow> {
    this.check();
    const { lastID } = await this.conn.run(SQL.insertStorm, [
      storm.team, storm.member, storm.integration, toMs(storm.startedAt, 'startedAt'), toMs(storm.lastAt, 'lastAt'),
      storm.incidents, storm.version, storm.endedAt === null ? null : toMs(storm.endedAt, 'endedAt'), storm.severity,
    ]);
    return { ...storm, id: lastID };
  }

  /** Throws when the storm does not exist. */
  async updateStorm(storm: StormRow): Promise<void> {
    this.check();
    const { changes } = await this.conn.run(SQL.updateStorm, [
      storm.id, storm.member, toMs(storm.lastAt, 'lastAt'), storm.incidents, storm.version,
      storm.endedAt === null ? null : toMs(storm.endedAt, 'endedAt'), storm.severity,
    ]);
    if (changes === 0) throw new Error(`storm ${storm.id} does not exist`);
  }

  // Inbound events ----------------------------------------------------------------------------

  async inboundReply(id: string): Promise<Message | null> {
    this.check();
    const rows = await this.conn.all<{ reply: string }>(SQL.inboundReply, [id]);
    return rows[0] ? (JSON.parse(rows[0].reply) as Message) : null;
  }

  async rememberInbound(id: string, reply: Message, at: DateTime): Promise<Message | null> {
    this.check();
    const { changes } = await this.conn.run(SQL.rememberInbound, [id, JSON.stringify(reply), toMs(at, 'inbound at')]);
    return changes > 0 ? null : this.inboundReply(id);
  }

  async pruneInbound(before: DateTime): Promise<number> {
    this.check();
    return (await this.conn.run(SQL.pruneInbound, [toMs(before, 'before')])).changes;
  }

  // Key-value ---------------------------------------------------------------------------------

  /** The stored JSON value, or undefined when the key is absent. */
  async kvGet(namespace: string, key: string): Promise<unknown> {
    this.check();
    const rows = await this.conn.all<{ value: string }>(SQL.kvGet, [namespace, key]);
    return rows[0] ? (JSON.parse(rows[0].value) as unknown) : undefined;
  }

  /** kvPeek: kvGet (SQLite has one writer at a time: nothing to lock). */
  kvPeek(namespace: string, key: string): Promise<unknown> {
    return this.kvGet(namespace, key);
  }

  /** Stores `value` as JSON; `undefined` deletes the key. Throws on values JSON cannot hold (BigInt, cycles). */
  async kvSet(namespace: string, key: string, value: unknown): Promise<void> {
    this.check();
    if (value === undefined) {
      await this.conn.run(SQL.kvDelete, [namespace, key]);
      return;
    }
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) throw new TypeError(`kvSet ${namespace}/${key}: value is not JSON (${typeof value})`);
    await this.conn.run(SQL.kvSet, [namespace, key, json]);
  }

  // Leader leases -----------------------------------------------------------------------------

  async tryLease(name: string, owner: string, now: DateTime, until: DateTime): Promise<boolean> {
    this.check();
    const nowMs = toMs(now, 'now');
    const untilMs = toMs(until, 'until');
    if (untilMs <= nowMs) throw new RangeError(`until (${until.toISO()}) must be after now (${now.toISO()})`);
    const { changes } = await this.conn.run(SQL.tryLease, [name, owner, nowMs, untilMs]);
    return changes > 0;
  }

  async releaseLease(name: string, owner: string): Promise<boolean> {
    this.check();
    const { changes } = await this.conn.run(SQL.releaseLease, [name, owner]);
    return changes > 0;
  }

  private check(): void {
    if (!this.open) throw new Error('StoreTx used after its transaction finished');
  }
}

// ---------------------------------------------------------------------------------------------
// Row mapping helpers




// ---------------------------------------------------------------------------------------------
// Infrastructure: the mutex and the promise wrapper over node-sqlite3

/**
 * Mutex runs async critical sections one at a time: urgent ones (see Store.transaction) in call
 * order before the others, the others in call order.
 */
class Mutex {
  private busy = false;
  private readonly urgent: Array<() => void> = [];
  private readonly normal: Array<() => void> = [];
  /** When the section running now started (performance.now()); null while none runs. */
  heldSince: number | null = null;

  /** Sections waiting for their turn. */
  get waiting(): number {
    return this.urgent.length + this.normal.length;
  }

  async run<T>(urgent: boolean, section: () => Promise<T>): Promise<T> {
    if (this.busy) await new Promise<void>((resolve) => (urgent ? this.urgent : this.normal).push(resolve));
    else this.busy = true;
    this.heldSince = performance.now();
    try {
      return await section();
    } finally {
      this.heldSince = null;
      // The turn passes straight to the next section (busy stays true), so none can slip in between.
      const next = this.urgent.shift() ?? this.normal.shift();
      if (next) next();
      else this.busy = false;
    }
  }
}

type SqlValue = string | number | null;

/**
 * Connection wraps one node-sqlite3 Database with promises and a cache of prepared statements keyed
 * by SQL text. Errors keep SQLite's `code` (e.g. "SQLITE_CONSTRAINT") and name the failing SQL.
 */
class Connection {
  private readonly statements = new Map<string, Promise<Statement>>();
  /**
   * The statements prepared already: `run` and `all` hand one to SQLite's thread in the call itself
   * (no wait for a promise first), so the caller can build its next statement's parameters while
   * SQLite runs this one (see alongside).
   */
  private readonly ready = new Map<string, Statement>();

  private constructor(private readonly db: Database) {}

  static open(path: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db = new Database(path, OPEN_READWRITE | OPEN_CREATE, (err) => {
        if (err) reject(sqlError(err, `open ${path}`));
        else resolve(new Connection(db));
      });
    });
  }

  /** exec runs one or more statements without caching them (migrations, BEGIN, COMMIT, PRAGMA). */
  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err) => (err ? reject(sqlError(err, sql)) : resolve()));
    });
  }

  run(sql: string, params: readonly SqlValue[]): Promise<{ changes: number; lastID: number }> {
    const statement = this.ready.get(sql);
    if (statement === undefined) return this.prepare(sql).then(() => this.run(sql, params));
    return new Promise((resolve, reject) => {
      statement.run(params, function (this: RunResult, err: Error | null) {
        if (err) reject(sqlError(err, sql));
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  /**
   * runAll runs statements that do not depend on each other's effects (their order is not kept:
   * node-sqlite3 may hand them to several pool threads, which SQLite's connection mutex then
   * serializes; the bundled SQLite is built thread-safe), so their answers come back together
   * instead of one wake-up of the main thread each. It settles only when every statement has: none
   * may still run when the caller goes on (a ROLLBACK after the first failure must not be
   * overtaken by a write). Throws the first error. Statements still queued when SQLite rolls a
   * transaction back by itself (SQLITE_FULL, SQLITE_IOERR) run outside it: give runAll only
   * statements that change nothing without the transaction's earlier rows.
   */
  async runAll(statements: ReadonlyArray<readonly [string, readonly SqlValue[]]>): Promise<void> {
    const settled = await Promise.allSettled(statements.map(([sql, params]) => this.run(sql, params)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** all runs a statement to completion (so it is reset and holds no read lock) and returns its rows. */
  all<T>(sql: string, params: readonly SqlValue[]): Promise<T[]> {
    const statement = this.ready.get(sql);
    if (statement === undefined) return this.prepare(sql).then(() => this.all<T>(sql, params));
    return new Promise((resolve, reject) => {
      statement.all<T>(params, (err: Error | null, rows: T[]) => (err ? reject(sqlError(err, sql)) : resolve(rows)));
    });
  }

  async close(): Promise<void> {
    const settled = await Promise.allSettled(this.statements.values());
    this.statements.clear();
    this.ready.clear();
    for (const s of settled) {
      if (s.status === 'fulfilled') await new Promise<void>((resolve) => s.value.finalize(() => resolve()));
    }
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(sqlError(err, 'close')) : resolve())));
  }

  private prepare(sql: string): Promise<Statement> {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = new Promise<Statement>((resolve, reject) => {
        const prepared: Statement = this.db.prepare(sql, (err: Error | null) => {
          if (err) reject(sqlError(err, sql));
          else {
            this.ready.set(sql, prepared);
            resolve(prepared);
          }
        });
      });
      this.statements.set(sql, statement);
      statement.catch(() => this.statements.delete(sql));
    }
    return statement;
  }
}

/**
 * alongside: `build` runs on the main thread while SQLite's thread runs `statement` (already handed
 * to it); returns both. The statement has settled whenever this returns or throws, also when `build`
 * throws: nothing may still run when the caller goes on (a ROLLBACK must not be overtaken).
 */
async function alongside<T, U>(statement: Promise<T>, build: () => U): Promise<[T, U]> {
  let built: U;
  try {
    built = build();
  } catch (err) {
    await statement.catch(() => undefined);
    throw err;
  }
  return [await statement, built];
}

function sqlError(err: Error, sql: string): Error {
  const code = (err as { code?: unknown }).code;
  const wrapped = new Error(`${err.message} (in: ${sql.replace(/\s+/g, ' ').trim().slice(0, 120)})`, { cause: err });
  return Object.assign(wrapped, { code });
}

export { prefixUpperBound };

/** A claim chooses in JavaScript up to this many pending rows (see SqliteTx.claimOutbox). */
export const CLAIM_IN_JS_ROWS = 500;

interface PendingClaimRow {
  id: number;
  lane: string | null;
  not_before: number;
  lease_until: number | null;
  attempts: number;
  waiting_since: number | null;
}

/**
 * chooseClaims: the ids a claim leases, from the pending rows (see StoreTx.claimOutbox): due rows
 * not leased, of lanes nobody is sending (no live lease in the lane, not in `skip`), not behind an
 * earlier row of their lane that failed fewer than `hold` times and is not waiting for the
 * recipient; the earliest `perLane` of each lane by (not_before, id), the earliest `limit` of all.
 */
function chooseClaims(
  pending: readonly PendingClaimRow[],
  now: number, limit: number, perLane: number, hold: number, skip: readonly string[],
): number[] {
  const busy = new Set(skip);
  const heldAt = new Map<string, number>();
  for (const r of pending) {
    const lane = r.lane ?? '';
    if (r.lease_until !== null && r.lease_until >= now) busy.add(lane);
    if (r.waiting_since === null && r.attempts > 0 && r.attempts < hold && r.id < (heldAt.get(lane) ?? Infinity)) heldAt.set(lane, r.id);
  }
  const due = pending.filter((r) => {
    const lane = r.lane ?? '';
    return r.not_before <= now && (r.lease_until === null || r.lease_until < now) && !busy.has(lane) && r.id <= (heldAt.get(lane) ?? Infinity);
  });
  due.sort((a, b) => a.not_before - b.not_before || a.id - b.id);
  const taken = new Map<string, number>();
  const ids: number[] = [];
  for (const r of due) {
    if (ids.length >= limit) break;
    const lane = r.lane ?? '';
    const n = taken.get(lane) ?? 0;
    if (n >= perLane) continue;
    taken.set(lane, n + 1);
    ids.push(r.id);
  }
  return ids;
}

function toTimer(r: TimerDbRow): TimerRow {
  return { id: r.id, key: r.key, kind: r.kind, dueAt: fromMs(r.due_at), payload: JSON.parse(r.payload) as Record<string, unknown> };
}

function toTimelineEvent(r: TimelineRow): TimelineEvent {
  return {
    incidentId: r.incident_id,
    seq: r.seq,
    at: fromMs(r.at),
    kind: r.kind,
    actor: r.actor === null ? null : (JSON.parse(r.actor) as Principal),
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}
