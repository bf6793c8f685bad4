/**
 * IntakeService turns alerts from monitoring integrations into incidents, durably and once per
 * problem:
 *
 * - **Dedup.** Alerts fold into the incident of their group fingerprint. The (integration,
 *   fingerprint) primary key of the store's intake groups is what guarantees one incident per
 *   fingerprint; repeats only count (count and last seen) and never page again.
 * - **Resolve.** A resolved alert resolves its incident when all the group's alerts are resolved
 *   (`resolve: all`, the default) or at the first one (`any`); a new firing within `reopen_window`
 *   after that reopens the incident, later it opens a new one. A repeat of an alert that is still
 *   firing (same startsAt) never reopens an incident a person resolved.
 * - **Storms.** When a team gets more than `storm.threshold` new incidents from integrations within
 *   `storm.window`, the incident that crosses the threshold is paged (and escalates) normally and
 *   stands for the storm; the on-call also gets one storm summary message, updated (same
 *   `updateKey`) as the storm grows. Incidents opened during the storm open quietly: no page, no
 *   channel record, no escalation of their own. The storm ends by itself after a quiet window
 *   (no new incident for `storm.window`), with a last update of the summary.
 * - **Group commit.** `accept` resolves only after the alerts' transaction committed. Requests
 *   arriving while a transaction runs are applied together in the next one, so one commit (one
 *   fsync) serves many requests. If a batch fails, each request is retried alone, so one bad
 *   request cannot fail the others.
 * - **Chunks.** A transaction holds a chunk of at most `MAX_CHUNK_ALERTS` alerts of one request: a
 *   bigger request is applied in chunks, each its own transaction, and answered after its last
 *   chunk committed (up to `WHOLE_REQUEST_ALERTS` alerts a request is applied whole). The first
 *   chunk holds `FIRST_CHUNK_ALERTS`; each next one is sized from how long the previous one held
 *   the store, aiming at `CHUNK_TARGET_MS`. Between two
 *   chunks every other writer waiting for the store (health probe, timers, deliveries, commands)
 *   gets its turn, and the next batch starts with another integration's requests (round robin),
 *   so one huge webhook delays nobody by more than one chunk. Requests of one integration stay in
 *   order (a later one waits behind the rest of a cut one). A request that fails after some of its
 *   chunks committed is not answered 202: the sender resends it, and the committed alerts fold into
 *   their fingerprints' incidents (counted as repeats, no second incident or page).
 * - **Bounded batches** (SQLite). Small requests are batched by time as well as by count: a batch
 *   takes requests (in order) while their alerts that need the full path (a new incident: a page,
 *   a timer, timeline events; a resolve) are expected to hold the store about `BATCH_TARGET_MS`,
 *   at the cost per such alert measured in earlier batches. The rest wait for the next batch, so
 *   pages being sent, timers and commands get the store between two batches even when new
 *   incidents arrive faster than they can be opened: under such a storm of distinct alerts the
 *   202s slow down, not the pages of the incidents already opened.
 */
import { inject, injectable } from 'inversify';
import { DateTime } from 'luxon';
import type { IntegrationConfig } from '../config/types';
import { isFlap, moreSevere, SYSTEM, type Incident, type Principal, type Severity } from '../core/incident/types';
import { incidentHeadline, memberName } from '../core/messages/incident-views';
import { message } from '../core/messages/message';
import type { Team, World } from '../core/model';
import { mention, rt, type RichText } from '../core/text/rich-text';
import { formatDuration } from '../core/time/duration';
import type { NormalizedAlert } from '../intake/payloads';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { IntakeAlertKey, IntakeGroupRepeat, IntakeRepeat, IntakeRepeatPlan, KnownIntakeAlert, NewIntakeIncident, Store, StoreTx, StormRow, TimerRow } from '../ports/store';
import type { UseCaseContext } from './context';
import { Engine } from './engine';
import { IncidentService, reportedData, reportedIncident } from './incident-service';
import { activeMaintenance, type MaintenanceWindow } from './maintenance';
import { recipientKey } from './notifications';
import { PluginHost } from './plugin-host';
import { PolicyBook } from './policies';
import { onCallNow } from './rotation-reader';
import { Scheduler } from './scheduler';
import { TOKENS } from './tokens';
import { PairMap } from '../core/keyed-maps';
import { errorText } from '../core/text/error-text';

export const STORM_TIMER = 'storm-end';
/** The end of a maintenance window that opened an incident quietly (see maintenanceEnded). */
export const MAINTENANCE_TIMER = 'maintenance-end';
/** The timer that tells a grown storm's summary (see growStorm). */
export const STORM_SUMMARY_TIMER = 'storm-summary';
/**
 * A storm's summary is updated at most once per this many ms: the growth of one such slot is told
 * at its end, by one timer. A 10,000-alert request grows the storm once per chunk (~150 times in a
 * few seconds); each update is a message edit the platform rate-limits anyway.
 */
export const STORM_SUMMARY_EVERY_MS = 1000;
/** How near its due time growStorm stops trusting a slot's timer (the timer loop's own lag). */
const SUMMARY_CLOCK_MARGIN_MS = 250;
/** Source prefix of incidents opened by integrations ("integration:<id>"). */
export const INTEGRATION_SOURCE = 'integration:';
/** A batch (one transaction) takes requests until it holds this many alerts. */
const MAX_BATCH_ALERTS = 2000;
/** A batch takes at most this many alerts of one request: a bigger request is cut into chunks. */
export const MAX_CHUNK_ALERTS = 500;
/** A request of up to this many alerts is applied whole (with others: group commit). */
const WHOLE_REQUEST_ALERTS = 100;
/**
 * A bigger request's first chunk: alerts taking the full path (a page each) cost a few ms apiece.
 * Later chunks are sized to hold the store about CHUNK_TARGET_MS, at most doubling each time.
 */
const FIRST_CHUNK_ALERTS = 5;
const MIN_CHUNK_ALERTS = 5;
const CHUNK_TARGET_MS = 10;
/**
 * How long a batch of small requests may hold the store with alerts taking the full path. The
 * delivery worker's transactions go before waiting batches (urgent), but wait for the one running:
 * a recipient's pages go out one per batch at most while the store is busy (each is marked sent
 * before the next). Measured with new incidents arriving faster than SQLite opens them (~100/s
 * here): at 10 ms pages kept pace with the 202s, at 25 ms they fell to a third.
 */
const BATCH_TARGET_MS = 10;
/** The first guess of how long one alert taking the full path holds the store (see slowAlertMs). */
const SLOW_ALERT_MS_GUESS = 2;

/** IntakeOutcome: what one accepted request did. */
export interface IntakeOutcome {
  readonly alerts: number;
  /** Incidents the request opened, reopened, resolved or folded into, by id. */
  readonly incidents: readonly number[];
}

interface Job {
  readonly integration: IntegrationConfig;
  readonly alerts: readonly NormalizedAlert[];
  readonly resolve: (outcome: IntakeOutcome) => void;
  readonly reject: (err: unknown) => void;
  /** How many of `alerts` earlier chunks committed. */
  done: number;
  /** How many alerts the next chunk of this request takes. */
  chunk: number;
  /** Incidents the committed chunks concerned (null until a request in chunks has one committed). */
  touched: Set<number> | null;
}

/** Slice: the part of one request a batch applies. */
interface Slice {
  readonly job: Job;
  readonly integration: IntegrationConfig;
  readonly alerts: readonly NormalizedAlert[];
}

/** integrationPrincipal: the reporter of an integration's incidents (a guest nobody can message). */
export function integrationPrincipal(integration: IntegrationConfig): Principal {
  return { kind: 'guest', adapter: 'integration', address: integration.id, name: integration.name };
}

@injectable()
export class IntakeService {
  private readonly byId = new Map<string, IntegrationConfig>();
  /** Waiting requests per integration, in arrival order. */
  private readonly queues = new Map<string, Job[]>();
  /** Integrations with waiting requests; the next batch starts with the first (round robin). */
  private turn: string[] = [];
  private draining = false;
  private batches = 0;
  /**
   * By storm, the newest summary slot whose timer a committed batch of this process scheduled:
   * another growth in that slot is told by that timer and needs no statement (see growStorm).
   * A batch's slots count once it committed (StoreTx.afterCommit).
   */
  private readonly summarySlots = new Map<number, number>();
  /**
   * How long one alert taking the full path held the store, in ms: a moving average over batches
   * of small requests, to size the next ones (see Bounded batches).
   */
  private slowAlertMs = SLOW_ALERT_MS_GUESS;

  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.Integrations) integrations: readonly IntegrationConfig[],
    @inject(Engine) private readonly engine: Engine,
    @inject(IncidentService) private readonly incidents: IncidentService,
    @inject(Scheduler) scheduler: Scheduler,
    @inject(PluginHost) private readonly plugins: PluginHost,
    @inject(PolicyBook) private readonly policies: PolicyBook,
  ) {
    for (const i of integrations) this.byId.set(i.id, i);
    // The storm before the timer's row: an intake transaction that grows it takes them in that order.
    scheduler.on(STORM_TIMER, (tx, timer, now) => this.onStormTimer(tx, timer, now), { lock: (tx, timer) => tx.getStorm(Number(timer.payload.storm)) });
    scheduler.on(STORM_SUMMARY_TIMER, (tx, timer, now) => this.onSummaryTimer(tx, timer, now));
    // The incident before the timer's row, as escalation timers (an acknowledgement takes that order).
    scheduler.on(MAINTENANCE_TIMER, (tx, timer, now) => this.maintenanceEnded(tx, timer, now), { lock: (tx, timer) => tx.getIncident(Number(timer.payload.incident)) });
  }

  integration(id: string): IntegrationConfig | undefined {
    return this.byId.get(id);
  }

  /** How many transactions `accept` has committed (for the benchmark's batching figure). */
  get batchCount(): number {
    return this.batches;
  }

  /**
   * accept applies the alerts of one request; it resolves once they are committed to the store
   * (with the incidents and notifications they caused), and rejects when they were not.
   */
  accept(integration: IntegrationConfig, alerts: readonly NormalizedAlert[]): Promise<IntakeOutcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(integration.id);
      if (!queue) {
        queue = [];
        this.queues.set(integration.id, queue);
      }
      if (queue.length === 0) this.turn.push(integration.id);
      queue.push({ integration, alerts, resolve, reject, done: 0, chunk: alerts.length <= WHOLE_REQUEST_ALERTS ? WHOLE_REQUEST_ALERTS : FIRST_CHUNK_ALERTS, touched: null });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.turn.length > 0) {
        // One turn of the event loop first: requests already read from their sockets join this
        // batch instead of the next one, so a busy webhook pays the store's round trip (and the
        // fast path's bookkeeping) once per more requests. Measured under the steady bench:
        // +8% requests/s and -9% CPU per request; an idle bot answers a lone webhook as before.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.turn.length === 0) break;
        const batch = this.nextBatch();
        // The integration whose turn it was goes behind every other one waiting, also behind those
        // that arrive while its batch runs: a one-alert webhook waits one chunk of a big request,
        // not two (it used to queue behind the big request's integration when that was alone).
        const first = this.turn.shift() as string;
        try {
          await this.runBatch(batch);
        } finally {
          if ((this.queues.get(first)?.length ?? 0) > 0 && !this.turn.includes(first)) this.turn.push(first);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * nextBatch takes waiting requests, integration by integration starting with the one whose turn
   * it is, until the batch holds MAX_BATCH_ALERTS alerts. A small request that does not fit waits
   * for the next batch; a big one is cut at its chunk size, the chunk is a batch of its own, and
   * its integration's later requests wait behind its rest. The next batch starts with the next
   * integration (see drain).
   */
  private nextBatch(): Slice[] {
    const slices: Slice[] = [];
    let room = MAX_BATCH_ALERTS;
    for (const id of this.turn) {
      for (const job of this.queues.get(id) ?? []) {
        const left = job.alerts.length - job.done;
        if (room === 0 && left > 0) break;
        // A chunk of a big request goes alone, and small requests never wait for one: a batch is
        // either that chunk or small requests, so a one-alert webhook waits one chunk at most.
        const big = job.alerts.length > WHOLE_REQUEST_ALERTS;
        if (big && slices.length > 0) break;
        const take = Math.min(left, room, job.chunk);
        if (take < left && !big && slices.length > 0) break;
        slices.push({ job, integration: job.integration, alerts: job.alerts.slice(job.done, job.done + take) });
        room -= take;
        if (big || take < left) break;
      }
      if (room === 0 || (slices.length === 1 && (slices[0] as Slice).job.alerts.length > WHOLE_REQUEST_ALERTS)) break;
    }
    return slices;
  }

  private async runBatch(batch: Slice[]): Promise<void> {
    try {
      let started = 0;
      let slow = 0;
      // Only a store that runs transactions one at a time needs bounded batches: on PostgreSQL the
      // delivery worker and the others have connections of their own, and each commit is a round
      // trip and a flush, so there a batch takes every waiting request (group commit).
      const bounded = this.store.singleProcess === true;
      const outcomes = await this.quickBatch(batch) ?? await this.store.transaction(async (tx) => {
        started = performance.now();
        const applied = await this.applyBatch(tx, batch, this.clock.now(), bounded);
        slow = applied.slow;
        return applied.outcomes;
      });
      const held = started === 0 ? 0 : performance.now() - started;
      this.batches++;
      if (bounded && slow > 0 && batch.every((slice) => slice.job.alerts.length <= WHOLE_REQUEST_ALERTS)) {
        this.slowAlertMs = Math.min(1000, 0.7 * this.slowAlertMs + 0.3 * (held / slow));
      }
      // A bounded batch applied the first requests only (see applyBatch): the others stay queued.
      batch.slice(0, outcomes.length).forEach((slice, i) => {
        // A request that is cut: its next chunk is sized from how long this one held the store.
        const { job } = slice;
        if (job.done + slice.alerts.length < job.alerts.length && slice.alerts.length > 0) {
          const fit = Math.round(slice.alerts.length * CHUNK_TARGET_MS / Math.max(held, 1));
          job.chunk = Math.max(MIN_CHUNK_ALERTS, Math.min(MAX_CHUNK_ALERTS, fit, job.chunk * 2));
        }
        this.committed(slice, outcomes[i] ?? []);
      });
    } catch (err) {
      if (batch.length === 1) {
        this.failed((batch[0] as Slice).job, err);
        return;
      }
      this.log.warn('intake batch failed; retrying its requests one by one', { requests: batch.length, error: errorText(err) });
      for (const slice of batch) {
        try {
          const outcome = (await this.store.transaction((tx) => this.applyBatch(tx, [slice], this.clock.now(), false))).outcomes[0] ?? [];
          this.batches++;
          this.committed(slice, outcome);
        } catch (e) {
          this.failed(slice.job, e);
        }
      }
    }
  }

  /** committed: a slice is durable; its request is answered when it was the last one. */
  private committed(slice: Slice, touched: readonly number[]): void {
    const { job } = slice;
    const whole = job.done === 0 && slice.alerts.length === job.alerts.length;
    job.done += slice.alerts.length;
    if (!whole) {
      job.touched ??= new Set();
      for (const id of touched) job.touched.add(id);
    }
    if (job.done < job.alerts.length) return;
    this.dequeue(job);
    // A request applied whole (nearly all) is answered with its slice's incidents as they are.
    job.resolve({ alerts: job.alerts.length, incidents: whole ? [...touched] : [...(job.touched ?? [])] });
  }

  /** failed: the request is answered with the error; chunks it committed before stay (see Chunks). */
  private failed(job: Job, err: unknown): void {
    this.dequeue(job);
    job.reject(err);
  }

  private dequeue(job: Job): void {
    const queue = this.queues.get(job.integration.id);
    const at = queue?.indexOf(job) ?? -1;
    if (queue && at >= 0) queue.splice(at, 1);
    if (queue?.length === 0) this.turn = this.turn.filter((id) => id !== job.integration.id);
  }

  /**
   * quickBatch: a batch whose alerts are all repeats of firing alerts, recorded by the store's
   * fast path in one round trip (see Store.quickRepeats); null when the store has none or declined
   * (the batch then takes a transaction, which decides again from the database's rows).
   */
  private async quickBatch(batch: readonly Slice[]): Promise<number[][] | null> {
    if (!this.store.quickRepeats) return null;
    const flat = flatten(batch);
    const known = await this.store.quickRepeats(flat, (k) => {
      const plan = repeatPlan(flat, k);
      return plan.repeat.every(Boolean) ? plan : null;
    }, this.clock.now());
    if (known === null) return null;
    let i = 0;
    return batch.map((slice) => {
      // Each incident once; a small request's few are told apart without a Set.
      const touched: number[] = [];
      const seen = slice.alerts.length > 32 ? new Set<number>() : null;
      for (let j = 0; j < slice.alerts.length; j++) {
        const id = known[i++]?.incidentId ?? null;
        if (id === null || (seen === null ? touched.includes(id) : seen.has(id))) continue;
        seen?.add(id);
        touched.push(id);
      }
      return touched;
    });
  }

  /**
   * applyBatch applies the jobs in order, in one transaction. The common case, a repeat of an alert
   * that is firing already (same startsAt, group has its incident), changes no incident and tells
   * nobody: such repeats are found with one store call (SQLite answers it from memory) and
   * recorded with one more (SQLite appends them to its repeat log). Every alert of a group that
   * has any other kind of alert in the batch takes the full path, in order. `bounded`: apply only
   * the first requests, as many as fit the time target (see Bounded batches); `outcomes` has one
   * entry per request applied, `slow` counts the alerts that took the full path.
   */
  private async applyBatch(tx: StoreTx, whole: readonly Slice[], now: DateTime, bounded: boolean): Promise<{ outcomes: number[][]; slow: number }> {
    let batch = whole;
    let flat = flatten(batch);
    let known = await tx.knownIntakeAlerts(flat);
    let plan = repeatPlan(flat, known);
    if (bounded && batch.length > 1) {
      // Bounded batches: the requests whose full-path alerts fit the time target (at least one).
      const budget = Math.max(1, Math.floor(BATCH_TARGET_MS / this.slowAlertMs));
      let slowSoFar = 0;
      let index = 0;
      let take = 0;
      for (const slice of batch) {
        let slowHere = 0;
        for (let j = 0; j < slice.alerts.length; j++) if (!plan.repeat[index + j]) slowHere++;
        if (take > 0 && slowHere > 0 && slowSoFar + slowHere > budget) break;
        slowSoFar += slowHere;
        index += slice.alerts.length;
        take++;
      }
      if (take < batch.length) {
        // The plan of the requests taken alone: a group whose later alert waits is a repeat now.
        batch = batch.slice(0, take);
        flat = flat.slice(0, index);
        known = known.slice(0, index);
        plan = repeatPlan(flat, known);
      }
    }
    const { repeat, alerts, groups } = plan;
    if (alerts.length > 0) await tx.recordIntakeRepeats(alerts, groups, now);
    const slow = repeat.reduce((n, r) => (r ? n : n + 1), 0);

    const outcomes: number[][] = [];
    // Groups the batch applied (or queued for a quiet open) so far: their later alerts take the full path.
    const seen = new Set<string>();
    const bulk = !this.plugins.watchesIncidentEvents;
    let i = 0;
    for (const slice of batch) {
      const { job } = slice;
      const team = this.world.teams.get(job.integration.team);
      if (!team) throw new Error(`integration ${job.integration.id}: team ${job.integration.team} is not configured`);
      const touched = new Set<number>();
      // New fingerprints (firing, never seen): during a storm they open quietly, in bulk.
      const fresh: NormalizedAlert[] = [];
      const flush = async (): Promise<void> => {
        for (const id of await this.openFresh(tx, job.integration, team, fresh.splice(0), now)) touched.add(id);
      };
      for (const alert of slice.alerts) {
        const index = i++;
        if (repeat[index]) {
          const id = known[index]?.incidentId ?? null;
          if (id !== null) touched.add(id);
          continue;
        }
        const g = groupKey(job.integration, alert);
        const k = known[index];
        if (bulk && alert.status === 'firing' && k?.status === null && k.incidentId === null && !seen.has(g)) {
          seen.add(g);
          fresh.push(alert);
          continue;
        }
        seen.add(g);
        await flush();
        const id = await this.applyAlert(tx, job.integration, team, alert, now);
        if (id !== null) touched.add(id);
      }
      await flush();
      outcomes.push([...touched]);
    }
    return { outcomes, slow };
  }

  /**
   * openFresh applies alerts of fingerprints never seen before, in order. While the team has no
   * storm each takes the full path (it may page, start a storm, fall in a maintenance window); once
   * a storm is on, all the rest open quietly in one go (openQuietly).
   */
  private async openFresh(tx: StoreTx, integration: IntegrationConfig, team: Team, alerts: NormalizedAlert[], now: DateTime): Promise<number[]> {
    const ids: number[] = [];
    while (alerts.length > 0) {
      if (alerts.length > 1) {
        const storm = await tx.activeStorm(team.id);
        if (storm && storm.lastAt.plus({ milliseconds: this.windowOf(storm, integration) }) > now) {
          // An alert more severe than anything the storm has paged takes the full path (below):
          // it is paged on its own. Those before it open quietly.
          const floor = storm.severity ?? 'sev1';
          const loud = alerts.findIndex((a) => moreSevere(a.severity, floor));
          if (loud < 0) {
            ids.push(...(await this.openQuietly(tx, integration, team, storm, alerts.splice(0), now)));
            break;
          }
          if (loud > 0) ids.push(...(await this.openQuietly(tx, integration, team, storm, alerts.splice(0, loud), now)));
        }
      }
      const id = await this.applyAlert(tx, integration, team, alerts.shift() as NormalizedAlert, now);
      if (id !== null) ids.push(id);
    }
    return ids;
  }

  /**
   * openQuietly opens one incident per alert during the team's storm, with a few statements for
   * all of them: what `open` does for each (the incident, assigned to the on-call, with its
   * reported, alert-firing and storm events, no page, no record, no escalation), and the storm
   * grown once for all, so its on-call gets one summary update. An alert whose fingerprint another
   * writer opened meanwhile takes the full path.
   */
  private async openQuietly(tx: StoreTx, integration: IntegrationConfig, team: Team, storm: StormRow, alerts: readonly NormalizedAlert[], now: DateTime): Promise<number[]> {
    const late: NormalizedAlert[] = [];
    const ids = await this.engine.within(tx, integrationPrincipal(integration), team, now, async (ctx) => {
      // Each chunk asks (a shift may change hands between two chunks: its handover moves only the
      // incidents committed before it).
      const onCall = (await onCallNow(this.policies, ctx.tx, team, now)).member;
      const rows: NewIntakeIncident[] = alerts.map((alert) => {
        const { incident } = reportedIncident(ctx, {
          title: alert.title, severity: alert.severity, service: alert.service ?? undefined,
          source: `${INTEGRATION_SOURCE}${integration.id}`, fingerprint: alert.fingerprint,
        }, onCall, this.policies);
        return {
          alert: { integration: integration.id, fingerprint: alert.fingerprint, alertKey: alert.alertKey, status: alert.status, startsAt: alert.startsAt, labels: alert.labels, annotations: alert.annotations },
          incident,
          events: [
            { kind: 'reported', actor: ctx.caller, data: reportedData(incident) },
            { kind: 'alert-firing', actor: ctx.caller, data: alertData(alert, {}) },
            { kind: 'storm', actor: null, data: { storm: storm.id } },
          ],
        };
      });
      const opened = await ctx.tx.openIntakeIncidents(rows, now);
      const done: Incident[] = [];
      opened.forEach((incident, i) => {
        if (incident) done.push(incident);
        else late.push(alerts[i] as NormalizedAlert);
      });
      if (done.length > 0) await this.growStorm(ctx, storm, done.length);
      return done.map((incident) => incident.id);
    });
    for (const alert of late) {
      const id = await this.applyAlert(tx, integration, team, alert, now);
      if (id !== null) ids.push(id);
    }
    return ids;
  }

  /** applyAlert: one alert; returns the incident it concerns, if any. */
  private async applyAlert(tx: StoreTx, integration: IntegrationConfig, team: Team, alert: NormalizedAlert, now: DateTime): Promise<number | null> {
    const change = await tx.observeIntakeAlert({
      integration: integration.id,
      fingerprint: alert.fingerprint,
      alertKey: alert.alertKey,
      status: alert.status,
      startsAt: alert.startsAt,
      labels: alert.labels,
      annotations: alert.annotations,
    }, now);
    const group = await tx.observeIntakeGroup(integration.id, alert.fingerprint, now, alert.status === 'firing');
    const within = <T>(fn: (ctx: UseCaseContext) => Promise<T>): Promise<T> => this.engine.within(tx, integrationPrincipal(integration), team, now, fn);

    if (alert.status === 'firing') {
      const newFiring = change.previousStatus !== 'firing' || change.previousStartsAt !== alert.startsAt;
      const resolved = group.incidentState === 'resolved';
      const reopenable = resolved && group.resolvedAt !== null && now.diff(group.resolvedAt).as('milliseconds') <= integration.reopenWindowMs;
      if (group.incidentId === null || group.incidentState === null || (resolved && newFiring && !reopenable)) {
        const id = await within((ctx) => this.open(ctx, integration, alert));
        await tx.setIntakeGroupIncident(integration.id, alert.fingerprint, id, now);
        return id;
      }
      const incident = await tx.getIncident(group.incidentId);
      if (!incident) return null;
      if (!resolved) {
        // A repeat only counts. A new alert of the group, or one firing again, is noted.
        if (change.previousStatus !== 'firing') {
          await within(async (ctx) => {
            await this.note(ctx, incident, 'alert-firing', alert, { again: change.previousStatus === 'resolved' });
            // More severe than the incident (a critical alert of a group a warning opened): the
            // incident is raised, and pages at its new severity unless a storm or a maintenance
            // window would have kept such an alert quiet.
            if (moreSevere(alert.severity, incident.severity)) await this.raise(ctx, integration, incident, alert);
          });
        }
        return incident.id;
      }
      if (!newFiring) return incident.id; // still the firing a person resolved: counted, not reopened
      await within((ctx) => this.reopen(ctx, integration, incident, alert));
      return incident.id;
    }

    // Resolved.
    if (group.incidentId === null || group.incidentState === null || group.incidentState === 'resolved' || change.previousStatus === 'resolved') {
      return group.incidentId;
    }
    const incident = await tx.getIncident(group.incidentId);
    if (!incident) return null;
    const firing = integration.resolve === 'any' ? 0 : await tx.firingIntakeAlerts(integration.id, alert.fingerprint);
    await within(async (ctx) => {
      await this.note(ctx, incident, 'alert-resolved', alert, { firing });
      if (firing > 0) return;
      const seen = `${group.count} firing notification${group.count === 1 ? '' : 's'} since ${clock(group.firstSeen, ctx.team.timeZone)}, last ${clock(group.lastSeen, ctx.team.timeZone)}`;
      const note = integration.resolve === 'any' ? `an alert resolved (${seen})` : `all alerts resolved (${seen})`;
      // While it flaps (its latest reopening was a flap, within the window, and nobody was paged
      // since: a handover, a reminder, the mentor), its resolves tell nobody either.
      const since = ctx.now.minus({ milliseconds: integration.flapWindowMs }).toMillis();
      const timeline = integration.flapWindowMs > 0 ? await tx.timeline(incident.id) : [];
      const lastReopen = [...timeline].reverse().find((e) => e.kind === 'reopened');
      const flaps = lastReopen !== undefined && lastReopen.at.toMillis() >= since && isFlap(lastReopen)
        && !timeline.some((e) => e.seq > lastReopen.seq && e.kind === 'notified');
      await this.incidents.resolve(ctx, incident, note, { quietNews: flaps });
    });
    return incident.id;
  }

  /**
   * open: a new incident for the alert's group; storm- and maintenance-aware. Returns its id.
   * During a storm it opens quietly, unless it is more severe than anything the storm has paged:
   * a sev1 outage must not hide in a storm of sev3 warnings. Then it is paged and escalates on
   * its own, and the storm's severity rises to its own (later ones as severe open quietly).
   */
  private async open(ctx: UseCaseContext, integration: IntegrationConfig, alert: NormalizedAlert): Promise<number> {
    const { tx, now, team } = ctx;
    // A maintenance window silences matching alerts: the incident opens quietly and starts no storm.
    const { found, storm, maintenance } = await this.quieting(ctx, integration, alert.severity, alert.service ?? null);
    let starting = false;
    if (!found && !maintenance) {
      const recent = await tx.countIncidentsSince(team.id, INTEGRATION_SOURCE, now.minus({ milliseconds: integration.storm.windowMs }));
      starting = recent + 1 > integration.storm.threshold;
    }
    const reply = await this.incidents.report(ctx, {
      title: alert.title,
      severity: alert.severity,
      service: alert.service ?? undefined,
      source: `${INTEGRATION_SOURCE}${integration.id}`,
      fingerprint: alert.fingerprint,
    }, { quiet: storm !== null || maintenance !== null });
    const id = reply.incident?.id;
    const incident = id === undefined ? null : await tx.getIncident(id);
    if (!incident) throw new Error('report returned no incident');
    await this.note(ctx, incident, 'alert-firing', alert, {});
    if (maintenance) await this.silenced(ctx, incident, maintenance);
    if (starting) await this.startStorm(ctx, integration, incident);
    else if (storm) {
      await tx.appendTimeline({ incidentId: incident.id, at: now, kind: 'storm', actor: null, data: { storm: storm.id } });
      await this.growStorm(ctx, storm);
    } else if (found) {
      // Broke through the storm (see above): paged as it is, counted in the storm.
      await tx.appendTimeline({ incidentId: incident.id, at: now, kind: 'storm', actor: null, data: { storm: found.id, breakthrough: true, below: found.severity ?? 'sev1' } });
      await this.growStorm(ctx, found, 1, incident.severity);
    }
    return incident.id;
  }

  /** raise: a more severe alert fired in the incident's group; as reopen, quiet during a storm unless more severe than the storm has paged, or in a maintenance window. */
  private async raise(ctx: UseCaseContext, integration: IntegrationConfig, incident: Incident, alert: NormalizedAlert): Promise<void> {
    const { found, storm, maintenance } = await this.quieting(ctx, integration, alert.severity, alert.service ?? incident.service);
    const reason = `alert ${alert.title} fired at ${alert.severity}`;
    if (storm !== null || maintenance !== null) {
      await this.incidents.raise(ctx, incident, alert.severity, reason, { quiet: true });
      return;
    }
    const raised = await this.incidents.raise(ctx, incident, alert.severity, reason);
    // Only a raise that pages breaks through: an acknowledged incident's assignee is told, and the
    // storm's bar stays where it was (the next new alert as severe still pages).
    if (found && raised !== incident && raised.state === 'open') await this.brokeThrough(ctx, incident.id, found, alert.severity, 'raised');
  }

  /** reopen: as open, a reopening during a storm is quiet unless more severe than the storm has paged. */
  private async reopen(ctx: UseCaseContext, integration: IntegrationConfig, incident: Incident, alert: NormalizedAlert): Promise<void> {
    const { found, storm, maintenance } = await this.quieting(ctx, integration, incident.severity, alert.service ?? incident.service);
    await this.incidents.reopen(ctx, incident, 'the alert fired again', { quiet: storm !== null || maintenance !== null, flapWindowMs: integration.flapWindowMs });
    await this.note(ctx, incident, 'alert-firing', alert, { again: true });
    if (maintenance) await this.silenced(ctx, incident, maintenance);
    if (storm) await ctx.tx.appendTimeline({ incidentId: incident.id, at: ctx.now, kind: 'storm', actor: null, data: { storm: storm.id } });
    else if (found && !(await this.flapped(ctx, incident.id))) await this.brokeThrough(ctx, incident.id, found, incident.severity, 'reopened');
  }

  /** flapped: the incident's latest reopening was a flap (its on-call not paged again: see IncidentService.reopen). */
  private async flapped(ctx: UseCaseContext, incidentId: number): Promise<boolean> {
    const reopened = (await ctx.tx.timeline(incidentId)).filter((e) => e.kind === 'reopened').pop();
    return reopened?.data.flapping !== undefined;
  }

  /**
   * brokeThrough: a reopened or raised incident paged through the team's storm, being more severe
   * than anything it paged so far: the timeline says so, and the storm's bar rises to `severity`
   * (the next alert as severe is quiet again).
   */
  private async brokeThrough(ctx: UseCaseContext, incidentId: number, found: StormRow, severity: Severity, how: 'raised' | 'reopened'): Promise<void> {
    await ctx.tx.appendTimeline({ incidentId, at: ctx.now, kind: 'storm', actor: null, data: { storm: found.id, breakthrough: true, below: found.severity ?? 'sev1', how } });
    await ctx.tx.updateStorm({ ...found, severity: found.severity === null ? null : severity });
  }

  /**
   * quieting: what keeps an incident of `severity` from paging as it (re)opens: the team's storm
   * (`storm`: unless it is more severe than anything the storm has paged; `found` is the storm
   * either way), else a maintenance window that matches.
   */
  private async quieting(ctx: UseCaseContext, integration: IntegrationConfig, severity: Severity, service: string | null): Promise<{ found: StormRow | null; storm: StormRow | null; maintenance: MaintenanceWindow | null }> {
    const found = await this.currentStorm(ctx, integration);
    const breaks = found !== null && moreSevere(severity, found.severity ?? 'sev1');
    const maintenance = found && !breaks ? null : await activeMaintenance(ctx.tx, ctx.team.id, ctx.now, { service, integration: integration.id });
    return { found, storm: found && breaks && maintenance === null ? null : found, maintenance };
  }

  /**
   * silenced: the incident opened (or reopened) quietly in a maintenance window; on its timeline and
   * counted. At the window's end, an incident still open starts its chain (see maintenanceEnded):
   * a window explains the alerts in it, not one that outlives it.
   */
  private async silenced(ctx: UseCaseContext, incident: Incident, w: MaintenanceWindow): Promise<void> {
    await ctx.tx.appendTimeline({
      incidentId: incident.id, at: ctx.now, kind: 'maintenance', actor: null,
      data: { reason: w.reason, until: w.end.toUTC().toISO(), by: w.by, window: w.id },
    });
    await this.watchWindowEnd(ctx.tx, incident, w);
  }

  private async watchWindowEnd(tx: StoreTx, incident: Incident, w: MaintenanceWindow): Promise<void> {
    await tx.scheduleTimer({
      key: `maint:${incident.id}:${w.id}:at${w.end.toMillis()}`,
      kind: MAINTENANCE_TIMER,
      dueAt: w.end,
      payload: { incident: incident.id, window: w.id, reason: w.reason, end: w.end.toUTC().toISO() },
    });
  }

  /**
   * maintenanceEnded: the window that kept an incident quiet ended. When another window covers its
   * alerts now (a longer one set meanwhile), that one's end is watched instead; otherwise an
   * incident still open pages its on-call now (IncidentService.maintenanceOver).
   */
  private async maintenanceEnded(tx: StoreTx, timer: TimerRow, now: DateTime): Promise<void> {
    const incident = await tx.getIncident(Number(timer.payload.incident));
    const team = incident ? this.world.teams.get(incident.team) : undefined;
    if (!incident || !team || incident.state !== 'open') return;
    const integrationId = incident.source.startsWith(INTEGRATION_SOURCE) ? incident.source.slice(INTEGRATION_SOURCE.length) : '';
    const still = await activeMaintenance(tx, team.id, now, { service: incident.service, integration: integrationId });
    if (still) {
      await this.watchWindowEnd(tx, incident, still);
      return;
    }
    const integration = this.byId.get(integrationId);
    const actor: Principal = integration ? integrationPrincipal(integration) : SYSTEM;
    const end = DateTime.fromISO(String(timer.payload.end), { zone: 'utc' });
    await this.engine.within(tx, actor, team, now, (ctx) => this.incidents.maintenanceOver(ctx, incident, { reason: String(timer.payload.reason ?? ''), end: end.isValid ? end : now }));
  }

  /** note: a timeline event about one alert; its texts stay data (untrusted), rendered as user text. */
  private async note(ctx: UseCaseContext, incident: Incident, kind: 'alert-firing' | 'alert-resolved', alert: NormalizedAlert, extra: Record<string, unknown>): Promise<void> {
    // An unmapped severity label is on the timeline of the incident it made (see NormalizedAlert.unmappedSeverity).
    const unmapped = kind === 'alert-firing' && alert.unmappedSeverity !== null ? { unmappedSeverity: alert.unmappedSeverity, took: alert.severity } : {};
    await ctx.tx.appendTimeline({ incidentId: incident.id, at: ctx.now, kind, actor: ctx.caller, data: alertData(alert, { ...extra, ...unmapped }) });
  }

  // ---- storms --------------------------------------------------------------------------------

  /** currentStorm: the team's active storm, ending it first when its quiet window has passed. */
  private async currentStorm(ctx: UseCaseContext, integration: IntegrationConfig): Promise<StormRow | null> {
    const storm = await ctx.tx.activeStorm(ctx.team.id);
    if (!storm) return null;
    if (storm.lastAt.plus({ milliseconds: this.windowOf(storm, integration) }) > ctx.now) return storm;
    await this.endStorm(ctx, storm);
    return null;
  }

  private async startStorm(ctx: UseCaseContext, integration: IntegrationConfig, anchor: Incident): Promise<void> {
    const { tx, now, team } = ctx;
    const member = (await onCallNow(this.policies, tx, team, now)).member;
    const since = now.minus({ milliseconds: integration.storm.windowMs });
    const count = await tx.countIncidentsSince(team.id, INTEGRATION_SOURCE, since);
    const storm = await tx.insertStorm({
      team: team.id, member, integration: integration.id, startedAt: now, lastAt: now, incidents: count, version: 1, endedAt: null, severity: anchor.severity,
    });
    await tx.appendTimeline({ incidentId: anchor.id, at: now, kind: 'storm', actor: null, data: { storm: storm.id, started: true } });
    this.tellSummary(ctx, storm, integration, rt`Latest: ${incidentHeadline(anchor)}`);
    ctx.tell({
      key: `storm:${storm.id}:start:${recipientKey({ kind: 'channel', team: team.id })}`,
      recipient: { kind: 'channel', team: team.id },
      message: message('incident-record', rt`Alert storm: ${count} new incidents from ${integration.name} within ${formatDuration(integration.storm.windowMs)}. ${memberName(this.world, member)} gets one summary; further incidents open without paging until it calms down.`),
      incidentId: null,
      role: 'channel',
    });
    await this.scheduleStormEnd(tx, storm, integration.storm.windowMs);
  }

  /**
   * growStorm: `count` more incidents. The storm's count is exact at once; its on-call's summary
   * shows it at the end of the current STORM_SUMMARY_EVERY_MS slot (one durable timer per slot, so
   * a kill loses no update), and the storm's end timer moves on when it fires (onStormTimer).
   */
  private async growStorm(ctx: UseCaseContext, storm: StormRow, count = 1, severity: Severity = storm.severity ?? 'sev1'): Promise<StormRow> {
    const grown: StormRow = { ...storm, incidents: storm.incidents + count, version: storm.version + 1, lastAt: ctx.now, severity: storm.severity === null ? null : severity };
    await ctx.tx.updateStorm(grown);
    const slot = Math.floor(ctx.now.toMillis() / STORM_SUMMARY_EVERY_MS);
    const dueOf = (n: number) => (n + 1) * STORM_SUMMARY_EVERY_MS;
    // On a store one process serves, a slot this process scheduled (committed) tells this growth:
    // its timer is claimed in a transaction of its own, after this one commits, and cannot be due
    // yet while its due time is ahead on this clock. That saves two statements for most chunks of a
    // big request. Replicas (PostgreSQL) may fire it meanwhile: they always ask.
    const known = this.store.singleProcess === true ? this.summarySlots.get(storm.id) : undefined;
    if (known !== undefined && known >= slot && this.clock.now().toMillis() < dueOf(known) - SUMMARY_CLOCK_MARGIN_MS) return grown;
    const summaryIn = (n: number) => ctx.tx.scheduleTimer({
      key: `storm:${storm.id}:summary:${n}`, kind: STORM_SUMMARY_TIMER,
      dueAt: DateTime.fromMillis(dueOf(n), { zone: 'utc' }), payload: { storm: storm.id },
    });
    // The slot's timer may exist and have fired already (a transaction that waited, another
    // replica's clock): then the next slot tells this growth.
    let told = slot;
    if (!(await summaryIn(slot))) {
      await summaryIn(slot + 1);
      told = slot + 1;
    }
    ctx.tx.afterCommit(() => this.summarySlots.set(storm.id, Math.max(told, this.summarySlots.get(storm.id) ?? told)));
    return grown;
  }

  /** onSummaryTimer: the summary of a storm that grew, as it stands now (its newest incident named). */
  private async onSummaryTimer(tx: StoreTx, timer: TimerRow, now: DateTime): Promise<void> {
    // Read, not locked: the summary changes nothing of the storm. This transaction already holds
    // its timer's row (completed first), and an intake transaction that holds the storm may be
    // waiting for that row (it schedules the same summary slot): locking the storm here closed
    // the circle (PostgreSQL replicas, under a storm: "deadlock detected", the summary retried).
    const storm = await tx.getStorm(Number(timer.payload.storm), { lock: false });
    if (!storm || storm.endedAt !== null) return;
    const team = this.world.teams.get(storm.team);
    if (!team) return;
    const integration = this.byId.get(storm.integration);
    const actor: Principal = integration ? integrationPrincipal(integration) : SYSTEM;
    // The team's newest incident, named when it is one of the storm's.
    const [newest] = await tx.listIncidents({ team: team.id, limit: 1 });
    const latest = newest && newest.source === `${INTEGRATION_SOURCE}${storm.integration}` && newest.openedAt >= storm.startedAt ? newest : null;
    await this.engine.within(tx, actor, team, now, async (ctx) => {
      this.tellSummary(ctx, storm, integration, latest ? rt`Latest: ${incidentHeadline(latest)}` : rt``);
    });
  }

  private async endStorm(ctx: UseCaseContext, storm: StormRow): Promise<void> {
    this.summarySlots.delete(storm.id);
    const ended: StormRow = { ...storm, endedAt: ctx.now, version: storm.version + 1 };
    await ctx.tx.updateStorm(ended);
    await ctx.tx.cancelTimers(`storm:${storm.id}:`);
    const integration = this.byId.get(storm.integration);
    this.tellSummary(ctx, ended, integration, rt`The storm is over: no new incident since ${clock(storm.lastAt, ctx.team.timeZone)}. The incidents stay open until resolved ("incident list").`);
    ctx.tell({
      key: `storm:${storm.id}:end:${recipientKey({ kind: 'channel', team: storm.team })}`,
      recipient: { kind: 'channel', team: storm.team },
      message: message('incident-record', rt`Alert storm over: ${storm.incidents} incidents between ${clock(storm.startedAt, ctx.team.timeZone)} and ${clock(storm.lastAt, ctx.team.timeZone)}.`),
      incidentId: null,
      role: 'channel',
    });
  }

  /** tellSummary: the storm summary to its on-call; the first version pages, later ones update it. */
  private tellSummary(ctx: UseCaseContext, storm: StormRow, integration: IntegrationConfig | undefined, latest: RichText): void {
    const first = storm.version === 1;
    const who = memberName(this.world, storm.member);
    const from = integration?.name ?? storm.integration;
    const state = storm.endedAt === null ? 'Alert storm' : 'Alert storm (over)';
    const headline = rt`${first ? [mention(storm.member, who), ' '] : []}${state} on ${ctx.team.name}: ${storm.incidents} new incidents from ${from} since ${clock(storm.startedAt, ctx.team.timeZone)}. They open without paging you one by one; this message is updated as the storm grows.`;
    ctx.tell({
      key: `storm:${storm.id}:v${storm.version}:${recipientKey({ kind: 'member', id: storm.member })}`,
      recipient: { kind: 'member', id: storm.member },
      message: message(first ? 'page' : 'incident-update', headline, {
        lines: [latest],
        mentions: first ? [storm.member] : [],
        updateKey: `storm:${storm.id}`,
      }),
      incidentId: null,
      role: first ? 'oncall' : 'involved',
    });
  }

  /** scheduleStormEnd: the storm's end, a window after its last incident (one key per due time: keys are unique for ever). */
  private async scheduleStormEnd(tx: StoreTx, storm: StormRow, windowMs: number): Promise<void> {
    const due = storm.lastAt.plus({ milliseconds: windowMs });
    await tx.scheduleTimer({ key: `storm:${storm.id}:end:at${due.toMillis()}`, kind: STORM_TIMER, dueAt: due, payload: { storm: storm.id } });
  }

  private async onStormTimer(tx: StoreTx, timer: TimerRow, now: DateTime): Promise<void> {
    const storm = await tx.getStorm(Number(timer.payload.storm));
    if (!storm || storm.endedAt !== null) return;
    const team = this.world.teams.get(storm.team);
    const integration = this.byId.get(storm.integration);
    if (!team) return;
    const window = this.windowOf(storm, integration);
    if (storm.lastAt.plus({ milliseconds: window }) > now) {
      await this.scheduleStormEnd(tx, storm, window); // grew since this timer was set
      return;
    }
    const actor: Principal = integration ? integrationPrincipal(integration) : SYSTEM;
    await this.engine.within(tx, actor, team, now, (ctx) => this.endStorm(ctx, storm));
  }

  private windowOf(storm: StormRow, integration: IntegrationConfig | undefined): number {
    return (integration ?? this.byId.get(storm.integration))?.storm.windowMs ?? 5 * 60_000;
  }
}

/** alertData: the data of an alert-firing or alert-resolved timeline event. */
function alertData(alert: NormalizedAlert, extra: Record<string, unknown>): Record<string, unknown> {
  return { alert: alert.alertKey, summary: alert.title, url: alert.url, ...extra };
}

/** clock: an instant as the team reads it ("Wed 08:31 GMT+1"), in a note everyone of the team sees. */
function clock(at: DateTime, zone: string): string {
  return at.setZone(zone).toFormat('ccc HH:mm ZZZZ');
}


/** FlatAlert: an alert of a batch, and its key in the store (one object for both: a busy webhook makes ten a request). */
interface FlatAlert extends IntakeAlertKey {
  readonly config: IntegrationConfig;
  readonly alert: NormalizedAlert;
}

function flatten(batch: readonly Slice[]): FlatAlert[] {
  const flat: FlatAlert[] = [];
  for (const slice of batch) {
    const config = slice.integration;
    for (const alert of slice.alerts) flat.push({ integration: config.id, fingerprint: alert.fingerprint, alertKey: alert.alertKey, config, alert });
  }
  return flat;
}

function groupKey(integration: IntegrationConfig, alert: NormalizedAlert): string {
  return `${integration.id}\u0000${alert.fingerprint}`;
}

/** A group in a repeat plan: its count, its first alert's, and its other alerts' by alert key. */
interface PlannedGroup {
  readonly group: IntakeGroupRepeat & { n: number };
  readonly first: IntakeRepeat & { n: number };
  more: Map<string, IntakeRepeat & { n: number }> | null;
}

/**
 * repeatPlan: which alerts of a batch are plain repeats (firing, stored as firing since the same
 * startsAt, the group has its incident), and their counts per alert and per group. Every alert of
 * a group that has any other kind of alert in the batch is not a repeat: it takes the full path,
 * in order. Groups and alerts are told apart by nested maps (see PairMap): no key string is built.
 */
function repeatPlan(flat: readonly FlatAlert[], known: readonly KnownIntakeAlert[]): IntakeRepeatPlan & { readonly repeat: boolean[] } {
  const repeat = flat.map(({ alert }, i) => {
    const k = known[i];
    return alert.status === 'firing' && k?.status === 'firing' && k.startsAt === alert.startsAt && k.incidentId !== null;
  });
  let slowGroups: PairMap<true> | null = null;
  flat.forEach(({ integration, alert }, i) => {
    if (!repeat[i]) (slowGroups ??= new PairMap()).set(integration, alert.fingerprint, true);
  });
  // By group: its count and its first alert's (most groups have one alert: an Alertmanager group
  // is one fingerprint), further alerts of a group in `more`.
  const groups = new PairMap<PlannedGroup>();
  const alertList: Array<IntakeRepeat & { n: number }> = [];
  const groupList: Array<IntakeGroupRepeat & { n: number }> = [];
  flat.forEach(({ integration, alert }, i) => {
    if (!repeat[i] || (slowGroups !== null && (slowGroups as PairMap<true>).has(integration, alert.fingerprint))) {
      repeat[i] = false;
      return;
    }
    const g = groups.get(integration, alert.fingerprint);
    if (g === undefined) {
      const first = { integration, fingerprint: alert.fingerprint, alertKey: alert.alertKey, n: 1, startsAt: alert.startsAt, first: i };
      const group = { integration, fingerprint: alert.fingerprint, n: 1, first: i };
      groups.set(integration, alert.fingerprint, { group, first, more: null });
      groupList.push(group);
      alertList.push(first);
      return;
    }
    g.group.n++;
    if (g.first.alertKey === alert.alertKey) {
      g.first.n++;
      return;
    }
    g.more ??= new Map();
    const a = g.more.get(alert.alertKey);
    if (a) a.n++;
    else {
      const entry = { integration, fingerprint: alert.fingerprint, alertKey: alert.alertKey, n: 1, startsAt: alert.startsAt, first: i };
      g.more.set(alert.alertKey, entry);
      alertList.push(entry);
    }
  });
  return { repeat, alerts: alertList, groups: groupList };
}
