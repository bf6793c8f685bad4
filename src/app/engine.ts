/**
 * Engine runs use cases atomically: one store transaction in which the use case reads state,
 * decides, writes, and collects notifications. Before the notifications become outbox rows (in the
 * same transaction), every enabled plugin may deliver, defer, drop or skip each one; what they
 * decide about an incident's notification is written to its timeline, so interruptions prevented
 * are visible and countable. A Refusal rolls everything back and becomes the caller's reply.
 */
import { inject, injectable } from 'inversify';
import { errorText } from '../core/text/error-text';
import type { DateTime } from 'luxon';
import type { Principal, TimelineEvent } from '../core/incident/types';
import type { Team, World } from '../core/model';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { NotifyDecision } from '../ports/plugin';
import type { Store, StoreTx } from '../ports/store';
import { AdapterRegistry } from './adapters';
import { Metrics } from './metrics';
import type { UseCaseContext } from './context';
import { channelFallback, isUrgent, planDeliveries, type Notification } from './notifications';
import { PluginHost } from './plugin-host';
import { TOKENS } from './tokens';
import { Unreached } from './unreached';

@injectable()
export class Engine {
  constructor(
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(AdapterRegistry) private readonly adapters: AdapterRegistry,
    @inject(PluginHost) private readonly plugins: PluginHost,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(TOKENS.World) private readonly world: World,
    @inject(Metrics) private readonly metrics: Metrics,
    @inject(Unreached) private readonly unreachedPages: Unreached,
  ) {}

  /**
   * run executes `fn` in one transaction at the clock's current instant. What it counts (metrics)
   * is counted once the transaction committed (see within).
   */
  run<T>(caller: Principal, team: Team, fn: (ctx: UseCaseContext) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    return this.store.transaction((tx) => this.within(tx, caller, team, now, fn));
  }

  /** read runs a plain read in its own transaction: no plugins, no notifications. */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.store.transaction(fn);
  }

  /**
   * within runs `fn` inside an existing transaction (timer handlers, the intake). What it counts
   * (metrics) is counted once that transaction committed (StoreTx.afterCommit): not for a run the
   * store rolled back and ran again, nor for a replayed command's run, which rolls back.
   */
  async within<T>(tx: StoreTx, caller: Principal, team: Team, now: DateTime, fn: (ctx: UseCaseContext) => Promise<T>): Promise<T> {
    const tally = (count: () => void): void => {
      tx.afterCommit(() => {
        try {
          count();
        } catch (err) {
          this.log.warn('a metric could not be counted', { error: errorText(err) });
        }
      });
    };
    const outgoing: Notification[] = [];
    const decided = new Map<string, NotifyDecision & { plugin?: string }>();
    const events: TimelineEvent[] = [];
    const tell = (n: Notification): void => {
      outgoing.push(n);
    };
    const call = (plugin: string) => this.plugins.buildCall(plugin, tx, now, tell);
    // The use case's tx, with timeline appends observed (bound methods keep the store's own `this`).
    const appendTimeline: StoreTx['appendTimeline'] = async (e) => {
      const saved = await tx.appendTimeline(e);
      events.push(saved);
      return saved;
    };
    const watched = new Proxy(tx, {
      get: (target, prop, receiver) => {
        if (prop === 'appendTimeline') return appendTimeline;
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const ctx: UseCaseContext = {
      tx: watched, now, caller, team, tell,
      decide: async (n) => {
        const known = decided.get(n.key);
        if (known) return known;
        const decision = n.recipient.kind === 'channel' ? { action: 'deliver' as const } : await this.plugins.decide(n, call);
        decided.set(n.key, decision);
        return decision;
      },
      insist: (n, reason) => {
        const decision = { action: 'deliver' as const, reason };
        decided.set(n.key, decision);
        return decision;
      },
      availableAt: async (member, about) => {
        const at = await this.plugins.availableAt(member, about, call);
        return at !== null && at > now ? at : null;
      },
    };
    const result = await fn(ctx);

    // Plugins see every timeline event of the use case (they may add notifications).
    if (this.plugins.watchesIncidentEvents) {
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as TimelineEvent;
        const incident = await tx.getIncident(event.incidentId);
        if (incident) await this.plugins.onIncidentEvent(event, incident, call);
      }
    }

    const deliverNow: Notification[] = [];
    for (let i = 0; i < outgoing.length; i++) {
      const n = outgoing[i] as Notification;
      const decision = await ctx.decide(n);
      if (decision.action === 'deliver') {
        deliverNow.push(n);
        if (decision.reason && n.incidentId !== null) await this.record(tx, now, n, 'notification-bypassed', decision);
      } else {
        if (decision.action === 'defer' || decision.action === 'drop') {
          for (const a of this.adapters.reaching(n.recipient)) tally(() => this.metrics.delivery(a.name, n.message.kind, decision.action === 'defer' ? 'deferred' : 'dropped'));
        }
        if (n.incidentId === null) continue;
        const kind = decision.action === 'defer' ? 'notification-deferred' : decision.action === 'drop' ? 'notification-dropped' : 'notification-skipped';
        await this.record(tx, now, n, kind, decision);
      }
    }
    if (deliverNow.length > 0) {
      const rows = planDeliveries(this.adapters, deliverNow, now);
      const unplanned = deliverNow.filter((n) => !rows.some((r) => r.key.startsWith(`${n.key}@`)));
      for (const n of unplanned) {
        if (n.recipient.kind === 'member') rows.push(...(await this.unreachable(tx, now, n)));
        else if (n.recipient.kind === 'channel') rows.push(...(await this.noChannel(tx, now, n)));
      }
      for (const n of deliverNow) {
        if (n.recipient.kind === 'channel' && !unplanned.includes(n)) rows.push(...(await this.unpinged(tx, now, n, rows)));
      }
      await tx.enqueueAll(rows);
    }
    await this.count(tx, events, tally);
    return result;
  }

  /** count reports escalation steps and acknowledgements of the use case to the metrics. */
  private async count(tx: StoreTx, events: readonly TimelineEvent[], tally: (count: () => void) => void): Promise<void> {
    for (const e of events) {
      if (e.kind === 'escalated') tally(() => this.metrics.escalationStep(e.data.target === 'lead' ? 'lead' : 'mentor', e.data.manual === true ? 'manual' : 'auto'));
      else if (e.kind === 'notified' && e.data.step === 'reminder') tally(() => this.metrics.escalationStep('reminder', 'auto'));
      else if (e.kind === 'acknowledged') {
        const incident = await tx.getIncident(e.incidentId);
        const since = (await tx.timeline(e.incidentId)).filter((t) => t.seq < e.seq && (t.kind === 'reported' || t.kind === 'reopened')).pop()?.at ?? incident?.openedAt;
        if (incident && since) tally(() => this.metrics.acknowledged(incident.severity, e.at.diff(since).as('seconds')));
      }
    }
  }

  /**
   * unreachable: no running platform knows this member (no identity for it in the config). A page
   * must not vanish: it goes to the team channel, and the timeline says why. But a member no
   * platform knows cannot be mentioned there either (their name is plain text, it pings nobody),
   * so the page reached nobody all the same (see Unreached: the chain moves on now, /healthz and
   * the log say so, with the fix); with no team channel on a running platform, not even that.
   */
  private async unreachable(tx: StoreTx, now: DateTime, n: Notification): Promise<ReturnType<typeof planDeliveries>> {
    const member = n.recipient.kind === 'member' ? n.recipient.id : '';
    const running = this.adapters.all().map((a) => a.name).join(', ') || 'none';
    const reason = `no running chat platform can reach ${member} (platforms: ${running}); link them in the config (members[].${this.adapters.all()[0]?.name ?? 'discord'})`;
    this.log.warn('member unreachable', { member, key: n.key });
    if (n.incidentId === null) return [];
    const incident = await tx.getIncident(n.incidentId);
    if (!incident) return [];
    const fallback = channelFallback({ ...n, incidentId: incident.id }, member, this.world.members.get(member)?.name ?? member, incident.team);
    const rows = fallback ? planDeliveries(this.adapters, [fallback], now) : [];
    if (fallback && rows.length === 0) {
      await this.unreachedPages.record(tx, { incidentId: incident.id, member, kind: n.message.kind, madeAt: now, reason: `${reason}; and the team has no channel on a running platform (teams[].channels)` }, now);
      return [];
    }
    await tx.appendTimeline({ incidentId: incident.id, at: now, kind: fallback ? 'delivery-fallback' : 'delivery-failed', actor: null, data: { member, reason } });
    if (fallback) {
      await this.unreachedPages.record(tx, { incidentId: incident.id, member, kind: n.message.kind, madeAt: now, reason: `${reason}; the team channel has the page, but it cannot ping ${member} there` }, now);
    }
    return rows;
  }

  /**
   * noChannel: a team channel post no running platform can take (the team has no channel there).
   * An urgent one (the unowned-incident alert) goes to the people it mentions directly instead;
   * whoever of them no platform reaches either, it reached nobody (see Unreached). Other posts
   * (records, notices) are the channel's own: a team without a channel does without them.
   */
  private async noChannel(tx: StoreTx, now: DateTime, n: Notification): Promise<ReturnType<typeof planDeliveries>> {
    if (!isUrgent(n.message) || n.incidentId === null || n.key.startsWith('fallback:')) return [];
    const team = n.recipient.kind === 'channel' ? n.recipient.team : '';
    return this.direct(tx, now, n, n.message.mentions ?? [], `team ${team} has no channel on a running platform (teams[].channels)`, false);
  }

  /**
   * unpinged: an urgent team channel post (the unowned-incident alert) that goes out only on
   * platforms that do not know some of the people it mentions (a channel on Teams, the lead linked
   * on Discord alone): their name is plain text there, it notifies nobody. Those people get it
   * directly, as when the team has no channel at all. A page's stand-in is not re-sent: it was
   * counted as reaching nobody when planned (unreachable, DeliveryWorker.fallBack).
   */
  private async unpinged(tx: StoreTx, now: DateTime, n: Notification, rows: ReturnType<typeof planDeliveries>): Promise<ReturnType<typeof planDeliveries>> {
    if (!isUrgent(n.message) || n.incidentId === null || n.key.startsWith('fallback:')) return [];
    const via = rows.filter((r) => r.key.startsWith(`${n.key}@`)).map((r) => this.adapters.get(r.adapter)).filter((a) => a !== undefined);
    const missed = (n.message.mentions ?? []).filter((member) => !via.some((a) => a.canReach({ kind: 'member', id: member })));
    if (missed.length === 0) return [];
    const team = n.recipient.kind === 'channel' ? n.recipient.team : '';
    const names = via.map((a) => a.name).join(', ');
    return this.direct(tx, now, n, missed, `team ${team}'s channel is only on ${names}, where ${missed.join(', ')} ${missed.length === 1 ? 'is' : 'are'} not linked (members[].${via[0]?.name ?? 'discord'}): the post cannot ping them there`, true);
  }

  /** direct: an urgent channel post goes to `people` (members it mentions) directly; whoever no platform reaches, it reached nobody (see Unreached). */
  private async direct(tx: StoreTx, now: DateTime, n: Notification, people: readonly string[], reason: string, posted: boolean): Promise<ReturnType<typeof planDeliveries>> {
    if (n.incidentId === null) return [];
    const team = n.recipient.kind === 'channel' ? n.recipient.team : '';
    const rows: ReturnType<typeof planDeliveries> = [];
    for (const member of people) {
      const direct: Notification = { ...n, key: `${n.key}:dm:${member}`, recipient: { kind: 'member', id: member }, message: { ...n.message, mentions: [member] }, role: 'member' };
      const planned = planDeliveries(this.adapters, [direct], now);
      if (planned.length === 0) await this.unreachedPages.record(tx, { incidentId: n.incidentId, member, kind: n.message.kind, madeAt: now, reason: `${reason}, and no running platform can reach ${member} directly` }, now);
      rows.push(...planned);
    }
    if (people.length === 0) await this.unreachedPages.record(tx, { incidentId: n.incidentId, member: null, kind: n.message.kind, madeAt: now, reason: `${reason}, and the post mentions nobody to tell directly` }, now);
    else if (rows.length > 0) {
      this.log.warn(posted ? 'team channel cannot ping them: the urgent post also goes to them directly' : 'team channel unreachable: the urgent post goes to the people it mentions', { team, incident: n.incidentId, members: people });
      await tx.appendTimeline({ incidentId: n.incidentId, at: now, kind: 'channel-unreachable', actor: null, data: { team, reason, members: people, posted } });
    }
    return rows;
  }

  private async record(tx: StoreTx, now: DateTime, n: Notification, kind: string, d: NotifyDecision & { plugin?: string }): Promise<void> {
    await tx.appendTimeline({
      incidentId: n.incidentId as number,
      at: now,
      kind,
      actor: null,
      data: {
        member: n.recipient.kind === 'member' ? n.recipient.id : null,
        role: n.role ?? 'member',
        reason: d.reason ?? null,
        until: d.action === 'defer' ? d.until.toUTC().toISO() : null,
        plugin: d.plugin ?? null,
      },
    });
  }
}
