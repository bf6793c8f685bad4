/**
 * PagerDuty import: the JSON of PagerDuty's REST API v2 (schedules with their layers, escalation
 * policies, users) onto the Onehand config model. Pure: documents and `now` in, a model out.
 *
 * Accepted documents (any number, any order; each is one API response as returned):
 *  - GET /schedules/{id}                       -> { "schedule": {...} }
 *  - GET /schedules?include[]=schedule_layers  -> { "schedules": [...] }
 *  - GET /escalation_policies[/{id}]           -> { "escalation_policies": [...] } / { "escalation_policy": {...} }
 *  - GET /users[/{id}]                         -> { "users": [...] } / { "user": {...} }
 *
 * Mapping (one Onehand team per schedule, one layer per schedule layer):
 *  - layer order: PagerDuty's GET returns the top layer (the one that wins) first, which is
 *    Onehand's priority order, so the order is kept;
 *  - rotation_turn_length_seconds: whole weeks -> Nw, whole days -> Nd, whole hours -> Nh; days and
 *    weeks keep the handoff's local time across daylight saving changes, as PagerDuty does;
 *  - rotation_virtual_start: the first handoff (its local weekday/time and date in the schedule's zone);
 *  - restrictions: daily_restriction -> a window every day, weekly_restriction -> a weekly window;
 *  - users in the layer's order -> members.
 * Not mapped (printed): turn lengths that are not whole hours, a user listed twice in a layer,
 * layer end dates, layers that start later, overrides, non-IANA zones, and escalation details
 * (see escalation-map.ts).
 */
import type { DateTime } from 'luxon';
import { escalateTeams, fileBySchedule, type EscalationStep, type PolicyForSchedule } from './escalation-map';
import {
  addToWeekTime,
  DAY_NAMES,
  emailLocal,
  handoffFor,
  hhmm,
  IdAllocator,
  ImportInputError,
  isRecord,
  isZone,
  memberZone,
  num,
  parseInstant,
  shiftLength,
  str,
  uniqueLayerName,
  type ImportDocument,
  type ImportedLayer,
  type ImportedMember,
  type ImportedTeam,
  type ImportedWindow,
  type ImportResult,
} from './model';

type Raw = Record<string, unknown>;

const EXPECTED = 'PagerDuty API responses: GET /schedules/{id} ({"schedule": ...}), GET /escalation_policies ({"escalation_policies": [...]}) and GET /users ({"users": [...]})';

/** importPagerDuty maps PagerDuty API responses onto the Onehand config model. */
export function importPagerDuty(documents: readonly ImportDocument[], now: DateTime): ImportResult {
  const schedules: Raw[] = [];
  const policies: Raw[] = [];
  const users: Raw[] = [];
  const paging: string[] = [];
  for (const doc of documents) {
    const v = doc.value;
    if (!isRecord(v)) throw new ImportInputError(`${doc.name}: expected a JSON object, one of the ${EXPECTED}`);
    let known = false;
    const take = (key: string, into: Raw[], list: boolean) => {
      const value = v[key];
      if (value === undefined) return;
      known = true;
      if (list && v.more === true) {
        // A list response holds one page; "more": true says another follows (offset pagination).
        const offset = num(v.offset) ?? 0;
        const limit = num(v.limit) ?? (Array.isArray(value) ? value.length : 0);
        paging.push(`${doc.name}: holds one page of ${key} (offset ${offset}, limit ${limit}) and "more" is true: the rest was not read; fetch the next page with &offset=${offset + limit} (and so on while "more" is true) and pass every file`);
      }
      const items = list ? value : [value];
      if (!Array.isArray(items) || !items.every(isRecord)) throw new ImportInputError(`${doc.name}: "${key}" is not ${list ? 'a list of objects' : 'an object'} as PagerDuty returns it; pass the response unchanged`);
      into.push(...(items as Raw[]));
    };
    take('schedule', schedules, false);
    take('schedules', schedules, true);
    take('escalation_policy', policies, false);
    take('escalation_policies', policies, true);
    take('user', users, false);
    take('users', users, true);
    if (!known) {
      const hint = 'data' in v ? ' (this looks like an Opsgenie response: use "onehand import opsgenie")' : 'results' in v ? ' (this looks like a Grafana OnCall response: use "onehand import grafana-oncall")' : '';
      throw new ImportInputError(`${doc.name}: not a PagerDuty response: expected a "schedule", "schedules", "escalation_policies" or "users" key${hint}; pass the ${EXPECTED}`);
    }
  }
  if (schedules.length === 0) throw new ImportInputError(`no schedule in the input; add the response of GET https://api.pagerduty.com/schedules/{id} for each schedule (see README: Coming from Opsgenie, PagerDuty or Grafana OnCall)`);
  for (const s of schedules) {
    if (!Array.isArray(s.schedule_layers)) {
      throw new ImportInputError(`schedule ${str(s.id) ?? '?'} (${str(s.name) ?? 'no name'}) has no "schedule_layers": fetch it with GET /schedules/{id}, or list schedules with include[]=schedule_layers`);
    }
  }

  const unmapped: string[] = [...paging];
  const ids = new IdAllocator();
  const members = new Map<string, ImportedMember>();
  const byPdId = new Map<string, ImportedMember>();
  const usersById = new Map(users.map((u) => [str(u.id) ?? '', u]));
  let noUsersNoted = false;

  const memberFor = (userId: string, label: string, fallbackZone = 'UTC'): ImportedMember | undefined => {
    const existing = byPdId.get(userId);
    if (existing) return existing;
    const user = usersById.get(userId);
    if (!user && users.length > 0) return undefined;
    if (!user && !noUsersNoted) {
      noUsersNoted = true;
      unmapped.push('members: no users response in the input; ids and names come from the schedule\'s user summaries and time zones from the schedule (add GET /users for emails and zones)');
    }
    const name = str(user?.name) ?? label;
    const email = str(user?.email);
    const userZone = str(user?.time_zone);
    const id = ids.take([emailLocal(email), name], userId);
    const member: ImportedMember = { id, name, ...memberZone('PagerDuty', id, userZone, fallbackZone, unmapped), source: `PagerDuty user ${userId}${email ? ` (${email})` : ''}` };
    members.set(id, member);
    byPdId.set(userId, member);
    return member;
  };

  const teamIds = new IdAllocator();
  const teams: ImportedTeam[] = [];
  const scheduleTeams = new Map<string, ImportedTeam>();
  for (const s of schedules) {
    const sid = str(s.id) ?? '';
    const sname = str(s.name) ?? str(s.summary) ?? sid;
    const teamId = teamIds.take([sname], sid || 'team');
    const zoneText = str(s.time_zone);
    let zone = 'UTC';
    if (isZone(zoneText)) zone = zoneText;
    else unmapped.push(`team ${teamId}: schedule time zone ${zoneText ? `"${zoneText}" is not an IANA zone` : 'missing'}: UTC written; set the team's time_zone (handoffs and restrictions are read in it)`);
    const team: ImportedTeam = {
      id: teamId,
      name: sname,
      timeZone: zone,
      lead: '',
      leadNote: '',
      members: [],
      layers: [],
      source: `PagerDuty schedule "${sname}" (${sid})`,
    };
    const names = new Set<string>();
    for (const raw of s.schedule_layers as unknown[]) {
      if (!isRecord(raw)) continue;
      const layer = mapLayer(raw, team, names, now, unmapped, (uid, label) => memberFor(uid, label, zone));
      if (layer) team.layers.push(layer);
    }
    const overrides = isRecord(s.overrides_subschedule) && Array.isArray(s.overrides_subschedule.rendered_schedule_entries) ? s.overrides_subschedule.rendered_schedule_entries.length : 0;
    if (overrides > 0) unmapped.push(`team ${teamId}: ${overrides} override${overrides === 1 ? '' : 's'} in the rendered range: not imported (overrides live in Onehand's database: "oncall override MEMBER FROM TO")`);
    if (team.layers.length === 0) {
      unmapped.push(`team ${teamId}: schedule "${sname}" has no layer Onehand can use: the team is left out`);
      continue;
    }
    for (const l of team.layers) for (const m of l.members) if (!team.members.includes(m)) team.members.push(m);
    teams.push(team);
    scheduleTeams.set(sid, team);
  }

  // Escalation policies: each schedule's team gets the policy that pages it first.
  const forSchedule = new Map<string, PolicyForSchedule[]>();
  for (const p of policies) {
    fileBySchedule(forSchedule, mapPolicy(p), scheduleTeams, unmapped);
  }
  escalateTeams(scheduleTeams, forSchedule, members, (uid, label, team) => memberFor(uid, label, team.timeZone), unmapped, { name: 'PagerDuty', policyTerm: 'escalation policy' });
  return { tool: 'pagerduty', members: [...members.values()], teams, unmapped };
}

function mapLayer(
  raw: Raw,
  team: ImportedTeam,
  names: Set<string>,
  now: DateTime,
  unmapped: string[],
  memberFor: (userId: string, label: string) => ImportedMember | undefined,
): ImportedLayer | undefined {
  const lid = str(raw.id) ?? '';
  const lname = str(raw.name) ?? (lid || 'layer');
  const where = `team ${team.id}, layer "${lname}"`;
  const end = parseInstant(raw.end);
  if (end && end <= now) {
    unmapped.push(`${where}: ended ${end.toISO()}: left out`);
    return undefined;
  }
  const turn = num(raw.rotation_turn_length_seconds);
  const virtualStart = parseInstant(raw.rotation_virtual_start) ?? parseInstant(raw.start);
  if (turn === undefined || virtualStart === undefined) {
    unmapped.push(`${where}: no rotation_virtual_start or rotation_turn_length_seconds: left out`);
    return undefined;
  }
  let length = shiftLength(turn);
  if (length === null) {
    const hours = Math.max(1, Math.round(turn / 3600));
    length = shiftLength(hours * 3600);
    unmapped.push(`${where}: turn length ${turn}s is not a whole number of hours; Onehand shifts are whole hours, days or weeks: written as ${length?.text ?? `${hours}h`}, so handoffs drift from PagerDuty's`);
    if (length === null) return undefined;
  }
  const anchor = virtualStart.setZone(team.timeZone);
  if (anchor.second !== 0 || anchor.millisecond !== 0) unmapped.push(`${where}: rotation_virtual_start ${virtualStart.toISO()} has seconds; Onehand handoffs are whole minutes`);
  const { handoff, start } = handoffFor(anchor, length.unit);

  const memberIds: string[] = [];
  const entries = Array.isArray(raw.users) ? raw.users : [];
  entries.forEach((entry, i) => {
    const user = isRecord(entry) && isRecord(entry.user) ? entry.user : undefined;
    const uid = str(user?.id);
    if (!uid) return;
    const label = str(user?.summary) ?? uid;
    const member = memberFor(uid, label);
    if (!member) {
      unmapped.push(`${where}: user ${label} (${uid}) is not in the users given: left out of the rotation, which changes the turn order (add the users response)`);
      return;
    }
    if (memberIds.includes(member.id)) {
      unmapped.push(`${where}: ${member.id} is listed twice (position ${i + 1}); Onehand lists each member once: the repeat is dropped, so turns after it come one place earlier`);
      return;
    }
    memberIds.push(member.id);
  });
  if (memberIds.length === 0) {
    unmapped.push(`${where}: no users: left out`);
    return undefined;
  }

  const restrictions: ImportedWindow[] = [];
  let fullTime = false;
  for (const r of Array.isArray(raw.restrictions) ? raw.restrictions : []) {
    if (!isRecord(r)) continue;
    const window = mapRestriction(r, where, unmapped);
    if (window === 'always') fullTime = true;
    else if (window) restrictions.push(window);
  }
  if (fullTime) restrictions.length = 0;

  const layerStart = parseInstant(raw.start);
  if (layerStart && layerStart > now) unmapped.push(`${where}: starts ${layerStart.toISO()}; Onehand applies the layer from now on (add it on that day instead if it must wait)`);
  if (end) unmapped.push(`${where}: ends ${end.toISO()}; Onehand layers have no end date: remove the layer then`);

  return {
    name: uniqueLayerName(lname, names),
    members: memberIds,
    shift: length.text,
    handoff,
    start,
    restrictions,
    source: `PagerDuty layer "${lname}"${lid ? ` (${lid})` : ''}`,
    comments: {
      shift: `rotation_turn_length_seconds ${turn}`,
      handoff: `rotation_virtual_start ${str(raw.rotation_virtual_start) ?? str(raw.start)}`,
      members: 'the layer\'s users, in order',
    },
  };
}

/** mapRestriction: a PagerDuty restriction as a window; 'always' when it covers all time. */
function mapRestriction(r: Raw, where: string, unmapped: string[]): ImportedWindow | 'always' | undefined {
  const type = str(r.type);
  const duration = num(r.duration_seconds);
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(str(r.start_time_of_day) ?? '');
  if (!m || duration === undefined || duration <= 0 || (type !== 'daily_restriction' && type !== 'weekly_restriction')) {
    unmapped.push(`${where}: restriction ${JSON.stringify(r)} is not a daily_restriction or weekly_restriction with start_time_of_day and duration_seconds: left out`);
    return undefined;
  }
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if ((m[3] !== undefined && Number(m[3]) !== 0) || duration % 60 !== 0) {
    unmapped.push(`${where}: restriction ${type} ${str(r.start_time_of_day)} for ${duration}s is not whole minutes: rounded to the minute`);
  }
  const text = `${type} ${str(r.start_time_of_day)} for ${duration}s`;
  if (type === 'daily_restriction') {
    if (duration >= 86_400) return 'always';
    const end = addToWeekTime(1, hour, minute, duration);
    return { from: hhmm(hour, minute), to: hhmm(end.hour, end.minute), source: text };
  }
  const day = num(r.start_day_of_week);
  if (day === undefined || !Number.isInteger(day) || day < 1 || day > 7) {
    unmapped.push(`${where}: weekly_restriction without a start_day_of_week from 1 (Monday) to 7: left out`);
    return undefined;
  }
  if (duration >= 604_800) return 'always';
  const end = addToWeekTime(day, hour, minute, duration);
  return {
    from: `${DAY_NAMES[day - 1]} ${hhmm(hour, minute)}`,
    to: `${DAY_NAMES[end.day - 1]} ${hhmm(end.hour, end.minute)}`,
    source: `${text} from day ${day}`,
  };
}

/** mapPolicy reduces a PagerDuty escalation policy to steps. */
function mapPolicy(p: Raw): PolicyForSchedule {
  const label = `PagerDuty escalation policy "${str(p.name) ?? str(p.summary) ?? '?'}" (${str(p.id) ?? '?'})`;
  const rules = Array.isArray(p.escalation_rules) ? p.escalation_rules.filter(isRecord) : [];
  const steps: EscalationStep[] = rules.map((rule, i) => {
    const targets = (Array.isArray(rule.targets) ? rule.targets.filter(isRecord) : []).map((t) => {
      const type = str(t.type) ?? '';
      const id = str(t.id) ?? '';
      const summary = str(t.summary) ?? id;
      if (type === 'schedule_reference' || type === 'schedule') return { kind: 'schedule' as const, id, label: `schedule ${summary}` };
      if (type === 'user_reference' || type === 'user') return { kind: 'user' as const, id, label: `user ${summary}` };
      return { kind: 'other' as const, id, label: `${type.replace(/_reference$/, '')} ${summary}` };
    });
    const notes: string[] = [];
    const strategy = rule.escalation_rule_assignment_strategy;
    const strategyName = isRecord(strategy) ? str(strategy.type) : str(strategy);
    if (strategyName === 'round_robin') notes.push('round_robin assignment: not imported (Onehand pages the one person of each step)');
    const wait = num(rule.escalation_delay_in_minutes);
    return { targets, label: `rule ${i + 1}`, ...(wait !== undefined ? { waitMinutes: wait } : {}), notes };
  });
  const loops = num(p.num_loops);
  return {
    label,
    steps,
    ...(loops !== undefined ? { repeat: loops, repeatSource: `num_loops ${loops}` } : {}),
  };
}
