/**
 * buildHandoffSummary: the handover of one shift, as a neutral Message. Pure: histories, notes and
 * the coming shifts in, words out. Counts are for incidents with activity in [from, to).
 */
import type { DateTime } from 'luxon';
import type { Message } from '../../src/core/messages/message';
import { message } from '../../src/core/messages/message';
import { describeEvent, memberName } from '../../src/core/messages/incident-views';
import type { MemberId, Team, World } from '../../src/core/model';
import type { Shift } from '../../src/core/rotation/types';
import { rt, toPlain, type RichText } from '../../src/core/text/rich-text';
import { median } from '../../src/core/insights/figures';
import { formatDuration } from '../../src/core/time/duration';
import type { IncidentHistory } from '../../src/ports/plugin';

export interface HandoffNote {
  readonly by: string;
  readonly at: string;
  readonly text: string;
}

export interface SummaryInput {
  readonly world: World;
  readonly team: Team;
  readonly from: DateTime;
  readonly to: DateTime;
  readonly outgoing: MemberId;
  readonly incoming: MemberId;
  readonly histories: readonly IncidentHistory[];
  readonly notes: readonly HandoffNote[];
  readonly next: readonly Shift[];
  readonly draft: boolean;
  /**
   * The instant the summary is written for: ages of open incidents are measured to it. A draft is
   * written mid-shift (now, before `to`); the summary at the handoff is written at `to` (default).
   */
  readonly asOf?: DateTime;
}

/** The most items one list of the summary names; the rest are counted. */
export const LIST_MAX = 10;

function capped(items: readonly RichText[], where: string): RichText[] {
  const shown = items.slice(0, LIST_MAX).map((l) => rt`  • ${l}`);
  if (items.length > LIST_MAX) shown.push(rt`  • and ${String(items.length - LIST_MAX)} more ${where}`);
  return shown;
}

export function buildHandoffSummary(input: SummaryInput): Message {
  const { world, team, from, to } = input;
  const asOf = input.asOf !== undefined && input.asOf < to ? input.asOf : to;
  const within = (at: DateTime) => at >= from && at < to;
  const zone = team.timeZone;
  const when = (at: DateTime) => at.setZone(zone).toFormat('ccc dd LLL HH:mm');
  let opened = 0, deferred = 0;
  // Incidents, not events: one acknowledged, reopened and acknowledged again counts once.
  const ackedIds = new Set<number>();
  const resolvedIds = new Set<number>();
  const ackTimes: number[] = [];
  const resolveTimes: number[] = [];
  const escalations: RichText[] = [];
  const huddles: RichText[] = [];
  const stillOpen: Array<{ severity: string; id: number; line: RichText }> = [];
  const movedOut: RichText[] = [];
  const movedIds = new Set<number>();
  for (const { incident, timeline } of input.histories) {
    // An incident moved between teams counts for each team only what happened while it was
    // theirs: its team when it opened is the one the first move took it from.
    const firstMove = timeline.find((e) => e.kind === 'reassigned' && typeof e.data.fromTeam === 'string' && e.data.team !== e.data.fromTeam);
    let teamNow = firstMove ? String(firstMove.data.fromTeam) : incident.team;
    if (within(incident.openedAt) && teamNow === team.id) opened++;
    let lastEscalation = '';
    // Times are measured from the report, or from the reopening the event follows (as oncall stats does).
    let since = incident.openedAt;
    for (const e of timeline) {
      if (e.kind === 'reported' || e.kind === 'reopened') since = e.at;
      if (e.kind === 'reassigned' && typeof e.data.team === 'string') {
        // Moved out during the shift (and not back): the other team has it now.
        if (teamNow === team.id && e.data.team !== team.id && within(e.at) && incident.team !== team.id && !movedIds.has(incident.id)) {
          movedIds.add(incident.id);
          const there = world.teams.get(incident.team)?.name ?? incident.team;
          movedOut.push(rt`#${incident.id} [${incident.severity}] ${incident.title} → ${there} at ${when(e.at)}${incident.state === 'resolved' ? ' (resolved since)' : `, now ${incident.state}, ${memberName(world, incident.assignee)}`}`);
        }
        teamNow = e.data.team;
      }
      if (e.kind === 'acknowledged' || e.kind === 'reopened' || e.kind === 'reassigned') lastEscalation = ''; // a new round
      if (!within(e.at) || teamNow !== team.id) continue;
      if (e.kind === 'acknowledged') {
        ackedIds.add(incident.id);
        ackTimes.push(e.at.diff(since).as('milliseconds'));
      } else if (e.kind === 'resolved') {
        resolvedIds.add(incident.id);
        resolveTimes.push(e.at.diff(since).as('milliseconds'));
      } else if (e.kind === 'escalated') {
        // One line per step: the same person paged again for the same step in a row is one line.
        const line = rt`#${incident.id} ${incident.title}: ${describeEvent(world, e)}`;
        const text = toPlain(line);
        if (text !== lastEscalation) escalations.push(line);
        lastEscalation = text;
      } else if (e.kind === 'huddle') {
        huddles.push(rt`#${incident.id} ${incident.title}: ${describeEvent(world, e)}`);
      } else if (e.kind === 'notification-deferred') {
        deferred++;
      }
    }
    if (incident.state !== 'resolved' && incident.openedAt < to && incident.team === team.id) {
      const lastNote = [...timeline].reverse().find((e) => e.kind === 'note' || e.kind === 'reply');
      const age = formatDuration(asOf.diff(incident.openedAt).as('milliseconds'));
      stillOpen.push({ severity: incident.severity, id: incident.id, line: rt`#${incident.id} [${incident.severity}] ${incident.title} — ${incident.state}, ${memberName(world, incident.assignee)}, open ${age}${lastNote ? rt`; last note: ${String(lastNote.data.text ?? '')}` : []}` });
    }
  }
  const tta = median(ackTimes);
  const ttr = median(resolveTimes);
  const lines: RichText[] = [
    rt`Shift ${when(from)} → ${when(to)} (${zone}).`,
    rt`Incidents: ${opened} opened, ${ackedIds.size} acknowledged, ${resolvedIds.size} resolved, ${stillOpen.length} still open.`,
    rt`Median time to acknowledge: ${tta === null ? '—' : formatDuration(tta)}; to resolve: ${ttr === null ? '—' : formatDuration(ttr)}.`,
  ];
  // Each list names at most LIST_MAX (the most severe, then the oldest, still open): after an alert
  // storm the summary stays a message a chat platform takes whole, notes and next shifts included.
  stillOpen.sort((a, b) => a.severity.localeCompare(b.severity) || a.id - b.id);
  if (stillOpen.length > 0) lines.push(rt`Still open:`, ...capped(stillOpen.map((o) => o.line), '("incident list" has them all)'));
  if (movedOut.length > 0) lines.push(rt`Moved to other teams:`, ...capped(movedOut, '(each is on its incident\'s timeline)'));
  lines.push(escalations.length > 0 ? rt`Escalations (${escalations.length}):` : rt`Escalations: none.`, ...capped(escalations, '(each is on its incident\'s timeline)'));
  lines.push(huddles.length > 0 ? rt`Huddles (${huddles.length}):` : rt`Huddles: none.`, ...capped(huddles, '(each is on its incident\'s timeline)'));
  if (deferred > 0) lines.push(rt`Pages and updates held back by quiet hours: ${deferred}.`);
  // Anyone in the team may leave a note: each is credited to whoever wrote it.
  if (input.notes.length > 0) lines.push(rt`Handoff notes:`, ...input.notes.map((n) => rt`  • ${memberName(world, n.by)}: ${n.text}`));
  else lines.push(rt`No handoff notes ("oncall handoff note TEXT" leaves one).`);
  if (input.next.length > 0) lines.push(rt`Next: ${input.next.map((s) => `${memberName(world, s.member)} from ${when(s.start)}${s.override ? ' (override)' : ''}`).join('; ')}.`);
  const title = input.draft
    ? rt`Handoff draft for ${team.name}: ${memberName(world, input.outgoing)} → ${memberName(world, input.incoming)} at ${when(to)}`
    : rt`Handoff for ${team.name}: ${memberName(world, input.outgoing)} → ${memberName(world, input.incoming)}`;
  return message('notice', title, { lines });
}
