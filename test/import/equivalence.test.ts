/* eslint-disable @typescript-eslint/no-explicit-any -- the fixtures are API JSON, edited as such in the tests */
/**
 * The imported config gives the same on-call as the tool rendered, over the rendered range:
 * PagerDuty's documented final schedule and layer entries, and Grafana OnCall's documented final
 * shifts. The config goes through the real loader and the layered rotation policy; gaps (nobody on
 * call in the tool) must be gaps in Onehand too (where the team lead holds them).
 */
import { DateTime } from 'luxon';
import { parseConfig } from '../../src/config';
import type { LayeredSettings } from '../../src/core/rotation/layered';
import { layeredSpans } from '../../src/core/rotation/layered';
import { importConfig, writeImportedConfig, type ImportDocument, type ImportTool } from '../../src/import';
import { fixture } from './fixtures';

interface Entry { readonly start: string; readonly end: string; readonly member: string }

/** onCall: Onehand's stretches with someone on call in [from, to), adjacent ones of one member merged. */
function onCall(tool: ImportTool, docs: ImportDocument[], teamId: string, from: DateTime, to: DateTime): { entries: Entry[]; memberOf: (toolUserId: string) => string } {
  const result = importConfig(tool, docs, DateTime.fromISO('2026-03-01T00:00:00Z'));
  const text = writeImportedConfig(result, 'test', '2026-03-01');
  const loaded = parseConfig(text);
  if (!loaded.ok) throw new Error(`the imported config does not load:\n${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  const team = loaded.config.world.teams.get(teamId);
  if (!team) throw new Error(`no team ${teamId}`);
  const settings = (team.rotation as { settings?: LayeredSettings }).settings as LayeredSettings;
  const spans = layeredSpans(settings, team.timeZone, [], from.setZone(team.timeZone), to.setZone(team.timeZone));
  const entries: Entry[] = [];
  for (const s of spans) {
    if (s.member === null) continue;
    const start = s.start.toUTC().toISO() as string;
    const last = entries[entries.length - 1];
    if (last && last.member === s.member && last.end === start) entries[entries.length - 1] = { ...last, end: s.end.toUTC().toISO() as string };
    else entries.push({ start, end: s.end.toUTC().toISO() as string, member: s.member });
  }
  const ids = new Map(result.members.map((m) => [m.source, m.id]));
  return { entries, memberOf: (u) => [...ids.entries()].find(([source]) => source.includes(u))?.[1] ?? `?${u}` };
}

const utc = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toUTC().toISO() as string;

describe('an imported config is on call exactly when the tool rendered it', () => {
  it('PagerDuty: the documented final schedule and layer entries (Regina 08:00-17:00 New York), nobody else that day', () => {
    const docs = ['schedule.json', 'escalation-policy.json', 'users.json'].map((f) => fixture('pagerduty', f));
    const schedule = (docs[0]?.value as { schedule: any }).schedule;
    const rendered = [...schedule.final_schedule.rendered_schedule_entries, ...schedule.schedule_layers[0].rendered_schedule_entries] as { start: string; end: string; user: { id: string } }[];
    expect(rendered).toHaveLength(2);
    for (const entry of rendered) {
      // The rendered range is the entry's day in the schedule's zone (coverage 37.5%: 9 of 24 hours).
      const day = DateTime.fromISO(entry.start, { zone: schedule.time_zone }).startOf('day');
      const got = onCall('pagerduty', docs, 'daily-engineering-rotation', day, day.plus({ days: 1 }));
      expect(got.entries).toEqual([{ start: utc(entry.start), end: utc(entry.end), member: got.memberOf(entry.user.id) }]);
    }
  });

  // The documented query runs to 2023-02-01, but its example lists no shift after January 27 (the
  // example stops there; the Mon/Wed/Fri pattern would continue on the 30th): compared up to the 29th.
  it('Grafana OnCall: the documented final shifts of January 2023 (alice and bob, Mon/Wed/Fri 09:00-17:00 UTC)', () => {
    const docs = ['schedules.json', 'on_call_shifts.json', 'users.json', 'escalation_chains.json', 'escalation_policies.json'].map((f) => fixture('grafana-oncall', f));
    const final = (fixture('grafana-oncall', 'final_shifts.json').value as { results: { user_pk: string; shift_start: string; shift_end: string }[] }).results;
    const got = onCall('grafana-oncall', docs, 'demo-schedule-calendar', DateTime.fromISO('2023-01-01T00:00:00Z'), DateTime.fromISO('2023-01-29T00:00:00Z'));
    expect(got.entries).toEqual(final.map((f) => ({ start: utc(f.shift_start), end: utc(f.shift_end), member: got.memberOf(f.user_pk) })));
  });
});
