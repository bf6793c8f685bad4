/**
 * Permission checks, in the core so every platform refuses the same things with the same words.
 * A refusal says who may do it instead.
 */
import type { MemberId, Team, World } from '../model';
import type { Permission } from '../commands/spec';
import { PERMISSION_WORDS } from '../commands/help';
import type { Incident, Principal } from './types';

export interface PermissionContext {
  readonly world: World;
  readonly team: Team;
  /** Who is on call for the team now. */
  readonly onCall: MemberId | null;
  readonly incident?: Incident;
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function isTeamMember(team: Team, member: MemberId): boolean {
  return team.members.includes(member) || team.lead === member;
}

/** responders: the people who may work an incident (ack, resolve, note, escalate). */
export function responders(ctx: PermissionContext): Set<MemberId> {
  const { world, team, onCall, incident } = ctx;
  const people = new Set<MemberId>([team.lead]);
  for (const m of [incident?.assignee, onCall]) {
    if (!m) continue;
    people.add(m);
    const mentor = world.members.get(m)?.mentor;
    if (mentor) people.add(mentor);
  }
  return people;
}

/** commanders: the people who may call a huddle. */
export function commanders(ctx: PermissionContext): Set<MemberId> {
  const people = new Set<MemberId>([ctx.team.lead]);
  if (ctx.onCall) {
    people.add(ctx.onCall);
    const mentor = ctx.world.members.get(ctx.onCall)?.mentor;
    if (mentor) people.add(mentor);
  }
  return people;
}

export function checkPermission(permission: Permission, caller: Principal, ctx: PermissionContext): Verdict {
  if (permission === 'anyone') return { ok: true };
  const who = caller.kind === 'member' ? caller.id : null;
  const allowed =
    who !== null &&
    (permission === 'team-member'
      ? isTeamMember(ctx.team, who)
      : permission === 'responder'
        ? responders(ctx).has(who)
        : permission === 'commander'
          ? commanders(ctx).has(who)
          : permission === 'dispatcher'
            ? ctx.onCall === who || ctx.team.lead === who || ctx.world.admins.has(who)
            : ctx.team.lead === who || ctx.world.admins.has(who));
  if (allowed) return { ok: true };
  const subject = permission === 'team-member' ? `team ${ctx.team.name}` : `team ${ctx.team.name}${ctx.incident ? ` and incident #${ctx.incident.id}` : ''}`;
  return { ok: false, reason: `Only ${PERMISSION_WORDS[permission]} may do this (${subject}).` };
}
