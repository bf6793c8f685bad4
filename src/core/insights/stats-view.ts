/**
 * statsMessage words TeamInsights as a neutral Message (headline + lines) for `oncall stats`:
 * the console prints it, Discord renders an embed, Teams a card. Names are config text and go in as
 * user segments, so every renderer escapes them.
 */
import type { World } from '../model';
import { memberName } from '../messages/incident-views';
import { message, type Message } from '../messages/message';
import { rt, type RichText } from '../text/rich-text';
import { formatDuration } from '../time/duration';
import type { TeamInsights } from './figures';

export function percent(rate: number | null): string {
  return rate === null ? 'n/a' : `${Math.round(rate * 100)}%`;
}

function points(delta: number | null): string {
  if (delta === null) return '';
  const p = Math.round(delta * 100);
  return p === 0 ? ' (=)' : p > 0 ? ` (↑${p} pts)` : ` (↓${-p} pts)`;
}

function dur(ms: number | null): string {
  return ms === null ? 'n/a' : formatDuration(ms);
}

/** count: "1 incident", "3 incidents". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function rate1(n: number | null): string {
  return n === null ? 'n/a' : String(Math.round(n * 10) / 10);
}

export function statsMessage(world: World, insights: TeamInsights, sinceLabel: string): Message {
  const team = world.teams.get(insights.team);
  const zone = team?.timeZone ?? 'utc';
  const t = insights.totals;
  const day = (d: TeamInsights['window']['from']) => d.setZone(zone).toFormat('dd LLL');
  const lines: RichText[] = [];
  lines.push(rt`${count(t.incidents, 'incident')} (${String(insights.previousTotals.incidents)} the ${sinceLabel} before), ${String(t.resolved)} resolved; escalation rate ${percent(t.escalationRate)}; huddle rate ${rate1(t.huddleRate)} per 100 incidents (warning above ${String(t.huddleWarning)})`);
  if (t.unowned.alerts > 0) lines.push(rt`⚠ ${String(t.unowned.incidents)} incident${t.unowned.incidents === 1 ? '' : 's'} ran through the whole chain unacknowledged: ${String(t.unowned.alerts)} unowned-incident alert${t.unowned.alerts === 1 ? '' : 's'} in the team channel.`);
  if (t.maintenanceSilenced > 0) lines.push(rt`${String(t.maintenanceSilenced)} incident${t.maintenanceSilenced === 1 ? '' : 's'} opened quietly in maintenance windows (nobody paged).`);
  if (t.huddleAlarm) lines.push(rt`⚠ Huddles are not rare: ${String(t.huddles)} in ${count(t.incidents, 'incident')}. Something else is wrong (missing runbooks, a fragile service, an on-call left alone).`);
  lines.push(rt`Focus protected: ${String(t.focus.onlyOnCall)} of ${count(t.incidents, 'incident')} paged only the on-call; ${count(t.focus.deferred, 'notification')} deferred by quiet hours, ${count(t.focus.bypassed, 'urgent page')} let through, ${count(t.focus.skipped, 'escalation')} passed on; ${count(t.sleepInterruptions, 'page')} at night`);
  for (const m of insights.members) {
    if (m.shiftsServed === 0 && m.incidentsHandled === 0 && m.pages === 0 && m.huddlesCalled === 0) continue;
    lines.push(rt`${memberName(world, m.member)}: ${count(m.shiftsServed, 'shift')}, ${String(m.incidentsHandled)} handled (${m.trend.incidentsHandled >= 0 ? '+' : ''}${String(m.trend.incidentsHandled)}), solo ${percent(m.soloRate)}${points(m.trend.soloRate)}, escalated ${String(m.escalationsToMentor)} to mentor and ${String(m.escalationsToLead)} to lead, ${count(m.huddlesCalled, 'huddle')}; median ack ${dur(m.medianAckMs)}, resolve ${dur(m.medianResolveMs)}; ${count(m.sleepInterruptions, 'night page')}`);
  }
  const shares = t.load.shares.filter((s) => s.share !== null);
  if (shares.length > 0) {
    const parts = shares.map((s) => `${memberName(world, s.member)} ${percent(s.share)}`).join(', ');
    lines.push(rt`Load (share of pages): ${parts}; the busiest at ${rate1(t.load.imbalance)}× an even share`);
  }
  for (const d of insights.dependencies) {
    const names = d.resolversInWindow.map((m) => memberName(world, m)).join(', ') || 'nobody yet';
    if (!d.single) {
      lines.push(rt`Service ${d.service}: ${count(d.incidents, 'incident')}, resolved by ${names}`);
      continue;
    }
    const only = memberName(world, d.resolversEver[0] ?? '');
    const advice = d.suggestion
      ? rt` Suggestion: make ${memberName(world, d.suggestion.mentor)} the mentor of ${memberName(world, d.suggestion.mentee)} for their shift from ${d.suggestion.shiftStart.setZone(zone).toFormat('ccc dd LLL HH:mm')}.`
      : [];
    lines.push(rt`⚠ Single-person dependency: only ${only} has ever resolved ${d.service} (${count(d.incidents, 'incident')} in this window).${advice}`);
  }
  return message('reply', rt`Team insights for ${team?.name ?? insights.team}, last ${sinceLabel} (${day(insights.window.from)} – ${day(insights.window.to)})`, { lines });
}
