/**
 * Pure builders of the messages about incidents. Every recipient decision is made by the caller
 * (the app's use cases); these functions only word things.
 */
import { DateTime } from 'luxon';
import { LAYERED_ROTATION, type World } from '../model';
import type { Incident, Principal, TimelineEvent } from '../incident/types';
import { rt, type RichText } from '../text/rich-text';
import { message, type IncidentAction, type IncidentCard, type Message, type MessageKind } from './message';
import { gapWords } from './shift-notes';
import { formatDuration } from '../time/duration';

export function principalName(world: World, p: Principal | null): string {
  if (p === null) return 'Onehand';
  if (p.kind === 'member') return world.members.get(p.id)?.name ?? p.id;
  return p.name;
}

export function memberName(world: World, id: string): string {
  return world.members.get(id)?.name ?? id;
}

/** describeEvent words one timeline event in a line. */
export function describeEvent(world: World, e: TimelineEvent): RichText {
  const who = principalName(world, e.actor);
  const d = e.data as Record<string, string | number | undefined>;
  const person = typeof d.member === 'string' ? memberName(world, d.member) : '';
  switch (e.kind) {
    case 'reported':
      return rt`reported by ${who}`;
    case 'notified': {
      const step = d.step ? rt` (${String(d.step)})` : [];
      // A page a plugin held back (quiet hours) or dropped: the next event says why.
      if (d.held === 'defer') return rt`page to ${person}${step} queued`;
      if (d.held !== undefined) return rt`page to ${person}${step} not sent`;
      return rt`paged ${person}${step}`;
    }
    case 'acknowledged':
      return rt`acknowledged by ${who}`;
    case 'reassigned':
      return rt`assigned to ${person}`;
    case 'note':
      return rt`note from ${who}: ${String(d.text ?? '')}`;
    case 'reply':
      return rt`${who} to the reporter: ${String(d.text ?? '')}`;
    case 'escalated':
      return rt`escalated to the ${String(d.target ?? '')} (${person})${d.manual ? ' by ' : ''}${d.manual ? who : ''}`;
    case 'escalation-skipped':
      return rt`escalation step skipped: ${String(d.reason ?? '')}`;
    case 'huddle':
      return rt`huddle called by ${who}: ${String(d.reason ?? '')}`;
    case 'resolved':
      return d.note ? rt`resolved by ${who}: ${String(d.note)}` : rt`resolved by ${who}`;
    case 'reopened': {
      const base = d.reason ? rt`reopened by ${who}: ${String(d.reason)}` : rt`reopened by ${who}`;
      const flap = d.flapping as { kept?: unknown } | undefined;
      if (flap === undefined || flap === null || typeof flap !== 'object') return base;
      return rt`${base} (flapping: ${person} not paged again${flap.kept === 'acknowledged' ? ', still acknowledged' : ''})`;
    }
    case 'delivery-fallback':
      if (typeof d.reachedOn === 'string') return rt`could not reach ${person} on ${String(d.adapter ?? '')} (${String(d.reason ?? '')}); reached on ${d.reachedOn}`;
      return rt`could not reach ${person} directly (${String(d.reason ?? '')}); the page goes to the team channel`;
    case 'page-unreached':
      return rt`the page${person ? ` to ${person}` : ''} reached nobody: ${String(d.reason ?? '')}${d.hurried ? '; the chain moves on now' : ''}`;
    case 'page-reached-late': {
      const n = typeof d.unreached === 'number' ? d.unreached : 1;
      const where = d.adapter ? ` on ${String(d.adapter)}` : '';
      const since = typeof d.since === 'string' ? DateTime.fromISO(d.since) : null;
      const after = since?.isValid ? ` ${formatDuration(e.at.diff(since).as('milliseconds'))}` : '';
      return rt`the page${person ? ` to ${person}` : ''} went out late${where},${after} after ${n === 1 ? 'it' : `${n} pages`} reached nobody`;
    }
    case 'channel-unreachable': {
      const members = Array.isArray(e.data.members) ? (e.data.members as unknown[]).map((m) => memberName(world, String(m))).join(', ') : '';
      if (e.data.posted === true) return rt`the team channel post cannot ping ${members} (${String(d.reason ?? '')}); told them directly too`;
      return rt`the team channel is not reachable (${String(d.reason ?? '')}); told ${members} directly`;
    }
    case 'delivery-retrying':
      return rt`page to ${person} on ${String(d.adapter ?? '')} failed (${String(d.reason ?? '')}); retrying`;
    case 'delivery-failed':
      if (!person && d.recipient === 'channel') return rt`post in the team channel${d.adapter ? ` on ${String(d.adapter)}` : ''} failed: ${String(d.reason ?? '')}`;
      return rt`delivery to ${person || String(d.recipient ?? '')} failed: ${String(d.reason ?? '')}`;
    case 'alert-firing':
    {
      const firing = rt`alert ${d.again ? 'firing again' : 'firing'}: ${String(d.summary ?? d.alert ?? '')}`;
      if (typeof d.unmappedSeverity !== 'string') return firing;
      return rt`${firing} (its severity "${d.unmappedSeverity}" is not in the integration's severity map: taken as ${String(d.took ?? '')})`;
    }
    case 'alert-resolved':
      return rt`alert resolved: ${String(d.summary ?? d.alert ?? '')}${typeof d.firing === 'number' && d.firing > 0 ? ` (${d.firing} still firing)` : ''}`;
    case 'unowned':
      return rt`the whole chain ran and nobody acknowledged: the team channel was told (alert ${String(d.count ?? 1)})`;
    case 'maintenance':
      return rt`opened quietly: maintenance until ${String(d.until ?? '')} by ${String(d.by ?? '')}: ${String(d.reason ?? '')}`;
    case 'maintenance-over':
      return rt`maintenance over (${String(d.reason ?? '')}), still open: ${person} is paged and the chain starts`;
    case 'shadow-notified':
      return rt`${person} (shadowing the on-call) was told, not paged`;
    case 'gap-held':
      // Events from before the policy was recorded came from layered schedules.
      return rt`${gapWords(typeof d.policy === 'string' ? d.policy : LAYERED_ROTATION).timeline}: ${person}, the lead, holds the gap`;
    case 'escalation-plan-refused':
      return rt`${String(d.reason ?? 'the escalation policy\'s plan was refused')}`;
    case 'notification-deferred':
    case 'notification-bypassed':
    case 'notification-dropped':
    case 'notification-skipped':
    case 'notification-released':
      return notificationDecision(world, e.kind, d);
    case 'severity-raised':
      return rt`raised from ${String(d.from ?? '')} to ${String(d.to ?? '')}${typeof d.reason === 'string' && d.reason !== '' ? rt`: ${d.reason}` : []}`;
    case 'storm':
      if (d.breakthrough) return rt`${String(d.how ?? 'opened')} during an alert storm, more severe than anything it had paged (${String(d.below ?? '')}): paged on its own`;
      return d.started ? rt`started an alert storm; later incidents open without paging` : rt`opened during an alert storm: not paged individually`;
    default:
      return rt`${e.kind}`;
  }
}

/**
 * notificationDecision: what a plugin decided about one message of the incident (see the engine):
 * "page to Dave held back: Dave is in quiet hours until Tue 07:00".
 */
function notificationDecision(world: World, kind: string, d: Record<string, string | number | undefined>): RichText {
  const role = typeof d.role === 'string' ? d.role : '';
  // A huddle call ("team") pages like an escalation step.
  const what = role === 'oncall' || role === 'mentor' || role === 'lead' || role === 'team' ? 'page' : 'message';
  const to = typeof d.member === 'string' ? memberName(world, d.member) : role === 'channel' ? 'the team channel' : role === 'reporter' ? 'the reporter' : 'someone';
  const by = typeof d.plugin === 'string' ? ` (${d.plugin})` : '';
  const why = typeof d.reason === 'string' && d.reason !== '' ? rt`: ${d.reason}` : [];
  switch (kind) {
    case 'notification-deferred':
      if (typeof d.reason === 'string' && d.reason !== '') return rt`${what} to ${to} held back${by}${why}`;
      return typeof d.until === 'string' ? rt`${what} to ${to} held back${by} until ${time(DateTime.fromISO(d.until, { zone: 'utc' }))}` : rt`${what} to ${to} held back${by}`;
    case 'notification-bypassed':
      return rt`${what} to ${to} sent at once${by}${why}`;
    case 'notification-dropped':
      return rt`${what} to ${to} dropped${by}${why}`;
    case 'notification-released': {
      const since = typeof d.heldSince === 'string' ? DateTime.fromISO(d.heldSince, { zone: 'utc' }) : null;
      return rt`${what} to ${to} held back${since?.isValid ? ` since ${time(since)}` : ''} goes out now${by}: their quiet time ended`;
    }
    default:
      return rt`${what} to ${to} not sent${by}${why}`;
  }
}

export function incidentCard(world: World, incident: Incident, timeline: readonly TimelineEvent[]): IncidentCard {
  return {
    id: incident.id,
    team: world.teams.get(incident.team)?.name ?? incident.team,
    title: incident.title,
    severity: incident.severity,
    state: incident.state,
    service: incident.service,
    reporter: principalName(world, incident.reporter),
    assignee: memberName(world, incident.assignee),
    openedAt: incident.openedAt.toUTC().toISO() as string,
    recent: timeline.slice(-5).map((e) => rt`${time(e.at)} ${describeEvent(world, e)}`),
  };
}

function time(at: DateTime): string {
  return at.toUTC().toFormat("HH:mm'Z'");
}

/** incidentHeadline: "#12 [sev2] checkout returns 502". */
export function incidentHeadline(incident: Incident, prefix = ''): RichText {
  return rt`${prefix}#${incident.id} [${incident.severity}] ${incident.title}`;
}

/** actionsFor: buttons for a responder while the incident is not resolved. */
export function actionsFor(incident: Incident): IncidentAction[] {
  if (incident.state === 'resolved') return [];
  return incident.state === 'open' ? ['ack', 'resolve', 'escalate'] : ['resolve', 'escalate'];
}

export function incidentMessage(
  kind: MessageKind,
  world: World,
  incident: Incident,
  timeline: readonly TimelineEvent[],
  headline: RichText,
  lines: RichText[] = [],
  actions: IncidentAction[] = [],
): Message {
  return message(kind, headline, { lines, incident: incidentCard(world, incident, timeline), actions });
}
