/**
 * IncidentService holds the incident use cases: report, ack, resolve, reopen, note, reply,
 * escalate, huddle, list, show. Each decides exactly who is told, following the one rule:
 * the on-call alone is paged; the mentor and lead only through escalation; the whole team only
 * through a huddle with a reason; the reporter hears about their own incident; nobody else.
 */
import { inject, injectable } from 'inversify';
import { maybeMeant } from '../config/problems';
import { DateTime } from 'luxon';
import { decideStep, levelOf, nextManualTarget, nextPosition, personFor, repeatsOf, rolesOf, rolesText, unownedEveryMsOf } from '../core/escalation/escalation';
import { DEFAULT_SEVERITY, isFlap, moreSevere, opensRound, type Incident, type NewIncident, type Severity, type TimelineEvent } from '../core/incident/types';
import { actionsFor, describeEvent, incidentHeadline, incidentMessage, memberName, principalName } from '../core/messages/incident-views';
import { message, type Message } from '../core/messages/message';
import type { EscalationTarget, MemberId, Team, TeamId, World } from '../core/model';
import { mention, rt, type RichText } from '../core/text/rich-text';
import { formatDuration } from '../core/time/duration';
import type { Recipient, StoreTx } from '../ports/store';
import type { NotifyDecision, NotificationRole } from '../ports/plugin';
import { AdapterRegistry } from './adapters';
import { Refusal, type UseCaseContext } from './context';
import { recipientKey, recipientOf, samePrincipal, type Notification } from './notifications';
import { PolicyBook } from './policies';
import { onCallNow, shadowNow } from './rotation-reader';
import { TOKENS } from './tokens';
import { ZONED_TIME } from '../core/time/zones';

export const ESCALATION_TIMER = 'escalate';

export interface EscalationPayload {
  readonly incidentId: number;
  /** Which start of the chain this timer belongs to: 0, a reopening's number, or a restart's tag (a12). */
  readonly round: number | string;
  readonly index: number;
  /** The pass of the chain (0, then 1..repeat); absent on timers scheduled before passes existed: 0. */
  readonly pass?: number;
  /** Set on the unowned-incident alert: how many were posted before this one. */
  readonly unowned?: number;
}

/** ChainPosition: the next step of the chain, or the unowned alert. */
type ChainPosition = { readonly pass: number; readonly index: number } | { readonly unowned: number; readonly held?: DateTime };

export function escalationKeyPrefix(incidentId: number): string {
  return `esc:${incidentId}:`;
}

/** ReportInput: what a report says about a new incident. */
export interface ReportInput {
  readonly title: string;
  readonly severity?: Severity;
  readonly service?: string;
  readonly source?: string;
  readonly fingerprint?: string;
}

/** `incident show` lists at most this many timeline lines (SHOW_FIRST_EVENTS of them from its beginning). */
const SHOW_EVENTS = 30;
const SHOW_FIRST_EVENTS = 3;

/**
 * reportedIncident: the incident a report opens, assigned to `onCall` (also used by bulk quiet
 * opens), with the plan the team's escalation policy makes for it frozen on it; `refused` says why
 * the policy's own plan was replaced by the team's base plan, when it was.
 */
export function reportedIncident(ctx: Pick<UseCaseContext, 'now' | 'team' | 'caller'>, input: ReportInput, onCall: MemberId, policies: PolicyBook): { incident: NewIncident; refused?: string } {
  const opened = {
    team: ctx.team.id,
    title: input.title,
    severity: input.severity ?? DEFAULT_SEVERITY,
    source: input.source ?? 'chat',
    service: input.service ?? null,
    fingerprint: input.fingerprint ?? null,
    state: 'open',
    assignee: onCall,
    reporter: ctx.caller,
    escalationLevel: 0,
    openedAt: ctx.now,
    acknowledgedAt: null,
    resolvedAt: null,
    updatedAt: ctx.now,
  } as const;
  const { plan, refused } = policies.planFor(ctx.team, opened);
  return { incident: { ...opened, policy: plan }, ...(refused !== undefined ? { refused } : {}) };
}

/** reportedData: the data of a new incident's "reported" timeline event. */
export function reportedData(incident: NewIncident): Record<string, unknown> {
  return { severity: incident.severity, title: incident.title, service: incident.service };
}

/** Incidents one transaction hands over at a shift change; the rest follow in transactions of their own. */
export const HANDOVER_CHUNK = 50;
/** Incidents the outgoing on-call's handover notice names (the rest are counted). */
const HANDOVER_NOTICE_LINES = 20;

@injectable()
export class IncidentService {
  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(PolicyBook) private readonly policies: PolicyBook,
    @inject(AdapterRegistry) private readonly adapters: AdapterRegistry,
  ) {}

  /**
   * report opens an incident and pages the on-call. `fingerprint` is set by integrations (dedup).
   * `quiet` (alert storms) opens it without paging, channel record or escalation: the storm summary
   * stands in for them.
   */
  async report(ctx: UseCaseContext, input: ReportInput, options: { quiet?: boolean } = {}): Promise<Message> {
    const { tx, now, team } = ctx;
    const shift = await onCallNow(this.policies, tx, team, now);
    const onCall = shift.member;
    const opened = reportedIncident(ctx, input, onCall, this.policies);
    const incident = await tx.insertIncident(opened.incident);
    await this.event(ctx, incident, 'reported', reportedData(incident));
    if (opened.refused !== undefined) await this.event(ctx, incident, 'escalation-plan-refused', { reason: opened.refused });
    if (shift.gap) await this.event(ctx, incident, 'gap-held', { member: onCall, policy: this.policies.rotationName(team) });
    if (options.quiet) return this.card(tx, incident);
    if (ctx.caller.kind === 'member' && ctx.caller.id === onCall) {
      // The on-call reporting an incident knows of it: it is theirs, acknowledged. No page to
      // themselves, and no escalation to their mentor for a page they could not have missed.
      await this.postRecord(ctx, incident, rt`New incident ${incidentHeadline(incident)}`);
      const acknowledged = await this.acknowledge(ctx, incident);
      return message('reply', rt`Reported ${incidentHeadline(incident)}. You are on call, so it is yours and acknowledged: nobody was paged ("incident resolve ${String(incident.id)}" when it is fixed, "incident escalate ${String(incident.id)}" if you need your mentor).`, {
        incident: acknowledged.incident,
      });
    }
    const verdict = await this.page(ctx, incident, onCall, 'page', rt`New incident ${incidentHeadline(incident)}`);
    await this.tellShadow(ctx, incident, onCall, rt`New incident ${incidentHeadline(incident)}`);
    await this.postRecord(ctx, incident, rt`New incident ${incidentHeadline(incident)}`);
    await this.scheduleEscalation(tx, incident, 0, { pass: 0, index: 0 }, ackDue(incident, verdict, now));
    const paged = verdict.action === 'defer'
      ? rt`${memberName(this.world, onCall)} is on call and will be paged when their quiet hours end, ${this.theirTime(onCall, verdict.until)}; an urgent severity pages at once`
      : rt`${memberName(this.world, onCall)} is on call and ${this.pagedWhen(onCall, verdict, incident)}`;
    return message('reply', rt`Reported ${incidentHeadline(incident)}. ${paged}; you will hear here when it is acknowledged and resolved.`, {
      incident: (await this.card(tx, incident)).incident,
    });
  }

  async acknowledge(ctx: UseCaseContext, incident: Incident): Promise<Message> {
    if (incident.state === 'resolved') throw new Refusal(`#${incident.id} is resolved; reopen it first ("incident reopen ${incident.id}").`);
    if (incident.state === 'acknowledged') {
      throw new Refusal(`#${incident.id} is already acknowledged; ${memberName(this.world, incident.assignee)} owns it.`);
    }
    const acker = ctx.caller.kind === 'member' ? ctx.caller.id : incident.assignee;
    let updated: Incident = { ...incident, state: 'acknowledged', acknowledgedAt: ctx.now, updatedAt: ctx.now, assignee: acker };
    await ctx.tx.updateIncident(updated);
    await ctx.tx.cancelTimers(escalationKeyPrefix(incident.id));
    await this.event(ctx, updated, 'acknowledged', { after: formatDuration(ctx.now.diff(await this.openSince(ctx.tx, incident)).as('milliseconds')) });
    if (acker !== incident.assignee) await this.event(ctx, updated, 'reassigned', { member: acker, from: incident.assignee });
    updated = (await ctx.tx.getIncident(incident.id)) ?? updated;
    const headline = rt`${incidentHeadline(updated)} acknowledged by ${principalName(this.world, ctx.caller)}`;
    await this.tellInvolved(ctx, updated, headline);
    await this.tellReporter(ctx, updated, rt`Your incident ${incidentHeadline(updated)} was acknowledged by ${principalName(this.world, ctx.caller)}, who is working on it.`);
    await this.postRecord(ctx, updated, headline);
    return this.replyWithCard(ctx.tx, updated, rt`You acknowledged ${incidentHeadline(updated)}. Escalation stopped; it is yours.`);
  }

  /**
   * resolve; `quietNews` (an alert's resolve while the incident flaps, see reopen) tells the people
   * involved nothing (the timeline and the channel record have it).
   */
  async resolve(ctx: UseCaseContext, incident: Incident, note?: string, options: { quietNews?: boolean } = {}): Promise<Message> {
    if (incident.state === 'resolved') throw new Refusal(`#${incident.id} is already resolved.`);
    const updated: Incident = { ...incident, state: 'resolved', resolvedAt: ctx.now, updatedAt: ctx.now };
    await ctx.tx.updateIncident(updated);
    // Where the chain of an unacknowledged incident stood: a flap (see reopen) goes on from there.
    const chain = incident.state === 'open' ? (await ctx.tx.pendingTimers(escalationKeyPrefix(incident.id))).find((t) => t.kind === ESCALATION_TIMER) : undefined;
    await ctx.tx.cancelTimers(escalationKeyPrefix(incident.id));
    await this.event(ctx, updated, 'resolved', {
      note: note ?? null, after: formatDuration(ctx.now.diff(await this.openSince(ctx.tx, incident)).as('milliseconds')),
      // What a flap (see reopen) restores: whose it was, and whether they had acknowledged it.
      was: { state: incident.state, assignee: incident.assignee, level: incident.escalationLevel },
      ...(chain ? { chain: { ...chainPosition(chain.payload as unknown as EscalationPayload), due: chain.dueAt.toMillis() } } : {}),
    });
    const by = principalName(this.world, ctx.caller);
    const headline = note ? rt`${incidentHeadline(updated)} resolved by ${by}: ${note}` : rt`${incidentHeadline(updated)} resolved by ${by}`;
    if (!options.quietNews) await this.tellInvolved(ctx, updated, headline);
    await this.tellReporter(ctx, updated, note ? rt`Your incident ${incidentHeadline(updated)} is resolved: ${note}` : rt`Your incident ${incidentHeadline(updated)} is resolved.`);
    await this.postRecord(ctx, updated, headline);
    return this.replyWithCard(ctx.tx, updated, rt`Resolved ${incidentHeadline(updated)}.${note ? ' The reporter has your note.' : ''}`);
  }

  /**
   * reopen pages the current on-call and restarts escalation; `quiet` (alert storms) only reopens.
   * `flapWindowMs` (an alert firing again): when the on-call was paged for this incident within
   * that window, it is flapping, and they are not paged again: they get one news message the first
   * time ("it flaps"), nothing for later flaps in the window; the incident stays theirs,
   * acknowledged if it was acknowledged when it resolved, else the chain goes on where the resolve
   * stopped it (its ack timeout is not restarted by each flap, so a flapping alert nobody answers
   * still reaches the mentor and the lead).
   */
  async reopen(ctx: UseCaseContext, incident: Incident, reason?: string, options: { quiet?: boolean; flapWindowMs?: number } = {}): Promise<Message> {
    if (incident.state !== 'resolved') throw new Refusal(`#${incident.id} is not resolved; there is nothing to reopen.`);
    const shift = await onCallNow(this.policies, ctx.tx, ctx.team, ctx.now);
    const onCall = shift.member;
    const before = await ctx.tx.timeline(incident.id);
    const round = before.filter((e) => e.kind === 'reopened').length + 1;
    const flap = options.flapWindowMs && !options.quiet ? flapping(before, onCall, ctx.now.minus({ milliseconds: options.flapWindowMs })) : null;
    const updated: Incident = {
      ...incident, state: flap?.acknowledged ? 'acknowledged' : 'open', resolvedAt: null, acknowledgedAt: flap?.acknowledged ? ctx.now : null,
      updatedAt: ctx.now, assignee: onCall, escalationLevel: flap?.level ?? 0,
    };
    await ctx.tx.updateIncident(updated);
    await this.event(ctx, updated, 'reopened', {
      reason: reason ?? null, member: onCall,
      ...(flap ? { flapping: { reopens: flap.reopens + 1, lastPage: flap.lastPage.toMillis(), kept: flap.acknowledged ? 'acknowledged' : 'open' } } : {}),
    });
    if (shift.gap) await this.event(ctx, updated, 'gap-held', { member: onCall, policy: this.policies.rotationName(ctx.team) });
    if (options.quiet) return this.card(ctx.tx, updated);
    if (flap) {
      // The window runs from the page: what is left of it.
      const window = formatDuration(Math.max(1000, flap.lastPage.plus({ milliseconds: options.flapWindowMs ?? 0 }).diff(ctx.now).as('milliseconds')));
      if (!flap.told) {
        await this.notify(ctx, updated, { kind: 'member', id: onCall }, 'incident-update',
          rt`${incidentHeadline(updated)} is flapping: ${reason ?? 'it reopened'} ${age(ctx.now, flap.lastPage)} after your page. It stays ${flap.acknowledged ? 'acknowledged and ' : ''}yours; you are not paged again for its flaps in the next ${window} (incident show ${String(updated.id)} lists them)${flap.acknowledged ? '' : '; acknowledge it to stop the escalation'}.`,
          actionsFor(updated));
      }
      await this.postRecord(ctx, updated, rt`Reopened ${incidentHeadline(updated)} (flapping)`);
      if (!flap.acknowledged) {
        // The chain goes on where the flap's resolve stopped it (its next step, when it was due),
        // else from the last page: a flapping alert nobody answers still reaches the mentor and
        // the lead, on the time the first page set.
        const stopped = restoredPosition([...before].reverse().find((e) => e.kind === 'resolved')?.data.chain);
        const due = stopped?.due ?? flap.lastPage.plus({ milliseconds: updated.policy.ackTimeoutMs });
        await this.scheduleEscalation(ctx.tx, updated, round, stopped?.at ?? { pass: 0, index: 0 }, due < ctx.now ? ctx.now : due);
      }
      return this.replyWithCard(ctx.tx, updated, rt`Reopened ${incidentHeadline(updated)}; it is flapping, and ${memberName(this.world, onCall)} was paged for it ${age(ctx.now, flap.lastPage)} ago: not paged again.`);
    }
    const verdict = await this.page(ctx, updated, onCall, 'page', rt`Reopened ${incidentHeadline(updated)}${reason ? rt`: ${reason}` : []}`);
    await this.tellShadow(ctx, updated, onCall, rt`Reopened ${incidentHeadline(updated)}`);
    await this.tellReporter(ctx, updated, rt`Your incident ${incidentHeadline(updated)} was reopened; ${memberName(this.world, onCall)} ${this.pagedWhen(onCall, verdict, updated)}.`);
    await this.postRecord(ctx, updated, rt`Reopened ${incidentHeadline(updated)}`);
    await this.scheduleEscalation(ctx.tx, updated, round, { pass: 0, index: 0 }, ackDue(updated, verdict, ctx.now));
    return this.replyWithCard(ctx.tx, updated, rt`Reopened ${incidentHeadline(updated)}; ${memberName(this.world, onCall)} ${this.pagedWhen(onCall, verdict, updated)}.`);
  }

  /**
   * raise: the incident turned out more severe than it was opened (a more severe alert of its group
   * fired): its severity and its plan (the new severity's timeouts) follow. Unacknowledged, the
   * chain starts again from the assignee at the new severity, so a sev1 goes through the quiet
   * hours that held the sev3 and escalates on the sev1's clock; acknowledged, the assignee is told.
   * `quiet` (a storm or maintenance window keeps it quiet): raised and on the timeline, nobody told.
   * Not more severe, or resolved: nothing changes. Returns the incident as it is now.
   */
  async raise(ctx: UseCaseContext, incident: Incident, severity: Severity, reason: string, options: { quiet?: boolean } = {}): Promise<Incident> {
    if (incident.state === 'resolved' || !moreSevere(severity, incident.severity)) return incident;
    const raised: Incident = { ...incident, severity, escalationLevel: incident.state === 'acknowledged' ? incident.escalationLevel : 0, updatedAt: ctx.now };
    const updated: Incident = { ...raised, policy: this.policies.planFor(ctx.team, raised).plan };
    await ctx.tx.updateIncident(updated);
    const ev = await this.event(ctx, updated, 'severity-raised', { from: incident.severity, to: severity, reason });
    if (options.quiet) return updated;
    const what = rt`${incidentHeadline(updated)} is now ${severity} (was ${incident.severity}): ${reason}`;
    if (updated.state === 'acknowledged') {
      await this.notify(ctx, updated, { kind: 'member', id: updated.assignee }, 'incident-update', rt`${what}. It stays acknowledged and yours.`, actionsFor(updated));
    } else {
      await this.startChain(ctx, updated, updated.assignee, `s${ev.seq}`, what);
    }
    await this.postRecord(ctx, updated, rt`${incidentHeadline(updated)} raised from ${incident.severity} to ${severity}`);
    return updated;
  }

  /** note: kept in the timeline. A note from the reporter (not a responder) is passed to the assignee. */
  async note(ctx: UseCaseContext, incident: Incident, text: string, fromReporter: boolean): Promise<Message> {
    await this.event(ctx, incident, 'note', { text });
    if (fromReporter) {
      const verdict = await this.notify(ctx, incident, { kind: 'member', id: incident.assignee }, 'incident-update',
        rt`${principalName(this.world, ctx.caller)} added to ${incidentHeadline(incident)}: ${text}`, actionsFor(incident));
      const assignee = memberName(this.world, incident.assignee);
      return message('reply', verdict.action === 'defer'
        ? rt`Your note is on #${incident.id}; ${assignee} is in quiet hours and gets it ${this.theirTime(incident.assignee, verdict.until)}.`
        : verdict.action === 'deliver'
          ? rt`Your note is on #${incident.id} and ${assignee} has it.`
          : rt`Your note is on #${incident.id}; it was not sent to ${assignee} (${verdict.reason}).`);
    }
    return message('reply', rt`Noted on #${incident.id}.`);
  }

  /** reply: a note addressed to the reporter, who receives it. */
  async reply(ctx: UseCaseContext, incident: Incident, text: string): Promise<Message> {
    if (samePrincipal(ctx.caller, incident.reporter)) throw new Refusal(`You reported #${incident.id}; use "incident note ${incident.id} TEXT" to add to it.`);
    await this.event(ctx, incident, 'reply', { text });
    // Always to the reporter, also when they were paged for it themselves (tellReporter would skip them).
    await this.notify(ctx, incident, recipientOf(incident.reporter), 'notice',
      rt`About your incident ${incidentHeadline(incident)}, ${principalName(this.world, ctx.caller)} writes: ${text}`, [], 'reporter');
    return message('reply', rt`Sent to ${principalName(this.world, incident.reporter)} and noted on #${incident.id}.`);
  }

  /**
   * escalate: the assignee (or another responder) asks for help early. Never refused for quiet
   * hours: an urgent incident pages the mentor or lead at once; a non-urgent one in their quiet
   * time reaches them when it ends, and the caller is told when, and that `--now` pages at once.
   */
  async escalate(ctx: UseCaseContext, incident: Incident, requested?: EscalationTarget, options: { now?: boolean } = {}): Promise<Message> {
    if (incident.state === 'resolved') throw new Refusal(`#${incident.id} is resolved; reopen it first.`);
    const target = requested ?? nextManualTarget(this.world, incident);
    if (!target) throw new Refusal(`#${incident.id} has been escalated as far as it goes; call a huddle with a reason if one hand is really not enough ("incident huddle ${incident.id} REASON").`);
    const person = personFor(this.world, incident, target);
    if (!person) throw new Refusal(`${memberName(this.world, incident.assignee)} has no mentor in the config; escalate to the lead instead ("incident escalate ${incident.id} lead").`);
    if (person === incident.assignee) throw new Refusal(`The ${target} of #${incident.id} is its assignee; escalate to the ${target === 'mentor' ? 'lead' : 'mentor'} instead.`);
    // Asking yourself for help pages nobody new: say so, and who the next step would be.
    if (ctx.caller.kind === 'member' && ctx.caller.id === person) {
      const lead = personFor(this.world, incident, 'lead');
      const next = target === 'mentor' && lead !== null && lead !== person && lead !== incident.assignee ? `; to page the lead: "incident escalate ${incident.id} lead"` : '';
      throw new Refusal(`You are the ${target} of #${incident.id}, so this would page you. To take it on yourself: "incident assign ${incident.id} ${person}"${next}.`);
    }
    const roles = rolesOf(this.world, incident, person);
    const as = rolesText(roles.length > 0 ? roles : [target]);
    // Paged already in this round (since the incident was reported, reopened or last reassigned):
    // a page to them before the incident changed hands was about another assignee's turn.
    const timeline = await ctx.tx.timeline(incident.id);
    const roundStart = [...timeline].reverse().find((e) => e.kind === 'reassigned' || opensRound(e))?.seq ?? 0;
    const pagedThisRound = timeline.some((e) => e.seq >= roundStart && ((e.kind === 'notified' && e.data.member === person) || (e.kind === 'huddle' && Array.isArray(e.data.members) && e.data.members.includes(person))));
    if (pagedThisRound && !options.now) {
      const waiting = await this.pendingDeferral(ctx, incident, person);
      throw new Refusal(waiting
        ? `${memberName(this.world, person)} (the ${as}) has already been paged for #${incident.id}; the page reaches them ${this.theirTime(person, waiting)}. If it cannot wait: "incident escalate ${incident.id} ${target} --now".`
        : `${memberName(this.world, person)} (the ${as}) has already been paged for #${incident.id}.`);
    }
    const level = Math.max(incident.escalationLevel, ...roles.map((r) => levelOf(incident.policy, r)), levelOf(incident.policy, target));
    const updated: Incident = { ...incident, escalationLevel: level, updatedAt: ctx.now };
    const page = await this.pageNotification(ctx, updated, person, target,
      rt`${principalName(this.world, ctx.caller)} asks for your help as ${as} on ${incidentHeadline(updated)}${options.now ? ' (now, on purpose)' : ''}`);
    const verdict = options.now ? ctx.insist(page, `${principalName(this.world, ctx.caller)} asked for help now (--now)`) : await ctx.decide(page);
    await ctx.tx.updateIncident(updated);
    await this.event(ctx, updated, 'escalated', { target, roles, member: person, manual: true, now: options.now === true });
    await this.sendPage(ctx, updated, person, target, page, verdict);
    const done = rt`Escalated #${incident.id} to the ${as}, ${memberName(this.world, person)}.`;
    if (verdict.action === 'defer') {
      return this.replyWithCard(ctx.tx, updated, rt`${done} ${memberName(this.world, person)} is in quiet hours: your request reaches them ${this.theirTime(person, verdict.until)}. If it cannot wait: "incident escalate ${incident.id} ${target} --now".`);
    }
    if (verdict.action === 'skip' || verdict.action === 'drop') {
      return this.replyWithCard(ctx.tx, updated, rt`${done} A plugin held the page back (${verdict.reason}); "incident escalate ${incident.id} ${target} --now" sends it at once.`);
    }
    const why = this.unreachableWhy(person, updated.team);
    if (why !== null) return this.replyWithCard(ctx.tx, updated, rt`${done} But ${memberName(this.world, person)} ${why}: nobody was reached until ${this.linkHint()}; ${escalateFurther(updated, target)}`);
    return this.replyWithCard(ctx.tx, updated, done);
  }

  /**
   * assign hands an incident to another member, or (with a team) to that team's on-call. The new
   * assignee is paged and the chain restarts for them, unacknowledged; the previous assignee and
   * the reporter are told. An acknowledged incident becomes unacknowledged again: it is the new
   * assignee's to take.
   */
  async assign(ctx: UseCaseContext, incident: Incident, to: { member?: MemberId; team?: Team }): Promise<Message> {
    if (incident.state === 'resolved') throw new Refusal(`#${incident.id} is resolved; reopen it first ("incident reopen ${incident.id}").`);
    const fromTeam = this.world.teams.get(incident.team);
    const team = to.team ?? fromTeam;
    if (!team || !fromTeam) throw new Refusal(`#${incident.id} belongs to a team that is no longer configured.`);
    let member: MemberId;
    if (to.member !== undefined) {
      if (!this.world.members.has(to.member)) throw new Refusal(`There is no member "${to.member}"${maybeMeant(to.member, this.world.members.keys())}; member ids are in the config (members[].id).`);
      if (to.team !== undefined && !to.team.members.includes(to.member) && to.team.lead !== to.member) {
        throw new Refusal(`${memberName(this.world, to.member)} is not in ${to.team.name}; name one of its members, or use "incident assign ${incident.id} --team ${to.team.id}" and its on-call takes it.`);
      }
      member = to.member;
    } else if (to.team !== undefined) {
      member = (await onCallNow(this.policies, ctx.tx, team, ctx.now)).member;
    } else {
      throw new Refusal(`Name who takes #${incident.id}: "incident assign ${incident.id} MEMBER" or "incident assign ${incident.id} --team TEAM".`);
    }
    if (member === incident.assignee && team.id === incident.team) throw new Refusal(`#${incident.id} is already assigned to ${memberName(this.world, member)}.`);
    const previous = incident.assignee;
    const moved = team.id !== incident.team;
    // Taking it yourself is taking it on: acknowledged, no page to yourself, no chain to run.
    if (ctx.caller.kind === 'member' && ctx.caller.id === member && !moved) {
      if (incident.state === 'open') return this.acknowledge(ctx, incident);
      const taken: Incident = { ...incident, assignee: member, updatedAt: ctx.now };
      await ctx.tx.updateIncident(taken);
      await this.event(ctx, taken, 'reassigned', { member, from: previous, team: team.id, fromTeam: incident.team, reason: 'assigned' });
      const by = principalName(this.world, ctx.caller);
      await this.notify(ctx, taken, { kind: 'member', id: previous }, 'incident-update', rt`${by} took ${incidentHeadline(taken)} over from you; it is theirs now.`, actionsFor(taken));
      await this.tellReporter(ctx, taken, rt`Your incident ${incidentHeadline(taken)} is now with ${by}, who is working on it.`);
      await this.postRecord(ctx, taken, rt`${incidentHeadline(taken)} taken over by ${by}`);
      return this.replyWithCard(ctx.tx, taken, rt`You took ${incidentHeadline(taken)} over from ${memberName(this.world, previous)}; it stays acknowledged, and it is yours.`);
    }
    // An incident that moves to another team takes the plan that team's policy makes for it.
    const moving = { ...incident, team: team.id, assignee: member, state: 'open' as const, acknowledgedAt: null, escalationLevel: 0, updatedAt: ctx.now };
    const updated: Incident = { ...moving, policy: moved ? this.policies.planFor(team, moving).plan : incident.policy };
    await ctx.tx.updateIncident(updated);
    const ev = await this.event(ctx, updated, 'reassigned', { member, from: previous, team: team.id, fromTeam: incident.team, reason: 'assigned' });
    const by = principalName(this.world, ctx.caller);
    const verdict = await this.startChain(ctx, updated, member, `a${ev.seq}`,
      rt`${by} assigned ${incidentHeadline(updated)} to you${moved ? ` (from ${fromTeam.name}, for ${team.name})` : ''}`);
    if (previous !== member && !(ctx.caller.kind === 'member' && ctx.caller.id === previous)) {
      await this.notify(ctx, updated, { kind: 'member', id: previous }, 'incident-update', rt`${incidentHeadline(updated)} was assigned to ${memberName(this.world, member)} by ${by}; it is theirs now.`, actionsFor(updated));
    }
    await this.tellReporter(ctx, updated, rt`Your incident ${incidentHeadline(updated)} is now with ${memberName(this.world, member)}${moved ? ` (${team.name})` : ''}.`);
    await this.postRecord(ctx, updated, rt`${incidentHeadline(updated)} assigned to ${memberName(this.world, member)} by ${by}`);
    if (moved) await this.postRecord(ctx, { ...updated, team: incident.team }, rt`${incidentHeadline(updated)} moved to ${team.name} (${memberName(this.world, member)}) by ${by}`);
    // Someone marked away is paged all the same (they were named), but the caller should know.
    const away = await awayNow(ctx, member);
    const awayNote = away ? ` Note: ${memberName(this.world, member)} is marked away until ${this.theirClock(member, away.end)}; if they do not acknowledge, the escalation chain goes on without them.` : '';
    return this.replyWithCard(ctx.tx, updated, rt`Assigned #${incident.id} to ${memberName(this.world, member)}${moved ? ` (${team.name})` : ''}, who ${this.pagedWhen(member, verdict, updated)}. Escalation starts again for them.${awayNote}`);
  }

  /**
   * handOver: at a shift change, the outgoing on-call's unacknowledged incidents of the team move
   * to the incoming on-call, whose chain starts now (the outgoing on-call is no longer reminded).
   * Incidents opened quietly (alert storm) move without a page. Acknowledged incidents stay with
   * their owner. The outgoing on-call is told what moves (the oldest HANDOVER_NOTICE_LINES named).
   *
   * This transaction moves the oldest HANDOVER_CHUNK (the paged ones of a storm are its oldest);
   * it returns the ids of the rest, which the caller moves in transactions of their own
   * (continueHandOver): after a storm of 10,000 incidents one transaction moving them all held the
   * store 3.5 s, and every page of every team waited for it.
   */
  async handOver(ctx: UseCaseContext, team: Team, outgoing: MemberId, incoming: MemberId): Promise<number[]> {
    if (outgoing === incoming) return [];
    // Ids first: reading 10,000 whole incidents took 215 ms; this part needs only its own.
    const ids = await ctx.tx.openIncidentIdsOf(team.id, outgoing);
    if (ids.length === 0) return [];
    const open = await this.stillHanded(ctx, team, outgoing, ids.slice(0, Math.max(HANDOVER_CHUNK, HANDOVER_NOTICE_LINES)));
    const lines: RichText[] = [];
    for (const incident of open.slice(0, HANDOVER_NOTICE_LINES)) {
      lines.push(rt`${incidentHeadline(incident)}, open ${age(ctx.now, await this.openSince(ctx.tx, incident))}`);
    }
    if (ids.length > HANDOVER_NOTICE_LINES) lines.push(rt`and ${String(ids.length - HANDOVER_NOTICE_LINES)} more ("incident list")`);
    const moving = open.slice(0, HANDOVER_CHUNK);
    const verdicts = await this.moveHanded(ctx, moving, outgoing, incoming);
    ctx.tell({
      key: `handover:${team.id}:${ctx.now.toMillis()}:${recipientKey({ kind: 'member', id: outgoing })}`,
      recipient: { kind: 'member', id: outgoing },
      message: message('notice', rt`Your ${team.name} shift ended: ${String(ids.length)} unacknowledged incident${ids.length === 1 ? '' : 's'} moved to ${memberName(this.world, incoming)}, who ${this.handedPaged(team.id, incoming, verdicts, moving.length - verdicts.length)}. Acknowledged incidents stay with you.`, { lines }),
      incidentId: null,
      role: 'member',
    });
    return ids.slice(HANDOVER_CHUNK);
  }

  /**
   * continueHandOver moves the next HANDOVER_CHUNK of `ids` (what handOver left) that are still
   * open and still the outgoing on-call's to `incoming`, who must be the on-call now (the caller
   * asks the rotation again: another shift change may have come meanwhile); returns the ids still
   * to move.
   */
  async continueHandOver(ctx: UseCaseContext, team: Team, outgoing: MemberId, incoming: MemberId, ids: readonly number[]): Promise<number[]> {
    await this.moveHanded(ctx, await this.stillHanded(ctx, team, outgoing, ids.slice(0, HANDOVER_CHUNK)), outgoing, incoming);
    return ids.slice(HANDOVER_CHUNK);
  }

  /**
   * stillHanded: the incidents of `ids` a handover moves, each read again (on PostgreSQL under its
   * row lock): the team's, unacknowledged, still the outgoing on-call's. One acknowledged, resolved
   * or reassigned since its id was read stays where it is.
   */
  private async stillHanded(ctx: UseCaseContext, team: Team, outgoing: MemberId, ids: readonly number[]): Promise<Incident[]> {
    const out: Incident[] = [];
    for (const id of ids) {
      const incident = await ctx.tx.getIncident(id);
      if (incident && incident.team === team.id && incident.state === 'open' && incident.assignee === outgoing) out.push(incident);
    }
    return out;
  }

  /**
   * handedPaged: what the outgoing on-call's notice says of the pages the handover sent (those of
   * this transaction's incidents; the rest follow in transactions of their own, see handOver):
   * "has been paged", or how many wait for quiet hours and until when, how many a plugin held
   * back, and how many (`quiet`, opened during a storm) move without a page.
   */
  private handedPaged(team: TeamId, incoming: MemberId, verdicts: readonly NotifyDecision[], quiet: number): string {
    const paged = verdicts.filter((v) => v.action === 'deliver').length;
    const why = paged > 0 ? this.unreachableWhy(incoming, team) : null;
    if (why !== null) {
      // Pages nothing reached: the chain moves on now (see Unreached), and the notice says so.
      const rest = verdicts.length - paged + quiet;
      return `${why.replace('the page went to the team channel, where it pings', 'the pages went to the team channel, where they ping')}; the chain moves on to the next person now${rest > 0 ? ` (and ${rest} of them waited or moved without a page)` : ''}, until ${this.linkHint()}`;
    }
    const held = verdicts.flatMap((v) => (v.action === 'defer' ? [v.until] : [])).sort((a, b) => a.toMillis() - b.toMillis());
    const other = verdicts.length - paged - held.length;
    const first = held[0];
    if (verdicts.length === 0) return 'has them now (opened during an alert storm, they move without a page)';
    if (quiet === 0 && paged === verdicts.length) return 'has been paged';
    if (quiet === 0 && first !== undefined && held.length === verdicts.length) return `is in quiet hours and is paged ${this.theirTime(incoming, first)}`;
    const parts: string[] = [];
    if (paged > 0) parts.push(`has been paged for ${paged} of them`);
    if (first !== undefined) {
      const some = paged > 0 ? `the other ${held.length}` : `${held.length} of them`;
      parts.push(`${paged > 0 ? '' : 'is in quiet hours: '}${some} ${held.length === 1 ? 'is' : 'are'} paged ${this.theirTime(incoming, first)}${paged > 0 ? ', when their quiet hours end' : ''}`);
    }
    if (other > 0) parts.push(`${other} ${other === 1 ? 'was' : 'were'} not paged (a plugin held the page back)`);
    if (quiet > 0) parts.push(`${quiet} opened during an alert storm ${quiet === 1 ? 'moves' : 'move'} without a page`);
    return parts.join('; ');
  }

  /** moveHanded moves `incidents` to `incoming` and returns the verdicts of the pages it sent (none for quietly opened ones). */
  private async moveHanded(ctx: UseCaseContext, incidents: readonly Incident[], outgoing: MemberId, incoming: MemberId): Promise<NotifyDecision[]> {
    const verdicts: NotifyDecision[] = [];
    for (const incident of incidents) {
      const updated: Incident = { ...incident, assignee: incoming, escalationLevel: 0, updatedAt: ctx.now };
      await ctx.tx.updateIncident(updated);
      const timeline = await ctx.tx.timeline(incident.id);
      // A flap's reopening (no page of its own) goes on with the round it flaps in.
      const lastOpen = [...timeline].reverse().find(opensRound);
      const paged = timeline.some((e) => e.kind === 'notified' && (!lastOpen || e.seq > lastOpen.seq));
      const ev = await this.event(ctx, updated, 'reassigned', { member: incoming, from: outgoing, reason: 'handoff' });
      if (!paged) continue; // opened quietly: it moves, without a page of its own
      verdicts.push(await this.startChain(ctx, updated, incoming, `h${ev.seq}`,
        rt`Handed over to you at the shift change: ${incidentHeadline(updated)} is not acknowledged yet (open ${age(ctx.now, lastOpen?.at ?? incident.openedAt)}; ${memberName(this.world, outgoing)} had it)`));
    }
    return verdicts;
  }

  async huddle(ctx: UseCaseContext, incident: Incident, reason: string): Promise<Message> {
    if (incident.state === 'resolved') throw new Refusal(`#${incident.id} is resolved; a huddle needs an unresolved incident.`);
    const team = this.world.teams.get(incident.team);
    if (!team) throw new Refusal(`#${incident.id} belongs to a team that is no longer configured.`);
    const everyone = [...new Set([...team.members, team.lead])];
    const called = everyone.filter((m) => !(ctx.caller.kind === 'member' && ctx.caller.id === m));
    const ev = await this.event(ctx, incident, 'huddle', { reason, members: called });
    const by = principalName(this.world, ctx.caller);
    const timeline = await ctx.tx.timeline(incident.id);
    // What the reply says is what happened to each call (quiet hours may hold a non-urgent one).
    const now: MemberId[] = [];
    const later: string[] = [];
    const held: MemberId[] = [];
    const unreached: MemberId[] = [];
    for (const member of called) {
      const n: Notification = {
        key: `inc:${incident.id}:${ev.seq}:${recipientKey({ kind: 'member', id: member })}`,
        recipient: { kind: 'member', id: member },
        message: {
          ...incidentMessage('huddle', this.world, incident, timeline,
            rt`Huddle on ${incidentHeadline(incident)}: ${mention(member, memberName(this.world, member))}, ${by} asks the whole team to join. Reason: ${reason}`),
          mentions: [member],
        },
        incidentId: incident.id,
        role: 'team',
        severity: incident.severity,
      };
      ctx.tell(n);
      const verdict = await ctx.decide(n);
      if (verdict.action === 'deliver') (this.unreachableWhy(member, incident.team) === null ? now : unreached).push(member);
      else if (verdict.action === 'defer') later.push(`${memberName(this.world, member)} ${this.theirTime(member, verdict.until)}`);
      else held.push(member);
    }
    await this.postRecord(ctx, incident, rt`Huddle called by ${by} on ${incidentHeadline(incident)}. Reason: ${reason}`);
    const names = (members: readonly MemberId[]) => members.map((m) => memberName(this.world, m)).join(', ');
    const parts = [
      called.length === 0 ? 'there is nobody else in the team to ask'
        : now.length === called.length ? (called.length === 1 ? `${names(now)} was asked to join` : `everyone else in the team (${called.length}: ${names(now)}) was asked to join`)
          : now.length > 0 ? `asked to join now: ${names(now)}` : 'nobody was reached now',
      ...(later.length > 0 ? [`in quiet hours, asked when they end: ${later.join('; ')}`] : []),
      ...(held.length > 0 ? [`held back by a plugin: ${names(held)}`] : []),
      ...(unreached.length > 0 ? [`no running chat platform can message ${names(unreached)} (${this.linkHint()})`] : []),
    ];
    const urgentHint = now.length === 0 && later.length > 0 ? ' A huddle on an urgent severity reaches everyone at once.' : '';
    return message('reply', rt`Huddle called on #${incident.id}; ${parts.join('; ')}. The reason is on the timeline.${urgentHint}`);
  }

  async list(ctx: UseCaseContext, all: boolean): Promise<Message> {
    const incidents = await ctx.tx.listIncidents({ team: ctx.team.id, states: all ? undefined : ['open', 'acknowledged'], limit: 25 });
    if (incidents.length === 0) return message('reply', rt`No ${all ? '' : 'open '}incidents for ${ctx.team.name}.`);
    const lines = incidents.map((i) => rt`${incidentHeadline(i)} — ${i.state}, ${memberName(this.world, i.assignee)}, opened ${age(ctx.now, i.openedAt)} ago`);
    return message('reply', rt`${all ? 'Incidents' : 'Open incidents'} for ${ctx.team.name}:`, { lines });
  }

  async show(ctx: UseCaseContext, incident: Incident): Promise<Message> {
    const timeline = await ctx.tx.timeline(incident.id);
    const line = (e: TimelineEvent): RichText => rt`${e.at.setZone(this.world.teams.get(incident.team)?.timeZone ?? 'utc').toFormat(ZONED_TIME)} ${describeEvent(this.world, e)}`;
    // A long timeline keeps its beginning (the report, the first page) and its latest events, and
    // says how many it leaves out between them.
    const shown = timeline.length <= SHOW_EVENTS ? timeline.map(line) : [
      ...timeline.slice(0, SHOW_FIRST_EVENTS).map(line),
      rt`… ${String(timeline.length - SHOW_EVENTS + 1)} more events in between, not shown …`,
      ...timeline.slice(timeline.length - (SHOW_EVENTS - SHOW_FIRST_EVENTS - 1)).map(line),
    ];
    const lines: RichText[] = [
      rt`State: ${incident.state}; assignee ${memberName(this.world, incident.assignee)}; reported by ${principalName(this.world, incident.reporter)}${incident.service ? rt`; service ${incident.service}` : []}`,
      ...shown,
    ];
    return { ...incidentMessage('reply', this.world, incident, timeline, incidentHeadline(incident), lines), actions: actionsFor(incident) };
  }

  /**
   * runEscalationStep: the durable timer's work. Pages the next person of the frozen plan if the
   * incident is still unacknowledged, and always schedules what comes after it: the next step, the
   * next pass of the chain, or the unowned-incident alert, which repeats until someone acknowledges.
   */
  async runEscalationStep(ctx: UseCaseContext, incident: Incident, payload: EscalationPayload): Promise<void> {
    if (incident.state !== 'open') return;
    if (payload.unowned !== undefined) return this.announceUnowned(ctx, incident, payload.round, payload.unowned);
    let pass = payload.pass ?? 0;
    let from = payload.index;
    let current = incident;
    const since = await this.openSince(ctx.tx, incident);
    for (;;) {
      const decision = decideStep(this.world, current, from, pass);
      for (const skip of decision.skipped) await this.event(ctx, current, 'escalation-skipped', { step: skip.step, reason: skip.reason, pass });
      if (decision.index === null || decision.step === null || decision.person === null) {
        // Nobody left to page in this pass: the next pass starts now, or the unowned alert fires now.
        if (pass < repeatsOf(current.policy)) {
          pass += 1;
          from = 0;
          continue;
        }
        return this.announceUnowned(ctx, current, payload.round, 0);
      }
      const waited = formatDuration(ctx.now.diff(since).as('milliseconds'));
      const step = decision.step;
      const as = rolesText(decision.roles.length > 0 ? decision.roles : [step === 'oncall' ? 'mentor' : step]);
      const round = pass > 0 ? ` (round ${pass + 1} of the chain)` : '';
      const headline = step === 'oncall'
        ? rt`Reminder${round}: ${incidentHeadline(current)} is still not acknowledged (${waited})`
        : rt`Escalated to you as ${as}${round}: ${incidentHeadline(current)} has not been acknowledged by ${memberName(this.world, current.assignee)} for ${waited}`;
      if (step !== 'oncall') {
        // A mentor or lead marked away (oncall away, time_off) would cost the chain a whole ack
        // timeout nobody can meet: the next step fires now, and the timeline says why.
        const away = await awayNow(ctx, decision.person);
        if (away) {
          await this.event(ctx, current, 'escalation-skipped', { step, member: decision.person, reason: `${memberName(this.world, decision.person)} (the ${step}) is marked away until ${this.theirClock(decision.person, away.end)}`, pass });
          from = decision.index + 1;
          continue;
        }
      }
      const notification = await this.pageNotification(ctx, current, decision.person, step === 'oncall' ? 'reminder' : step, headline);
      const page = step === 'oncall' ? notification : { ...notification, chainStep: true };
      const verdict = await ctx.decide(page);
      if ((verdict.action === 'skip' || verdict.action === 'drop') && step !== 'oncall') {
        // A plugin says this person must not be paged: the next step fires now. The chain goes on
        // to its end and the unowned alert, which no plugin can hold, so nothing is left unowned.
        await this.event(ctx, current, 'escalation-skipped', { step, member: decision.person, reason: verdict.reason, pass });
        from = decision.index + 1;
        continue;
      }
      if (step !== 'oncall') {
        current = { ...current, escalationLevel: decision.level, updatedAt: ctx.now };
        await ctx.tx.updateIncident(current);
        await this.event(ctx, current, 'escalated', { target: step, roles: decision.roles, member: decision.person, manual: false, pass });
      }
      await this.sendPage(ctx, current, decision.person, step === 'oncall' ? 'reminder' : step, page, verdict);
      // A page that waits (quiet hours) starts its ack timeout when it is delivered.
      const next = nextPosition(current.policy, pass, decision.index);
      await this.scheduleEscalation(ctx.tx, current, payload.round, next === 'unowned' ? { unowned: 0 } : next, ackDue(current, verdict, ctx.now));
      return;
    }
  }

  /**
   * announceUnowned: the chain ran out and nobody acknowledged. The team channel is told, mentioning
   * only the lead and the on-call (the assignee); it is said again every `unowned_every` until
   * someone acknowledges or resolves the incident. For a non-urgent incident, quiet hours hold it:
   * it mentions only those of the two who may be disturbed now, and waits while neither may.
   */
  private async announceUnowned(ctx: UseCaseContext, incident: Incident, round: number | string, count: number): Promise<void> {
    const team = this.world.teams.get(incident.team);
    if (!team) return;
    const everyone = [...new Set([team.lead, incident.assignee])];
    const people: MemberId[] = [];
    let held: DateTime | null = null;
    for (const m of everyone) {
      const at = await ctx.availableAt(m, { severity: incident.severity, onCall: m === incident.assignee });
      if (at === null) people.push(m);
      else if (held === null || at < held) held = at;
    }
    if (people.length === 0 && held !== null) {
      await this.scheduleEscalation(ctx.tx, incident, round, { unowned: count, held }, held);
      return;
    }
    const paged = [...(await this.involvedMembers(ctx.tx, incident))].map((m) => memberName(this.world, m));
    const waited = formatDuration(ctx.now.diff(await this.openSince(ctx.tx, incident)).as('milliseconds'));
    const ev = await this.event(ctx, incident, 'unowned', { count: count + 1, members: people });
    const timeline = await ctx.tx.timeline(incident.id);
    const who: RichText = people.flatMap((m, i) => (i > 0 ? [', ', mention(m, memberName(this.world, m))] : [mention(m, memberName(this.world, m))]));
    const roles = everyone.map((m) => `${memberName(this.world, m)} (${[m === team.lead ? 'lead' : null, m === incident.assignee ? 'on call for it' : null].filter(Boolean).join(', ')})`).join(', ');
    ctx.tell({
      key: `inc:${incident.id}:${ev.seq}:${recipientKey({ kind: 'channel', team: incident.team })}`,
      recipient: { kind: 'channel', team: incident.team },
      message: {
        ...incidentMessage('page', this.world, incident, timeline,
          rt`${who} Unowned incident ${incidentHeadline(incident)}: nobody has acknowledged it in ${waited}${paged.length > 0 ? `; paged: ${paged.join(', ')}` : ''}. ${roles}: take it ("incident ack ${incident.id}") or hand it on ("incident assign ${incident.id} MEMBER").`),
        mentions: people,
      },
      incidentId: incident.id,
      role: 'channel',
      severity: incident.severity,
    });
    await this.scheduleEscalation(ctx.tx, incident, round, { unowned: count + 1 }, ctx.now.plus({ milliseconds: unownedEveryMsOf(incident.policy) }));
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** openSince: when the incident last became open: its report, or its latest reopening that was not a flap (a flap goes on with the round it flaps in). */
  private async openSince(tx: StoreTx, incident: Incident): Promise<DateTime> {
    const timeline = await tx.timeline(incident.id);
    return [...timeline].reverse().find(opensRound)?.at ?? incident.openedAt;
  }

  /** scheduleEscalation: the timer for position `at` of the chain, due at `dueAt`. Keys of pass 0 keep their old format. */
  private async scheduleEscalation(tx: StoreTx, incident: Incident, round: number | string, at: ChainPosition, dueAt: DateTime): Promise<void> {
    const suffix = 'unowned' in at ? `u${at.unowned}${at.held ? `@${at.held.toMillis()}` : ''}` : at.pass === 0 ? `${at.index}` : `p${at.pass}:${at.index}`;
    const payload: EscalationPayload = 'unowned' in at
      ? { incidentId: incident.id, round, index: 0, unowned: at.unowned }
      : { incidentId: incident.id, round, index: at.index, pass: at.pass };
    await tx.scheduleTimer({
      key: `${escalationKeyPrefix(incident.id)}${round}:${suffix}`,
      kind: ESCALATION_TIMER,
      dueAt,
      payload: { ...payload },
    });
  }

  /**
   * maintenanceOver: the maintenance window that opened `incident` quietly has ended and nothing
   * else covers it. An incident still open (nobody acknowledged it, no alert resolved it) is a
   * problem the maintenance did not explain: its on-call is paged now and its chain starts, as if it
   * had just been reported. One whose chain runs already (reassigned meanwhile), or acknowledged or
   * resolved, is left alone; a hand escalation alone starts no chain, so it does not count. The channel gets its record now (a quiet open has none).
   */
  async maintenanceOver(ctx: UseCaseContext, incident: Incident, window: { reason: string; end: DateTime }): Promise<void> {
    if (incident.state !== 'open') return;
    // A chain already running (an assignment started one) goes on. A page without a chain (someone
    // escalated by hand) is not one: the incident still needs its own, or nobody is paged again.
    if ((await ctx.tx.pendingTimers(escalationKeyPrefix(incident.id))).length > 0) return;
    const since = await this.openSince(ctx.tx, incident);
    const ev = await this.event(ctx, incident, 'maintenance-over', { reason: window.reason, ended: window.end.toUTC().toISO(), member: incident.assignee });
    const headline = rt`Maintenance is over (${window.reason}) and ${incidentHeadline(incident)} is still open (opened ${age(ctx.now, since)} ago)`;
    await this.startChain(ctx, incident, incident.assignee, `m${ev.seq}`, headline);
    await this.postRecord(ctx, incident, headline);
  }

  /** startChain pages `member` and starts the chain from its beginning (`round` tags this start). */
  private async startChain(ctx: UseCaseContext, incident: Incident, member: MemberId, round: string, headline: RichText): Promise<NotifyDecision> {
    await ctx.tx.cancelTimers(escalationKeyPrefix(incident.id));
    const verdict = await this.page(ctx, incident, member, 'page', headline);
    await this.scheduleEscalation(ctx.tx, incident, round, { pass: 0, index: 0 }, ackDue(incident, verdict, ctx.now));
    return verdict;
  }

  /**
   * tellShadow: at the first page of an incident (its report or reopening), whoever shadows the
   * team's on-call (a shadow layer) gets a direct notice: no buttons, no mention, not in the chain,
   * so never paged or escalated to, and held by quiet hours like any notice. The timeline says so.
   */
  private async tellShadow(ctx: UseCaseContext, incident: Incident, onCall: MemberId, headline: RichText): Promise<void> {
    const shadow = await shadowNow(this.policies, ctx.tx, ctx.team, ctx.now);
    if (shadow === null || shadow === onCall || !this.world.members.has(shadow)) return;
    const ev = await this.event(ctx, incident, 'shadow-notified', { member: shadow });
    const timeline = await ctx.tx.timeline(incident.id);
    ctx.tell({
      key: `inc:${incident.id}:${ev.seq}:${recipientKey({ kind: 'member', id: shadow })}`,
      recipient: { kind: 'member', id: shadow },
      message: {
        ...incidentMessage('notice', this.world, incident, timeline,
          rt`Shadowing ${memberName(this.world, onCall)}: ${headline}. You are not paged; follow along and ask them how they handle it.`),
        mentions: [],
      },
      incidentId: incident.id,
      role: 'member',
      severity: incident.severity,
    });
  }

  /** pendingDeferral: when a page to `member` that quiet hours hold back reaches them, or null. */
  private async pendingDeferral(ctx: UseCaseContext, incident: Incident, member: MemberId): Promise<DateTime | null> {
    const held = (await ctx.tx.timeline(incident.id)).filter((e) => e.kind === 'notification-deferred' && e.data.member === member && typeof e.data.until === 'string');
    const until = held.map((e) => DateTime.fromISO(String(e.data.until), { zone: 'utc' })).filter((u) => u.isValid && u > ctx.now);
    return until.length > 0 ? (until.sort((a, b) => a.toMillis() - b.toMillis())[0] as DateTime) : null;
  }

  /**
   * pagedWhen: what a reply says of the page to `member` of `team`: "has been paged"; when no
   * running platform can message them, where the page went instead (the team channel, where it
   * pings nobody, or nowhere) and that the chain moves on at once (see Unreached); when quiet hours hold it back, "is in quiet
   * hours and is paged at Tue 07:00 their time (zone)"; when a plugin dropped or skipped it, that
   * and why.
   */
  private pagedWhen(member: MemberId, verdict: NotifyDecision, incident: Incident): string {
    const team = incident.team;
    switch (verdict.action) {
      case 'deliver': {
        const why = this.unreachableWhy(member, team);
        if (why === null) return 'has been paged';
        return `${why}${why.includes('the team channel,') ? ', and' : ';'} ${this.nextInChain(member, incident)}`;
      }
      case 'defer':
        return `is in quiet hours and is paged ${this.theirTime(member, verdict.until)}`;
      default:
        return `was not paged: a plugin held the page back (${verdict.reason}); ${this.nextInChain(member, incident)}`;
    }
  }

  /**
   * nextInChain: "the next person in the chain is paged now", unless nobody after `member` in the
   * incident's chain (its policy's `then`: their mentor, the team's lead) can be messaged either:
   * then nobody will be reached, and the reporter is told so with the fix, instead of a promise
   * nobody keeps.
   */
  private nextInChain(member: MemberId, incident: Incident): string {
    const after = incident.policy.then
      .map((step) => personFor(this.world, incident, step))
      .filter((m): m is MemberId => m !== null && m !== member);
    if (after.some((m) => this.adapters.reaching({ kind: 'member', id: m }).length > 0)) return 'the next person in the chain is paged now';
    const names = [...new Set(after)].map((m) => memberName(this.world, m));
    return `nobody after them in the chain${names.length > 0 ? ` (${names.join(', ')})` : ''} can be messaged either: nobody will be reached until ${this.linkHint()}`;
  }

  /**
   * unreachableWhy: null when a running chat platform can message `member` directly; otherwise what
   * became of a page to them (the team channel, where their name pings nobody, or nowhere), so that
   * no reply says "has been paged" or "was asked to join" of someone nothing reached.
   */
  private unreachableWhy(member: MemberId, team: TeamId): string | null {
    if (this.adapters.reaching({ kind: 'member', id: member }).length > 0) return null;
    return this.adapters.reaching({ kind: 'channel', team }).length > 0
      ? 'cannot be messaged directly on any running chat platform: the page went to the team channel, where it pings nobody'
      : 'cannot be reached: no running chat platform can message them and the team has no channel';
  }

  /** linkHint: where an admin links members no running platform knows. */
  private linkHint(): string {
    return `an admin links them in the config (members[].${this.adapters.all()[0]?.name ?? 'discord'})`;
  }

  /** theirTime: "at Tue 07:00 their time (Europe/Berlin)". */
  private theirTime(member: MemberId, at: DateTime): string {
    return `at ${this.theirClock(member, at)}`;
  }

  /** theirClock: "Tue 07:00 their time (Europe/Berlin)". */
  private theirClock(member: MemberId, at: DateTime): string {
    const zone = this.world.members.get(member)?.timeZone ?? 'UTC';
    return `${at.setZone(zone).toFormat('ccc HH:mm')} their time (${zone})`;
  }

  private async event(ctx: UseCaseContext, incident: Incident, kind: string, data: Record<string, unknown>): Promise<TimelineEvent> {
    return ctx.tx.appendTimeline({ incidentId: incident.id, at: ctx.now, kind, actor: ctx.caller, data });
  }

  /** page: a direct message that may ping exactly `member`, recorded as "notified". Returns the plugins' verdict. */
  private async page(ctx: UseCaseContext, incident: Incident, member: MemberId, step: string, headline: RichText): Promise<NotifyDecision> {
    const n = await this.pageNotification(ctx, incident, member, step, headline);
    const verdict = await ctx.decide(n);
    await this.sendPage(ctx, incident, member, step, n, verdict);
    return verdict;
  }

  private async pageNotification(ctx: UseCaseContext, incident: Incident, member: MemberId, step: string, headline: RichText): Promise<Notification> {
    const timeline = await ctx.tx.timeline(incident.id);
    const seq = (timeline[timeline.length - 1]?.seq ?? 0) + 1; // the "notified" event sendPage appends
    return {
      key: `inc:${incident.id}:${seq}:${recipientKey({ kind: 'member', id: member })}`,
      recipient: { kind: 'member', id: member },
      message: {
        ...incidentMessage('page', this.world, incident, timeline, rt`${mention(member, memberName(this.world, member))} ${headline}`, [], actionsFor(incident)),
        mentions: [member],
      },
      incidentId: incident.id,
      role: step === 'page' || step === 'reminder' ? 'oncall' : step === 'mentor' || step === 'lead' ? step : 'involved',
      severity: incident.severity,
    };
  }

  /** sendPage records the page (`held`: a plugin's verdict other than deliver, which the timeline shows) and tells it. */
  private async sendPage(ctx: UseCaseContext, incident: Incident, member: MemberId, step: string, n: Notification, verdict: NotifyDecision): Promise<void> {
    const held = verdict.action === 'deliver' ? {} : { held: verdict.action };
    await ctx.tx.appendTimeline({ incidentId: incident.id, at: ctx.now, kind: 'notified', actor: null, data: { member, step, ...held } });
    ctx.tell(n);
  }

  /**
   * notify: one incident message to one recipient. 'incident-update' is news for someone already
   * told about the incident (acknowledged, resolved, reassigned, the reporter's note): platforms
   * that edit update the earlier message in place and post the headline as a new message, so it
   * notifies (`news`); 'notice' only posts (the reporter hearing their incident was acknowledged).
   */
  private async notify(ctx: UseCaseContext, incident: Incident, recipient: Recipient, kind: 'incident-update' | 'notice', headline: RichText, actions: Message['actions'] = [], role: NotificationRole = 'involved'): Promise<NotifyDecision> {
    const timeline = await ctx.tx.timeline(incident.id);
    const last = timeline[timeline.length - 1];
    const n: Notification = {
      key: `inc:${incident.id}:${last?.seq ?? 0}:${recipientKey(recipient)}`,
      recipient,
      message: { ...incidentMessage(kind, this.world, incident, timeline, headline, [], [...actions]), ...(kind === 'incident-update' ? { news: true } : {}) },
      incidentId: incident.id,
      role,
      severity: incident.severity,
    };
    ctx.tell(n);
    // The engine keeps this decision for the notification (it is asked once per key).
    return ctx.decide(n);
  }

  /** postRecord: the quiet record in the team channel; mentions nobody. */
  private async postRecord(ctx: UseCaseContext, incident: Incident, headline: RichText): Promise<void> {
    const timeline = await ctx.tx.timeline(incident.id);
    const last = timeline[timeline.length - 1];
    ctx.tell({
      key: `inc:${incident.id}:${last?.seq ?? 0}:${recipientKey({ kind: 'channel', team: incident.team })}`,
      recipient: { kind: 'channel', team: incident.team },
      message: incidentMessage('incident-record', this.world, incident, timeline, headline),
      incidentId: incident.id,
      role: 'channel',
    });
  }

  /** tellReporter keeps the reporter informed, unless they are the one acting. */
  private async tellReporter(ctx: UseCaseContext, incident: Incident, headline: RichText): Promise<void> {
    if (samePrincipal(ctx.caller, incident.reporter)) return;
    if (incident.source !== 'chat') return;
    const involved = await this.involvedMembers(ctx.tx, incident);
    if (incident.reporter.kind === 'member' && involved.has(incident.reporter.id)) return; // told as a responder
    await this.notify(ctx, incident, recipientOf(incident.reporter), 'notice', headline, [], 'reporter');
  }

  /** tellInvolved: everyone paged for this incident (and huddle members), except the actor. */
  private async tellInvolved(ctx: UseCaseContext, incident: Incident, headline: RichText): Promise<void> {
    for (const member of await this.involvedMembers(ctx.tx, incident)) {
      if (ctx.caller.kind === 'member' && ctx.caller.id === member) continue;
      await this.notify(ctx, incident, { kind: 'member', id: member }, 'incident-update', headline, incident.state === 'resolved' ? [] : actionsFor(incident));
    }
  }

  private async involvedMembers(tx: StoreTx, incident: Incident): Promise<Set<MemberId>> {
    const people = new Set<MemberId>();
    for (const e of await tx.timeline(incident.id)) {
      if (e.kind === 'notified' && typeof e.data.member === 'string') people.add(e.data.member);
      if (e.kind === 'huddle' && Array.isArray(e.data.members)) for (const m of e.data.members) people.add(String(m));
    }
    return people;
  }

  private async card(tx: StoreTx, incident: Incident): Promise<Message> {
    return incidentMessage('reply', this.world, incident, await tx.timeline(incident.id), incidentHeadline(incident));
  }

  private async replyWithCard(tx: StoreTx, incident: Incident, headline: RichText): Promise<Message> {
    return { ...(await this.card(tx, incident)), headline, actions: actionsFor(incident) };
  }
}

/** awayNow: `member`'s absence (oncall away, time_off) that covers now, if any. */
async function awayNow(ctx: UseCaseContext, member: MemberId): Promise<{ readonly end: DateTime } | undefined> {
  return (await ctx.tx.listAbsences(ctx.now, ctx.now.plus({ milliseconds: 1 }))).find((a) => a.member === member);
}

/** deliveredAt: when a page reaches its person: now, or when a plugin deferred it to. */
function deliveredAt(verdict: NotifyDecision, now: DateTime): DateTime {
  return verdict.action === 'defer' && verdict.until > now ? verdict.until : now;
}

/**
 * flapping: whether a reopening by the alert is a flap of what `member` was paged for since
 * `since`: they were paged for it since (a page or reminder that was not held back), and it was
 * theirs when it resolved (not reassigned, not taken by a mentor who acknowledged it). With their
 * last page, whether it was acknowledged when it resolved, its escalation level then, how often it
 * reopened since, and whether they were told it flaps.
 */
export function flapping(timeline: readonly TimelineEvent[], member: MemberId, since: DateTime): { lastPage: DateTime; acknowledged: boolean; level: number; reopens: number; told: boolean } | null {
  const resolved = [...timeline].reverse().find((e) => e.kind === 'resolved');
  const was = resolved?.data.was;
  if (!isRecord(was) || was.assignee !== member) return null;
  let lastPage: DateTime | null = null;
  let reopens = 0;
  let told = false;
  for (const e of timeline) {
    if (e.at < since) continue;
    if (e.kind === 'notified' && e.data.member === member && (e.data.step === 'page' || e.data.step === 'reminder') && e.data.held === undefined) lastPage = e.at;
    // A page after the flap (a reminder, the mentor, a handover) makes its resolves tell people
    // again (see IntakeService): the next flap is news again too, or their last word is "resolved".
    if (e.kind === 'notified') told = false;
    if (e.kind === 'reopened') {
      reopens++;
      if (isFlap(e) && e.data.member === member) told = true;
    }
  }
  if (lastPage === null) return null;
  return { lastPage, acknowledged: was.state === 'acknowledged', level: typeof was.level === 'number' ? was.level : 0, reopens, told };
}

/** chainPosition: an escalation timer's place in the chain, as a resolved event keeps it. */
function chainPosition(p: EscalationPayload): Record<string, number> {
  return p.unowned !== undefined ? { unowned: p.unowned } : { index: p.index, pass: p.pass ?? 0 };
}

/** restoredPosition: the chain position a resolved event kept (see chainPosition), and when it was due; or null. */
function restoredPosition(kept: unknown): { readonly at: ChainPosition; readonly due: DateTime } | null {
  if (!isRecord(kept) || typeof kept.due !== 'number') return null;
  const due = DateTime.fromMillis(kept.due, { zone: 'utc' });
  if (typeof kept.unowned === 'number') return { at: { unowned: kept.unowned }, due };
  if (typeof kept.index === 'number' && typeof kept.pass === 'number') return { at: { index: kept.index, pass: kept.pass }, due };
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * ackDue: when the next step is due after a page: the ack timeout, counted from when the page
 * reaches its person. A page a plugin skipped or dropped reaches nobody: the next step is due now,
 * not after a timeout nobody could meet (the on-call's own page too: the chain must not wait on it).
 */
function ackDue(incident: Incident, verdict: NotifyDecision, now: DateTime): DateTime {
  if (verdict.action === 'skip' || verdict.action === 'drop') return now;
  return deliveredAt(verdict, now).plus({ milliseconds: incident.policy.ackTimeoutMs });
}

function age(now: DateTime, then: DateTime): string {
  return formatDuration(Math.max(0, now.diff(then).as('milliseconds')));
}

/** escalateFurther: the command that asks the next one up when `target` could not be reached. */
function escalateFurther(incident: Incident, target: EscalationTarget): string {
  return target === 'mentor'
    ? `"incident escalate ${incident.id} lead" asks the lead`
    : `"incident huddle ${incident.id} REASON" asks the whole team`;
}
