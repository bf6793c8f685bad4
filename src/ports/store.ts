/**
 * Store is responsible for all durable state: incidents and their timelines, overrides and
 * absences, durable timers, the outbox, and small key-value namespaces for adapters and plugins.
 *
 * All reads and writes happen inside `transaction`, which is atomic and serialized: either every
 * write of the callback lands or none does. Instants cross this port as luxon DateTimes (UTC) and are
 * stored as epoch milliseconds. Claims (timers, outbox) are leases, so several replicas can share
 * one database: a row claimed by a process that died becomes claimable again after its lease.
 *
 * Isolation: SQLite runs transactions one at a time. PostgreSQL runs them concurrently at READ
 * COMMITTED; what keeps read-modify-write correct there is that `getIncident`, `getStorm`,
 * `activeStorm` and `kvGet` lock what they read until the transaction ends, claims skip rows other
 * transactions hold, and every dedup is a unique key. A transaction aborted by a deadlock may be
 * run again from the start, so a callback must have no effect outside its StoreTx until it returns.
 */
import type { DateTime } from 'luxon';
import type { MemberId, TeamId } from '../core/model';
import type { Incident, IncidentState, NewIncident, NewTimelineEvent, Principal, Severity, TimelineEvent } from '../core/incident/types';
import type { Message } from '../core/messages/message';

export interface StoredOverride {
  readonly id: string;
  readonly team: TeamId;
  readonly member: MemberId;
  readonly start: DateTime;
  readonly end: DateTime;
  /** Monotonic creation order across the store: the higher wins when overrides overlap. */
  readonly seq: number;
  readonly createdBy: string;
  readonly reason: string | null;
}

export interface StoredAbsence {
  readonly id: string;
  readonly member: MemberId;
  readonly start: DateTime;
  readonly end: DateTime;
}

export interface TimerRow {
  readonly id: number;
  /** Unique: scheduling the same key twice keeps the first. */
  readonly key: string;
  readonly kind: string;
  readonly dueAt: DateTime;
  readonly payload: Readonly<Record<string, unknown>>;
}

export type Recipient =
  | { readonly kind: 'member'; readonly id: MemberId }
  | { readonly kind: 'guest'; readonly adapter: string; readonly address: string; readonly name: string }
  | { readonly kind: 'channel'; readonly team: TeamId };

/** recipientKey: a stable short key for a recipient, used in delivery keys and adapters' stores. */
export function recipientKey(r: Recipient): string {
  switch (r.kind) {
    case 'member':
      return `m:${r.id}`;
    case 'guest':
      return `g:${r.adapter}:${r.address}`;
    case 'channel':
      return `c:${r.team}`;
  }
}

export interface NewOutboxRow {
  /** Unique per delivery: enqueueing an existing key is a no-op (dedup). */
  readonly key: string;
  readonly adapter: string;
  readonly recipient: Recipient;
  readonly message: Message;
  readonly incidentId: number | null;
  readonly notBefore: DateTime;
}

export interface OutboxRow extends NewOutboxRow {
  readonly id: number;
  /** `laneOf(adapter, recipient)`: deliveries of one lane go out one at a time, in (notBefore, id) order. */
  readonly lane: string;
  readonly attempts: number;
  readonly createdAt: DateTime;
  /** Set while the row waits for its recipient to become reachable (DeliveryOutcome `waiting`). */
  readonly waitingSince: DateTime | null;
}

/**
 * RERUN_CODES: SQLSTATEs of a transaction the database aborted by itself (a deadlock, a
 * serialization failure): nobody's fault; the store runs the transaction again (see the top).
 */
export const RERUN_CODES: ReadonlySet<string> = new Set(['40P01', '40001']);

/** UnreachedPages: what pagesUnreachedSince answers. */
export interface UnreachedPages {
  readonly count: number;
  readonly last: TimelineEvent | null;
  readonly late: number;
}

/**
 * laneOf: the delivery lane of a recipient on one adapter ("discord:m:dave"). An urgent post to a
 * team channel (a page standing in for a direct message, the unowned alert, a huddle call) has a
 * lane of its own ("discord:c:payments:urgent"): a backlog of channel records (after a platform
 * outage, at a rate limit) must not keep a page waiting behind it. Such posts are messages of their
 * own, never edited, so their order against the records does not matter.
 */
export function laneOf(adapter: string, recipient: Recipient, message?: Pick<Message, 'kind'>): string {
  const lane = `${adapter}:${recipientKey(recipient)}`;
  return recipient.kind === 'channel' && message !== undefined && (message.kind === 'page' || message.kind === 'huddle') ? `${lane}:urgent` : lane;
}

/** lanesOf: every lane of a recipient on one adapter (see laneOf). */
export function lanesOf(adapter: string, recipient: Recipient): string[] {
  const lane = laneOf(adapter, recipient);
  return recipient.kind === 'channel' ? [lane, `${lane}:urgent`] : [lane];
}

/** ClaimOptions: how `claimOutbox` spreads a claim over lanes. */
export interface ClaimOptions {
  /** At most this many rows of one lane (the earliest); default unlimited. */
  readonly perLane?: number;
  /** Lanes this process is busy with: none of their rows are claimed. */
  readonly skipLanes?: readonly string[];
  /**
   * A row that failed holds back the later rows of its lane (order per recipient) until it is sent,
   * or until it has failed this many times: then the rest of the lane goes on without it, so one
   * poison message never blocks a person's pages for long. Default 3.
   */
  readonly holdBehindFailures?: number;
}

/** DeliveryState: where one delivery of a notification stands (for the fallback ladder). */
export interface DeliveryState {
  readonly id: number;
  readonly key: string;
  readonly adapter: string;
  readonly state: 'pending' | 'waiting' | 'sent' | 'dead';
  /** Failed attempts so far. */
  readonly attempts: number;
}

/** OutboxStats: the outbox as /healthz shows it. */
export interface OutboxStats {
  /** Pending deliveries (waiting ones included). */
  readonly pending: number;
  /** Deliveries waiting for their recipient to become reachable. */
  readonly waiting: number;
  /** The earliest notBefore among pending, not waiting deliveries, or null. */
  readonly oldestDue: DateTime | null;
  /** Deliveries given up since `since`. */
  readonly deadSince: number;
}

export interface IncidentFilter {
  readonly team?: TeamId;
  readonly states?: readonly IncidentState[];
  /** Only incidents open at some time in [from, to): opened before `to`, not resolved before `from`. */
  readonly activeBetween?: { readonly from: DateTime; readonly to: DateTime };
  /** Only these incidents (read without locking them, unlike getIncident). */
  readonly ids?: readonly number[];
  /**
   * Only incidents that another team has now and that were moved out of `team` in [from, to) (a
   * 'reassigned' event whose data.fromTeam is `team`): what a team's handoff must still account for.
   */
  readonly movedFrom?: { readonly team: TeamId; readonly from: DateTime; readonly to: DateTime };
  readonly limit?: number;
}

/** IntakeGroupState: a fingerprint's incident as seen while counting one more alert for it. */
export interface IntakeGroupState {
  /** null for a fingerprint seen for the first time (or whose incident was deleted). */
  readonly incidentId: number | null;
  readonly incidentState: IncidentState | null;
  readonly resolvedAt: DateTime | null;
  /** Firing notifications received for the current incident, this one included. */
  readonly count: number;
  readonly firstSeen: DateTime;
  readonly lastSeen: DateTime;
}

/** NewIntakeIncident: one row of openIntakeIncidents: the alert, its new incident and that incident's first events. */
export interface NewIntakeIncident {
  readonly alert: IntakeAlert;
  readonly incident: NewIncident;
  readonly events: readonly { readonly kind: string; readonly actor: Principal | null; readonly data: Record<string, unknown> }[];
}

/** IntakeAlertKey: what identifies one alert of an integration. */
export interface IntakeAlertKey {
  readonly integration: string;
  readonly fingerprint: string;
  readonly alertKey: string;
}

/** KnownIntakeAlert: an alert's stored status and startsAt, and its group's incident (nulls when unknown). */
export interface KnownIntakeAlert {
  readonly status: string | null;
  readonly startsAt: string | null;
  readonly incidentId: number | null;
}

/** IntakeRepeat: `n` more firing notifications of an alert that fires already since `startsAt`. */
export interface IntakeRepeat extends IntakeAlertKey {
  readonly n: number;
  readonly startsAt: string | null;
  /** In a quickRepeats plan: the index, among the batch's keys, of an alert this entry counts (a store may reuse what it found for that key). */
  readonly first?: number;
}

/** IntakeGroupRepeat: `n` more firing notifications of a group. */
export interface IntakeGroupRepeat {
  readonly integration: string;
  readonly fingerprint: string;
  readonly n: number;
  /** As IntakeRepeat.first. */
  readonly first?: number;
}

/** IntakeAlert: one alert as an integration sent it; labels and annotations are untrusted text. */
export interface IntakeAlert {
  readonly integration: string;
  /** The group (incident) fingerprint. */
  readonly fingerprint: string;
  /** The alert's own identity inside the group (its sender fingerprint, or a hash of its labels). */
  readonly alertKey: string;
  readonly status: 'firing' | 'resolved';
  /** startsAt as sent (a new value means a new firing of the same alert), or null. */
  readonly startsAt: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** AlertChange: what the alert's row said before the latest observation (null status: first time). */
export interface AlertChange {
  readonly previousStatus: 'firing' | 'resolved' | null;
  readonly previousStartsAt: string | null;
}

/** StormRow: an alert storm of a team; active while endedAt is null (at most one per team). */
export interface StormRow {
  readonly id: number;
  readonly team: TeamId;
  readonly member: MemberId;
  readonly integration: string;
  readonly startedAt: DateTime;
  readonly lastAt: DateTime;
  readonly incidents: number;
  /** Bumped at each summary update, so each update has its own outbox key. */
  readonly version: number;
  readonly endedAt: DateTime | null;
  /**
   * The most severe severity the storm has paged: its first incident's, raised by each incident
   * more severe than that, which is paged on its own (see IntakeService: Storms). null for a storm
   * stored before this was kept: read as sev1 (nothing breaks through).
   */
  readonly severity: Severity | null;
}

export interface StoreTx {
  /**
   * afterCommit: `fn` runs once this transaction has committed, in the order given; never for a
   * transaction that rolled back, nor for a run the store rolls back and runs again (a PostgreSQL
   * race: the next run is a new transaction with callbacks of its own). For what must only count
   * once it is true, such as metrics. `fn` must not throw (an error is dropped: the commit stands).
   * A PostgreSQL commit that succeeded while a statement failed in the driver runs them, then
   * throws (see PostgresStore.attempt).
   */
  afterCommit(fn: () => void): void;

  insertIncident(incident: NewIncident): Promise<Incident>;
  getIncident(id: number): Promise<Incident | null>;
  updateIncident(incident: Incident): Promise<void>;
  /** Newest first. */
  listIncidents(filter: IncidentFilter): Promise<Incident[]>;
  /** The ids of the team's open (unacknowledged) incidents assigned to `assignee`, oldest first. */
  openIncidentIdsOf(team: TeamId, assignee: MemberId): Promise<number[]>;

  appendTimeline(event: NewTimelineEvent): Promise<TimelineEvent>;
  /** Oldest first. */
  timeline(incidentId: number): Promise<TimelineEvent[]>;
  /** The timelines of many incidents in one read (summaries over thousands of incidents): one list per id, in the order given. */
  timelines(incidentIds: readonly number[]): Promise<TimelineEvent[][]>;

  addOverride(o: Omit<StoredOverride, 'id' | 'seq'>): Promise<StoredOverride>;
  /** Overrides of `team` that overlap [from, to). */
  listOverrides(team: TeamId, from: DateTime, to: DateTime): Promise<StoredOverride[]>;
  deleteOverride(id: string): Promise<boolean>;
  addAbsence(a: Omit<StoredAbsence, 'id'>): Promise<StoredAbsence>;
  /** Absences that overlap [from, to). */
  listAbsences(from: DateTime, to: DateTime): Promise<StoredAbsence[]>;
  /** Removes an absence (a declared one taken out of the config); false when there is none with that id. */
  deleteAbsence(id: string): Promise<boolean>;

  /** Schedules a timer; returns false when the key exists already (pending or done). */
  scheduleTimer(timer: Omit<TimerRow, 'id'>): Promise<boolean>;
  /** Cancels pending timers whose key starts with `keyPrefix`; returns how many. */
  cancelTimers(keyPrefix: string): Promise<number>;
  /** pendingTimers: the timers not yet done or cancelled whose key starts with `keyPrefix`, by key. */
  pendingTimers(keyPrefix: string): Promise<TimerRow[]>;
  /**
   * hurryTimers: pending timers whose key starts with `keyPrefix`, due after `dueAt`, and that
   * `only` accepts (all when absent), become due at `dueAt`; returns how many.
   */
  hurryTimers(keyPrefix: string, dueAt: DateTime, only?: (timer: TimerRow) => boolean): Promise<number>;
  /** Leases up to `limit` timers due at `now` (unleased or lease expired), earliest first. */
  claimDueTimers(now: DateTime, limit: number, owner: string, leaseUntil: DateTime): Promise<TimerRow[]>;
  /** Marks a claimed timer done; false when `owner` no longer holds its lease (caller must roll back). */
  completeTimer(id: number, owner: string): Promise<boolean>;
  /** The earliest pending timer's due instant (after `after`, when given), or null. */
  nextTimerDue(after?: DateTime): Promise<DateTime | null>;
  /** oldestDueTimer: the pending timer due first (leased or not), for /healthz: an escalation step that keeps failing, or a timer loop that lags, shows there. */
  oldestDueTimer(): Promise<{ readonly dueAt: DateTime; readonly kind: string; readonly key: string } | null>;

  /** Enqueues deliveries, skipping keys already present; returns how many were new. */
  enqueue(rows: readonly NewOutboxRow[]): Promise<number>;
  /**
   * enqueueAll: enqueue, for a caller that needs no count. A store may send it without waiting for
   * its answer (PostgreSQL does: it goes out with the COMMIT behind it); should it fail, the
   * transaction fails, at the latest at its commit.
   */
  enqueueAll(rows: readonly NewOutboxRow[]): Promise<void>;
  /**
   * Leases up to `limit` pending deliveries whose notBefore has come, ordered by (notBefore, id).
   * Never claims a row of a lane in which a live lease is held (so one lane is sent by one process
   * at a time, in order; claims are serialized), nor a row behind an earlier row of its lane that
   * failed fewer than `options.holdBehindFailures` times and is not sent yet, nor of
   * `options.skipLanes`; at most `options.perLane` of each lane.
   */
  claimOutbox(now: DateTime, limit: number, owner: string, leaseUntil: DateTime, options?: ClaimOptions): Promise<OutboxRow[]>;
  markSent(id: number, at: DateTime): Promise<void>;
  /** Records a failed attempt; the row is retried at `retryAt`, or given up when `retryAt` is null. */
  markFailed(id: number, error: string, retryAt: DateTime | null): Promise<void>;
  /** releaseLeases gives up `owner`'s leases on these pending rows (claimed, then not sent: due again for the next claim). */
  releaseLeases(ids: readonly number[], owner: string): Promise<number>;
  /** markWaiting parks a row until its recipient is reachable (rearmLane) or until `deadline`. */
  markWaiting(id: number, reason: string, deadline: DateTime): Promise<void>;
  /** extendLeases: `owner`'s leases on these pending rows now run until `until`; returns the ids still held. */
  extendLeases(ids: readonly number[], owner: string, until: DateTime): Promise<number[]>;
  /** retryNow: `adapter`'s pending rows that failed before and wait for a retry become due at `now`. */
  retryNow(adapter: string, now: DateTime): Promise<number>;
  /** rearmLane makes the lane's waiting rows due at `now`; returns how many. */
  rearmLane(lane: string, now: DateTime): Promise<number>;
  /** deliveryStates: every delivery whose key starts with `keyPrefix`. */
  deliveryStates(keyPrefix: string): Promise<DeliveryState[]>;
  /** outboxStats: pending and waiting counts, the oldest due instant, and give-ups since `since`. */
  outboxStats(since: DateTime): Promise<OutboxStats>;
  /**
   * pagesUnreachedSince: the `page-unreached` timeline events at or after `since` (committed, by
   * any process), for /healthz (an index keeps it cheap): `count` those still outstanding and
   * `last` the newest of them; `late` those answered since, by a later `page-reached-late` event
   * of the same incident for the same member (the page went out after all).
   */
  pagesUnreachedSince(since: DateTime): Promise<UnreachedPages>;
  /** The earliest instant a pending delivery may be attempted (unleased; after `after`, when given), or null. */
  nextDeliveryDue(after?: DateTime): Promise<DateTime | null>;
  /** Pending deliveries (not yet sent, not given up). */
  outboxDepth(): Promise<number>;

  /**
   * observeIntakeGroup returns the group's incident for (integration, fingerprint), counting one
   * more firing notification (count, last seen) when `firing`; the row is created (without
   * incident) the first time. The primary key makes this the only row for the fingerprint,
   * whoever writes it.
   */
  observeIntakeGroup(integration: string, fingerprint: string, now: DateTime, firing: boolean): Promise<IntakeGroupState>;
  /** setIntakeGroupIncident points the group at a (new) incident and restarts its count at 1. */
  setIntakeGroupIncident(integration: string, fingerprint: string, incidentId: number, now: DateTime): Promise<void>;
  /** intakeGroupOf: the group that feeds `incidentId`, or null. */
  intakeGroupOf(incidentId: number): Promise<{ integration: string; fingerprint: string; count: number; firstSeen: DateTime; lastSeen: DateTime } | null>;
  /** observeIntakeAlert records the alert as last received and says what it was before. */
  observeIntakeAlert(alert: IntakeAlert, now: DateTime): Promise<AlertChange>;
  /**
   * knownIntakeAlerts: for each (integration, fingerprint, alertKey), in order, the alert's stored
   * status and startsAt and its group's incident (nulls when unknown). One query for a whole batch.
   */
  knownIntakeAlerts(keys: readonly IntakeAlertKey[]): Promise<KnownIntakeAlert[]>;
  /**
   * recordIntakeRepeats records repeats of alerts that are firing already, in bulk: each alert's
   * count grows by `n` and its last seen becomes `now` if it is still firing with `startsAt`;
   * each group's count grows by its `n`, its last seen at least `now`. Labels and annotations stay
   * those of the alert's firing (a new firing or a resolve stores what was sent). A store may log
   * the repeats and fold them into the counts later, as long as every StoreTx method that reads or
   * changes these rows sees them folded (what a reader on another connection sees may lag briefly).
   */
  recordIntakeRepeats(alerts: readonly IntakeRepeat[], groups: readonly IntakeGroupRepeat[], now: DateTime): Promise<void>;
  /**
   * openIntakeIncidents opens incidents for alerts of fingerprints seen for the first time, in bulk
   * (a few statements for the whole list). For each row, in order: the fingerprint's group is
   * created (count 1, first and last seen `now`) unless it exists already, the incident inserted
   * with `events` as its first timeline events (seq 1, 2, ... at `now`), the alert recorded as
   * observeIntakeAlert would, and the group pointed at the incident. A row whose group exists
   * already (another writer created it) changes nothing and is answered null: apply that alert one
   * by one. Fingerprints must be distinct per integration within one call. Returns per row the
   * incident or null.
   */
  openIntakeIncidents(rows: readonly NewIntakeIncident[], now: DateTime): Promise<Array<Incident | null>>;
  /** How many alerts of the group are firing. */
  firingIntakeAlerts(integration: string, fingerprint: string): Promise<number>;
  /** How many incidents of `team` whose source starts with `sourcePrefix` opened at or after `since`. */
  countIncidentsSince(team: TeamId, sourcePrefix: string, since: DateTime): Promise<number>;
  activeStorm(team: TeamId): Promise<StormRow | null>;
  /**
   * getStorm reads a storm and locks it until the transaction ends (see above); `{ lock: false }`
   * reads what is committed without locking it, for a transaction that only reads the storm (its
   * summary): locking it there made a timer's transaction wait for the storm while an intake
   * transaction that held the storm waited for the timer's row (PostgreSQL: deadlock detected).
   */
  getStorm(id: number, options?: { readonly lock?: boolean }): Promise<StormRow | null>;
  /** Throws (UNIQUE constraint) when the team has an active storm already. */
  insertStorm(storm: Omit<StormRow, 'id'>): Promise<StormRow>;
  updateStorm(storm: StormRow): Promise<void>;

  /**
   * inboundReply: the reply remembered for the inbound event `id` (a platform's event id, e.g.
   * "teams:<activity id>"), or null when that event was not handled yet (or was pruned).
   */
  inboundReply(id: string): Promise<Message | null>;
  /**
   * rememberInbound records that the inbound event `id` was handled with `reply`, at `at`. Null when
   * it is recorded now; otherwise the event was handled already and this is the reply stored first:
   * the caller must then roll back what it did (throw) and answer with that reply. The id is the
   * primary key, so on PostgreSQL a concurrent transaction remembering the same id waits for this
   * one to end and then sees its reply: of two replicas handling one event, one commits. (When this
   * transaction asked `inboundReply` for the id and got null, PostgreSQL answers null at once and a
   * concurrent remember of the id makes the transaction run again instead, where `inboundReply`
   * then finds that reply.)
   */
  rememberInbound(id: string, reply: Message, at: DateTime): Promise<Message | null>;
  /** pruneInbound forgets inbound events handled before `before`; returns how many. */
  pruneInbound(before: DateTime): Promise<number>;

  /** kvGet reads a key and locks it (even when absent) until the transaction ends: for a read-modify-write. */
  kvGet(namespace: string, key: string): Promise<unknown>;
  /**
   * kvPeek reads a key without locking it: for a value this transaction only reads (another may
   * change it meanwhile; what it committed before this read is seen). Reading without a lock keeps
   * a transaction out of lock-order circles with the key's writers.
   */
  kvPeek(namespace: string, key: string): Promise<unknown>;
  kvSet(namespace: string, key: string, value: unknown): Promise<void>;

  /**
   * tryLease takes or renews the named leader lease for `owner` until `until`: true when `owner`
   * holds it now (it was free, expired before `now`, or `owner`'s already), false when another
   * owner's lease is still running. Throws RangeError unless until is after now.
   */
  tryLease(name: string, owner: string, now: DateTime, until: DateTime): Promise<boolean>;
  /** releaseLease gives the lease up if `owner` holds it (expired or not); true when it did. */
  releaseLease(name: string, owner: string): Promise<boolean>;
}

export interface Store {
  /** Applies pending versioned migrations; safe to call on every start. Returns the versions it applied. */
  migrate(): Promise<number[]>;
  /**
   * recoverAtStart: called once when the bot starts, after migrate. A store that serves one
   * process only (SQLite) releases every lease then (they are a dead process's), so work a kill
   * left claimed goes out at once instead of after its lease.
   */
  recoverAtStart?(): Promise<void>;
  /**
   * serveAlone: called first when the bot starts, before migrate. A store that serves one process
   * only (SQLite) makes sure no other live bot serves it (see InstanceLock), or throws naming it.
   */
  serveAlone?(): Promise<void>;
  /** stopping: the bot begins to stop (SQLite: a bot starting on the same file waits for it, see InstanceLock). */
  stopping?(): void;
  /**
   * onEnqueued: `listener` runs after each commit that enqueued deliveries (PostgreSQL: a commit
   * by any replica, through LISTEN/NOTIFY), so the delivery worker sends at once instead of at its
   * next period. Returns a function that removes the listener.
   */
  onEnqueued(listener: () => void): () => void;
  /**
   * onBackgroundError (optional): `listener` hears the errors of work the store does on its own,
   * outside any caller's transaction (SQLite: folding the repeat log into the counts), so the app
   * logs them and /healthz shows them like a failed transaction's. Returns a function that removes it.
   */
  onBackgroundError?(listener: (err: unknown) => void): () => void;
  /**
   * singleProcess: true when one process serves the store and runs its transactions one at a time
   * (SQLite): nothing, not even a timer's claim, commits between a transaction's reads and its
   * commit. Absent or false on a store shared by replicas (PostgreSQL).
   */
  readonly singleProcess?: boolean;
  /**
   * transaction runs `fn` in one transaction. `options.urgent`: on a store that runs transactions
   * one at a time (singleProcess), this one goes before every waiting transaction that is not
   * urgent. The delivery worker's claims and marks are: a page already committed never waits
   * behind a queue of intake batches (a mark is one statement; a batch holds the store ~10 ms).
   * Stores that run transactions side by side (PostgreSQL's pool) ignore it.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * quickRepeats (optional): the intake's fast path for its most common batch, repeats of alerts
   * that fire already, recorded in one round trip instead of a transaction's four or more. When the
   * store can answer every key from its memory it calls `plan` with what it knows; when `plan`
   * returns the repeats (it returns them only when every alert of the batch is one), the store
   * records them as `recordIntakeRepeats` would, durably, in a write of their own that happens only
   * if its memory is still the truth (nobody else wrote the database since), and returns what it
   * knew. null: nothing was recorded (a key it does not remember, `plan` declined, or its memory was
   * stale): use a transaction. Ordered with `transaction` calls like another transaction.
   */
  quickRepeats?(keys: readonly IntakeAlertKey[], plan: (known: readonly KnownIntakeAlert[]) => IntakeRepeatPlan | null, now: DateTime): Promise<KnownIntakeAlert[] | null>;
  close(): Promise<void>;
}

/** TransactionOptions: see Store.transaction. */
export interface TransactionOptions {
  readonly urgent?: boolean;
}

/** IntakeRepeatPlan: what `quickRepeats` records (the arguments of `recordIntakeRepeats`). */
export interface IntakeRepeatPlan {
  readonly alerts: readonly IntakeRepeat[];
  readonly groups: readonly IntakeGroupRepeat[];
}

export type { Principal };
