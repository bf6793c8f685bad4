/**
 * Versioned schema migrations for the SQLite store.
 *
 * MIGRATIONS is an ordered, append-only list: a released migration is never edited, a change to the
 * schema is a new entry with the next version. `applyMigrations` records every applied version in
 * `schema_migrations` and applies each pending one in its own `BEGIN IMMEDIATE` transaction, so a
 * failing migration leaves the schema at the previous version and running it twice is a no-op.
 *
 * Conventions for the schema: instants are INTEGER epoch milliseconds (UTC); JSON values are TEXT;
 * a finished timer or delivery keeps its row (done_at / cancelled_at / sent_at / dead_at), so a
 * key can never be scheduled or enqueued twice. Migrations run with `foreign_keys=ON` inside a
 * transaction: statements that cannot run in a transaction (VACUUM, journal_mode) do not belong here,
 * and a table rebuild must keep foreign keys valid (`PRAGMA defer_foreign_keys=ON` in its sql).
 */

import { rekeyLongFingerprints, rekeyRepeatLog, type MigrationRows } from '../rekey';

export interface Migration {
  /** Positive, strictly increasing along MIGRATIONS. */
  readonly version: number;
  readonly name: string;
  /** One or more statements, run with `exec` inside the migration's transaction. */
  readonly sql: string;
  /** A data step after `sql`, in the same transaction: rows that need code to rewrite. */
  readonly data?: (all: MigrationRows) => Promise<void>;
}

/**
 * Migration 10, the same on PostgreSQL: /healthz asks for the last hour's page-unreached events
 * on every call (any replica, after any restart); a partial index holds only those rows. (On a
 * large PostgreSQL timeline its build holds timeline writes for the length of one scan.)
 */
export const PAGE_UNREACHED_INDEX: Migration = {
  version: 10,
  name: 'pages that reached nobody, found by time',
  sql: `CREATE INDEX timeline_page_unreached ON timeline (at) WHERE kind = 'page-unreached';`,
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE incidents (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        team             TEXT    NOT NULL,
        title            TEXT    NOT NULL,
        severity         TEXT    NOT NULL,
        source           TEXT    NOT NULL,
        service          TEXT,
        fingerprint      TEXT,
        state            TEXT    NOT NULL,
        assignee         TEXT    NOT NULL,
        reporter         TEXT    NOT NULL, -- JSON Principal
        escalation_level INTEGER NOT NULL,
        policy           TEXT    NOT NULL, -- JSON EscalationPolicy, frozen when the incident opened
        opened_at        INTEGER NOT NULL,
        acknowledged_at  INTEGER,
        resolved_at      INTEGER,
        updated_at       INTEGER NOT NULL
      );
      CREATE INDEX incidents_team_state ON incidents (team, state);

      CREATE TABLE timeline (
        incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL, -- 1, 2, 3, ... per incident
        at          INTEGER NOT NULL,
        kind        TEXT    NOT NULL,
        actor       TEXT,             -- JSON Principal, or NULL
        data        TEXT    NOT NULL, -- JSON object
        PRIMARY KEY (incident_id, seq)
      ) WITHOUT ROWID;

      -- seq is the override's creation order across the store (AUTOINCREMENT: never reused).
      CREATE TABLE overrides (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT    NOT NULL UNIQUE,
        team       TEXT    NOT NULL,
        member     TEXT    NOT NULL,
        start_ms   INTEGER NOT NULL,
        end_ms     INTEGER NOT NULL,
        created_by TEXT    NOT NULL,
        reason     TEXT
      );
      CREATE INDEX overrides_team_end ON overrides (team, end_ms);

      CREATE TABLE absences (
        id       TEXT    PRIMARY KEY,
        member   TEXT    NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms   INTEGER NOT NULL
      );
      CREATE INDEX absences_end ON absences (end_ms);

      -- A timer is pending while done_at and cancelled_at are both NULL; it keeps its row afterwards.
      CREATE TABLE timers (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        key          TEXT    NOT NULL UNIQUE,
        kind         TEXT    NOT NULL,
        due_at       INTEGER NOT NULL,
        payload      TEXT    NOT NULL, -- JSON object
        lease_owner  TEXT,
        lease_until  INTEGER,
        done_at      INTEGER,
        cancelled_at INTEGER,
        CHECK (done_at IS NULL OR cancelled_at IS NULL)
      );
      CREATE INDEX timers_pending ON timers (due_at, id) WHERE done_at IS NULL AND cancelled_at IS NULL;

      -- A delivery is pending while sent_at and dead_at are both NULL; it keeps its row afterwards.
      CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        key         TEXT    NOT NULL UNIQUE,
        adapter     TEXT    NOT NULL,
        recipient   TEXT    NOT NULL, -- JSON Recipient
        message     TEXT    NOT NULL, -- JSON Message
        incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
        not_before  INTEGER NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        lease_owner TEXT,
        lease_until INTEGER,
        created_at  INTEGER NOT NULL,
        sent_at     INTEGER,
        dead_at     INTEGER
      );
      CREATE INDEX outbox_pending ON outbox (not_before, id) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_incident ON outbox (incident_id) WHERE incident_id IS NOT NULL;

      CREATE TABLE kv (
        namespace TEXT NOT NULL,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL, -- JSON
        PRIMARY KEY (namespace, key)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'alert intake',
    sql: `
      -- One row per problem an integration reports: the fingerprint's incident. The primary key is
      -- what makes "one incident per fingerprint" hold, also across replicas: a second writer's
      -- INSERT ... ON CONFLICT lands on the existing row instead of opening a second incident.
      -- The row outlives the incident's resolution so a re-fire within reopen_window reopens it.
      CREATE TABLE intake_groups (
        integration TEXT    NOT NULL,
        fingerprint TEXT    NOT NULL,
        incident_id INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
        count       INTEGER NOT NULL, -- alert notifications received for the current incident
        first_seen  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,
        PRIMARY KEY (integration, fingerprint)
      ) WITHOUT ROWID;
      CREATE INDEX intake_groups_incident ON intake_groups (incident_id);

      -- The alerts of a group (several when fingerprint_labels groups them), as last received.
      -- prev_status / prev_starts_at hold the values before the latest upsert (SQLite evaluates SET
      -- against the old row), so one statement both records an alert and tells what changed.
      CREATE TABLE intake_alerts (
        integration    TEXT    NOT NULL,
        fingerprint    TEXT    NOT NULL,
        alert_key      TEXT    NOT NULL,
        status         TEXT    NOT NULL, -- firing | resolved
        starts_at      TEXT,
        prev_status    TEXT,
        prev_starts_at TEXT,
        labels         TEXT    NOT NULL, -- JSON object, untrusted
        annotations    TEXT    NOT NULL, -- JSON object, untrusted
        count          INTEGER NOT NULL,
        first_seen     INTEGER NOT NULL,
        last_seen      INTEGER NOT NULL,
        PRIMARY KEY (integration, fingerprint, alert_key)
      ) WITHOUT ROWID;

      -- Alert storms: at most one active storm per team (the partial unique index).
      CREATE TABLE intake_storms (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        team        TEXT    NOT NULL,
        member      TEXT    NOT NULL, -- the on-call who gets the summary
        integration TEXT    NOT NULL,
        started_at  INTEGER NOT NULL,
        last_at     INTEGER NOT NULL,
        incidents   INTEGER NOT NULL,
        version     INTEGER NOT NULL,
        ended_at    INTEGER
      );
      CREATE UNIQUE INDEX intake_storms_active ON intake_storms (team) WHERE ended_at IS NULL;

      CREATE INDEX incidents_team_opened ON incidents (team, opened_at);
    `,
  },
  {
    version: 3,
    name: 'leader leases',
    sql: `
      -- One row per singleton role (e.g. "discord-gateway"): who holds it and until when.
      CREATE TABLE leases (
        name     TEXT    PRIMARY KEY,
        owner    TEXT    NOT NULL,
        until_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'delivery lanes and waiting deliveries',
    sql: `
      -- lane: adapter and recipient ("discord:m:dave"); deliveries of one lane go out one at a time,
      -- in order. waiting_since: set while the platform cannot reach the recipient yet (a Teams
      -- member who never talked to the bot); such a row waits (not_before = its deadline) until the
      -- adapter says the recipient is reachable.
      ALTER TABLE outbox ADD COLUMN lane TEXT;
      ALTER TABLE outbox ADD COLUMN waiting_since INTEGER;
      UPDATE outbox SET lane = adapter || ':' || CASE json_extract(recipient, '$.kind')
          WHEN 'member' THEN 'm:' || json_extract(recipient, '$.id')
          WHEN 'guest' THEN 'g:' || json_extract(recipient, '$.adapter') || ':' || json_extract(recipient, '$.address')
          ELSE 'c:' || json_extract(recipient, '$.team') END;
      CREATE INDEX outbox_lane ON outbox (lane, id) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_dead ON outbox (dead_at) WHERE dead_at IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'inbound events',
    sql: `
      -- Inbound events handled (Teams activity ids, Discord interaction ids, prefixed with the
      -- adapter's name) and the reply given, so a replayed event runs nothing and gets the same
      -- answer. Written in the transaction of the command's use case; pruned after 24 hours.
      CREATE TABLE inbound (
        id    TEXT    PRIMARY KEY,
        reply TEXT    NOT NULL, -- JSON Message
        at    INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX inbound_at ON inbound (at);
    `,
  },
  {
    version: 6,
    name: 'intake repeat log',
    sql: `
      -- Repeats of alerts that are firing already (most of a busy webhook's alerts) are logged here,
      -- one row per intake transaction, and folded into the counts of intake_alerts and
      -- intake_groups soon after, and always before anything reads or changes those rows: appending
      -- one row costs a few pages where updating every repeated alert's row cost a page each.
      -- data: {"a": [[integration, fingerprint, alert_key, n, starts_at], ...],
      --        "g": [[integration, fingerprint, n], ...]}
      CREATE TABLE intake_repeats (
        id   INTEGER PRIMARY KEY,
        at   INTEGER NOT NULL,
        data TEXT    NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'numbered entries in the intake repeat log',
    // No table changes: the version tells an older Onehand (which would read only "a" and "g" and
    // lose the repeats named by number) that this file is not for it (it refuses a newer schema).
    sql: `
      -- intake_repeats.data may now also be {"e": epoch, "a": [[integration, fingerprint, alert_key,
      -- n, starts_at, number], ...], "g": [[integration, fingerprint, n, number], ...],
      -- "r": [[number, n], ...], "h": [[number, n], ...]}: an entry of "r" ("h") counts n more of the
      -- alert (group) that an entry of "a" ("g") in a row with the same epoch numbered so.
    `,
  },
  {
    version: 8,
    name: 'long sender fingerprints kept as their hash',
    sql: '-- intake_alerts, intake_groups, incidents and the repeat log: keys over 200 characters become sha256:<hash> (src/store/rekey.ts)',
    data: async (all) => {
      await rekeyLongFingerprints(all, () => '?');
      await rekeyRepeatLog(all);
    },
  },
  {
    version: 9,
    name: 'the most severe severity a storm has paged',
    sql: `
      -- NULL for storms stored before: read as sev1 (nothing breaks through them).
      ALTER TABLE intake_storms ADD COLUMN severity TEXT;
    `,
  },
  PAGE_UNREACHED_INDEX,
];

/** MigrationDb: the few raw operations migrations need, on a connection no one else is using. */
export interface MigrationDb {
  exec(sql: string): Promise<void>;
  all<T>(sql: string, params: readonly (string | number | null)[]): Promise<T[]>;
}

/** checkMigrations throws unless versions are positive integers in strictly increasing order. */
export function checkMigrations(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= previous) {
      throw new Error(`migration "${m.name}" has version ${m.version}; versions must be whole numbers increasing from 1`);
    }
    previous = m.version;
  }
}

/** latestVersion is the highest version in `migrations`, or 0 when there are none. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT,
  applied_at INTEGER NOT NULL
)`;

/**
 * applyMigrations brings the database up to the latest of `migrations` and returns the versions it
 * applied (empty when the schema was current). It throws, before changing anything, when the database
 * was migrated by a newer Onehand than this one. Each migration runs in its own BEGIN IMMEDIATE
 * transaction and re-checks inside it whether another process applied it meanwhile.
 */
export async function applyMigrations(
  db: MigrationDb,
  migrations: readonly Migration[],
  nowMs: () => number,
): Promise<number[]> {
  checkMigrations(migrations);
  await db.exec(CREATE_MIGRATIONS_TABLE);
  const max = latestVersion(migrations);
  const applied = await appliedVersions(db);
  const newest = Math.max(0, ...applied);
  if (newest > max) {
    throw new Error(`database schema version ${newest} is newer than this Onehand (max ${max}); upgrade Onehand`);
  }

  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await db.exec('BEGIN IMMEDIATE');
    try {
      const again = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations WHERE version = ?', [m.version]);
      if ((again[0]?.n ?? 0) === 0) {
        await db.exec(m.sql);
        if (m.data) await m.data((sql, params) => db.all(sql, params));
        await db.all('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, nowMs()]);
        done.push(m.version);
      }
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`migration ${m.version} (${m.name}) failed: ${reason}`, { cause: err });
    }
  }
  return done;
}

async function appliedVersions(db: MigrationDb): Promise<Set<number>> {
  const rows = await db.all<{ version: number }>('SELECT version FROM schema_migrations', []);
  return new Set(rows.map((r) => r.version));
}
