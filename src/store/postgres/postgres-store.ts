/**
 * PostgresStore implements the Store port on PostgreSQL (15+) through a `pg` Pool, so several
 * Onehand replicas can share one database.
 *
 * Each `transaction` checks a client out of the pool and runs the callback alone on it between
 * BEGIN and COMMIT (ROLLBACK when it throws), at READ COMMITTED. Correctness across replicas comes
 * from row locks and unique constraints, not from serializable isolation:
 *
 * - claims (timers, outbox) select due rows `FOR UPDATE SKIP LOCKED` and lease them in the same
 *   statement, so concurrent claimers never get the same row, and a row whose completion is in
 *   flight is skipped instead of waited for;
 * - the reads that precede a read-modify-write lock the row they return until the transaction ends:
 *   `getIncident`, `getStorm`, `activeStorm` (FOR UPDATE) and `kvGet` (an upsert, so even a key
 *   that does not exist yet is locked); so two use cases on one incident, or two writers of one
 *   key, run one after the other, as on SQLite;
 * - `appendTimeline` locks its incident before numbering the event;
 * - dedup (outbox keys, timer keys, intake fingerprints, one active storm per team) is a unique
 *   constraint with ON CONFLICT, never read-then-write; an inbound event id this transaction found
 *   unknown is inserted plainly, and a concurrent insert of the same id fails it (a race, below).
 *
 * Connections pipeline (node-postgres `pipeline`): statements whose answer nothing waits for
 * (BEGIN, a claim's lock, writes whose outcome is known beforehand) are sent without waiting, the
 * next statement or COMMIT right behind them (PgTx.send); one that fails aborts the transaction,
 * COMMIT then rolls back, and its error is the transaction's.
 *
 * A transaction the database aborts for a deadlock (40P01) or a serialization failure (40001), or
 * that lost a race guarded by a unique constraint (a team's one active storm, an inbound event id),
 * is run again from the start, up to 5 times, so a callback must have no effect outside its StoreTx
 * until it returns. Instants are BIGINT epoch milliseconds, JSON values JSONB (which cannot hold
 * the character U+0000). Known limits: as on SQLite, a callback must await every StoreTx call, and
 * calling `transaction`, `migrate` or `close` inside a callback throws.
 */
import { randomUUID } from 'node:crypto';
import type { DateTime } from 'luxon';
import { byIncident, checkLimit, deliveryState, fromMs, INCIDENT_COLUMNS, prefixUpperBound, incidentParams, interval, leaseParams, runAfterCommit, toIncident as decodeIncident, toMs, toStorm, versionsOf, type IncidentDbRow, type StormDbRow } from '../values';
import { NestingGuard } from '../nesting';
import { storableText } from '../../core/text/storable';
import { errorText } from '../../core/text/error-text';
import { Client, Pool, types as pgTypes, type ClientConfig, type PoolClient, type PoolConfig } from 'pg';
import type { Clock } from '../../ports/clock';
import { SystemClock } from '../../runtime/clock';
import { laneOf, RERUN_CODES } from '../../ports/store';
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
  IntakeRepeat,
  KnownIntakeAlert,
  IntakeGroupState,
  NewIntakeIncident,
  NewOutboxRow,
  OutboxRow,
  Recipient,
  StormRow,
  Store,
  StoredAbsence,
  StoredOverride,
  StoreTx,
  TimerRow,
} from '../../ports/store';
import type { MemberId, TeamId } from '../../core/model';
import type { Incident, IncidentState, NewIncident, NewTimelineEvent, Principal, TimelineEvent } from '../../core/incident/types';
import type { Message } from '../../core/messages/message';
import type { Migration } from '../sqlite/migrations';
import { applyPgMigrations, PG_MIGRATIONS } from './migrations';

export interface PostgresStoreOptions {
  /** Stamps the bookkeeping instants the port gives no instant for (created_at, done_at, ...). */
  readonly clock?: Clock;
  /** The schema to migrate to; tests only. Defaults to PG_MIGRATIONS. */
  readonly migrations?: readonly Migration[];
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number;
  /** Extra pg connection settings (tests: `options: '-c search_path=...'`). */
  readonly pool?: PoolConfig;
  /**
   * How long PostgreSQL runs one statement, lock waits included (default 30 s,
   * PG_STATEMENT_TIMEOUT_MS; its statement_timeout): past it PostgreSQL cancels the statement
   * (57014) and the connection stays usable.
   */
  readonly statementTimeoutMs?: number;
  /**
   * How long the driver waits for a statement's answer (default 60 s, PG_QUERY_TIMEOUT_MS): past it
   * the statement fails ("Query read timeout") and its connection is closed, so a server that
   * stopped answering (frozen, behind a network that drops packets) fails transactions instead of
   * hanging them. Migrations, which may wait for another replica's, have neither timeout.
   */
  readonly queryTimeoutMs?: number;
  /** How long opening a connection, or waiting for one from a full pool, may take (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** Told about errors of idle connections (the pool replaces them). */
  readonly onError?: (err: Error) => void;
}

const MAX_ATTEMPTS = 5;

/** See PostgresStoreOptions.statementTimeoutMs. */
export const PG_STATEMENT_TIMEOUT_MS = 30_000;
/** See PostgresStoreOptions.queryTimeoutMs. */
export const PG_QUERY_TIMEOUT_MS = 60_000;
/** See PostgresStoreOptions.connectTimeoutMs. */
export const PG_CONNECT_TIMEOUT_MS = 30_000;

/** BIGINT (int8) and COUNT(*) as JavaScript numbers: epoch ms and ids stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 && format !== 'binary' ? (v: string) => Number(v) : pgTypes.getTypeParser(oid, format as 'text')) as typeof pgTypes.getTypeParser,
};

/** isPostgresUrl: whether `url` names a PostgreSQL database (postgres:// or postgresql://). */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url.trim());
}

/**
 * redactUrl: the URL with its passwords replaced by "***", for logs: the one before the host and
 * those the driver also reads from the query (?password=, ?sslpassword=).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/password/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

/**
 * openPostgresStore connects a pool to `url` (a libpq-style URL: postgres://user:pass@host:port/db,
 * `?options=-c%20search_path%3Dschema` selects a schema) and checks one connection works. It does
 * not migrate: call `migrate()` before the first transaction.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  // pipeline: a statement goes out without waiting for the answer to the one before (see PgTx.send).
  // keepAlive: TCP keepalive probes start after 10 s idle, so an idle connection to a host that
  // went away is noticed (after the kernel's probes: minutes, not hours) and replaced.
  const pool = new Pool({
    connectionString: url, max: options.maxConnections ?? 10, types: TYPES, pipeline: true,
    statement_timeout: options.statementTimeoutMs ?? PG_STATEMENT_TIMEOUT_MS,
    query_timeout: options.queryTimeoutMs ?? PG_QUERY_TIMEOUT_MS, connectionTimeoutMillis: options.connectTimeoutMs ?? PG_CONNECT_TIMEOUT_MS,
    keepAlive: true, keepAliveInitialDelayMillis: 10_000,
    ...options.pool,
  });
  pool.on('error', (err) => options.onError?.(err));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new PostgresStore(pool, options.clock ?? new SystemClock(), options.migrations ?? PG_MIGRATIONS);
}

/** groupKey: an intake group's key in a Set (integration and fingerprint, NUL between). */
function groupKey(integration: string, fingerprint: string): string {
  return `${integration}\u0000${fingerprint}`;
}

/** backendOf: the PostgreSQL server process of a connection (what a NOTIFY it sends names). */
function backendOf(client: object): number {
  return (client as { processID?: number | null }).processID ?? -1;
}

/** The NOTIFY channel of a schema's outbox: replicas sharing the schema wake each other. */
const NOTIFY_CHANNEL = "'onehand_outbox_' || md5(current_schema())"; // 47 bytes: under the 63-byte limit

export class PostgresStore implements Store {
  /** Refuses a call from inside a transaction (see NestingGuard). */
  private readonly nesting = new NestingGuard<PgTx>('PostgresStore');
  private closed = false;
  private readonly enqueuedListeners = new Set<() => void>();
  private listener: Client | null = null;
  private relisten: NodeJS.Timeout | null = null;
  /**
   * Server processes of this store's connections that ran a transaction: their NOTIFY is this
   * process's own commit, whose listeners ran already (a second wake-up would cost the delivery
   * worker a claim that finds nothing).
   */
  private readonly ownBackends = new Set<number>();

  /** Use openPostgresStore. */
  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    private readonly migrations: readonly Migration[],
  ) {
    pool.on('remove', (client) => this.ownBackends.delete(backendOf(client)));
  }

  /**
   * ownClient: a connection of its own (not the pool's), with the pool's settings and `extra`. The
   * pool keeps its password out of its enumerable options: it is passed on by name.
   */
  private ownClient(extra: ClientConfig = {}): Client {
    return new Client({ ...this.pool.options, password: this.pool.options.password, types: TYPES, ...extra });
  }

  /** migrate applies pending migrations (see applyPgMigrations); safe from several replicas at once. */
  async migrate(): Promise<number[]> {
    this.refuseNesting('migrate');
    this.assertOpen();
    // Its own connection, without the statements' read timeout: a migration may rewrite a big
    // table, or wait for another replica's migration to finish.
    const client = this.ownClient({ query_timeout: 0, statement_timeout: 0 });
    client.on('error', () => undefined); // a failure shows in the statement that meets it
    try {
      await client.connect();
      return await applyPgMigrations(client, this.migrations, () => this.clock.now().toMillis());
    } catch (err) {
      // 3F000: the search_path names no schema that exists (PostgreSQL says only "no schema has
      // been selected to create in").
      if (codeOf(err) !== '3F000') throw err;
      await client.query('ROLLBACK').catch(() => undefined); // a migration's transaction may be left aborted
      const path = (await client.query<{ search_path: string }>('SHOW search_path').catch(() => null))?.rows[0]?.search_path ?? 'unknown';
      // The schema to create, when the path names one plainly (not "$user", not quoted or empty).
      const first = path.split(',')[0]?.trim() ?? '';
      const fix = /^[a-z_][a-z0-9_]*$/.test(first) ? `create it first (CREATE SCHEMA ${first};)` : 'create the schema it names first (CREATE SCHEMA name;)';
      throw new Error(`PostgreSQL has no schema to create Onehand's tables in: the search_path (${path}) names none that exists; ${fix}, or set search_path (options=-c search_path=...) to a schema that exists`, { cause: err });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * transaction runs `fn` on a dedicated connection inside BEGIN ... COMMIT and returns its result;
   * when `fn` throws (or COMMIT fails) it rolls back and rethrows. A deadlock or serialization
   * failure reruns `fn` (at most 5 attempts in all).
   */
  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.refuseNesting('transaction');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(fn);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !retryable(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  private async attempt<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    const client = await this.pool.connect();
    this.ownBackends.add(backendOf(client));
    const tx = new PgTx(client, this.clock);
    let broken = false;
    // The pool listens for a connection's errors only while it is idle: one that dies while this
    // transaction holds it (a server restart, a dropped network, a statement past its read
    // timeout) would emit an error nobody handles, which ends the process. Its statements fail
    // with it; the connection is not given back to the pool.
    const died = (): void => {
      broken = true;
    };
    client.on('error', died);
    try {
      // BEGIN goes out without waiting for its answer: the connection pipelines, so the first
      // statement follows it in the same round trip (and fails, aborted, should BEGIN fail).
      tx.send('BEGIN');
      let result: T;
      try {
        result = await this.nesting.within(tx, () => fn(tx));
        // A statement failed and the code above went on: the transaction is aborted, and its
        // COMMIT would roll back without an error. Its first error is the transaction's (a deadlock
        // there runs the transaction again).
        if (tx.failure !== null) throw tx.failure;
      } catch (err) {
        tx.finish();
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        // A later statement's "current transaction is aborted", or any error after a deadlock the
        // code caught, hides the error that aborted the transaction: that one decides the retry.
        throw tx.failure !== null && (codeOf(err) === IN_FAILED_TRANSACTION || retryable(tx.failure)) ? tx.failure : err;
      }
      tx.finish();
      try {
        // COMMIT goes right behind the statements sent without waiting (see PgTx.send).
        const done = await client.query('COMMIT');
        await tx.answered();
        if (done.command === 'COMMIT' && tx.failure !== null) {
          // A statement the driver refused before it reached PostgreSQL, or bookkeeping on an
          // answer that failed (neither happens with what this store sends): the rest committed,
          // and what waits for its commit runs. Never run again, never silent.
          runAfterCommit(tx.afterCommits);
          throw new Error(`PostgreSQL committed the transaction, but a statement sent ahead of its commit had failed outside PostgreSQL: ${errorText(tx.failure as unknown)}`, { cause: tx.failure });
        }
        // One of them failed: PostgreSQL rolled the transaction back, and the error is the
        // transaction's (a race or deadlock there runs it again).
        if (tx.failure !== null) throw tx.failure;
        // PostgreSQL answers COMMIT with ROLLBACK when the transaction had failed: never a success.
        if (done.command !== 'COMMIT') throw new Error(`PostgreSQL rolled the transaction back instead of committing it (${done.command}); nothing of it was stored`);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      }
      if (tx.enqueued) this.notifyEnqueued();
      runAfterCommit(tx.afterCommits);
      return result;
    } finally {
      tx.finish();
      if (!broken) client.removeListener('error', died); // a dead one may still emit as it closes
      client.release(broken);
    }
  }

  /**
   * onEnqueued: `listener` runs after each commit that enqueued a delivery: this process's commits
   * directly, every replica's through LISTEN/NOTIFY on a dedicated connection (reconnected after
   * an error; the delivery worker's period covers the gap).
   */
  onEnqueued(listener: () => void): () => void {
    this.enqueuedListeners.add(listener);
    if (!this.listener && !this.relisten) void this.listen();
    return () => this.enqueuedListeners.delete(listener);
  }

  private notifyEnqueued(): void {
    for (const listener of this.enqueuedListeners) setImmediate(listener);
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = this.ownClient();
    this.listener = client;
    const retry = (): void => {
      if (this.listener !== client) return;
      this.listener = null;
      void client.end().catch(() => undefined);
      if (!this.closed && this.enqueuedListeners.size > 0) this.relisten = setTimeout(() => {
        this.relisten = null;
        void this.listen();
      }, 1000);
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (msg) => {
      if (!this.ownBackends.has(msg.processId)) this.notifyEnqueued();
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ channel: string }>(`SELECT ${NOTIFY_CHANNEL} AS channel`);
      await client.query(`LISTEN "${(rows[0]?.channel ?? 'onehand_outbox').replace(/"/g, '""')}"`);
    } catch {
      retry();
    }
  }

  /** close waits for checked-out connections to be released, then ends the pool; idempotent. */
  async close(): Promise<void> {
    this.refuseNesting('close');
    if (this.closed) return;
    this.closed = true;
    if (this.relisten) clearTimeout(this.relisten);
    this.relisten = null;
    const listener = this.listener;
    this.listener = null;
    if (listener) await listener.end().catch(() => undefined);
    await this.pool.end();
  }

  private refuseNesting(what: string): void {
    this.nesting.refuse(what);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('PostgresStore is closed');
  }
}

/**
 * PostgreSQL holds no U+0000 character in text ("invalid byte sequence") nor its escape in jsonb
 * ("unsupported Unicode escape sequence"), and no lone surrogate escape in jsonb ("invalid Unicode
 * surrogate pair"); alert text, chat messages and what plugins keep of them may carry either (JSON
 * allows both). Both are stored as U+FFFD, the replacement character (shown text drops control
 * characters anyway): one such character never fails a webhook's batch, a command or a page.
 * withoutNul does it (storableText) for text parameters holding a NUL (the driver itself writes a
 * lone surrogate as U+FFFD), pgJson for JSON text (every JSON this store writes).
 */
function withoutNul(params: readonly Param[]): Param[] {
  let out: Param[] | null = null;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p === 'string' ? p.includes('\0') : Array.isArray(p) && p.some((e) => e.includes('\0'))) {
      (out ??= [...params])[i] = typeof p === 'string' ? storableText(p) : (p as readonly string[]).map(storableText);
    }
  }
  return out ?? (params as Param[]);
}

/** An escape pgJson replaces: U+0000 or a surrogate (JSON.stringify escapes only lone ones). */
const REFUSED_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
/** Those escapes, and escaped backslashes, which are consumed whole: a backslash followed by the text "u0000" is kept. */
const ESCAPES = /\\\\|\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;

/** pgJson: JSON.stringify, with U+0000 and lone surrogates written as U+FFFD (see withoutNul). */
export function pgJson(value: unknown): string {
  const text = JSON.stringify(value);
  return typeof text === 'string' && REFUSED_ESCAPE.test(text) ? text.replace(ESCAPES, (m) => (m === '\\\\' ? m : '\\ufffd')) : text;
}

/** SQLSTATE of a statement sent in a transaction an earlier error aborted. */
const IN_FAILED_TRANSACTION = '25P02';

/**
 * retryable: a deadlock or serialization failure, or a unique violation of a constraint that
 * guards a check-then-insert (one active storm per team, an inbound event id): run again, the
 * callback sees the row the other transaction committed.
 */
function retryable(err: unknown): boolean {
  if (RERUN_CODES.has(codeOf(err))) return true;
  return codeOf(err) === '23505' && RACE_CONSTRAINTS.has(String((err as { constraint?: unknown }).constraint));
}

const RACE_CONSTRAINTS = new Set(['intake_storms_active', 'inbound_pkey']);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

// ---------------------------------------------------------------------------------------------
// StoreTx



type IncidentRow = IncidentDbRow<unknown>;
const toIncident = (r: IncidentRow) => decodeIncident(r, (v) => v);

interface OutboxDbRow {
  id: number;
  key: string;
  adapter: string;
  lane: string;
  waiting_since: number | null;
  recipient: Recipient;
  message: Message;
  incident_id: number | null;
  not_before: number;
  attempts: number;
  created_at: number;
}


/** ANSWERED: the page-unreached event `u` went out after all: a later page-reached-late event of its incident for the same member (see pagesUnreachedSince). */
const ANSWERED = `EXISTS (SELECT 1 FROM timeline d WHERE d.incident_id = u.incident_id AND d.seq > u.seq AND d.kind = 'page-reached-late' AND d.data -> 'member' IS NOT DISTINCT FROM u.data -> 'member')`;

const SQL = {
  insertIncident: `INSERT INTO incidents (${INCIDENT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::jsonb, $12, $13, $14, $15) RETURNING id`,
  getIncident: 'SELECT * FROM incidents WHERE id = $1 FOR UPDATE',
  updateIncident: `UPDATE incidents SET team = $1, title = $2, severity = $3, source = $4, service = $5, fingerprint = $6, state = $7,
    assignee = $8, reporter = $9::jsonb, escalation_level = $10, policy = $11::jsonb, opened_at = $12, acknowledged_at = $13,
    resolved_at = $14, updated_at = $15 WHERE id = $16`,
  lockIncident: 'SELECT id FROM incidents WHERE id = $1 FOR UPDATE',
  appendTimeline: `INSERT INTO timeline (incident_id, seq, at, kind, actor, data)
    SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4::jsonb, $5::jsonb FROM timeline WHERE incident_id = $1
    RETURNING seq`,
  // The next seq known (the transaction holds the incident and knows its timeline).
  appendTimelineAt: 'INSERT INTO timeline (incident_id, seq, at, kind, actor, data) VALUES ($1, $6, $2, $3, $4::jsonb, $5::jsonb)',
  timeline: 'SELECT * FROM timeline WHERE incident_id = $1 ORDER BY seq',
  timelines: 'SELECT * FROM timeline WHERE incident_id = ANY($1::bigint[]) ORDER BY incident_id, seq',
  openIncidentIdsOf: `SELECT id FROM incidents WHERE team = $1 AND state = 'open' AND assignee = $2 ORDER BY opened_at, id`,
  addOverride: `INSERT INTO overrides (id, team, member, start_ms, end_ms, created_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING seq`,
  listOverrides: 'SELECT * FROM overrides WHERE team = $1 AND end_ms > $2 AND start_ms < $3 ORDER BY seq',
  deleteOverride: 'DELETE FROM overrides WHERE id = $1',
  addAbsence: 'INSERT INTO absences (id, member, start_ms, end_ms) VALUES ($1, $2, $3, $4)',
  listAbsences: 'SELECT * FROM absences WHERE end_ms > $1 AND start_ms < $2 ORDER BY start_ms, id',
  deleteAbsence: 'DELETE FROM absences WHERE id = $1',
  scheduleTimer: 'INSERT INTO timers (key, kind, due_at, payload) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (key) DO NOTHING',
  cancelTimersBounded: `UPDATE timers SET cancelled_at = $1
    WHERE key >= $2 AND key < $3 AND left(key, length($2)) = $2 AND done_at IS NULL AND cancelled_at IS NULL`,
  cancelTimersUnbounded: `UPDATE timers SET cancelled_at = $1
    WHERE key >= $2 AND left(key, length($2)) = $2 AND done_at IS NULL AND cancelled_at IS NULL`,
  pendingTimersAfter: `SELECT id, key, kind, due_at, payload FROM timers
    WHERE key >= $1 AND ($2::text IS NULL OR key < $2) AND left(key, length($1)) = $1 AND done_at IS NULL AND cancelled_at IS NULL AND due_at > $3`,
  hurryTimers: `UPDATE timers SET due_at = $2
    WHERE id = ANY($1::bigint[]) AND done_at IS NULL AND cancelled_at IS NULL AND due_at > $2`,
  // SKIP LOCKED: rows another replica is claiming or completing right now are left to it.
  claimDueTimers: `WITH due AS (
      SELECT id FROM timers
      WHERE done_at IS NULL AND cancelled_at IS NULL AND due_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
      ORDER BY due_at, id LIMIT $4
      FOR UPDATE SKIP LOCKED)
    UPDATE timers AS t SET lease_owner = $1, lease_until = $2 FROM due WHERE t.id = due.id
    RETURNING t.id, t.key, t.kind, t.due_at, t.payload`,
  completeTimer: `UPDATE timers SET done_at = $1
    WHERE id = $2 AND lease_owner = $3 AND done_at IS NULL AND cancelled_at IS NULL`,
  oldestDueTimer: `SELECT due_at, kind, key FROM timers WHERE done_at IS NULL AND cancelled_at IS NULL ORDER BY due_at, id LIMIT 1`,
  nextTimerDue: `SELECT MIN(due) AS due FROM (
      SELECT CASE WHEN lease_until IS NOT NULL AND lease_until >= due_at THEN lease_until + 1 ELSE due_at END AS due
      FROM timers WHERE done_at IS NULL AND cancelled_at IS NULL) AS t WHERE due > $1`,
  // The NOTIFY that wakes the workers (see wakeWorkers) goes with the rows, when some were added:
  // one round trip less on a page's way (CASE evaluates pg_notify only then).
  enqueue: `WITH added AS (
      INSERT INTO outbox (key, adapter, recipient, message, incident_id, not_before, attempts, created_at, lane)
      SELECT j.k, j.a, j.r, j.m, j.i, j.n, 0, $2, j.l
      FROM jsonb_to_recordset($1::jsonb) AS j(k text, a text, r jsonb, m jsonb, i bigint, n bigint, o bigint, l text)
      ORDER BY j.o
      ON CONFLICT (key) DO NOTHING
      RETURNING 1)
    SELECT c.n, CASE WHEN c.n > 0 THEN pg_notify(${NOTIFY_CHANNEL}, '')::text END AS woke
    FROM (SELECT COUNT(*)::int AS n FROM added) AS c`,
  // Quiet earlier versions still waiting in the lane are done (see the SQLite store).
  supersedeVersions: `UPDATE outbox SET sent_at = $3, last_error = 'superseded by a later version'
    WHERE lane = $1 AND sent_at IS NULL AND dead_at IS NULL AND (lease_until IS NULL OR lease_until < $3)
      AND message->>'updateKey' = $2 AND message->>'kind' <> 'page'
      AND jsonb_array_length(message->'mentions') = 0 AND COALESCE((message->>'news')::boolean, false) = false
      AND id < (SELECT MAX(id) FROM outbox WHERE lane = $1 AND sent_at IS NULL AND dead_at IS NULL AND message->>'updateKey' = $2)`,
  // The earliest $6 due rows of each lane, skipping the lanes in $5, lanes someone is sending,
  // and rows behind an earlier row of their lane that failed fewer than $7 times and is not sent yet; rows a concurrent claimer holds are skipped (window functions cannot lock: two steps).
  claimOutbox: `WITH
    busy AS (
      SELECT DISTINCT lane FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL AND lease_until >= $3 AND lane IS NOT NULL
      UNION SELECT unnest($5::text[])),
    held AS (
      SELECT lane, MIN(id) AS first FROM outbox
      WHERE sent_at IS NULL AND dead_at IS NULL AND waiting_since IS NULL AND attempts > 0 AND attempts < $7
      GROUP BY lane),
    candidates AS (
      SELECT id, not_before FROM (
        SELECT o.id, o.not_before, ROW_NUMBER() OVER (PARTITION BY o.lane ORDER BY o.not_before, o.id) AS rn
        FROM outbox AS o LEFT JOIN held AS h ON h.lane = o.lane
        WHERE o.sent_at IS NULL AND o.dead_at IS NULL AND o.not_before <= $3 AND (o.lease_until IS NULL OR o.lease_until < $3)
          AND NOT EXISTS (SELECT 1 FROM busy WHERE busy.lane = o.lane)
          AND (h.first IS NULL OR o.id <= h.first)) c
      WHERE rn <= $6
      ORDER BY not_before, id LIMIT $4),
    due AS (
      SELECT o.id FROM outbox AS o JOIN candidates USING (id)
      WHERE o.sent_at IS NULL AND o.dead_at IS NULL AND (o.lease_until IS NULL OR o.lease_until < $3)
      FOR UPDATE OF o SKIP LOCKED)
    UPDATE outbox AS o SET lease_owner = $1, lease_until = $2 FROM due WHERE o.id = due.id
    RETURNING o.id, o.key, o.adapter, o.lane, o.recipient, o.message, o.incident_id, o.not_before, o.attempts, o.created_at, o.waiting_since`,
  markSent: `UPDATE outbox SET sent_at = COALESCE(sent_at, $2), dead_at = NULL, lease_owner = NULL, lease_until = NULL, waiting_since = NULL
    WHERE id = $1`,
  markFailed: `UPDATE outbox SET attempts = attempts + 1, last_error = $2, lease_owner = NULL, lease_until = NULL,
    not_before = COALESCE($3::bigint, not_before), dead_at = CASE WHEN $3::bigint IS NULL THEN $4::bigint ELSE NULL END, waiting_since = NULL
    WHERE id = $1`,
  claimLock: "SELECT pg_advisory_xact_lock(hashtext('onehand:outbox-claim:' || current_schema()))",
  releaseClaims: `UPDATE outbox SET lease_owner = NULL, lease_until = NULL
    WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND sent_at IS NULL AND dead_at IS NULL`,
  markWaiting: `UPDATE outbox SET attempts = attempts + 1, last_error = $2, lease_owner = NULL, lease_until = NULL,
    not_before = $3, waiting_since = COALESCE(waiting_since, $4::bigint)
    WHERE id = $1`,
  extendLeases: `UPDATE outbox SET lease_until = $3
    WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND sent_at IS NULL AND dead_at IS NULL
    RETURNING id`,
  retryNow: `UPDATE outbox SET not_before = $2
    WHERE adapter = $1 AND attempts > 0 AND not_before > $2 AND waiting_since IS NULL AND sent_at IS NULL AND dead_at IS NULL`,
  rearmLane: `UPDATE outbox SET not_before = $2, waiting_since = NULL
    WHERE lane = $1 AND waiting_since IS NOT NULL AND sent_at IS NULL AND dead_at IS NULL`,
  deliveryStates: 'SELECT id, key, adapter, attempts, sent_at, dead_at, waiting_since FROM outbox WHERE key >= $1 AND key < $2 ORDER BY id',
  deliveryStatesFrom: 'SELECT id, key, adapter, attempts, sent_at, dead_at, waiting_since FROM outbox WHERE key >= $1 ORDER BY id',
  outboxStats: `SELECT
      (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL) AS pending,
      (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL AND waiting_since IS NOT NULL) AS waiting,
      (SELECT MIN(not_before) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL AND waiting_since IS NULL) AS oldest,
      (SELECT COUNT(*) FROM outbox WHERE dead_at >= $1) AS dead`,
  outboxDepth: 'SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL',
  unreachedCount: `SELECT COUNT(*)::int AS n, COUNT(*) FILTER (WHERE ${ANSWERED})::int AS late FROM timeline u WHERE u.kind = 'page-unreached' AND u.at >= $1`,
  unreachedLast: `SELECT * FROM timeline u WHERE u.kind = 'page-unreached' AND u.at >= $1 AND NOT ${ANSWERED} ORDER BY u.at DESC, u.incident_id DESC, u.seq DESC LIMIT 1`,
  nextDeliveryDue: `SELECT MIN(due) AS due FROM (
      SELECT CASE WHEN lease_until IS NOT NULL AND lease_until >= not_before THEN lease_until + 1 ELSE not_before END AS due
      FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL) AS o WHERE due > $1`,
  // The upsert waits for a concurrent writer of the same fingerprint and then sees its committed row.
  observeIntakeGroup: `INSERT INTO intake_groups (integration, fingerprint, incident_id, count, first_seen, last_seen)
    VALUES ($1, $2, NULL, $4, $3, $3)
    ON CONFLICT (integration, fingerprint) DO UPDATE SET count = intake_groups.count + $4,
      last_seen = CASE WHEN $4 = 1 THEN GREATEST(intake_groups.last_seen, EXCLUDED.last_seen) ELSE intake_groups.last_seen END
    RETURNING incident_id, count, first_seen, last_seen`,
  // A separate statement (a fresh snapshot): the incident may have been committed while the upsert waited.
  incidentState: 'SELECT state, resolved_at FROM incidents WHERE id = $1',
  setIntakeGroupIncident: `UPDATE intake_groups SET incident_id = $3, count = 1, first_seen = $4, last_seen = $4
    WHERE integration = $1 AND fingerprint = $2`,
  intakeGroupOf: 'SELECT integration, fingerprint, count, first_seen, last_seen FROM intake_groups WHERE incident_id = $1 LIMIT 1',
  observeIntakeAlert: `INSERT INTO intake_alerts (integration, fingerprint, alert_key, status, starts_at, prev_status, prev_starts_at,
      labels, annotations, count, first_seen, last_seen)
    VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6::jsonb, $7::jsonb, 1, $8, $8)
    ON CONFLICT (integration, fingerprint, alert_key) DO UPDATE SET
      prev_status = intake_alerts.status, prev_starts_at = intake_alerts.starts_at, status = EXCLUDED.status,
      starts_at = EXCLUDED.starts_at, labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
      count = intake_alerts.count + 1, last_seen = EXCLUDED.last_seen
    RETURNING prev_status, prev_starts_at`,
  knownIntakeAlerts: `SELECT j.o - 1 AS idx, a.status AS status, a.starts_at AS starts_at, g.incident_id AS incident_id
    FROM jsonb_to_recordset($1::jsonb) AS j(i text, f text, k text, o bigint)
    LEFT JOIN intake_alerts AS a ON a.integration = j.i AND a.fingerprint = j.f AND a.alert_key = j.k
    LEFT JOIN intake_groups AS g ON g.integration = j.i AND g.fingerprint = j.f`,
  repeatIntakeAlerts: `UPDATE intake_alerts AS t SET count = t.count + u.n, last_seen = GREATEST(t.last_seen, $2)
    FROM jsonb_to_recordset($1::jsonb) AS u(i text, f text, k text, n bigint, s text)
    WHERE t.integration = u.i AND t.fingerprint = u.f AND t.alert_key = u.k AND t.status = 'firing'
      AND t.starts_at IS NOT DISTINCT FROM u.s`,
  repeatIntakeGroups: `UPDATE intake_groups AS t SET count = t.count + u.n, last_seen = GREATEST(t.last_seen, $2)
    FROM jsonb_to_recordset($1::jsonb) AS u(i text, f text, n bigint)
    WHERE t.integration = u.i AND t.fingerprint = u.f`,
  // openIntakeIncidents: the claim waits for a concurrent writer of the same fingerprint, then skips it.
  claimIntakeGroups: `INSERT INTO intake_groups (integration, fingerprint, incident_id, count, first_seen, last_seen)
    SELECT u.i, u.f, NULL, 1, $2, $2 FROM jsonb_to_recordset($1::jsonb) AS u(i text, f text)
    ON CONFLICT (integration, fingerprint) DO NOTHING
    RETURNING integration, fingerprint`,
  insertIncidents: `INSERT INTO incidents (${INCIDENT_COLUMNS})
    SELECT u.team, u.title, u.severity, u.source, u.service, u.fingerprint, u.state, u.assignee, u.reporter::jsonb,
      u.escalation_level, u.policy::jsonb, u.opened_at, u.acknowledged_at, u.resolved_at, u.updated_at
    FROM jsonb_to_recordset($1::jsonb) AS u(team text, title text, severity text, source text, service text, fingerprint text,
      state text, assignee text, reporter text, escalation_level integer, policy text, opened_at bigint, acknowledged_at bigint,
      resolved_at bigint, updated_at bigint)
    RETURNING id, source, fingerprint`,
  insertTimelines: `INSERT INTO timeline (incident_id, seq, at, kind, actor, data)
    SELECT u.id, u.seq, $2, u.kind, u.actor::jsonb, u.data::jsonb
    FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, seq integer, kind text, actor text, data text)`,
  insertIntakeAlerts: `INSERT INTO intake_alerts (integration, fingerprint, alert_key, status, starts_at, prev_status, prev_starts_at,
      labels, annotations, count, first_seen, last_seen)
    SELECT u.i, u.f, u.k, u.s, u.t, NULL, NULL, u.l::jsonb, u.a::jsonb, 1, $2, $2
    FROM jsonb_to_recordset($1::jsonb) AS u(i text, f text, k text, s text, t text, l text, a text)
    ON CONFLICT (integration, fingerprint, alert_key) DO UPDATE SET
      prev_status = intake_alerts.status, prev_starts_at = intake_alerts.starts_at, status = EXCLUDED.status,
      starts_at = EXCLUDED.starts_at, labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
      count = intake_alerts.count + 1, last_seen = EXCLUDED.last_seen`,
  linkIntakeGroups: `UPDATE intake_groups AS t SET incident_id = u.id
    FROM jsonb_to_recordset($1::jsonb) AS u(i text, f text, id bigint)
    WHERE t.integration = u.i AND t.fingerprint = u.f`,
  firingIntakeAlerts: `SELECT COUNT(*) AS n FROM intake_alerts WHERE integration = $1 AND fingerprint = $2 AND status = 'firing'`,
  countIncidentsSince: `SELECT COUNT(*) AS n FROM incidents WHERE team = $1 AND opened_at >= $3 AND left(source, length($2)) = $2`,
  activeStorm: 'SELECT * FROM intake_storms WHERE team = $1 AND ended_at IS NULL FOR UPDATE',
  getStorm: 'SELECT * FROM intake_storms WHERE id = $1 FOR UPDATE',
  readStorm: 'SELECT * FROM intake_storms WHERE id = $1',
  insertStorm: `INSERT INTO intake_storms (team, member, integration, started_at, last_at, incidents, version, ended_at, severity)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
  updateStorm: 'UPDATE intake_storms SET member = $2, last_at = $3, incidents = $4, version = $5, ended_at = $6, severity = $7 WHERE id = $1',
  inboundReply: 'SELECT reply FROM inbound WHERE id = $1',
  // A concurrent insert of the same id waits for the other transaction, then does nothing.
  rememberInbound: 'INSERT INTO inbound (id, reply, at) VALUES ($1, $2::jsonb, $3) ON CONFLICT (id) DO NOTHING',
  // After the transaction found the id unknown: a concurrent one that remembered it meanwhile
  // fails this one on inbound_pkey (a race: it runs again, and then finds that reply).
  rememberUnknownInbound: 'INSERT INTO inbound (id, reply, at) VALUES ($1, $2::jsonb, $3)',
  pruneInbound: 'DELETE FROM inbound WHERE at < $1',
  // Locks the key (creating an empty row when absent) so read-modify-write of a key is serialized.
  kvGet: `INSERT INTO kv (namespace, key, value) VALUES ($1, $2, NULL)
    ON CONFLICT (namespace, key) DO UPDATE SET value = kv.value
    RETURNING value, value IS NULL AS absent`,
  kvSet: `INSERT INTO kv (namespace, key, value) VALUES ($1, $2, $3::jsonb)
    ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value`,
  kvDelete: 'DELETE FROM kv WHERE namespace = $1 AND key = $2',
  kvPeek: 'SELECT value, value IS NULL AS absent FROM kv WHERE namespace = $1 AND key = $2',
  tryLease: `INSERT INTO leases (name, owner, until_ms) VALUES ($1, $2, $4)
    ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until_ms = EXCLUDED.until_ms
    WHERE leases.owner = EXCLUDED.owner OR leases.until_ms < $3
    RETURNING owner`,
  releaseLease: 'DELETE FROM leases WHERE name = $1 AND owner = $2',
} as const;

/** Rows per bulk statement: bounds the JSON text sent at once. */
const CHUNK = 1000;
const MAX_ERROR_LENGTH = 2000;
/** Statements a transaction sends ahead before it waits for their answers (see PgTx.send). */
const MAX_UNANSWERED = 500;

type Param = string | number | null | readonly string[];

/** PgTx is the StoreTx of one transaction. Every method throws once the transaction finished. */
class PgTx implements StoreTx {
  private open = true;
  /** What runs once this transaction committed (see StoreTx.afterCommit). */
  readonly afterCommits: Array<() => void> = [];
  /** Whether this transaction enqueued a delivery (its commit wakes the delivery workers). */
  enqueued = false;
  /**
   * The first statement error of this transaction. PostgreSQL aborts the whole transaction on it:
   * should the code above catch it and go on (a plugin's hook failing "without stopping the
   * event"), every later statement fails as `in_failed_sql_transaction`, and a COMMIT silently
   * rolls back. The transaction reports this error instead (see PostgresStore.attempt).
   */
  failure: unknown = null;
  /**
   * Incidents whose row this transaction holds (it inserted or locked it): nobody else can add to
   * their timelines until it ends, so an append needs no lock statement of its own, and a timeline
   * read once is kept and appended to (a report read its incident's timeline back three times, and
   * locked it twice: five of its sixteen round trips, each a wait on PostgreSQL).
   */
  private readonly held = new Set<number>();
  /** Timelines of held incidents as PostgreSQL would return them now (see held). */
  private readonly kept = new Map<number, TimelineEvent[]>();
  /** Intake groups this transaction upserted, so holds (see setIntakeGroupIncident). */
  private readonly groupsHeld = new Set<string>();
  /** Inbound ids this transaction found unknown (see rememberInbound). */
  private readonly unknownInbound = new Set<string>();
  /** Statements sent without waiting for their answer (see send). */
  private readonly unanswered: Array<Promise<void>> = [];

  constructor(
    private readonly client: PoolClient,
    private readonly clock: Clock,
  ) {}

  isOpen(): boolean {
    return this.open;
  }

  finish(): void {
    this.open = false;
  }

  private assertOpen(): void {
    if (!this.open) throw new Error('StoreTx used after its transaction finished');
  }

  /**
   * send: a statement whose answer nobody waits for (BEGIN, a lock taken before the statement that
   * needs it, a write whose outcome is known beforehand): the pipelined connection sends it at once,
   * and the next statement (or COMMIT) right behind it. Only for a statement whose every way to go
   * wrong is an error of PostgreSQL's: that aborts the transaction, so the statements behind it
   * fail and COMMIT rolls back; the error becomes the transaction's (`failure`).
   */
  send(sql: string, params: readonly Param[] = [], onAnswer?: (rows: unknown[]) => void): void {
    this.assertOpen();
    this.unanswered.push(this.client.query(sql, withoutNul(params)).then((result) => {
      try {
        onAnswer?.(result.rows);
      } catch (err) {
        this.failure ??= err;
      }
    }, (err: unknown) => {
      this.failure ??= err;
    }));
  }

  /**
   * ahead: send (above) for a write of the transaction's, after waiting for the answers so far when
   * MAX_UNANSWERED statements are still unanswered (a bulk transaction does not queue without end).
   */
  private async ahead(sql: string, params: readonly Param[], onAnswer?: (rows: unknown[]) => void): Promise<void> {
    if (this.unanswered.length >= MAX_UNANSWERED) await this.answered();
    this.send(sql, params, onAnswer);
  }

  /** answered: every statement sent has its answer (its error, if any, is in `failure`). */
  async answered(): Promise<void> {
    while (this.unanswered.length > 0) await Promise.all(this.unanswered.splice(0));
  }

  private async q<T>(sql: string, params: readonly Param[] = []): Promise<{ rows: T[]; rowCount: number }> {
    this.assertOpen();
    try {
      const result = await this.client.query(sql, withoutNul(params));
      return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
  }

  afterCommit(fn: () => void): void {
    this.assertOpen();
    this.afterCommits.push(fn);
  }

  // Incidents ---------------------------------------------------------------------------------

  async insertIncident(incident: NewIncident): Promise<Incident> {
    const { rows } = await this.q<{ id: number }>(SQL.insertIncident, incidentParams(incident, pgJson));
    const id = rows[0]?.id;
    if (id === undefined) throw new Error('insertIncident: PostgreSQL returned no id');
    this.held.add(Number(id));
    this.kept.set(Number(id), []);
    return { ...incident, id };
  }

  /** Locks the incident's row until the transaction ends. */
  async getIncident(id: number): Promise<Incident | null> {
    const { rows } = await this.q<IncidentRow>(SQL.getIncident, [id]);
    if (!rows[0]) return null;
    this.held.add(Number(id));
    return toIncident(rows[0]);
  }

  async updateIncident(incident: Incident): Promise<void> {
    const { rowCount } = await this.q(SQL.updateIncident, [...incidentParams(incident, pgJson), incident.id]);
    if (rowCount === 0) throw new Error(`incident ${incident.id} does not exist`);
  }

  async openIncidentIdsOf(team: TeamId, assignee: MemberId): Promise<number[]> {
    const { rows } = await this.q<{ id: number | string }>(SQL.openIncidentIdsOf, [team, assignee]);
    return rows.map((r) => Number(r.id));
  }

  async listIncidents(filter: IncidentFilter): Promise<Incident[]> {
    const states = filter.states === undefined ? undefined : [...new Set(filter.states)];
    if (states?.length === 0) return [];
    const limit = filter.limit === undefined ? null : checkLimit(filter.limit);
    if (limit === 0) return [];
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.team !== undefined) {
      params.push(filter.team);
      where.push(`team = $${params.length}`);
    }
    if (states !== undefined) {
      where.push(`state IN (${states.map((s) => { params.push(s); return `$${params.length}`; }).join(', ')})`);
    }
    if (filter.activeBetween !== undefined) {
      params.push(toMs(filter.activeBetween.to, 'activeBetween.to'));
      where.push(`opened_at < $${params.length}`);
      params.push(toMs(filter.activeBetween.from, 'activeBetween.from'));
      where.push(`(resolved_at IS NULL OR resolved_at >= $${params.length})`);
    }
    if (filter.ids !== undefined) {
      if (filter.ids.length === 0) return [];
      params.push(filter.ids.map((id) => String(id)));
      where.push(`id = ANY($${params.length}::bigint[])`);
    }
    if (filter.movedFrom !== undefined) {
      const { team, from, to } = filter.movedFrom;
      params.push(team, toMs(from, 'movedFrom.from'), toMs(to, 'movedFrom.to'));
      const [t, f, u] = [params.length - 2, params.length - 1, params.length];
      where.push(`team <> $${t} AND EXISTS (SELECT 1 FROM timeline AS tl WHERE tl.incident_id = incidents.id AND tl.kind = 'reassigned'
        AND tl.at >= $${f} AND tl.at < $${u} AND tl.data ->> 'fromTeam' = $${t} AND tl.data ->> 'team' IS DISTINCT FROM $${t})`);
    }
    params.push(limit);
    const sql = `SELECT * FROM incidents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT $${params.length}`;
    const { rows } = await this.q<IncidentRow>(sql, params);
    return rows.map(toIncident);
  }

  // Timeline ----------------------------------------------------------------------------------

  /** Throws (foreign key constraint) when the incident does not exist. */
  async appendTimeline(event: NewTimelineEvent): Promise<TimelineEvent> {
    // The incident's row first: appends to one incident take turns (seq is MAX + 1).
    const id = Number(event.incidentId);
    if (!this.held.has(id)) {
      await this.q(SQL.lockIncident, [event.incidentId]);
      // A missing incident locks nothing; the insert below then fails on its foreign key.
      this.held.add(id);
    }
    const at = toMs(event.at, 'timeline at');
    const actor = event.actor === null || event.actor === undefined ? null : pgJson(event.actor);
    const data = pgJson(event.data);
    const params = [event.incidentId, at, event.kind, actor, data];
    const kept = this.kept.get(id);
    let seq: number;
    if (kept !== undefined) {
      // The whole timeline is known and nobody else can add to it: the seq is the next one, and
      // the insert goes out without waiting for its answer (see send), checked when it answers.
      // A use case appending several events pays one round trip for all of them, or none.
      // (Should the seq be taken after all, the primary key fails the transaction.)
      seq = (kept.at(-1)?.seq ?? 0) + 1;
      await this.ahead(SQL.appendTimelineAt, [...params, seq]);
    } else {
      const { rows } = await this.q<{ seq: number }>(SQL.appendTimeline, params);
      const stored = rows[0]?.seq;
      if (stored === undefined) throw new Error('appendTimeline: PostgreSQL returned no seq');
      seq = stored;
    }
    // The event as a read would return it (jsonb's key order, the text PostgreSQL keeps).
    kept?.push(toTimelineEvent({
      incident_id: id, seq, at, kind: storableText(event.kind),
      actor: actor === null ? null : asJsonb(JSON.parse(actor)) as Principal, data: asJsonb(JSON.parse(data)) as Record<string, unknown>,
    }));
    return { ...event, seq };
  }

  async timeline(incidentId: number): Promise<TimelineEvent[]> {
    this.assertOpen(); // a kept timeline is not read after the end either
    const kept = this.kept.get(Number(incidentId));
    if (kept !== undefined) return kept.map(copyEvent);
    const { rows } = await this.q<TimelineDbRow>(SQL.timeline, [incidentId]);
    const events = rows.map(toTimelineEvent);
    if (this.held.has(Number(incidentId))) this.kept.set(Number(incidentId), events.map(copyEvent));
    return events;
  }

  async timelines(incidentIds: readonly number[]): Promise<TimelineEvent[][]> {
    const events: TimelineEvent[] = [];
    for (let start = 0; start < incidentIds.length; start += 1000) {
      const { rows } = await this.q<TimelineDbRow>(SQL.timelines, [incidentIds.slice(start, start + 1000).map(String)]);
      for (const r of rows) events.push(toTimelineEvent(r));
    }
    return byIncident(incidentIds, events);
  }

  // Overrides and absences --------------------------------------------------------------------

  async addOverride(o: Omit<StoredOverride, 'id' | 'seq'>): Promise<StoredOverride> {
    const [start, end] = interval(o.start, o.end, 'override');
    const id = randomUUID();
    const { rows } = await this.q<{ seq: number }>(SQL.addOverride, [id, o.team, o.member, start, end, o.createdBy, o.reason]);
    const seq = rows[0]?.seq;
    if (seq === undefined) throw new Error('addOverride: PostgreSQL returned no seq');
    return { id, seq, team: o.team, member: o.member, start: fromMs(start), end: fromMs(end), createdBy: o.createdBy, reason: o.reason };
  }

  async listOverrides(team: TeamId, from: DateTime, to: DateTime): Promise<StoredOverride[]> {
    const { rows } = await this.q<{ seq: number; id: string; team: string; member: string; start_ms: number; end_ms: number; created_by: string; reason: string | null }>(
      SQL.listOverrides, [team, toMs(from, 'from'), toMs(to, 'to')]);
    return rows.map((r) => ({ id: r.id, team: r.team, member: r.member, start: fromMs(r.start_ms), end: fromMs(r.end_ms), seq: r.seq, createdBy: r.created_by, reason: r.reason }));
  }

  async deleteOverride(id: string): Promise<boolean> {
    return (await this.q(SQL.deleteOverride, [id])).rowCount > 0;
  }

  async deleteAbsence(id: string): Promise<boolean> {
    return (await this.q(SQL.deleteAbsence, [id])).rowCount > 0;
  }

  async addAbsence(a: Omit<StoredAbsence, 'id'>): Promise<StoredAbsence> {
    const [start, end] = interval(a.start, a.end, 'absence');
    const id = randomUUID();
    await this.q(SQL.addAbsence, [id, a.member, start, end]);
    return { id, member: a.member, start: fromMs(start), end: fromMs(end) };
  }

  async listAbsences(from: DateTime, to: DateTime): Promise<StoredAbsence[]> {
    const { rows } = await this.q<{ id: string; member: string; start_ms: number; end_ms: number }>(SQL.listAbsences, [toMs(from, 'from'), toMs(to, 'to')]);
    return rows.map((r) => ({ id: r.id, member: r.member as MemberId, start: fromMs(r.start_ms), end: fromMs(r.end_ms) }));
  }

  // Timers ------------------------------------------------------------------------------------

  async scheduleTimer(timer: Omit<TimerRow, 'id'>): Promise<boolean> {
    const { rowCount } = await this.q(SQL.scheduleTimer, [timer.key, timer.kind, toMs(timer.dueAt, 'timer dueAt'), pgJson(timer.payload)]);
    return rowCount > 0;
  }

  async cancelTimers(keyPrefix: string): Promise<number> {
    const now = this.clock.now().toMillis();
    const upper = prefixUpperBound(keyPrefix);
    const { rowCount } = upper === null
      ? await this.q(SQL.cancelTimersUnbounded, [now, keyPrefix])
      : await this.q(SQL.cancelTimersBounded, [now, keyPrefix, upper]);
    return rowCount;
  }

  async pendingTimers(keyPrefix: string): Promise<TimerRow[]> {
    const rows = await this.pendingTimersAfter(keyPrefix, Number.MIN_SAFE_INTEGER);
    return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async hurryTimers(keyPrefix: string, dueAt: DateTime, only?: (timer: TimerRow) => boolean): Promise<number> {
    const at = toMs(dueAt, 'dueAt');
    const ids = (await this.pendingTimersAfter(keyPrefix, at)).filter((t) => !only || only(t)).map((t) => String(t.id));
    if (ids.length === 0) return 0;
    return (await this.q(SQL.hurryTimers, [ids, at])).rowCount;
  }

  /** pendingTimersAfter: the pending timers whose key starts with `keyPrefix`, due after `atMs`. */
  private async pendingTimersAfter(keyPrefix: string, atMs: number): Promise<TimerRow[]> {
    const { rows } = await this.q<{ id: number | string; key: string; kind: string; due_at: number | string; payload: Record<string, unknown> }>(SQL.pendingTimersAfter, [keyPrefix, prefixUpperBound(keyPrefix), atMs]);
    return rows.map((r) => ({ id: Number(r.id), key: r.key, kind: r.kind, dueAt: fromMs(Number(r.due_at)), payload: r.payload }));
  }

  async claimDueTimers(now: DateTime, limit: number, owner: string, leaseUntil: DateTime): Promise<TimerRow[]> {
    const params = leaseParams(now, limit, owner, leaseUntil);
    if (params === null) return [];
    const { rows } = await this.q<{ id: number; key: string; kind: string; due_at: number; payload: Record<string, unknown> }>(SQL.claimDueTimers, params);
    rows.sort((a, b) => a.due_at - b.due_at || a.id - b.id);
    return rows.map((r) => ({ id: r.id, key: r.key, kind: r.kind, dueAt: fromMs(r.due_at), payload: r.payload }));
  }

  async completeTimer(id: number, owner: string): Promise<boolean> {
    return (await this.q(SQL.completeTimer, [this.clock.now().toMillis(), id, owner])).rowCount > 0;
  }

  async nextTimerDue(after?: DateTime): Promise<DateTime | null> {
    const { rows } = await this.q<{ due: number | null }>(SQL.nextTimerDue, [after ? toMs(after, 'after') : -1]);
    const due = rows[0]?.due ?? null;
    return due === null ? null : fromMs(due);
  }

  async oldestDueTimer(): Promise<{ dueAt: DateTime; kind: string; key: string } | null> {
    const row = (await this.q<{ due_at: number; kind: string; key: string }>(SQL.oldestDueTimer, [])).rows[0];
    return row ? { dueAt: fromMs(row.due_at), kind: row.kind, key: row.key } : null;
  }

  // Outbox ------------------------------------------------------------------------------------

  async enqueueAll(rows: readonly NewOutboxRow[]): Promise<void> {
    // Sent without waiting (see send); the insert sends the NOTIFY itself when it adds rows.
    const { inserts, supersedes } = this.outboxStatements(rows);
    for (const params of inserts) {
      await this.ahead(SQL.enqueue, params, (answer) => {
        if (Number((answer[0] as { n?: number } | undefined)?.n ?? 0) > 0) this.enqueued = true;
      });
    }
    for (const params of supersedes) await this.ahead(SQL.supersedeVersions, params);
  }

  async enqueue(rows: readonly NewOutboxRow[]): Promise<number> {
    const { inserts, supersedes } = this.outboxStatements(rows);
    let added = 0;
    for (const params of inserts) added += (await this.q<{ n: number }>(SQL.enqueue, params)).rows[0]?.n ?? 0;
    // The enqueue statement sent the NOTIFY when it added rows.
    if (added > 0) this.enqueued = true;
    for (const params of supersedes) await this.q(SQL.supersedeVersions, params);
    return added;
  }

  /** outboxStatements: the parameters of enqueue's inserts (CHUNK rows each) and of its supersedeVersions. */
  private outboxStatements(rows: readonly NewOutboxRow[]): { inserts: Param[][]; supersedes: Param[][] } {
    if (rows.length === 0) return { inserts: [], supersedes: [] };
    const createdAt = this.clock.now().toMillis();
    const encoded = rows.map((r, o) => ({ k: r.key, a: r.adapter, r: r.recipient, m: r.message, i: r.incidentId, n: toMs(r.notBefore, `outbox notBefore of ${r.key}`), o, l: laneOf(r.adapter, r.recipient, r.message) }));
    const inserts: Param[][] = [];
    for (let i = 0; i < encoded.length; i += CHUNK) inserts.push([pgJson(encoded.slice(i, i + CHUNK)), createdAt]);
    return { inserts, supersedes: versionsOf(encoded).map(([lane, updateKey]) => [lane, updateKey, createdAt]) };
  }

  /** wakeWorkers: NOTIFY (sent at commit, once per transaction) wakes every replica's worker. */
  private async wakeWorkers(): Promise<void> {
    if (this.enqueued) return;
    await this.q(`SELECT pg_notify(${NOTIFY_CHANNEL}, '')`);
    this.enqueued = true;
  }

  async claimOutbox(now: DateTime, limit: number, owner: string, leaseUntil: DateTime, options: ClaimOptions = {}): Promise<OutboxRow[]> {
    const params = leaseParams(now, limit, owner, leaseUntil);
    if (params === null) return [];
    const perLane = options.perLane === undefined ? limit : Math.max(1, checkLimit(options.perLane));
    const hold = Math.max(1, checkLimit(options.holdBehindFailures ?? 3));
    // Claims take turns (a transaction-scoped lock), so each sees the leases earlier claims
    // committed: a lane is never claimed by two replicas at once.
    // The lock goes out with the claim, in one round trip (the claim waits behind it on the server).
    this.send(SQL.claimLock);
    const { rows } = await this.q<OutboxDbRow>(SQL.claimOutbox, [...params, [...(options.skipLanes ?? [])], perLane, hold]);
    rows.sort((a, b) => a.not_before - b.not_before || a.id - b.id);
    return rows.map((r) => ({
      id: r.id, key: r.key, adapter: r.adapter, lane: r.lane, recipient: r.recipient, message: r.message, incidentId: r.incident_id,
      notBefore: fromMs(r.not_before), attempts: r.attempts, createdAt: fromMs(r.created_at),
      waitingSince: r.waiting_since === null ? null : fromMs(r.waiting_since),
    }));
  }

  async releaseLeases(ids: readonly number[], owner: string): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.q(SQL.releaseClaims, [ids.map(String), owner])).rowCount;
  }

  /** Throws when the row does not exist. */
  async markWaiting(id: number, reason: string, deadline: DateTime): Promise<void> {
    const text = reason.length > MAX_ERROR_LENGTH ? `${reason.slice(0, MAX_ERROR_LENGTH - 1)}…` : reason;
    const { rowCount } = await this.q(SQL.markWaiting, [id, text, toMs(deadline, 'deadline'), this.clock.now().toMillis()]);
    if (rowCount === 0) throw new Error(`outbox row ${id} does not exist`);
  }

  async extendLeases(ids: readonly number[], owner: string, until: DateTime): Promise<number[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.q<{ id: number }>(SQL.extendLeases, [ids.map(String), owner, toMs(until, 'until')]);
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  async retryNow(adapter: string, now: DateTime): Promise<number> {
    const { rowCount } = await this.q(SQL.retryNow, [adapter, toMs(now, 'now')]);
    if (rowCount > 0) await this.wakeWorkers();
    return rowCount;
  }

  async rearmLane(lane: string, now: DateTime): Promise<number> {
    const { rowCount } = await this.q(SQL.rearmLane, [lane, toMs(now, 'now')]);
    if (rowCount > 0) await this.wakeWorkers();
    return rowCount;
  }

  async deliveryStates(keyPrefix: string): Promise<DeliveryState[]> {
    const upper = prefixUpperBound(keyPrefix);
    const { rows } = await this.q<{ id: number; key: string; adapter: string; attempts: number; sent_at: number | null; dead_at: number | null; waiting_since: number | null }>(
      upper === null ? SQL.deliveryStatesFrom : SQL.deliveryStates, upper === null ? [keyPrefix] : [keyPrefix, upper]);
    return rows.map((r) => ({ id: r.id, key: r.key, adapter: r.adapter, state: deliveryState(r), attempts: r.attempts }));
  }

  async outboxStats(since: DateTime): Promise<OutboxStats> {
    const { rows } = await this.q<{ pending: number; waiting: number; oldest: number | null; dead: number }>(SQL.outboxStats, [toMs(since, 'since')]);
    const r = rows[0];
    return { pending: r?.pending ?? 0, waiting: r?.waiting ?? 0, oldestDue: r?.oldest == null ? null : fromMs(r.oldest), deadSince: r?.dead ?? 0 };
  }

  async pagesUnreachedSince(since: DateTime): Promise<UnreachedPages> {
    const ms = toMs(since, 'since');
    const r = (await this.q<{ n: number; late: number }>(SQL.unreachedCount, [ms])).rows[0];
    const late = r?.late ?? 0;
    const count = (r?.n ?? 0) - late;
    if (count === 0) return { count, last: null, late };
    const row = (await this.q<TimelineDbRow>(SQL.unreachedLast, [ms])).rows[0];
    return { count, last: row ? toTimelineEvent(row) : null, late };
  }

  async markSent(id: number, at: DateTime): Promise<void> {
    const { rowCount } = await this.q(SQL.markSent, [id, toMs(at, 'sent at')]);
    if (rowCount === 0) throw new Error(`outbox row ${id} does not exist`);
  }

  async markFailed(id: number, error: string, retryAt: DateTime | null): Promise<void> {
    const retry = retryAt === null ? null : toMs(retryAt, 'retryAt');
    const text = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
    const { rowCount } = await this.q(SQL.markFailed, [id, text, retry, this.clock.now().toMillis()]);
    if (rowCount === 0) throw new Error(`outbox row ${id} does not exist`);
  }

  async nextDeliveryDue(after?: DateTime): Promise<DateTime | null> {
    const { rows } = await this.q<{ due: number | null }>(SQL.nextDeliveryDue, [after ? toMs(after, 'after') : -1]);
    const due = rows[0]?.due ?? null;
    return due === null ? null : fromMs(due);
  }

  async outboxDepth(): Promise<number> {
    const { rows } = await this.q<{ n: number }>(SQL.outboxDepth);
    return rows[0]?.n ?? 0;
  }

  // Alert intake ------------------------------------------------------------------------------

  async observeIntakeGroup(integration: string, fingerprint: string, now: DateTime, firing: boolean): Promise<IntakeGroupState> {
    const { rows } = await this.q<{ incident_id: number | null; count: number; first_seen: number; last_seen: number }>(
      SQL.observeIntakeGroup, [integration, fingerprint, toMs(now, 'now'), firing ? 1 : 0]);
    const r = rows[0];
    if (!r) throw new Error('observeIntakeGroup: PostgreSQL returned no row');
    this.groupsHeld.add(groupKey(integration, fingerprint));
    let state: { state: string; resolved_at: number | null } | undefined;
    if (r.incident_id !== null) state = (await this.q<{ state: string; resolved_at: number | null }>(SQL.incidentState, [r.incident_id])).rows[0];
    return {
      incidentId: r.incident_id,
      incidentState: (state?.state ?? null) as IncidentState | null,
      resolvedAt: state?.resolved_at == null ? null : fromMs(state.resolved_at),
      count: r.count,
      firstSeen: fromMs(r.first_seen),
      lastSeen: fromMs(r.last_seen),
    };
  }

  async setIntakeGroupIncident(integration: string, fingerprint: string, incidentId: number, now: DateTime): Promise<void> {
    const params = [integration, fingerprint, incidentId, toMs(now, 'now')];
    // A group this transaction upserted exists, locked: the update goes out without waiting (see send).
    if (this.groupsHeld.has(groupKey(integration, fingerprint))) return this.ahead(SQL.setIntakeGroupIncident, params);
    const { rowCount } = await this.q(SQL.setIntakeGroupIncident, params);
    if (rowCount === 0) throw new Error(`intake group ${integration}/${fingerprint} does not exist`);
  }

  async intakeGroupOf(incidentId: number): Promise<{ integration: string; fingerprint: string; count: number; firstSeen: DateTime; lastSeen: DateTime } | null> {
    const { rows } = await this.q<{ integration: string; fingerprint: string; count: number; first_seen: number; last_seen: number }>(SQL.intakeGroupOf, [incidentId]);
    const r = rows[0];
    return r ? { integration: r.integration, fingerprint: r.fingerprint, count: r.count, firstSeen: fromMs(r.first_seen), lastSeen: fromMs(r.last_seen) } : null;
  }

  async observeIntakeAlert(alert: IntakeAlert, now: DateTime): Promise<AlertChange> {
    const { rows } = await this.q<{ prev_status: string | null; prev_starts_at: string | null }>(SQL.observeIntakeAlert, [
      alert.integration, alert.fingerprint, alert.alertKey, alert.status, alert.startsAt,
      pgJson(alert.labels), pgJson(alert.annotations), toMs(now, 'now'),
    ]);
    const r = rows[0];
    return { previousStatus: (r?.prev_status ?? null) as AlertChange['previousStatus'], previousStartsAt: r?.prev_starts_at ?? null };
  }

  async knownIntakeAlerts(keys: readonly IntakeAlertKey[]): Promise<KnownIntakeAlert[]> {
    const out: KnownIntakeAlert[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK);
      const { rows } = await this.q<{ idx: number; status: string | null; starts_at: string | null; incident_id: number | null }>(
        SQL.knownIntakeAlerts, [pgJson(chunk.map((k, o) => ({ i: k.integration, f: k.fingerprint, k: k.alertKey, o: o + 1 })))]);
      const byIdx = new Map(rows.map((r) => [Number(r.idx), r]));
      chunk.forEach((_, j) => {
        const r = byIdx.get(j);
        out.push({ status: r?.status ?? null, startsAt: r?.starts_at ?? null, incidentId: r?.incident_id ?? null });
      });
    }
    return out;
  }

  /** recordIntakeRepeats updates the rows directly: replicas share them (see migration 6). */
  async recordIntakeRepeats(alerts: readonly IntakeRepeat[], groups: readonly IntakeGroupRepeat[], now: DateTime): Promise<void> {
    const at = toMs(now, 'now');
    // Sorted by key, so concurrent replicas lock rows in one order (fewer deadlocks).
    const sortedAlerts = [...alerts].sort((a, b) => cmp(a.integration, b.integration) || cmp(a.fingerprint, b.fingerprint) || cmp(a.alertKey, b.alertKey));
    for (let i = 0; i < sortedAlerts.length; i += CHUNK) {
      const chunk = sortedAlerts.slice(i, i + CHUNK).map((a) => ({ i: a.integration, f: a.fingerprint, k: a.alertKey, n: a.n, s: a.startsAt }));
      await this.q(SQL.repeatIntakeAlerts, [pgJson(chunk), at]);
    }
    const sortedGroups = [...groups].sort((a, b) => cmp(a.integration, b.integration) || cmp(a.fingerprint, b.fingerprint));
    for (let i = 0; i < sortedGroups.length; i += CHUNK) {
      const chunk = sortedGroups.slice(i, i + CHUNK).map((g) => ({ i: g.integration, f: g.fingerprint, n: g.n }));
      await this.q(SQL.repeatIntakeGroups, [pgJson(chunk), at]);
    }
  }

  async openIntakeIncidents(rows: readonly NewIntakeIncident[], now: DateTime): Promise<Array<Incident | null>> {
    const at = toMs(now, 'now');
    const columns = INCIDENT_COLUMNS.split(', ');
    const incidentKey = (source: string, fingerprint: string | null) => `${source}\u0000${fingerprint ?? ''}`;
    const out: Array<Incident | null> = [];
    for (let start = 0; start < rows.length; start += CHUNK) {
      const chunk = rows.slice(start, start + CHUNK);
      // Claimed in key order, so concurrent replicas lock rows in one order (fewer deadlocks).
      const keys = chunk.map((r) => ({ i: r.alert.integration, f: r.alert.fingerprint }))
        .sort((a, b) => cmp(a.i, b.i) || cmp(a.f, b.f));
      const claimed = new Set((await this.q<{ integration: string; fingerprint: string }>(SQL.claimIntakeGroups, [pgJson(keys), at]))
        .rows.map((g) => groupKey(g.integration, g.fingerprint)));
      const mine = chunk.filter((r) => claimed.has(groupKey(r.alert.integration, r.alert.fingerprint)));
      const ids = new Map<string, number>();
      if (mine.length > 0) {
        const incidents = mine.map((r) => Object.fromEntries(incidentParams(r.incident, pgJson).map((v, i) => [columns[i], v])));
        for (const r of (await this.q<{ id: number; source: string; fingerprint: string | null }>(SQL.insertIncidents, [pgJson(incidents)])).rows) {
          ids.set(incidentKey(r.source, r.fingerprint), Number(r.id));
          this.held.add(Number(r.id)); // inserted here: nobody else sees it before the commit
        }
        const idOf = (r: NewIntakeIncident): number => {
          const id = ids.get(incidentKey(r.incident.source, r.incident.fingerprint));
          if (id === undefined) throw new Error(`openIntakeIncidents: no incident id for ${r.incident.source} ${r.incident.fingerprint ?? ''} (rows must differ in source and fingerprint)`);
          return id;
        };
        const events = mine.flatMap((r) => r.events.map((e, i) => ({ id: idOf(r), seq: i + 1, kind: e.kind, actor: e.actor === null ? null : pgJson(e.actor), data: pgJson(e.data) })));
        if (events.length > 0) await this.q(SQL.insertTimelines, [pgJson(events), at]);
        await this.q(SQL.insertIntakeAlerts, [pgJson(mine.map(({ alert: a }) => ({
          i: a.integration, f: a.fingerprint, k: a.alertKey, s: a.status, t: a.startsAt, l: pgJson(a.labels), a: pgJson(a.annotations),
        }))), at]);
        await this.q(SQL.linkIntakeGroups, [pgJson(mine.map((r) => ({ i: r.alert.integration, f: r.alert.fingerprint, id: idOf(r) })))]);
      }
      for (const r of chunk) {
        out.push(claimed.has(groupKey(r.alert.integration, r.alert.fingerprint)) ? { ...r.incident, id: ids.get(incidentKey(r.incident.source, r.incident.fingerprint)) as number } : null);
      }
    }
    return out;
  }

  async firingIntakeAlerts(integration: string, fingerprint: string): Promise<number> {
    const { rows } = await this.q<{ n: number }>(SQL.firingIntakeAlerts, [integration, fingerprint]);
    return rows[0]?.n ?? 0;
  }

  async countIncidentsSince(team: TeamId, sourcePrefix: string, since: DateTime): Promise<number> {
    const { rows } = await this.q<{ n: number }>(SQL.countIncidentsSince, [team, sourcePrefix, toMs(since, 'since')]);
    return rows[0]?.n ?? 0;
  }

  /** Locks the storm's row until the transaction ends. */
  async activeStorm(team: TeamId): Promise<StormRow | null> {
    const { rows } = await this.q<StormDbRow>(SQL.activeStorm, [team]);
    return rows[0] ? toStorm(rows[0]) : null;
  }

  /** Locks the storm's row until the transaction ends, unless `lock` is false. */
  async getStorm(id: number, options: { readonly lock?: boolean } = {}): Promise<StormRow | null> {
    const { rows } = await this.q<StormDbRow>(options.lock === false ? SQL.readStorm : SQL.getStorm, [id]);
    return rows[0] ? toStorm(rows[0]) : null;
  }

  async insertStorm(storm: Omit<StormRow, 'id'>): Promise<StormRow> {
    const { rows } = await this.q<{ id: number }>(SQL.insertStorm, [
      storm.team, storm.member, storm.integration, toMs(storm.startedAt, 'startedAt'), toMs(storm.lastAt, 'lastAt'),
      storm.incidents, storm.version, storm.endedAt === null ? null : toMs(storm.endedAt, 'endedAt'), storm.severity,
    ]);
    const id = rows[0]?.id;
    if (id === undefined) throw new Error('insertStorm: PostgreSQL returned no id');
    return { ...storm, id };
  }

  async updateStorm(storm: StormRow): Promise<void> {
    const { rowCount } = await this.q(SQL.updateStorm, [
      storm.id, storm.member, toMs(storm.lastAt, 'lastAt'), storm.incidents, storm.version,
      storm.endedAt === null ? null : toMs(storm.endedAt, 'endedAt'), storm.severity,
    ]);
    if (rowCount === 0) throw new Error(`storm ${storm.id} does not exist`);
  }

  // Key-value ---------------------------------------------------------------------------------

  /** A plain read (no lock); an id it finds unknown lets rememberInbound send its insert ahead. */
  async inboundReply(id: string): Promise<Message | null> {
    const { rows } = await this.q<{ reply: Message }>(SQL.inboundReply, [id]);
    const reply = rows[0]?.reply ?? null;
    if (reply === null) this.unknownInbound.add(id);
    return reply;
  }

  async rememberInbound(id: string, reply: Message, at: DateTime): Promise<Message | null> {
    const params = [id, pgJson(reply), toMs(at, 'inbound at')];
    if (this.unknownInbound.has(id)) {
      // This transaction found the id unknown: the insert goes out without waiting (see send).
      // Should another transaction have remembered it since, the insert fails on inbound_pkey and
      // this transaction runs again (retryable), finding that reply with inboundReply.
      await this.ahead(SQL.rememberUnknownInbound, params);
      return null;
    }
    const { rowCount } = await this.q(SQL.rememberInbound, params);
    return rowCount > 0 ? null : this.inboundReply(id);
  }

  async pruneInbound(before: DateTime): Promise<number> {
    return (await this.q(SQL.pruneInbound, [toMs(before, 'before')])).rowCount;
  }

  /** The stored JSON value, or undefined when absent. Locks the key until the transaction ends. */
  async kvGet(namespace: string, key: string): Promise<unknown> {
    const { rows } = await this.q<{ value: unknown; absent: boolean }>(SQL.kvGet, [namespace, key]);
    const r = rows[0];
    return r === undefined || r.absent ? undefined : r.value;
  }

  async kvPeek(namespace: string, key: string): Promise<unknown> {
    // As kvGet: a row kvGet left for an absent key (SQL NULL) is absent; a stored JSON null is null.
    const { rows } = await this.q<{ value: unknown; absent: boolean }>(SQL.kvPeek, [namespace, key]);
    const r = rows[0];
    return r === undefined || r.absent ? undefined : r.value;
  }

  async kvSet(namespace: string, key: string, value: unknown): Promise<void> {
    if (value === undefined) {
      await this.q(SQL.kvDelete, [namespace, key]);
      return;
    }
    const json = pgJson(value) as string | undefined;
    if (json === undefined) throw new TypeError(`kvSet ${namespace}/${key}: value is not JSON (${typeof value})`);
    await this.q(SQL.kvSet, [namespace, key, json]);
  }

  // Leader leases -----------------------------------------------------------------------------

  async tryLease(name: string, owner: string, now: DateTime, until: DateTime): Promise<boolean> {
    const nowMs = toMs(now, 'now');
    const untilMs = toMs(until, 'until');
    if (untilMs <= nowMs) throw new RangeError(`until (${until.toISO()}) must be after now (${now.toISO()})`);
    return (await this.q(SQL.tryLease, [name, owner, nowMs, untilMs])).rowCount > 0;
  }

  async releaseLease(name: string, owner: string): Promise<boolean> {
    return (await this.q(SQL.releaseLease, [name, owner])).rowCount > 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Row mapping helpers




function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A timeline row as PostgreSQL returns it (actor and data are jsonb, already parsed). */
interface TimelineDbRow {
  readonly incident_id: number | string;
  readonly seq: number;
  readonly at: number;
  readonly kind: string;
  readonly actor: Principal | null;
  readonly data: Record<string, unknown>;
}

/**
 * asJsonb: a parsed JSON value with its objects' keys in the order jsonb keeps them (shorter keys
 * first, then by their UTF-8 bytes), as a value read back from PostgreSQL has them.
 */
export function asJsonb(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asJsonb);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).map((k) => ({ k, b: Buffer.from(k, 'utf8') }));
  keys.sort((x, y) => x.b.length - y.b.length || Buffer.compare(x.b, y.b));
  // fromEntries keeps a key named "__proto__" as a key, as JSON.parse does.
  return Object.fromEntries(keys.map(({ k }) => [k, asJsonb((value as Record<string, unknown>)[k])]));
}

/** copyEvent: a kept timeline event, so that a caller changing what it got leaves the kept one as it is. */
function copyEvent(e: TimelineEvent): TimelineEvent {
  return { ...e, actor: e.actor === null ? null : structuredClone(e.actor), data: structuredClone(e.data) };
}

function toTimelineEvent(r: TimelineDbRow): TimelineEvent {
  return { incidentId: Number(r.incident_id), seq: r.seq, at: fromMs(r.at), kind: r.kind, actor: r.actor, data: r.data };
}
