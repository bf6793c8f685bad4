/**
 * Maintenance windows: for a while (set by a lead or admin with `oncall maintenance`), alerts of a
 * team (optionally only those of one service, or from one integration) open incidents quietly: no
 * page, no escalation of their own, but listed (`incident list`), on the timeline ("maintenance")
 * and counted in `oncall stats`. A window ends by itself at its end; a person's report is never
 * silenced (only the alert intake asks). Windows are kept per team in the store's key-value space.
 */
import { DateTime } from 'luxon';
import type { TeamId } from '../core/model';
import type { StoreTx } from '../ports/store';

export interface MaintenanceWindow {
  readonly id: number;
  readonly start: DateTime;
  readonly end: DateTime;
  readonly reason: string;
  /** Only alerts for this service (the incident's service), or null for every service. */
  readonly service: string | null;
  /** Only alerts from this integration id, or null for every integration. */
  readonly integration: string | null;
  readonly by: string;
}

interface StoredWindow {
  readonly id: number;
  readonly start: string;
  readonly end: string;
  readonly reason: string;
  readonly service: string | null;
  readonly integration: string | null;
  readonly by: string;
}

const NAMESPACE = 'maintenance';

/** covers: whether the window silences an alert for `service` from `integration` at `at`. */
export function covers(w: MaintenanceWindow, at: DateTime, alert: { service: string | null; integration: string }): boolean {
  if (at < w.start || at >= w.end) return false;
  if (w.integration !== null && w.integration !== alert.integration) return false;
  if (w.service !== null && (alert.service ?? '').toLowerCase() !== w.service.toLowerCase()) return false;
  return true;
}

/**
 * maintenanceWindows: the team's windows that have not ended at `now`, oldest first. It reads with
 * kvGet, which locks the team's key until the transaction ends: on PostgreSQL that also makes the
 * intake transactions of one team take turns across replicas, so a storm's count of recent
 * incidents sees the others' (a read without the lock let two replicas each count only their own;
 * it was tried and reverted).
 */
export async function maintenanceWindows(tx: StoreTx, team: TeamId, now: DateTime): Promise<MaintenanceWindow[]> {
  const stored = ((await tx.kvGet(NAMESPACE, team)) ?? []) as StoredWindow[];
  return stored
    .map((w) => ({ ...w, start: DateTime.fromISO(w.start, { zone: 'utc' }), end: DateTime.fromISO(w.end, { zone: 'utc' }) }))
    .filter((w) => w.end > now);
}

/** activeMaintenance: the window that silences this alert now, or null. */
export async function activeMaintenance(tx: StoreTx, team: TeamId, now: DateTime, alert: { service: string | null; integration: string }): Promise<MaintenanceWindow | null> {
  return (await maintenanceWindows(tx, team, now)).find((w) => covers(w, now, alert)) ?? null;
}

/** addMaintenance stores a window (and forgets the team's ended ones). */
export async function addMaintenance(tx: StoreTx, team: TeamId, now: DateTime, w: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow> {
  const current = await maintenanceWindows(tx, team, now);
  const stored = ((await tx.kvGet(NAMESPACE, team)) ?? []) as StoredWindow[];
  const id = Math.max(0, ...stored.map((s) => s.id)) + 1;
  const added: MaintenanceWindow = { ...w, id };
  const keep: StoredWindow[] = [...current, added].map((x) => ({ ...x, start: x.start.toUTC().toISO() as string, end: x.end.toUTC().toISO() as string }));
  await tx.kvSet(NAMESPACE, team, keep);
  return added;
}
