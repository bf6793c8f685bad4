/**
 * OncallService holds the rotation use cases: who, schedule, override, swap, away. Changes are
 * told only to the members whose shifts they change.
 */
import { inject, injectable } from 'inversify';
import { DateTime } from 'luxon';
import { isTeamMember } from '../core/incident/permissions';
import { memberName } from '../core/messages/incident-views';
import { message, type Message } from '../core/messages/message';
import type { MemberId, Team, World } from '../core/model';
import type { Shift } from '../core/rotation/types';
import { mention, rt } from '../core/text/rich-text';
import { Refusal, type UseCaseContext } from './context';
import { recipientKey } from './notifications';
import { onCallNow, shiftsBetween } from './rotation-reader';
import { ShiftWatch } from './shift-watch';
import { TOKENS } from './tokens';

const FORMAT = 'ccc dd LLL HH:mm ZZZZ';

@injectable()
export class OncallService {
  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(ShiftWatch) private readonly shiftWatch: ShiftWatch,
  ) {}

  async who(ctx: UseCaseContext): Promise<Message> {
    const { team, now } = ctx;
    const current = await onCallNow(ctx.tx, team, now);
    const upcoming = await shiftsBetween(ctx.tx, team, current.end, current.end.plus({ weeks: 8 }));
    const next = upcoming.find((s) => s.member !== current.member) ?? upcoming[0];
    const lines = [rt`Until ${this.when(team, current.end)}${current.override ? ' (override)' : ''}.`];
    if (next) lines.push(rt`Next: ${memberName(this.world, next.member)} from ${this.when(team, next.start)}.`);
    return message('reply', rt`On call for ${team.name}: ${memberName(this.world, current.member)}`, { lines });
  }

  async schedule(ctx: UseCaseContext, weeks: number): Promise<Message> {
    if (weeks > 26) throw new Refusal('Show at most 26 weeks at a time ("oncall schedule 26").');
    const { team, now } = ctx;
    const list = await shiftsBetween(ctx.tx, team, now, now.plus({ weeks }));
    const lines = list.map((s) => rt`${this.when(team, s.start)} → ${this.when(team, s.end)}  ${memberName(this.world, s.member)}${s.override ? ' (override)' : ''}`);
    return message('reply', rt`Schedule for ${team.name}, next ${weeks} week${weeks === 1 ? '' : 's'} (${team.timeZone}):`, { lines });
  }

  async override(ctx: UseCaseContext, member: MemberId, start: DateTime, end: DateTime): Promise<Message> {
    this.requireMember(ctx.team, member);
    if (end <= start) throw new Refusal('The override ends before it starts; give an end after the start, or a length such as 8h.');
    if (end <= ctx.now) throw new Refusal('The override is entirely in the past; nothing would change.');
    const created = await ctx.tx.addOverride({ team: ctx.team.id, member, start, end, createdBy: this.callerName(ctx), reason: null });
    await this.shiftWatch.scheduleNext(ctx.tx, ctx.team, ctx.now);
    this.tellMember(ctx, member, `ovr:${created.id}`, rt`${mention(member, memberName(this.world, member))} you are on call for ${ctx.team.name} from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)} (override by ${this.callerName(ctx)}).`);
    return message('reply', rt`Override set: ${memberName(this.world, member)} is on call for ${ctx.team.name} from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)}.`);
  }

  /** swap: each member covers the other's next shift (the current one counts if it is theirs). */
  async swap(ctx: UseCaseContext, a: MemberId, b: MemberId): Promise<Message> {
    this.requireMember(ctx.team, a);
    this.requireMember(ctx.team, b);
    if (a === b) throw new Refusal('Swap needs two different members.');
    const horizon = await shiftsBetween(ctx.tx, ctx.team, ctx.now, ctx.now.plus({ weeks: 26 }));
    const shiftOf = (m: MemberId): Shift => {
      const s = horizon.find((x) => x.member === m && !x.override);
      if (!s) throw new Refusal(`${memberName(this.world, m)} has no rotation shift in the next 26 weeks to swap.`);
      return s;
    };
    const sa = shiftOf(a);
    const sb = shiftOf(b);
    const oa = await ctx.tx.addOverride({ team: ctx.team.id, member: b, start: sa.start, end: sa.end, createdBy: this.callerName(ctx), reason: `swap with ${a}` });
    const ob = await ctx.tx.addOverride({ team: ctx.team.id, member: a, start: sb.start, end: sb.end, createdBy: this.callerName(ctx), reason: `swap with ${b}` });
    await this.shiftWatch.scheduleNext(ctx.tx, ctx.team, ctx.now);
    const describe = (m: MemberId, s: Shift): string => `${memberName(this.world, m)} covers ${this.when(ctx.team, s.start)} → ${this.when(ctx.team, s.end)}`;
    this.tellMember(ctx, a, `ovr:${ob.id}`, rt`Shift swap in ${ctx.team.name}: ${describe(a, sb)}; ${describe(b, sa)}.`);
    this.tellMember(ctx, b, `ovr:${oa.id}`, rt`Shift swap in ${ctx.team.name}: ${describe(b, sa)}; ${describe(a, sb)}.`);
    return message('reply', rt`Swapped: ${describe(b, sa)}; ${describe(a, sb)}.`);
  }

  async away(ctx: UseCaseContext, member: MemberId, start: DateTime, end: DateTime): Promise<Message> {
    this.requireMember(ctx.team, member);
    if (end <= start) throw new Refusal('The absence ends before it starts; give an end after the start, or a length such as 2w.');
    const gained = await this.withAbsence(ctx, member, start, end, async () => (await ctx.tx.addAbsence({ member, start, end })).id);
    this.tellMember(ctx, member, `abs:${gained.id}`, rt`You are marked away from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)}; the ${ctx.team.name} rotation skips you for shifts in that time.`);
    const covers = gained.shifts.map((g) => `${memberName(this.world, g.shift.member)} covers ${g.team.name} ${this.when(g.team, g.shift.start)} → ${this.when(g.team, g.shift.end)}`);
    return message('reply', rt`${memberName(this.world, member)} is away from ${this.when(ctx.team, start)} to ${this.when(ctx.team, end)}; overlapping shifts go to the next member in the rotation${covers.length > 0 ? ` (${covers.join('; ')}; told now and again when the shift starts)` : ''}.`);
  }

  /**
   * withAbsence runs `add` (which stores an absence of `member`) and tells everyone who gains a
   * shift through it, at once; ShiftWatch tells them again when the shift starts. Used by
   * `oncall away` and for the quiet-hours plugin's time_off. Returns what `add` returned and the
   * shifts that changed hands.
   */
  async withAbsence<T>(ctx: UseCaseContext, member: MemberId, start: DateTime, end: DateTime, add: () => Promise<T>): Promise<{ id: T; shifts: Array<{ team: Team; shift: Shift }> }> {
    const from = DateTime.max(ctx.now, start.minus({ weeks: 2 }));
    const to = end.plus({ weeks: 2 });
    const before = new Map<string, Shift[]>();
    const teams = [...this.world.teams.values()].filter((t) => t.rotation.members.includes(member));
    for (const team of teams) before.set(team.id, to > from ? await shiftsBetween(ctx.tx, team, from, to) : []);
    const id = await add();
    for (const team of this.world.teams.values()) await this.shiftWatch.scheduleNext(ctx.tx, team, ctx.now);
    const changed: Array<{ team: Team; shift: Shift }> = [];
    for (const team of teams) {
      if (!(to > from)) continue;
      const was = before.get(team.id) ?? [];
      for (const shift of await shiftsBetween(ctx.tx, team, from, to)) {
        const old = was.find((s) => s.start.toMillis() === shift.start.toMillis() && s.end.toMillis() === shift.end.toMillis());
        if (!old || old.member === shift.member || shift.member === member) continue;
        changed.push({ team, shift });
        this.tellMember(ctx, shift.member, `gain:${team.id}:${shift.start.toMillis()}`,
          rt`${mention(shift.member, memberName(this.world, shift.member))} you are on call for ${team.name} from ${this.when(team, shift.start)} to ${this.when(team, shift.end)}, covering for ${memberName(this.world, old.member)}, who is away. You will be reminded when the shift starts.`);
      }
    }
    return { id, shifts: changed };
  }

  private tellMember(ctx: UseCaseContext, member: MemberId, key: string, text: ReturnType<typeof rt>): void {
    if (ctx.caller.kind === 'member' && ctx.caller.id === member) return;
    ctx.tell({ key: `${key}:${recipientKey({ kind: 'member', id: member })}`, recipient: { kind: 'member', id: member }, message: message('notice', text, { mentions: [member] }), incidentId: null, role: 'member' });
  }

  private requireMember(team: Team, member: MemberId): void {
    if (!this.world.members.has(member)) throw new Refusal(`There is no member "${member}"; member ids are in the config (members[].id).`);
    if (!isTeamMember(team, member)) {
      throw new Refusal(`${memberName(this.world, member)} is not a member of ${team.name}; add them to the team's members in the config first.`);
    }
  }

  private callerName(ctx: UseCaseContext): string {
    return ctx.caller.kind === 'member' ? memberName(this.world, ctx.caller.id) : ctx.caller.name;
  }

  private when(team: Team, at: DateTime): string {
    return at.setZone(team.timeZone).toFormat(FORMAT);
  }
}
