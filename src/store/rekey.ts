/**
 * rekeyLongFingerprints: the data step of migration 8 on both stores. Since then a sender's
 * fingerprint over MAX_FINGERPRINT characters is kept as its hash (senderKey: PostgreSQL refuses an
 * index entry over 2,704 bytes, and such an alert failed its whole batch). Rows an older Onehand
 * stored under the long key itself are rewritten to the hash, so the alerts that keep coming for
 * them still find their incident (a resolve resolves it, a repeat folds into it) instead of opening
 * a second one. Runs inside the migration's transaction.
 */
import { createHash } from 'node:crypto';

/**
 * senderKey as released with migration 8 (src/intake/payloads.ts), frozen here: a later change to
 * the intake must not change what a released migration does (test/store/sqlite-store.test.ts checks
 * that the two still agree).
 */
function senderKey(fingerprint: string): string {
  return fingerprint.length > 200 ? `sha256:${createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex').slice(0, 32)}` : fingerprint;
}

/** MigrationRows: one statement with positional parameters, its rows back. */
export type MigrationRows = <T>(sql: string, params: readonly (string | number | null)[]) => Promise<T[]>;

/** The shortest length (in characters, as SQL counts them) a key to rewrite can have: UTF-16 units are at most twice that. */
const SHORTEST = 100;

export async function rekeyLongFingerprints(all: MigrationRows, placeholder: (n: number) => string): Promise<void> {
  const p = placeholder;
  const long = (column: string) => `length(${column}) > ${SHORTEST}`;
  const alerts = await all<{ integration: string; fingerprint: string; alert_key: string }>(
    `SELECT integration, fingerprint, alert_key FROM intake_alerts WHERE ${long('fingerprint')} OR ${long('alert_key')}`, []);
  for (const a of alerts) {
    const fingerprint = senderKey(a.fingerprint);
    const alertKey = senderKey(a.alert_key);
    if (fingerprint === a.fingerprint && alertKey === a.alert_key) continue;
    await all(`UPDATE intake_alerts SET fingerprint = ${p(1)}, alert_key = ${p(2)} WHERE integration = ${p(3)} AND fingerprint = ${p(4)} AND alert_key = ${p(5)}`,
      [fingerprint, alertKey, a.integration, a.fingerprint, a.alert_key]);
  }
  const groups = await all<{ integration: string; fingerprint: string }>(`SELECT integration, fingerprint FROM intake_groups WHERE ${long('fingerprint')}`, []);
  for (const g of groups) {
    const fingerprint = senderKey(g.fingerprint);
    if (fingerprint !== g.fingerprint) {
      await all(`UPDATE intake_groups SET fingerprint = ${p(1)} WHERE integration = ${p(2)} AND fingerprint = ${p(3)}`, [fingerprint, g.integration, g.fingerprint]);
    }
  }
  const incidents = await all<{ id: number; fingerprint: string }>(`SELECT id, fingerprint FROM incidents WHERE ${long('fingerprint')}`, []);
  for (const i of incidents) {
    const fingerprint = senderKey(i.fingerprint);
    if (fingerprint !== i.fingerprint) await all(`UPDATE incidents SET fingerprint = ${p(1)} WHERE id = ${p(2)}`, [fingerprint, i.id]);
  }
}

/**
 * rekeyRepeatLog: the same for SQLite's log of repeats not folded yet (intake_repeats.data: "a"
 * entries [integration, fingerprint, alert_key, ...], "g" entries [integration, fingerprint, ...]).
 */
export async function rekeyRepeatLog(all: MigrationRows): Promise<void> {
  const rows = await all<{ id: number; data: string }>('SELECT id, data FROM intake_repeats', []);
  for (const row of rows) {
    const data = JSON.parse(row.data) as { a?: unknown[][]; g?: unknown[][] };
    let changed = false;
    const rekey = (entry: unknown[], index: number): void => {
      const key = entry[index];
      if (typeof key !== 'string') return;
      const hashed = senderKey(key);
      if (hashed !== key) {
        entry[index] = hashed;
        changed = true;
      }
    };
    for (const entry of data.a ?? []) {
      rekey(entry, 1);
      rekey(entry, 2);
    }
    for (const entry of data.g ?? []) rekey(entry, 1);
    if (changed) await all('UPDATE intake_repeats SET data = ? WHERE id = ?', [JSON.stringify(data), row.id]);
  }
}
