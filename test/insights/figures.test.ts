/**
 * Team insights from a seeded history (test/insights/seed.ts), against figures worked out by hand.
 *
 * Window: [Mon Feb 2 12:00Z, Mon Mar 2 12:00Z) (28d); previous: [Jan 5 12:00Z, Feb 2 12:00Z).
 * Incidents in the window: #3..#11. Pages (notified events):
 *   #3 bob · #4 bob, bob (reminder), dave (mentor) · #5 dave · #6 dave (deferred to 07:00 London)
 *   #7 dave (sev1 at 02:00 London: bypassed) · #8 alice, bob (manual mentor) · #9 alice · #10 alice
 *   #11 bob, bob (reminder), dave (mentor), carol (lead)
 */
import { DateTime } from 'luxon';
import type { Incident } from '../../src/core/incident/types';
import { factsOf } from '../../src/core/insights/facts';
import type { TeamInsights } from '../../src/core/insights/figures';
import { DEFAULT_INSIGHTS_SETTINGS, isNight, median, teamFigures } from '../../src/core/insights/figures';
import type { Harness } from '../harness/harness';
import { SEED_END, seedHistory } from './seed';

const MIN = 60_000;
let h: Harness;
let report: TeamInsights;

beforeAll(async () => {
  h = await seedHistory();
  report = (await h.app.insights.report('payments', DateTime.fromISO(SEED_END), 28 * 86_400_000)) as TeamInsights;
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

function member(id: string) {
  const m = report.members.find((x) => x.member === id);
  if (!m) throw new Error(`no figures for ${id}`);
  return m;
}

test('shifts served count the rotation with the override; hours tile the window', () => {
  // bob: Feb 2-9 (clipped at 12:00Z) and Feb 23-Mar 2 cut by alice's 12h override: 2 shifts.
  expect([member('alice').shiftsServed, member('bob').shiftsServed, member('dave').shiftsServed, member('carol').shiftsServed]).toEqual([2, 2, 2, 0]);
  expect(member('alice').hoursOnCall).toBe(168 + 12);
  expect(member('bob').hoursOnCall).toBe(164 + 156);
  expect(member('dave').hoursOnCall).toBe(168 + 4);
});

test('per member: handled, solo rate, escalations, huddles, medians, night pages', () => {
  const pick = (id: string) => {
    const m = member(id);
    return {
      handled: m.incidentsHandled, solo: m.soloRate, mentor: m.escalationsToMentor, lead: m.escalationsToLead, huddles: m.huddlesCalled,
      ack: m.medianAckMs, resolve: m.medianResolveMs, pages: m.pages, night: m.sleepInterruptions,
    };
  };
  // alice: #8 (manual escalation), #9, #10 solo; acks 1m 4m 1m; resolves 60m 10m 31m.
  expect(pick('alice')).toEqual({ handled: 3, solo: 2 / 3, mentor: 1, lead: 0, huddles: 0, ack: 1 * MIN, resolve: 31 * MIN, pages: 3, night: 0 });
  // bob: only #3 handled (solo); #4 and #11 escalated while he held them (mentor twice, lead once).
  expect(pick('bob')).toEqual({ handled: 1, solo: 1, mentor: 2, lead: 1, huddles: 0, ack: 3 * MIN, resolve: 30 * MIN, pages: 6, night: 0 });
  // dave: #4 (took it as mentor), #5 (huddle), #6, #7; acks 12m 2m 6h3m 4m -> (4+12)/2; resolves 40 60 390 20 -> (40+60)/2.
  expect(pick('dave')).toEqual({ handled: 4, solo: 0.5, mentor: 0, lead: 0, huddles: 1, ack: 8 * MIN, resolve: 50 * MIN, pages: 5, night: 1 });
  // carol took #11 as lead.
  expect(pick('carol')).toEqual({ handled: 1, solo: 0, mentor: 0, lead: 0, huddles: 0, ack: 16 * MIN, resolve: 30 * MIN, pages: 1, night: 0 });
});

test('trends against the previous window', () => {
  // Previous: bob handled #1 (solo, ack 1m); dave #2 (ack 10m, just after the mentor step fired: not solo).
  expect(member('bob').previous).toMatchObject({ incidentsHandled: 1, soloRate: 1, medianAckMs: 1 * MIN });
  expect(member('bob').trend).toEqual({ incidentsHandled: 0, soloRate: 0, medianAckMs: 2 * MIN, sleepInterruptions: 0 });
  expect(member('dave').trend).toEqual({ incidentsHandled: 3, soloRate: 0.5, medianAckMs: -2 * MIN, sleepInterruptions: 1 });
  expect(member('alice').trend).toEqual({ incidentsHandled: 3, soloRate: null, medianAckMs: null, sleepInterruptions: 0 });
  expect(report.previousTotals.incidents).toBe(2);
});

test('team: huddle rate with the configured warning, escalation rate, focus protected, load', () => {
  const t = report.totals;
  expect({ incidents: t.incidents, resolved: t.resolved, escalated: t.escalated, huddles: t.huddles }).toEqual({ incidents: 9, resolved: 9, escalated: 3, huddles: 1 });
  expect(t.escalationRate).toBeCloseTo(3 / 9, 10);
  expect(t.huddleRate).toBeCloseTo(100 / 9, 10);
  expect(t.huddleWarning).toBe(10); // insights.huddle_warning from the config
  expect(t.huddleAlarm).toBe(true);
  // Only the on-call paged, no huddle: #3, #6, #7, #9, #10.
  expect(t.focus).toEqual({ onlyOnCall: 5, onlyOnCallRate: 5 / 9, deferred: 1, bypassed: 1, skipped: 0, dropped: 0 });
  expect(t.pages).toBe(15);
  expect(t.sleepInterruptions).toBe(1);
  expect(t.load.shares).toEqual([
    { member: 'alice', pages: 3, share: 3 / 14 },
    { member: 'bob', pages: 6, share: 6 / 14 },
    { member: 'dave', pages: 5, share: 5 / 14 },
  ]);
  expect(t.load.imbalance).toBeCloseTo(18 / 14, 10);
});

test('single-person dependencies, with a suggestion from the rotation', () => {
  const deps = Object.fromEntries(report.dependencies.map((d) => [d.service, d]));
  expect(Object.keys(deps)).toEqual(['api', 'checkout', 'db', 'ledger', 'web']);
  expect(deps.api).toMatchObject({ incidents: 2, resolversInWindow: ['alice', 'dave'], resolversEver: ['alice', 'bob', 'dave'], single: false, suggestion: null });
  expect(deps.checkout).toMatchObject({ incidents: 3, resolversInWindow: ['bob', 'dave'], single: false });
  expect(deps.ledger).toMatchObject({ resolversInWindow: ['alice', 'carol'], single: false });
  // Only dave ever resolved db: the next on-call who never handled it is alice (from Mar 9, 09:00 Berlin).
  expect(deps.db).toMatchObject({ resolversEver: ['dave'], single: true });
  expect(deps.db?.suggestion?.mentor).toBe('dave');
  expect(deps.db?.suggestion?.mentee).toBe('alice');
  expect(deps.db?.suggestion?.shiftStart.toUTC().toISO()).toBe('2026-03-09T08:00:00.000Z');
  // Only alice resolved web: dave, on call now, never handled it.
  expect(deps.web?.suggestion?.mentee).toBe('dave');
});

test('oncall stats answers with a headline and lines, on every platform\'s grammar', async () => {
  const text = await h.run('dave', 'oncall stats --since 28d');
  expect(text).toMatch(/^Team insights for Payments, last 28d \(02 Feb – 02 Mar\)/);
  expect(text).toContain('9 incidents (2 the 28d before), 9 resolved; escalation rate 33%; huddle rate 11.1 per 100 incidents (warning above 10)');
  expect(text).toContain('Huddles are not rare');
  expect(text).toContain('Focus protected: 5 of 9 incidents paged only the on-call; 1 notification deferred by quiet hours');
  expect(text).toContain('Dave: 2 shifts, 4 handled (+3), solo 50% (↑50 pts), escalated 0 to mentor and 0 to lead, 1 huddle; median ack 8m, resolve 50m; 1 night page');
  expect(text).toContain('Single-person dependency: only Dave has ever resolved db (1 incident in this window). Suggestion: make Dave the mentor of Alice for their shift from Mon 09 Mar 09:00.');
  const refused = await h.runMessage('zed', 'oncall stats --team payments');
  expect(refused.private).toBe(true);
  expect(await h.run('dave', 'oncall stats --since soon')).toMatch(/--since/);
});

test('the command is in the grammar the platforms generate their command lists from', () => {
  expect(h.app.commands.commands.some((c) => c.group === 'oncall' && c.name === 'stats' && c.options.some((o) => o.name === 'since'))).toBe(true);
});

test('pure helpers: median and the night window across midnight', () => {
  expect(median([])).toBeNull();
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  const night = { from: { hour: 22, minute: 0 }, to: { hour: 7, minute: 0 } };
  expect(isNight(DateTime.fromISO('2026-02-11T06:59:00Z'), 'Europe/London', night)).toBe(true);
  expect(isNight(DateTime.fromISO('2026-02-11T07:00:00Z'), 'Europe/London', night)).toBe(false);
  expect(isNight(DateTime.fromISO('2026-02-11T21:30:00Z'), 'Europe/Berlin', night)).toBe(true);
});

test('pages that quiet hours deferred to a night hour count once they reached the person, not before, and one digest is one interruption', () => {
  // dave (Europe/London) is paged at 01:00, deferred to 06:30: still night (22:00-07:00) when it lands.
  const at = DateTime.fromISO('2026-03-03T01:00:00Z', { zone: 'utc' });
  const until = DateTime.fromISO('2026-03-03T06:30:00Z', { zone: 'utc' });
  const team = h.config.world.teams.get('payments');
  if (!team) throw new Error('no team');
  // Two incidents, both deferred to 06:30: quiet hours deliver them as one digest.
  const facts = [99, 100].map((id) => factsOf({
    incident: { id, team: 'payments', assignee: 'dave', openedAt: at, service: null } as unknown as Incident,
    timeline: [
      { incidentId: id, seq: 1, at, kind: 'reported', actor: null, data: {} },
      { incidentId: id, seq: 2, at, kind: 'notified', actor: null, data: { member: 'dave', step: 'page' } },
      { incidentId: id, seq: 3, at, kind: 'notification-deferred', actor: null, data: { member: 'dave', until: until.toISO() } },
    ],
  }));
  const asOf = (end: DateTime) => teamFigures({ world: h.config.world, team, settings: DEFAULT_INSIGHTS_SETTINGS, window: { from: at.minus({ days: 1 }), to: end } }, facts).sleepInterruptions;
  expect(asOf(until.minus({ hours: 2 }))).toBe(0); // deferred, nobody woken yet
  expect(asOf(until.plus({ hours: 2 }))).toBe(1); // one digest landed at 06:30 London
});

test('a suggestion for the shift under way names its real start, not the minute it was asked', async () => {
  const { Harness: Running } = await import('../harness/harness');
  const hh = await Running.start(); // Tue 3 Mar 11:00 Berlin: Dave's shift began Mon 2 Mar 09:00
  await hh.run('zed', 'incident report sev3 db slow --service db');
  await hh.run('carol', 'incident assign 1 alice');
  await hh.run('alice', 'incident resolve 1 vacuumed');
  await hh.advance('1d'); // the window is whole days
  const text = await hh.run('dave', 'oncall stats --since 7d');
  expect(text).toContain('Single-person dependency: only Alice has ever resolved db');
  // Dave is on call now (since Monday 09:00), and has never handled it.
  expect(text).toContain('Suggestion: make Alice the mentor of Dave for their shift from Mon 02 Mar 09:00.');
  await hh.stop();
});

test('a flapping alert is one round: its flap resolves are no resolutions, and the time to acknowledge runs from the first page', () => {
  const t0 = DateTime.fromISO('2026-03-03T10:00:00Z', { zone: 'utc' });
  const m = (min: number) => t0.plus({ minutes: min });
  const facts = factsOf({
    incident: { id: 7, team: 'payments', assignee: 'dave', openedAt: t0, service: null } as unknown as Incident,
    timeline: [
      { incidentId: 7, seq: 1, at: t0, kind: 'reported', actor: null, data: {} },
      { incidentId: 7, seq: 2, at: t0, kind: 'notified', actor: null, data: { member: 'dave', step: 'page' } },
      { incidentId: 7, seq: 3, at: m(1), kind: 'resolved', actor: null, data: {} },
      { incidentId: 7, seq: 4, at: m(2), kind: 'reopened', actor: null, data: { member: 'dave', flapping: { reopens: 1, kept: 'open' } } },
      { incidentId: 7, seq: 5, at: m(3), kind: 'resolved', actor: null, data: {} },
      { incidentId: 7, seq: 6, at: m(4), kind: 'reopened', actor: null, data: { member: 'dave', flapping: { reopens: 2, kept: 'open' } } },
      { incidentId: 7, seq: 7, at: m(6), kind: 'acknowledged', actor: { kind: 'member', id: 'dave' }, data: {} },
      { incidentId: 7, seq: 8, at: m(20), kind: 'resolved', actor: { kind: 'member', id: 'dave' }, data: {} },
    ],
  });
  expect(facts.acks.map((a) => [a.member, a.afterMs])).toEqual([['dave', 6 * 60_000]]);
  expect(facts.resolutions.map((r) => [r.assignee, r.afterMs])).toEqual([['dave', 20 * 60_000]]);
  expect(facts.resolved).toBe(true);
});
