/* eslint-disable @typescript-eslint/no-explicit-any -- the fixtures are API JSON, edited as such in the tests */
/**
 * Import from PagerDuty, Opsgenie and Grafana OnCall: the API responses in test/fixtures/import
 * (sources in its SOURCES.md) become a config whose layers, restrictions and escalation say what
 * the tool said, and everything else is a printed line.
 */
import { DateTime } from 'luxon';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config';
import { importConfig, ImportInputError, writeImportedConfig, type ImportDocument, type ImportTool } from '../../src/import';
import { fixture } from './fixtures';

const NOW = DateTime.fromISO('2026-03-01T12:00:00Z');

function run(tool: ImportTool, docs: ImportDocument[]) {
  const result = importConfig(tool, docs, NOW);
  const text = writeImportedConfig(result, `onehand import ${tool}`, '2026-03-01');
  return { result, text, yaml: parse(text) as { members: Record<string, unknown>[]; teams: Record<string, any>[] } };
}

const pagerduty = () => ['schedule.json', 'escalation-policy.json', 'users.json'].map((f) => fixture('pagerduty', f));
const opsgenie = () => ['schedule.json', 'escalations.json', 'users.json'].map((f) => fixture('opsgenie', f));
const grafana = () => ['schedules.json', 'on_call_shifts.json', 'users.json', 'escalation_chains.json', 'escalation_policies.json'].map((f) => fixture('grafana-oncall', f));

describe('onehand import pagerduty (PagerDuty API reference examples)', () => {
  it('maps the layer: daily turns from rotation_virtual_start, the daily restriction as a window, users with their zones', () => {
    const { yaml } = run('pagerduty', pagerduty());
    expect(yaml.members).toEqual([expect.objectContaining({ id: '125-greenholt-earline', name: 'Earline Greenholt', time_zone: 'America/Lima' })]);
    const team = yaml.teams[0];
    if (!team) throw new Error("the import wrote no team");
    expect(team).toMatchObject({ id: 'daily-engineering-rotation', name: 'Daily Engineering Rotation', time_zone: 'America/New_York' });
    expect(team.rotation.layers).toEqual([
      { name: 'layer-1', members: ['125-greenholt-earline'], shift: '1d', handoff: '20:00', start: '2015-11-06', restrictions: [{ from: '08:00', to: '17:00' }] },
    ]);
  });

  it('maps the escalation policy (delay -> ack_timeout, num_loops -> repeat) and prints the second target of rule 1', () => {
    const { yaml, result } = run('pagerduty', pagerduty());
    expect(yaml.teams[0]?.escalation).toEqual({ ack_timeout: '30m', renotify: 0, then: ['lead'], repeat: 2 });
    expect(result.unmapped).toContainEqual(expect.stringContaining('rule 1 also pages user Kyler Kuhn'));
    expect(result.unmapped).toContainEqual(expect.stringContaining('lead: no escalation level after the schedule names a single person'));
    expect(result.unmapped).toContainEqual(expect.stringContaining('fill in discord and/or teams ids'));
  });

  it('says where each value came from, and lists what was not imported at the end of the file', () => {
    const { text, result } = run('pagerduty', pagerduty());
    expect(text).toMatch(/shift: 1d +# rotation_turn_length_seconds 86400/);
    expect(text).toMatch(/handoff: "20:00" +# rotation_virtual_start 2015-11-06T20:00:00-05:00/);
    expect(text).toMatch(/- from: "08:00" +# daily_restriction 08:00:00 for 32400s/);
    expect(text).toContain(`# Not imported (${result.unmapped.length}):`);
    expect(text).toContain('FILL IN how Onehand reaches 125-greenholt-earline');
  });

  it('prints what cannot be mapped: turns that are not whole hours, a user listed twice, weekly restrictions kept, end dates', () => {
    const schedule = fixture('pagerduty', 'schedule.json').value as any;
    const layer = schedule.schedule.schedule_layers[0];
    layer.rotation_turn_length_seconds = 5400;
    layer.users.push({ user: { ...layer.users[0].user } });
    layer.end = '2026-06-01T00:00:00-04:00';
    layer.restrictions = [{ type: 'weekly_restriction', start_day_of_week: 6, start_time_of_day: '09:00:00', duration_seconds: 172_800 }];
    const { yaml, result } = run('pagerduty', [{ name: 'schedule.json', value: schedule }]);
    expect(yaml.teams[0]?.rotation.layers[0]).toMatchObject({ shift: '2h', members: ['regina-phalange'], restrictions: [{ from: 'Sat 09:00', to: 'Mon 09:00' }] });
    expect(result.unmapped).toEqual(expect.arrayContaining([
      expect.stringContaining('turn length 5400s is not a whole number of hours'),
      expect.stringContaining('regina-phalange is listed twice'),
      expect.stringContaining('Onehand layers have no end date'),
      expect.stringContaining('no users response in the input'),
    ]));
  });

  it('leaves out a layer that has ended', () => {
    const schedule = fixture('pagerduty', 'schedule.json').value as any;
    schedule.schedule.schedule_layers.push({ ...schedule.schedule.schedule_layers[0], id: 'POLD', name: 'Old', end: '2020-01-01T00:00:00Z' });
    const { yaml, result } = run('pagerduty', [{ name: 'schedule.json', value: schedule }]);
    expect(yaml.teams[0]?.rotation.layers.map((l: { name: string }) => l.name)).toEqual(['layer-1']);
    expect(result.unmapped).toContainEqual(expect.stringContaining('layer "Old": ended'));
  });

  it('writes one unrestricted layer as a plain rotation that the config loader accepts today', () => {
    const schedule = fixture('pagerduty', 'schedule.json').value as any;
    schedule.schedule.schedule_layers[0].restrictions = [];
    const { text } = run('pagerduty', [{ name: 'schedule.json', value: schedule }, fixture('pagerduty', 'users.json')]);
    const loaded = parseConfig(text);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const team = loaded.config.world.teams.get('daily-engineering-rotation');
    expect(team?.rotation).toMatchObject({ members: ['125-greenholt-earline'], shift: { unit: 'days', amount: 1 }, start: '2015-11-06' });
  });

  it('refuses input that is not PagerDuty\'s, naming what was expected and what it looks like', () => {
    expect(() => importConfig('pagerduty', [fixture('opsgenie', 'schedule.json')], NOW)).toThrow(ImportInputError);
    expect(() => importConfig('pagerduty', [fixture('opsgenie', 'schedule.json')], NOW)).toThrow(/not a PagerDuty response.*use "onehand import opsgenie"/);
    expect(() => importConfig('pagerduty', [fixture('pagerduty', 'users.json')], NOW)).toThrow(/no schedule in the input; add the response of GET https:\/\/api.pagerduty.com\/schedules\/\{id\}/);
    const list = { schedules: [{ id: 'P1', name: 'x', time_zone: 'UTC' }] };
    expect(() => importConfig('pagerduty', [{ name: 'list.json', value: list }], NOW)).toThrow(/has no "schedule_layers": fetch it with GET \/schedules\/\{id\}/);
  });
});

describe('onehand import opsgenie (shapes from opsgenie/opsgenie-oas)', () => {
  it('maps rotations to layers in order: weekly with a weekday window, daily with a time-of-day window, hourly with length 12', () => {
    const { yaml } = run('opsgenie', opsgenie());
    const team = yaml.teams[0];
    if (!team) throw new Error("the import wrote no team");
    expect(team).toMatchObject({ id: 'platform', time_zone: 'Europe/Berlin', lead: 'heidi' });
    expect(team.rotation.layers).toEqual([
      { name: 'weekdays', members: ['alice', 'bob'], shift: '1w', handoff: 'Mon 09:00', start: '2026-01-05', restrictions: [{ from: 'Mon 09:00', to: 'Fri 18:00' }] },
      { name: 'nights', members: ['carol', 'dave'], shift: '1d', handoff: '18:00', start: '2026-01-05', restrictions: [{ from: '18:00', to: '09:00' }] },
      { name: 'twelve-hours', members: ['erin', 'frank'], shift: '12h', handoff: '07:00', start: '2026-01-05' },
    ]);
  });

  it('maps the escalation: schedule first, then grace as mentor and heidi as lead, 10 minutes between levels, repeat 2', () => {
    const { yaml, result } = run('opsgenie', opsgenie());
    expect(yaml.teams[0]?.escalation).toEqual({ ack_timeout: '10m', renotify: 0, then: ['mentor', 'lead'], repeat: 2 });
    const mentors = Object.fromEntries(yaml.members.map((m) => [m.id, m.mentor]));
    expect(mentors).toMatchObject({ alice: 'grace', bob: 'grace', carol: 'grace', dave: 'grace', erin: 'grace', frank: 'grace' });
    expect(mentors.grace).toBeUndefined();
    expect(yaml.members.find((m) => m.id === 'carol')).toMatchObject({ name: 'Carol Danvers', time_zone: 'Europe/London' });
    expect(result.unmapped).toContainEqual(expect.stringContaining('the level at 30 min pages team Platform'.replace('the level', 'level')));
  });

  it('prints the "none" participant, the team participant, the end date and the simultaneous paging of rotations', () => {
    const { result } = run('opsgenie', opsgenie());
    expect(result.unmapped).toEqual(expect.arrayContaining([
      expect.stringContaining('rotation "Nights": participant 2 is "none"'),
      expect.stringContaining('rotation "Twelve hours": participant 1 is team SRE'),
      expect.stringContaining('rotation "Twelve hours": ends 2027-01-04'),
      expect.stringContaining('Opsgenie notifies everyone whose rotation is on call at an instant'),
    ]));
  });

  it('refuses a PagerDuty file', () => {
    expect(() => importConfig('opsgenie', [fixture('pagerduty', 'schedule.json')], NOW)).toThrow(/not an Opsgenie response.*use "onehand import pagerduty"/);
  });
});

describe('onehand import grafana-oncall (Grafana OnCall public API docs)', () => {
  it('maps weekly rolling_users shifts with by_day to weekly turns handing off at week_start with one window per day', () => {
    const { yaml } = run('grafana-oncall', grafana());
    const team = yaml.teams[0];
    if (!team) throw new Error("the import wrote no team");
    expect(team).toMatchObject({ id: 'demo-schedule-calendar', time_zone: 'UTC', lead: 'bob', members: ['alice', 'bob'] });
    expect(team.rotation.layers).toEqual([
      { name: 'monday-and-friday-days', members: ['alice', 'bob'], shift: '1w', handoff: 'Mon 09:00', start: '2023-01-02', restrictions: [{ from: 'Mon 09:00', to: 'Mon 17:00' }, { from: 'Fri 09:00', to: 'Fri 17:00' }] },
      { name: 'wednesday-days', members: ['bob', 'alice'], shift: '1w', handoff: 'Mon 09:00', start: '2023-01-02', restrictions: [{ from: 'Wed 09:00', to: 'Wed 17:00' }] },
    ]);
    expect(team.escalation).toEqual({ ack_timeout: '15m', renotify: 0, then: ['lead'], repeat: 1 });
  });

  it('prints the documented single event and the fortnightly recurrent event it cannot write as windows', () => {
    const docs = [fixture('grafana-oncall', 'schedules.json'), fixture('grafana-oncall', 'docs-shifts.json'), fixture('grafana-oncall', 'on_call_shifts.json'), fixture('grafana-oncall', 'users.json'), fixture('grafana-oncall', 'docs-users.json')];
    (docs[0]?.value as any).results[0].shifts.push('OH3V5FYQEYJ6M', 'O9WTH7CKM3KZW');
    const { result } = run('grafana-oncall', docs);
    expect(result.unmapped).toEqual(expect.arrayContaining([
      expect.stringContaining('shift "Demo single event": a one-off event'),
      expect.stringContaining('shift "Demo recurrent event": weekly every 2'),
      expect.stringContaining('no escalation chain in the input pages this schedule'),
    ]));
  });

  it('refuses input that is not a Grafana OnCall response, naming every endpoint the README fetches', () => {
    expect(() => importConfig('grafana-oncall', [{ name: 'x.json', value: [1, 2] }], NOW)).toThrow(
      'x.json: expected a JSON object, one of the Grafana OnCall API responses: GET /api/v1/schedules/, /api/v1/on_call_shifts/, /api/v1/users/, /api/v1/escalation_chains/, /api/v1/escalation_policies/',
    );
  });

  it('refuses an iCal-only input with the reason', () => {
    const ical = { results: [{ id: 'SBM7DV7BKFUYU', name: 'Demo schedule iCal', type: 'ical', ical_url_primary: 'https://example.com/meow_calendar.ics' }] };
    expect(() => importConfig('grafana-oncall', [{ name: 'schedules.json', value: ical }], NOW)).toThrow(/nothing Onehand can use[\s\S]*iCal schedule/);
  });
});

describe('a list response that is one page of several', () => {
  const withPage = (doc: ImportDocument, change: (v: any) => void): ImportDocument => {
    const value = structuredClone(doc.value) as any;
    change(value);
    return { name: doc.name, value };
  };

  it('PagerDuty "more": true is a not-imported line with the next offset to fetch', () => {
    const [schedule, policy, users] = pagerduty() as [ImportDocument, ImportDocument, ImportDocument];
    const { result, text } = run('pagerduty', [schedule, policy, withPage(users, (v) => Object.assign(v, { more: true, offset: 100, limit: 100 }))]);
    expect(result.unmapped).toContain('pagerduty/users.json: holds one page of users (offset 100, limit 100) and "more" is true: the rest was not read; fetch the next page with &offset=200 (and so on while "more" is true) and pass every file');
    expect(text).toContain('#   - pagerduty/users.json: holds one page of users');
    expect(run('pagerduty', pagerduty()).result.unmapped.join('\n')).not.toContain('holds one page');
  });

  it('Opsgenie "paging.next" is a not-imported line with the offset to fetch', () => {
    const [schedule, escalations, users] = opsgenie() as [ImportDocument, ImportDocument, ImportDocument];
    const paged = withPage(users, (v) => {
      v.totalCount = 250;
      v.paging.next = 'https://api.opsgenie.com/v2/users?limit=100&sort=username&offset=100&order=asc';
    });
    const { result } = run('opsgenie', [schedule, escalations, paged]);
    const count = (users.value as any).data.length as number;
    expect(result.unmapped).toContain(`opsgenie/users.json: holds one page (${count} of 250) and "paging.next" is set: the rest was not read; fetch the next pages (the URL in "paging.next", i.e. &offset=100) and pass every file`);
    expect(run('opsgenie', opsgenie()).result.unmapped.join('\n')).not.toContain('holds one page');
  });

  it('Grafana OnCall "next" names the next page, and no "of ?" when the total is not given', () => {
    const docs = grafana();
    const users = docs[2] as ImportDocument;
    docs[2] = withPage(users, (v) => {
      v.next = 'https://oncall.example.com/api/v1/users/?page=2';
      delete v.total_pages;
    });
    const { result } = run('grafana-oncall', docs);
    expect(result.unmapped).toContain('grafana-oncall/users.json: holds page 1 and "next" is set: the rest was not read; fetch the next pages (the URL in "next", i.e. ?page=2 and so on) and pass every file');
  });
});
