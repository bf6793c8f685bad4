/**
 * ShiftWatch turns rotation boundaries into durable timers, so plugins hear about every shift
 * change (onShiftChange) exactly once, also across restarts: a boundary passed while the process was
 * down fires at the next start, late. Each firing schedules the next boundary; a rotation change
 * (override, swap, absence) schedules the new next boundary too. Timer keys are the boundary
 * instant, so two chains that meet collapse into one; a boundary that no longer changes who is on
 * call (an override moved it) fires and does nothing.
 *
 * At a change it also hands over open work (unless the team's `escalation.handoff` is "keep"): the
 * outgoing on-call's unacknowledged incidents move to the incoming one (IncidentService.handOver),
 * and an incoming on-call who has the shift through an override, a swap or someone's absence is
 * told again now that it starts.
 */
import { createHash } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { DateTime } from 'luxon';
import { SYSTEM } from '../core/incident/types';
import type { MemberId, Team, World } from '../core/model';
import { memberName } from '../core/messages/incident-views';
import { message } from '../core/messages/message';
import { mention, rt } from '../core/text/rich-text';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { Store, StoreTx, TimerRow } from '../ports/store';
import { Engine } from './engine';
import { IncidentService } from './incident-service';
import { recipientKey, type Notification } from './notifications';
import { absenceKey, PluginHost } from './plugin-host';
import { PolicyBook } from './policies';
import { nextHandoffAfter, nominalOnCall, onCallNow, rotationStateFor, shiftsGainedThrough, type ShiftChangeOfHands } from './rotation-reader';
import { TOKENS } from './tokens';
import type { UseCaseContext } from './context';
import type { Shift } from '../core/rotation/types';
import { ZONED_TIME } from '../core/time/zones';

export const SHIFT_TIMER = 'shift-change';
/** The next part of a shift change's handover (see IncidentService.handOver): due at once. */
export const HANDOVER_TIMER = 'shift-handover';

/** DECLARED_ABSENCES: kv namespace and key of the absences stored for plugins' declarations (time_off). */
const DECLARED = { namespace: 'rotation', key: 'declared-absences' } as const;

/** awayWords: "Alice, who is away", or "people who are away" when they cover for several. */
function awayWords(world: World, gains: readonly ShiftChangeOfHands[]): string {
  const away = [...new Set(gains.map((g) => g.from))];
  return away.length === 1 ? `${memberName(world, away[0] as string)}, who is away` : 'people who are away';
}

/**
 * gainedShiftNotices: the messages to whoever gains shifts through someone's absence: one per
 * member, however many shifts they gain (an absence of three weeks, or several declared at once,
 * used to send one message per shift).
 */
export function gainedShiftNotices(world: World, gains: readonly ShiftChangeOfHands[], cause: string): Notification[] {
  const byMember = new Map<string, ShiftChangeOfHands[]>();
  for (const g of gains) byMember.set(g.shift.member, [...(byMember.get(g.shift.member) ?? []), g]);
  return [...byMember].map(([member, mine]) => {
    const sorted = [...mine].sort((a, b) => a.shift.start.toMillis() - b.shift.start.toMillis());
    const when = (g: ShiftChangeOfHands, at: DateTime) => at.setZone(g.team.timeZone).toFormat(ZONED_TIME);
    const first = sorted[0] as ShiftChangeOfHands;
    const who = mention(member, memberName(world, member));
    const text = sorted.length === 1
      ? rt`${who} you are on call for ${first.team.name} from ${when(first, first.shift.start)} to ${when(first, first.shift.end)}, covering for ${memberName(world, first.from)}, who is away. You will be reminded when the shift starts.`
      : rt`${who} you are on call for ${String(sorted.length)} more shifts, covering for ${awayWords(world, sorted)}. You will be reminded when each starts:`;
    return {
      key: `gain:${cause}:${first.team.id}:${first.shift.start.toMillis()}:${sorted.length}:${recipientKey({ kind: 'member', id: member })}`,
      recipient: { kind: 'member', id: member },
      message: message('notice', text, {
        mentions: [member],
        lines: sorted.length === 1 ? [] : sorted.map((g) => rt`${g.team.name}: ${when(g, g.shift.start)} to ${when(g, g.shift.end)}, covering for ${memberName(world, g.from)}`),
      }),
      incidentId: null,
      role: 'member' as const,
      dueBy: first.shift.start,
    };
  });
}


@injectable()
export class ShiftWatch {
  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(Engine) private readonly engine: Engine,
    @inject(PluginHost) private readonly plugins: PluginHost,
    @inject(IncidentService) private readonly incidents: IncidentService,
    @inject(PolicyBook) private readonly policies: PolicyBook,
    @inject(TOKENS.Logger) private readonly log: Logger,
  ) {}

  /**
   * ensureScheduled (called at start): the absences plugins declare (quiet-hours time_off) are
   * stored like `oncall away` ones, those no longer declared are removed, and every team has its
   * next boundary as a timer.
   */
  async ensureScheduled(): Promise<void> {
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      // Time off that starts (or started) by now changes who is on call at once (see changedNow).
      const before = await this.onCallEverywhere(tx, now);
      await this.syncDeclaredAbsences(tx, now);
      for (const team of this.world.teams.values()) {
        await this.engine.within(tx, SYSTEM, team, now, (ctx) => this.changedNow(ctx, team, before.get(team.id)));
        await this.scheduleNext(tx, team, now);
      }
      await this.adoptOrphans(tx, now);
    });
  }

  /**
   * adoptOrphans (at start): incidents held by someone no longer in the config (removed, or their
   * id renamed) would page nobody and name a stranger in the unowned alert. The unacknowledged ones
   * go to their team's on-call, who is paged, as at a handoff; the acknowledged ones stay (somebody
   * took them on) and are named in a warning with the command that hands them on.
   */
  private async adoptOrphans(tx: StoreTx, now: DateTime): Promise<void> {
    const active = await tx.listIncidents({ states: ['open', 'acknowledged'] });
    const orphans = active.filter((i) => !this.world.members.has(i.assignee));
    if (orphans.length === 0) return;
    for (const team of this.world.teams.values()) {
      const mine = orphans.filter((i) => i.team === team.id);
      const acked = mine.filter((i) => i.state === 'acknowledged');
      if (acked.length > 0) {
        this.log.warn('acknowledged incidents are held by someone no longer in the config; hand them on', {
          team: team.id, incidents: acked.map((i) => `#${i.id} (${i.assignee})`).join(', '), fix: `incident assign ${acked[0]?.id ?? 'ID'} MEMBER`,
        });
      }
      const gone = [...new Set(mine.filter((i) => i.state === 'open').map((i) => i.assignee))];
      if (gone.length === 0) continue;
      const incoming = (await onCallNow(this.policies, tx, team, now)).member;
      this.log.warn('unacknowledged incidents were held by someone no longer in the config: they go to the on-call', { team: team.id, from: gone.join(', '), to: incoming });
      await this.engine.within(tx, SYSTEM, team, now, async (ctx) => {
        for (const [i, outgoing] of gone.entries()) {
          const rest = await this.incidents.handOver(ctx, team, outgoing, incoming);
          // Each one's rest under a key of its own (the key names an instant: one ms apart, and
          // apart from a handover changedNow started at this instant).
          await this.continueLater(tx, team, now.toMillis() + 1 + i, outgoing, rest, 1, now);
        }
      });
    }
  }

  /**
   * syncDeclaredAbsences makes the stored declared absences match the config: new ones are added
   * (whoever gains a shift through one is told at once), dropped ones deleted. The ids of those
   * stored are kept in kv so `oncall away` absences are never touched.
   */
  private async syncDeclaredAbsences(tx: StoreTx, now: DateTime): Promise<void> {
    const declared = this.plugins.absences();
    const stored = ((await tx.kvGet(DECLARED.namespace, DECLARED.key)) ?? {}) as Record<string, string>;
    const wanted = new Map(declared.map((a) => [absenceKey(a), a]));
    const next: Record<string, string> = {};
    let changed = false;
    for (const [key, id] of Object.entries(stored)) {
      if (wanted.has(key)) next[key] = id;
      else {
        await tx.deleteAbsence(id);
        changed = true;
      }
    }
    const team = [...this.world.teams.values()][0];
    // The absences added now, compared before and after all of them (overlapping time off gives a
    // shift to whoever holds it in the end); whoever gains shifts is told once, of all of them.
    const adding = [...wanted].filter(([key, a]) => next[key] === undefined && a.end > now);
    const gains: ShiftChangeOfHands[] = adding.length === 0 || !team ? [] : await shiftsGainedThrough(this.policies, tx, this.world,
      adding.map(([, a]) => a.member),
      DateTime.min(...adding.map(([, a]) => a.start)) as DateTime, DateTime.max(...adding.map(([, a]) => a.end)) as DateTime, now, async () => {
        for (const [key, a] of adding) next[key] = (await tx.addAbsence({ member: a.member, start: a.start, end: a.end })).id;
      });
    if (adding.length > 0) changed = true;
    if (gains.length > 0 && team) {
      await this.engine.within(tx, SYSTEM, team, now, async (ctx) => {
        // The stored ids, not the keys: time off taken out of the config and declared again is news again.
        const cause = createHash('sha256').update(adding.map(([key]) => next[key]).join('\n')).digest('hex').slice(0, 16);
        for (const n of gainedShiftNotices(this.world, gains, `off:${cause}`)) ctx.tell(n);
      });
    }
    if (changed) await tx.kvSet(DECLARED.namespace, DECLARED.key, next);
  }

  /** onCallEverywhere: who is on call now in each team (before a change that may take effect at once; see changedNow). */
  async onCallEverywhere(tx: StoreTx, now: DateTime): Promise<Map<string, Shift>> {
    const out = new Map<string, Shift>();
    for (const team of this.world.teams.values()) out.set(team.id, await onCallNow(this.policies, tx, team, now));
    return out;
  }

  /**
   * changedNow: an override, a swap or an absence (`oncall away`, time_off) that takes effect at
   * once changed who is on call now. No boundary ahead fires for that (the change is not after
   * now), so the shift change happens here, as at a boundary: plugins hear of it, and the
   * outgoing on-call's unacknowledged incidents move to the incoming one, who is paged for them
   * (unless the team's handoff is "keep"). Before, they stayed with someone marked away: the
   * reminders went to them and the covering on-call never heard of the incidents.
   */
  async changedNow(ctx: UseCaseContext, team: Team, outgoing: Shift | undefined): Promise<void> {
    if (!outgoing) return;
    const incoming = await onCallNow(this.policies, ctx.tx, team, ctx.now);
    if (incoming.member === outgoing.member) return;
    await this.plugins.onShiftChange({ team, at: ctx.now, outgoing, incoming }, (plugin) => this.plugins.buildCall(plugin, ctx.tx, ctx.now, ctx.tell));
    await this.handOver(ctx, team, outgoing.member, incoming.member, ctx.now.toMillis());
  }

  /**
   * handOver: unless the team's handoff is "keep", the outgoing on-call's unacknowledged incidents
   * move to the incoming one (the first part now, the rest as timers keyed by `at`).
   */
  private async handOver(ctx: UseCaseContext, team: Team, outgoing: MemberId, incoming: MemberId, at: number): Promise<void> {
    if ((team.escalation.handoff ?? 'reassign') !== 'reassign') return;
    const rest = await this.incidents.handOver(ctx, team, outgoing, incoming);
    await this.continueLater(ctx.tx, team, at, outgoing, rest, 1, ctx.now);
  }

  /** scheduleNext: the first boundary after `after` where the on-call member changes. */
  async scheduleNext(tx: StoreTx, team: Team, after: DateTime): Promise<void> {
    const next = await nextHandoffAfter(this.policies, tx, team, after);
    if (!next) return;
    await tx.scheduleTimer({ key: `shift:${team.id}:${next.at.toMillis()}`, kind: SHIFT_TIMER, dueAt: next.at.toUTC(), payload: { team: team.id, at: next.at.toMillis() } });
  }

  /**
   * continueLater: the handover's next part, a durable timer due now (kill-safe: this transaction
   * moves its part and schedules the rest, or neither happened), so every other writer, a page
   * first of all, gets the store between two parts.
   */
  private async continueLater(tx: StoreTx, team: Team, at: number, outgoing: string, ids: readonly number[], part: number, now: DateTime): Promise<void> {
    if (ids.length === 0) return;
    await tx.scheduleTimer({
      key: `handover:${team.id}:${at}:${part}`, kind: HANDOVER_TIMER, dueAt: now,
      payload: { team: team.id, at, outgoing, ids: [...ids], part },
    });
  }

  /** continueHandOver: the timer handler of a handover's next part. */
  async continueHandOver(tx: StoreTx, timer: TimerRow, now: DateTime): Promise<void> {
    const team = this.world.teams.get(String(timer.payload.team));
    const ids = timer.payload.ids;
    if (!team || !Array.isArray(ids)) return;
    const outgoing = String(timer.payload.outgoing);
    // Whoever is on call now, not that change's incoming: another shift change may have passed
    // since (both due at once after a restart), and its handover did not see these incidents.
    const incoming = (await onCallNow(this.policies, tx, team, now)).member;
    if (incoming === outgoing) return; // on call again: what is left stays theirs
    await this.engine.within(tx, SYSTEM, team, now, async (ctx) => {
      const rest = await this.incidents.continueHandOver(ctx, team, outgoing, incoming, ids.map(Number));
      await this.continueLater(tx, team, Number(timer.payload.at), outgoing, rest, Number(timer.payload.part) + 1, now);
    });
  }

  /** fire: the timer handler. Runs plugins' onShiftChange when the member really changes. */
  async fire(tx: StoreTx, timer: TimerRow, now: DateTime): Promise<void> {
    const team = this.world.teams.get(String(timer.payload.team));
    if (!team) return;
    const at = DateTime.fromMillis(Number(timer.payload.at), { zone: team.timeZone });
    const state = await rotationStateFor(this.policies, tx, team, at.minus({ weeks: 8 }), at.plus({ weeks: 8 }));
    const outgoing = this.policies.onCallAt(team, state, at.minus({ milliseconds: 1 }));
    const incoming = this.policies.onCallAt(team, state, at);
    if (outgoing.member !== incoming.member) {
      await this.engine.within(tx, SYSTEM, team, now, async (ctx) => {
        await this.plugins.onShiftChange({ team, at, outgoing, incoming }, (plugin) => this.plugins.buildCall(plugin, ctx.tx, now, ctx.tell));
        const nominal = nominalOnCall(this.policies, team, at);
        if (incoming.override || nominal !== incoming.member) {
          const covering = nominal !== incoming.member ? `, covering for ${memberName(this.world, nominal)}` : '';
          const member = incoming.member;
          ctx.tell({
            key: `shift-start:${team.id}:${at.toMillis()}:${recipientKey({ kind: 'member', id: member })}`,
            recipient: { kind: 'member', id: member },
            message: message('notice', rt`${mention(member, memberName(this.world, member))} your ${team.name} shift starts now${covering}: you are on call until ${incoming.end.setZone(team.timeZone).toFormat(ZONED_TIME)}.`, { mentions: [member] }),
            incidentId: null,
            role: 'member',
          });
        }
        await this.handOver(ctx, team, outgoing.member, incoming.member, at.toMillis());
      });
    }
    await this.scheduleNext(tx, team, at);
  }
}
