/**
 * OncallService holds the rotation use cases: who, schedule, override, swap, away. Changes are
 * told only to the members whose shifts they change.
 */
import { inject, injectable } from 'inversify';
import { maybeMeant } from '../config/problems';
import type { DateTime } from 'luxon';
import type { IntegrationConfig } from '../config/types';
import { isTeamMember } from '../core/incident/permissions';
import { memberName } from '../core/messages/incident-views';
import { message, type Message } from '../core/messages/message';
import { shiftNote } from '../core/messages/shift-notes';
import type { MemberId, Team, World } from '../core/model';
import type { Shift } from '../core/rotation/types';
import { mention, rt } from '../core/text/rich-text';
import { Refusal, type UseCaseContext } from './context';
import { recipientKey } from './notifications';
import { PolicyBook } from './policies';
import { nextHandoffAfter, nominalOnCall, onCallNow, shadowNow, shadowsBetween, shiftsBetween, shiftsGainedThrough } from './rotation-reader';
import { gainedShiftNotices, ShiftWatch } from './shift-watch';
import { addMaintenance } from './maintenance';
import { TOKENS } from './tokens';
import { ZONED_TIME } from '../core/time/zones';



@injectable()
export class OncallService {
  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(ShiftWatch) private readonly shiftWatch: ShiftWatch,
    @inject(TOKENS.Integrations) private readonly integrations: readonly IntegrationConfig[],
    @inject(PolicyBook) private readonly policies: PolicyBook,
  ) {}

  async who(ctx: UseCaseContext): Promise<Message> {
    const { team, now } = ctx;
    const current = await onCallNow(this.policies, ctx.tx, team, now);
    const upcoming = await shiftsBetween(this.policies, ctx.tx, team, current.end, current.end.plus({ weeks: 8 }));
    const next = upcoming.find((s) => s.member !== current.member) ?? upcoming[0];
    const policy = this.policies.rotationName(team);
    const lines = [rt`Until ${this.when(team, current.end)}${shiftNote(current, policy)}${this.coveringNote(team, current)}.`];
    // Someone on call while marked away (an override put them there, they hold a gap as lead, or
    // every other member is away too): pages still go to them, so say it where it can be seen.
    const away = (await ctx.tx.listAbsences(now, now.plus({ milliseconds: 1 }))).find((a) => a.member === current.member);
    if (away) lines.push(rt`Note: ${memberName(this.world, current.member)} is marked away until ${this.when(team, away.end)}, yet on call${current.override ? ' by an override' : current.gap ? ' (the lead holds a gap in the schedule)' : ' (everyone else is away too)'}: pages go to them all the same. Set an override ("oncall override") to give the shift to someone who is here.`);
    if (next) lines.push(rt`Next: ${memberName(this.world, next.member)} from ${this.when(team, next.start)}${next.override ? '' : shiftNote(next, policy)}.`);
    const shadow = await shadowNow(this.policies, ctx.tx, team, now);
    if (shadow !== null) lines.push(rt`Shadowing: ${memberName(this.world, shadow)} (told about each page, never paged).`);
    return message('reply', rt`On call for ${team.name}: ${memberName(this.world, current.member)}`, { lines });
  }

  async schedule(ctx: UseCaseContext, weeks: number): Promise<Message> {
    if (weeks > 26) throw new Refusal('Show at most 26 weeks at a time ("oncall schedule 26").');
    const { team, now } = ctx;
    const until = now.plus({ weeks });
    const list = await shiftsBetween(this.policies, ctx.tx, team, now, until);
    // The last shift runs past the window: shown to its real end (the next change of hands), not cut.
    const last = list[list.length - 1];
    if (last && last.end.toMillis() === until.toMillis()) {
      const next = await nextHandoffAfter(this.policies, ctx.tx, team, until);
      if (next) list[list.length - 1] = { ...last, end: next.at };
    }
    const lines = list.map((s) => rt`${this.when(team, s.start)} → ${this.when(team, s.end)}  ${memberName(this.world, s.member)}${shiftNote(s, this.policies.rotationName(team))}${this.coveringNote(team, s)}`);
    const shadows = await shadowsBetween(this.policies, ctx.tx, team, now, now.plus({ weeks }));
    if (shadows.length > 0) {
      lines.push(rt`Shadowing (told about each page, never paged):`);
      for (const s of shadows) lines.push(rt`${this.when(team, s.start)} → ${this.when(team, s.end)}  ${memberName(this.world, s.member ?? '')}${s.layer ? ` (${s.layer})` : ''}`);
    }
    return message('reply', rt`Schedule for ${team.name}, next ${weeks} week${weeks === 1 ? '' : 's'} (${team.timeZone}):`, { lines });
  }

  async override(ctx: UseCaseContext, member: MemberId, start: DateTime, end: DateTime): Promise<Message> {
    this.requireMember(ctx.team, member);
    if (end <= start) throw new Refusal('The override ends before it starts; give an end after the start, or a length such as 8h.');
    if (end <= ctx.now) throw new Refusal('The override is entirely in the past; nothing would change.');
    const before = await onCallNow(this.policies, ctx.tx, ctx.team, ctx.now);
    const away = (await ctx.tx.listAbsences(start, end)).filter((a) => a.member === member);
    // Whoever would have been on call then is told they are not (not at once in their quiet hours:
    // news that they may rest does not wake them).
    const replaced = new Map<MemberId, { from: DateTime; to: DateTime }>();
    for (const s of await shiftsBetween(this.policies, ctx.tx, ctx.team, start, end)) {
      if (s.member === member || s.gap) continue;
      const from = s.start < start ? start : s.start;
      const to = s.end > end ? end : s.end;
      const seen = replaced.get(s.member);
      replaced.set(s.member, seen ? { from: seen.from < from ? seen.from : from, to: seen.to > to ? seen.to : to } : { from, to });
    }
    const created = await ctx.tx.addOverride({ team: ctx.team.id, member, start, end, createdBy: this.callerName(ctx), reason: null });
    for (const [other, span] of replaced) {
      this.tellMember(ctx, other, `ovr:${created.id}:off`, rt`${memberName(this.world, member)} is on call for ${ctx.team.name} instead of you from ${this.when(ctx.team, span.from)} to ${this.when(ctx.team, span.to)} (override by ${this.callerName(ctx)}): its pages go to them then.`);
    }
    await this.shiftWatch.changedNow(ctx, ctx.team, before);
    await this.shiftWatch.scheduleNext(ctx.tx, ctx.team, ctx.now);
    this.tellMember(ctx, member, `ovr:${created.id}`, rt`${mention(member, memberName(this.world, member))} you are on call for ${ctx.team.name} from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)} (override by ${this.callerName(ctx)}).`, start);
    const lines = away.map((a) => rt`Note: ${memberName(this.world, member)} is marked away from ${this.when(ctx.team, a.start)} to ${this.when(ctx.team, a.end)}; the override puts them on call in that time all the same (pages go to them). If that is not meant, set an override for someone else over the same time: the newest override wins.`);
    return message('reply', rt`Override set: ${memberName(this.world, member)} is on call for ${ctx.team.name} from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)}.`, { lines });
  }

  /** swap: each member covers the other's next shift (the current one counts if it is theirs). */
  async swap(ctx: UseCaseContext, a: MemberId, b: MemberId): Promise<Message> {
    this.requireMember(ctx.team, a);
    this.requireMember(ctx.team, b);
    if (a === b) throw new Refusal('Swap needs two different members.');
    const horizon = await shiftsBetween(this.policies, ctx.tx, ctx.team, ctx.now, ctx.now.plus({ weeks: 26 }));
    const shiftOf = (m: MemberId): Shift => {
      const s = horizon.find((x) => x.member === m && !x.override && !x.gap);
      if (!s) throw new Refusal(`${memberName(this.world, m)} has no rotation shift in the next 26 weeks to swap.`);
      return s;
    };
    const sa = shiftOf(a);
    const sb = shiftOf(b);
    const before = await onCallNow(this.policies, ctx.tx, ctx.team, ctx.now);
    const oa = await ctx.tx.addOverride({ team: ctx.team.id, member: b, start: sa.start, end: sa.end, createdBy: this.callerName(ctx), reason: `swap with ${a}` });
    const ob = await ctx.tx.addOverride({ team: ctx.team.id, member: a, start: sb.start, end: sb.end, createdBy: this.callerName(ctx), reason: `swap with ${b}` });
    await this.shiftWatch.changedNow(ctx, ctx.team, before);
    await this.shiftWatch.scheduleNext(ctx.tx, ctx.team, ctx.now);
    const describe = (m: MemberId, s: Shift): string => `${memberName(this.world, m)} covers ${this.when(ctx.team, s.start)} → ${this.when(ctx.team, s.end)}`;
    this.tellMember(ctx, a, `ovr:${ob.id}`, rt`Shift swap in ${ctx.team.name}: ${describe(a, sb)}; ${describe(b, sa)}.`, sb.start);
    this.tellMember(ctx, b, `ovr:${oa.id}`, rt`Shift swap in ${ctx.team.name}: ${describe(b, sa)}; ${describe(a, sb)}.`, sa.start);
    return message('reply', rt`Swapped: ${describe(b, sa)}; ${describe(a, sb)}.`);
  }

  async away(ctx: UseCaseContext, member: MemberId, start: DateTime, end: DateTime): Promise<Message> {
    this.requireMember(ctx.team, member);
    if (end <= start) throw new Refusal('The absence ends before it starts; give an end after the start, or a length such as 2w.');
    if (end <= ctx.now) throw new Refusal('The absence is entirely in the past; nothing would change.');
    let absenceId = '';
    const before = await this.shiftWatch.onCallEverywhere(ctx.tx, ctx.now);
    const gained = await shiftsGainedThrough(this.policies, ctx.tx, this.world, member, start, end, ctx.now, async () => {
      absenceId = (await ctx.tx.addAbsence({ member, start, end })).id;
    });
    for (const team of this.world.teams.values()) {
      await this.shiftWatch.changedNow(ctx, team, before.get(team.id));
      await this.shiftWatch.scheduleNext(ctx.tx, team, ctx.now);
    }
    this.tellMember(ctx, member, `abs:${absenceId}`, rt`You are marked away from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)}; the ${ctx.team.name} rotation skips you for shifts in that time.`);
    for (const n of gainedShiftNotices(this.world, gained.filter((g) => !(ctx.caller.kind === 'member' && ctx.caller.id === g.shift.member)), `abs:${absenceId}`)) ctx.tell(n);
    const covers = gained.map((g) => `${memberName(this.world, g.shift.member)} covers ${g.team.name} ${this.when(g.team, g.shift.start)} → ${this.when(g.team, g.shift.end)}`);
    return message('reply', rt`${memberName(this.world, member)} is away from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)}; overlapping shifts go to the next member in the rotation${covers.length > 0 ? ` (${covers.join('; ')}; told now and again when the shift starts)` : ''}.`);
  }

  /**
   * maintenance: until `end`, matching alerts of the team (all, or one service, or one integration's)
   * open incidents quietly: no page, listed and counted. It ends by itself; reports by people page
   * as always. The team channel gets a record that mentions nobody.
   */
  async maintenance(ctx: UseCaseContext, end: DateTime, reason: string, only: { service?: string; integration?: string }): Promise<Message> {
    if (end <= ctx.now) throw new Refusal('The maintenance window would already be over; give a length such as 2h, or an end in the future.');
    if (end > ctx.now.plus({ days: 7 })) throw new Refusal('A maintenance window lasts at most 7 days (e.g. "oncall maintenance 2h database upgrade"); set a new one when it ends.');
    const integration = only.integration?.toLowerCase();
    if (integration !== undefined) {
      const ours = this.integrations.filter((i) => i.team === ctx.team.id).map((i) => i.id);
      if (!ours.includes(integration)) {
        throw new Refusal(`"${only.integration}" is not an integration of ${ctx.team.name} (${ours.length > 0 ? `its integrations: ${ours.join(', ')}` : 'it has none: integrations[] in the config'}).`);
      }
    }
    const w = await addMaintenance(ctx.tx, ctx.team.id, ctx.now, {
      start: ctx.now, end, reason, service: only.service ?? null, integration: integration ?? null, by: this.callerName(ctx),
    });
    const scope = [w.service ? `for service ${w.service}` : null, w.integration ? `from ${w.integration}` : null].filter(Boolean).join(' ');
    const what = rt`Maintenance on ${ctx.team.name} until ${this.when(ctx.team, end)} (${this.callerName(ctx)}): ${reason}. Alerts${scope ? ` ${scope}` : ''} open incidents quietly, without paging; reports by people page as always.`;
    ctx.tell({ key: `maint:${ctx.team.id}:${w.id}:${recipientKey({ kind: 'channel', team: ctx.team.id })}`, recipient: { kind: 'channel', team: ctx.team.id }, message: message('notice', what), incidentId: null, role: 'channel' });
    return message('reply', what);
  }

  /** coveringNote: " (covering for Alice, away)" when an absence moved the shift to its member. */
  private coveringNote(team: Team, s: Shift): string {
    if (s.override || s.gap) return '';
    const nominal = nominalOnCall(this.policies, team, s.start);
    return nominal !== s.member ? ` (covering for ${memberName(this.world, nominal)}, away)` : '';
  }

  /** tellMember: a notice to `member` (not to the caller about their own doing); `dueBy`: see Notification.dueBy. */
  private tellMember(ctx: UseCaseContext, member: MemberId, key: string, text: ReturnType<typeof rt>, dueBy?: DateTime): void {
    if (ctx.caller.kind === 'member' && ctx.caller.id === member) return;
    ctx.tell({ key: `${key}:${recipientKey({ kind: 'member', id: member })}`, recipient: { kind: 'member', id: member }, message: message('notice', text, { mentions: [member] }), incidentId: null, role: 'member', ...(dueBy ? { dueBy } : {}) });
  }

  private requireMember(team: Team, member: MemberId): void {
    if (!this.world.members.has(member)) throw new Refusal(`There is no member "${member}"${maybeMeant(member, this.world.members.keys())}; member ids are in the config (members[].id).`);
    if (!isTeamMember(team, member)) {
      throw new Refusal(`${memberName(this.world, member)} is not a member of ${team.name}; add them to the team's members in the config first.`);
    }
  }

  private callerName(ctx: UseCaseContext): string {
    return ctx.caller.kind === 'member' ? memberName(this.world, ctx.caller.id) : ctx.caller.name;
  }

  private when(team: Team, at: DateTime): string {
    return at.setZone(team.timeZone).toFormat(ZONED_TIME);
  }
}
