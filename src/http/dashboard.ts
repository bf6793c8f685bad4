/**
 * renderDashboard: the dashboard page, server-rendered HTML with inline CSS and inline SVG charts
 * (no script, no external asset, no build step). Every text that came from config, a person or an
 * alert goes through `esc`. The page is served with a Content-Security-Policy that allows no
 * script at all.
 */
import type { DateTime } from 'luxon';
import { percent } from '../core/insights/stats-view';
import type { World } from '../core/model';
import { formatDuration } from '../core/time/duration';
import type { DashboardTeam } from '../app/insights-service';
import { ZONED_TIME } from '../core/time/zones';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

/** esc escapes text for HTML element content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function name(world: World, id: string): string {
  return esc(world.members.get(id)?.name ?? id);
}

function when(dt: DateTime, zone: string): string {
  return esc(dt.setZone(zone).toFormat(ZONED_TIME));
}

function num(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** lineChart: one polyline per series over the x labels; null values break the line. */
function lineChart(title: string, labels: readonly string[], series: ReadonlyArray<{ name: string; values: ReadonlyArray<number | null> }>, max: number, unit: (v: number) => string): string {
  const W = 520, H = 200, L = 40, R = 24, T = 10, B = 30;
  const x = (i: number) => L + (labels.length <= 1 ? 0 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const grid = [0, 0.5, 1].map((f) => `<line x1="${L}" x2="${W - R}" y1="${y(f * max)}" y2="${y(f * max)}" stroke="#e5e7eb"/><text x="${L - 4}" y="${y(f * max) + 4}" text-anchor="end" font-size="10">${esc(unit(f * max))}</text>`).join('');
  const xl = labels.map((l, i) => `<text x="${x(i)}" y="${H - 12}" text-anchor="middle" font-size="10">${esc(l)}</text>`).join('');
  const lines = series.map((s, si) => {
    const color = COLORS[si % COLORS.length] as string;
    const runs: string[][] = [[]];
    const dots: string[] = [];
    s.values.forEach((v, i) => {
      if (v === null) runs.push([]);
      else {
        (runs[runs.length - 1] as string[]).push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
        dots.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"><title>${esc(s.name)} ${esc(labels[i] ?? '')}: ${esc(unit(v))}</title></circle>`);
      }
    });
    return runs.filter((r) => r.length > 1).map((r) => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${r.join(' ')}"/>`).join('') + dots.join('');
  }).join('');
  const legend = series.map((s, si) => `<span class="key"><i style="background:${COLORS[si % COLORS.length]}"></i>${esc(s.name)}</span>`).join(' ');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${grid}${xl}${lines}</svg><div class="legend">${legend}</div></figure>`;
}

/** barChart: one bar per label; `highlight` colors some bars; `threshold` draws a dashed line. */
function barChart(title: string, labels: readonly string[], values: ReadonlyArray<number | null>, options: { highlight?: (i: number) => boolean; threshold?: number; unit?: (v: number) => string; every?: number } = {}): string {
  const W = 520, H = 200, L = 40, R = 10, T = 10, B = 30;
  const unit = options.unit ?? num;
  const max = Math.max(1, options.threshold ?? 0, ...values.map((v) => v ?? 0)) * 1.1;
  const bw = (W - L - R) / Math.max(1, labels.length);
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const bars = values.map((v, i) => {
    const val = v ?? 0;
    const color = options.highlight?.(i) ? '#7c3aed' : '#60a5fa';
    return `<rect x="${(L + i * bw + 1).toFixed(1)}" y="${y(val).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(H - B - y(val)).toFixed(1)}" fill="${color}"><title>${esc(labels[i] ?? '')}: ${v === null ? 'no incidents' : esc(unit(val))}</title></rect>`;
  }).join('');
  const every = options.every ?? 1;
  const xl = labels.map((l, i) => (i % every === 0 ? `<text x="${(L + i * bw + bw / 2).toFixed(1)}" y="${H - 12}" text-anchor="middle" font-size="10">${esc(l)}</text>` : '')).join('');
  const axis = [...new Set([0, Math.round(max / 2), Math.floor(max)])].map((v) => `<text x="${L - 4}" y="${y(v) + 4}" text-anchor="end" font-size="10">${esc(unit(v))}</text>`).join('');
  const threshold = options.threshold === undefined ? '' : `<line x1="${L}" x2="${W - R}" y1="${y(options.threshold)}" y2="${y(options.threshold)}" stroke="#dc2626" stroke-dasharray="4 3"/><text x="${W - R}" y="${y(options.threshold) - 3}" text-anchor="end" font-size="10" fill="#dc2626">warning ${esc(unit(options.threshold))}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#9ca3af"/>${axis}${bars}${threshold}${xl}</svg></figure>`;
}

function teamSection(world: World, d: DashboardTeam): string {
  const zone = d.team.timeZone;
  const t = d.insights.totals;
  const next = d.next ? `${name(world, d.next.member)} from ${when(d.next.start, zone)}${d.next.override ? ' <span class="ovr">override</span>' : ''}` : 'nobody scheduled';
  const schedule = d.schedule.map((s) => `<tr${s.override ? ' class="override"' : ''}><td>${when(s.start, zone)}</td><td>${when(s.end, zone)}</td><td>${name(world, s.member)}</td><td>${s.override ? '<span class="ovr">override</span>' : 'rotation'}</td></tr>`).join('');
  const open = d.open.length === 0
    ? '<p class="muted">No open incidents.</p>'
    : `<table><thead><tr><th>#</th><th>severity</th><th>title</th><th>state</th><th>assignee</th><th>opened</th></tr></thead><tbody>${d.open.map((i) => `<tr><td>#${i.id}</td><td>${esc(i.severity)}</td><td>${esc(i.title)}</td><td>${esc(i.state)}</td><td>${name(world, i.assignee)}</td><td>${when(i.openedAt, zone)}</td></tr>`).join('')}</tbody></table>`;
  const members = d.insights.members.filter((m) => m.shiftsServed > 0 || m.incidentsHandled > 0 || m.pages > 0).map((m) =>
    `<tr><td>${name(world, m.member)}</td><td>${m.shiftsServed}</td><td>${m.incidentsHandled}</td><td>${percent(m.soloRate)}</td><td>${m.escalationsToMentor}</td><td>${m.escalationsToLead}</td><td>${m.huddlesCalled}</td><td>${m.medianAckMs === null ? 'n/a' : formatDuration(m.medianAckMs)}</td><td>${m.medianResolveMs === null ? 'n/a' : formatDuration(m.medianResolveMs)}</td><td>${m.sleepInterruptions}</td></tr>`).join('');
  const deps = d.insights.dependencies.map((dep) => `<li${dep.single ? ' class="warn"' : ''}>${esc(dep.service)}: ${dep.incidents} incident${dep.incidents === 1 ? '' : 's'}, resolved by ${dep.resolversInWindow.map((m) => name(world, m)).join(', ') || 'nobody yet'}${dep.single ? ` — <strong>only ${name(world, dep.resolversEver[0] ?? '')} has ever resolved it</strong>${dep.suggestion ? `; suggestion: make ${name(world, dep.suggestion.mentor)} the mentor of ${name(world, dep.suggestion.mentee)} for their shift from ${when(dep.suggestion.shiftStart, zone)}` : ''}` : ''}</li>`).join('');
  const weekLabels = d.weekly.map((w) => w.from.setZone(zone).toFormat('dd LLL'));
  const solo = lineChart('Solo rate per member, by week', weekLabels, d.team.rotation.members.map((m) => ({ name: world.members.get(m)?.name ?? m, values: d.weekly.map((w) => w.soloRate[m] ?? null) })), 1, (v) => `${Math.round(v * 100)}%`);
  const huddles = barChart('Huddle rate by week (huddles per 100 incidents)', weekLabels, d.weekly.map((w) => w.huddleRate), { threshold: t.huddleWarning });
  const hours = barChart(`Interruptions by hour of day (${zone}), last ${formatDuration(d.insights.window.to.diff(d.insights.window.from).as('milliseconds'))}`, d.byHour.map((_, h) => String(h).padStart(2, '0')), d.byHour, { highlight: (h) => h >= 22 || h < 7, every: 3 });
  return `<section class="team" id="team-${esc(d.team.id)}">
<h2>${esc(d.team.name)}</h2>
<div class="cards">
<div class="card"><h3>On call now</h3><p class="big">${name(world, d.onCall.member)}</p><p class="muted">until ${when(d.onCall.end, zone)}${d.onCall.override ? ' <span class="ovr">override</span>' : ''}</p></div>
<div class="card"><h3>Next</h3><p class="big">${next}</p></div>
<div class="card"><h3>Last ${esc(formatDuration(d.insights.window.to.diff(d.insights.window.from).as('milliseconds')))}</h3><p><b>${t.incidents}</b> incidents, <b>${t.resolved}</b> resolved</p><p>escalation rate <b>${percent(t.escalationRate)}</b></p><p class="${t.huddleAlarm ? 'alarm' : ''}">huddle rate <b>${t.huddleRate === null ? 'n/a' : num(t.huddleRate)}</b> per 100${t.huddleAlarm ? ' — huddles are not rare: something else is wrong' : ''}</p></div>
<div class="card"><h3>Focus protected</h3><p><b>${t.focus.onlyOnCall}</b> of ${t.incidents} incidents paged only the on-call</p><p><b>${t.focus.deferred}</b> notifications deferred by quiet hours</p><p><b>${t.sleepInterruptions}</b> pages at night</p></div>
</div>
<div class="charts">${solo}${huddles}${hours}</div>
<h3>People</h3>
<table><thead><tr><th>member</th><th>shifts</th><th>handled</th><th>solo</th><th>to mentor</th><th>to lead</th><th>huddles</th><th>ack (median)</th><th>resolve (median)</th><th>night pages</th></tr></thead><tbody>${members || '<tr><td colspan="10" class="muted">No activity in the window.</td></tr>'}</tbody></table>
<h3>Services</h3>${deps ? `<ul class="deps">${deps}</ul>` : '<p class="muted">No incidents with a service in the window.</p>'}
<h3>Open incidents</h3>${open}
<h3>Coming shifts</h3><table class="schedule"><thead><tr><th>from</th><th>to</th><th>who</th><th></th></tr></thead><tbody>${schedule}</tbody></table>
</section>`;
}

const STYLE = `body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px 24px;color:#111827;background:#f9fafb}
h1{font-size:20px;margin:0 0 4px}h2{font-size:18px;margin:18px 0 8px;border-bottom:2px solid #e5e7eb}h3{font-size:14px;margin:12px 0 6px}
.muted{color:#6b7280}.cards{display:flex;gap:10px;flex-wrap:wrap}.card{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:6px 12px;min-width:200px}
.card p{margin:2px 0}.big{font-size:18px;font-weight:600}.alarm{color:#dc2626}.ovr{background:#fef3c7;color:#92400e;border-radius:3px;padding:0 4px;font-size:12px}
.charts{display:flex;gap:10px;flex-wrap:wrap}figure{margin:8px 0;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:4px 8px}figcaption{font-weight:600;font-size:12px}
svg{max-width:100%;height:auto;font-family:inherit}.legend{font-size:12px}.key i{display:inline-block;width:10px;height:10px;margin:0 4px 0 8px;border-radius:2px}
table{border-collapse:collapse;background:#fff;font-size:13px}td,th{border:1px solid #e5e7eb;padding:2px 8px;text-align:left}tr.override td{background:#fffbeb}
.deps .warn{color:#b91c1c}`;

export function renderDashboard(world: World, teams: readonly DashboardTeam[], generatedAt: DateTime): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Onehand dashboard</title><style>${STYLE}</style></head>
<body><h1>Onehand — is one-hand working?</h1><p class="muted">Generated ${esc(generatedAt.toUTC().toFormat("yyyy-LL-dd HH:mm 'UTC'"))}. Teams: ${teams.map((d) => `<a href="#team-${esc(d.team.id)}">${esc(d.team.name)}</a>`).join(' · ')}</p>
${teams.map((d) => teamSection(world, d)).join('\n')}
</body></html>`;
}
