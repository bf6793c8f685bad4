/**
 * The HTTP side of insights on the seeded history: /metrics, the report API (bearer token), the
 * calendar feeds (per-feed HMAC tokens, parsed with ical.js and compared with `onehand schedule`),
 * and `onehand report` on the same database.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { escapeText, foldLine, renderCalendar } from '../../src/core/calendar/ics';
import { calendarPath, calendarToken, registerInsightsRoutes } from '../../src/http/insights-routes';
import { HttpServer } from '../../src/http/server';
import { MemoryLogger } from '../../src/runtime/logger';
import { runCli, tempDir, writeFile } from '../cli/run-cli';
import type { Harness } from '../harness/harness';
import { INSIGHTS_CONFIG, seedHistory } from './seed';

const API_TOKEN = 'test-api-token-0123456789';
const SECRET = 'calendar-secret-for-tests';
let h: Harness;
let http: HttpServer;
let base: string;
const logger = new MemoryLogger();

beforeAll(async () => {
  h = await seedHistory();
  http = new HttpServer(logger);
  registerInsightsRoutes(http, { app: h.app, env: { ONEHAND_API_TOKEN: API_TOKEN, ONEHAND_CALENDAR_SECRET: SECRET }, clock: h.clock, logger });
  base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
}, 120_000);

afterAll(async () => {
  await http?.close();
  await h?.stop();
});

test('GET /metrics has the named series, from its own registry', async () => {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  // 11 incidents, all resolved: 1 sev1, 3 sev2 ... (by severity of the seed).
  expect(text).toContain('onehand_incidents{team="payments",state="resolved",severity="sev3"} 7');
  expect(text).toContain('onehand_incidents{team="payments",state="open",severity="sev1"} 0');
  expect(text).toMatch(/onehand_outbox_depth \d+/);
  expect(text).toMatch(/onehand_deliveries_total\{adapter="recording",kind="page",outcome="sent"\} \d+/);
  expect(text).toContain('onehand_deliveries_total{adapter="recording",kind="page",outcome="deferred"} 1');
  // Reminders: P1? no (ack at 1m); P2, #4, #11: 3. Mentor: P2, #4, #11 auto, #8 manual. Lead: #11.
  expect(text).toContain('onehand_escalation_steps_total{step="reminder",trigger="auto"} 3');
  expect(text).toContain('onehand_escalation_steps_total{step="mentor",trigger="auto"} 3');
  expect(text).toContain('onehand_escalation_steps_total{step="mentor",trigger="manual"} 1');
  expect(text).toContain('onehand_escalation_steps_total{step="lead",trigger="auto"} 1');
  expect(text).toContain('onehand_time_to_ack_seconds_count{severity="sev3"} 7');
  expect(text).toContain('onehand_plugin_failures_total{plugin="quiet-hours",hook="any"} 0');
  expect(text).toContain('# TYPE onehand_intake_latency_seconds histogram');
  h.app.metrics.observeIntake('prom', 0.02);
  expect(await (await fetch(`${base}/metrics`)).text()).toContain('onehand_intake_latency_seconds_count{integration="prom",outcome="accepted"} 1');
  expect(text).not.toContain('process_cpu'); // not the global default registry
});

test('GET /api/teams/ID/report: 401 without the bearer token, JSON with it', async () => {
  expect((await fetch(`${base}/api/teams/payments/report`)).status).toBe(401);
  expect((await fetch(`${base}/api/teams/payments/report`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  const res = await fetch(`${base}/api/teams/payments/report?since=28d`, { headers: auth });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { team: string; window: { from: string; to: string }; totals: { incidents: number; huddleRate: number }; members: Array<{ member: string; soloRate: number | null }> };
  expect(body.team).toBe('payments');
  expect(body.window).toEqual({ from: '2026-02-02T12:00:00.000Z', to: '2026-03-02T12:00:00.000Z' });
  expect(body.totals.incidents).toBe(9);
  expect(body.members.find((m) => m.member === 'dave')?.soloRate).toBe(0.5);
  expect((await fetch(`${base}/api/teams/nope/report`, { headers: auth })).status).toBe(404);
  const bad = await fetch(`${base}/api/teams/payments/report?since=forever`, { headers: auth });
  expect(bad.status).toBe(400);
  // Named as the caller wrote it: a URL parameter, not the command line's --since.
  expect(((await bad.json()) as { error: string }).error).toMatch(/^the since parameter: "forever" is not a duration/);
});

test('without ONEHAND_API_TOKEN the API and dashboard are off, and the log says so', async () => {
  const off = new HttpServer(logger);
  const log = new MemoryLogger();
  registerInsightsRoutes(off, { app: h.app, env: {}, clock: h.clock, logger: log });
  const url = `http://127.0.0.1:${await off.listen(0, '127.0.0.1')}`;
  try {
    expect((await fetch(`${url}/api/teams/payments/report`, { headers: { authorization: 'Bearer ' } })).status).toBe(404);
    expect((await fetch(`${url}/dashboard?token=`)).status).toBe(404);
    expect((await fetch(`${url}/calendar/payments.ics?token=x`)).status).toBe(404);
    expect(JSON.stringify(log)).toContain('report API and dashboard are off: set ONEHAND_API_TOKEN');
  } finally {
    await off.close();
  }
});

test('calendar feeds: per-feed tokens; 401 on a bad one, 404 on an unknown feed', async () => {
  expect((await fetch(`${base}/calendar/payments.ics`)).status).toBe(401);
  expect((await fetch(`${base}/calendar/payments.ics?token=${calendarToken(SECRET, 'payments', 'alice')}`)).status).toBe(401); // alice's token is not the team's
  // Without a valid token an unknown team or member answers like a known one: ids are not revealed.
  const unknownTeam = await fetch(`${base}/calendar/nope.ics?token=x`);
  const unknownMember = await fetch(`${base}/calendar/payments/nobody.ics?token=x`);
  const knownMember = await fetch(`${base}/calendar/payments/alice.ics?token=x`);
  expect([unknownTeam.status, unknownMember.status, knownMember.status]).toEqual([401, 401, 401]);
  expect(new Set([await unknownTeam.text(), await unknownMember.text(), await knownMember.text()]).size).toBe(1);
  expect((await fetch(`${base}/calendar/nope.ics?token=${calendarToken(SECRET, 'nope')}`)).status).toBe(404);
  // Bad percent-encoding is the client's error, not a server failure.
  expect((await fetch(`${base}/calendar/%E0%A4%A.ics?token=x`)).status).toBe(400);
  expect((await fetch(`${base}/api/teams/%ZZ/report`)).status).toBe(400);
  expect((await fetch(`${base}/calendar/payments/erin.ics?token=${calendarToken(SECRET, 'payments', 'erin')}`)).status).toBe(404);
  const res = await fetch(`${base}${calendarPath(SECRET, 'payments', 'alice')}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
});

test('the team feed parses (ical.js) and matches `onehand schedule --json`, overrides marked', async () => {
  const res = await fetch(`${base}${calendarPath(SECRET, 'payments')}`);
  const ics = await res.text();
  expect(ics.split('\r\n').every((line) => Buffer.byteLength(line, 'utf8') <= 75)).toBe(true);
  expect(ics.replace(/\r\n/g, '')).not.toContain('\n');
  const cal = new ICAL.Component(ICAL.parse(ics));
  expect(cal.getFirstPropertyValue('version')).toBe('2.0');
  expect(String(cal.getFirstPropertyValue('prodid'))).toContain('Onehand');
  expect(cal.getFirstPropertyValue('x-wr-calname')).toBe('Payments on call');
  const events = cal.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
  const uids = events.map((e) => e.uid);
  expect(new Set(uids).size).toBe(uids.length);

  // The same window through the real CLI, on the same database.
  const now = DateTime.fromISO('2026-03-02T12:00:00Z');
  const dir = tempDir();
  const config = writeFile(dir, 'onehand.yaml', INSIGHTS_CONFIG);
  // The feed holds the shifts that overlap "now minus 4 weeks" to "now plus 26 weeks", the first
  // and the last whole (the CLI cuts shifts at its window's edges: asked from 12 weeks back to 34
  // ahead, it gives those whole).
  const cli = await runCli(['schedule', '--config', config, '--team', 'payments', '--from', now.minus({ weeks: 12 }).toISO() as string, '--to', now.plus({ weeks: 34 }).toISO() as string, '--json'], '', { ONEHAND_DATA: h.dbPath });
  expect(cli.stderr).toBe('');
  const shifts = (JSON.parse(cli.stdout) as Array<{ member: string; start: string; end: string; override: boolean }>)
    .filter((s) => DateTime.fromISO(s.end) > now.minus({ weeks: 4 }) && DateTime.fromISO(s.start) < now.plus({ weeks: 26 }));
  expect(DateTime.fromISO(shifts[0]?.start as string) < now.minus({ weeks: 4 })).toBe(true);
  const names: Record<string, string> = { alice: 'Alice', bob: 'Bob', dave: 'Dave' };
  expect(events.map((e) => ({ start: e.startDate.toJSDate().getTime(), end: e.endDate.toJSDate().getTime(), summary: e.summary }))).toEqual(
    shifts.map((s) => ({
      start: DateTime.fromISO(s.start).toMillis(),
      end: DateTime.fromISO(s.end).toMillis(),
      summary: `On call: ${names[s.member]} (Payments)${s.override ? ' [override]' : ''}`,
    })),
  );
  expect(shifts.filter((s) => s.override)).toHaveLength(1);
  expect(events.every((e) => e.startDate.zone?.tzid === 'UTC')).toBe(true);

  // The per-member feed holds exactly alice's shifts, override included.
  const mine = new ICAL.Component(ICAL.parse(await (await fetch(`${base}${calendarPath(SECRET, 'payments', 'alice')}`)).text()));
  expect(mine.getAllSubcomponents('vevent').length).toBe(shifts.filter((s) => s.member === 'alice').length);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('iCalendar text: escaping and folding at 75 octets without splitting a character', () => {
  expect(escapeText('a,b;c\\d\ne')).toBe('a\\,b\\;c\\\\d\\ne');
  const long = `SUMMARY:${'é'.repeat(60)}`;
  const folded = foldLine(long);
  const lines = folded.split('\r\n');
  expect(lines.every((l) => Buffer.byteLength(l, 'utf8') <= 75)).toBe(true);
  expect(lines.slice(1).every((l) => l.startsWith(' '))).toBe(true);
  expect(lines.map((l, i) => (i === 0 ? l : l.slice(1))).join('')).toBe(long);
  const ics = renderCalendar({ name: 'x, y; z', stamp: DateTime.fromISO('2026-03-02T12:00:00Z'), events: [{ uid: 'u1', start: DateTime.fromISO('2026-03-02T09:00:00+01:00'), end: DateTime.fromISO('2026-03-03T09:00:00+01:00'), summary: 'On call: O\'Brien, "Ann"; \\ new\nline' }] });
  const ev = new ICAL.Event(new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent('vevent') as ICAL.Component);
  expect(ev.summary).toBe('On call: O\'Brien, "Ann"; \\ new\nline');
  expect(ics).toContain('DTSTART:20260302T080000Z\r\n');
});

test('onehand report reads $ONEHAND_DATA and prints text or JSON', async () => {
  const dir = tempDir();
  const config = writeFile(dir, 'onehand.yaml', INSIGHTS_CONFIG);
  const json = await runCli(['report', '--config', config, '--team', 'payments', '--since', '28d', '--at', '2026-03-02T12:00:00Z', '--json'], '', { ONEHAND_DATA: h.dbPath });
  expect(json.stderr).toBe('');
  expect(json.code).toBe(0);
  const parsed = JSON.parse(json.stdout) as { window: { from: string; to: string }; totals: { incidents: number; huddleAlarm: boolean }; dependencies: Array<{ service: string; single: boolean }> };
  // Instants in UTC, --at or not (they were in the team's zone with --at).
  expect([parsed.window.from, parsed.window.to]).toEqual(['2026-02-02T12:00:00.000Z', '2026-03-02T12:00:00.000Z']);
  expect(parsed.totals).toMatchObject({ incidents: 9, huddleAlarm: true });
  expect(parsed.dependencies.filter((d) => d.single).map((d) => d.service)).toEqual(['db', 'web']);
  const text = await runCli(['report', '--config', config, '--team', 'payments', '--since', '28d', '--at', '2026-03-02T12:00:00Z'], '', { ONEHAND_DATA: h.dbPath });
  expect(text.stdout).toMatch(/^Team insights for Payments, last 28d/);
  expect(text.stdout).toContain('- Dave: 2 shifts, 4 handled');
  const usage = await runCli(['report', '--config', config, '--team', 'payments', '--since', 'x'], '', { ONEHAND_DATA: path.join(dir, 'none.db') });
  expect(usage.code).toBe(2);
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('a feed polled again later keeps its events: the first and the last are their whole shifts, with the same UID', async () => {
  const feed = async () => new ICAL.Component(ICAL.parse(await (await fetch(`${base}${calendarPath(SECRET, 'payments')}`)).text()))
    .getAllSubcomponents('vevent').map((v) => new ICAL.Event(v)).map((e) => [e.uid, e.startDate.toJSDate().getTime()]);
  const before = await feed();
  // The last test of this file: a simulated clock never goes back.
  h.clock.set(h.clock.now().plus({ hours: 3 }));
  const after = await feed();
  expect(after[0]).toEqual(before[0]);
  expect(after.slice(0, 10)).toEqual(before.slice(0, 10));
  // The last one too: the shift that overlaps the window's end is read whole, its UID kept.
  expect(after.at(-1)).toEqual(before.at(-1));
});
