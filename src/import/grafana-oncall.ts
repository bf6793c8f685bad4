/**
 * Grafana OnCall import: the JSON of Grafana OnCall's public API v1 (schedules, on-call shifts,
 * users, escalation chains and their policies) onto the Onehand config model. Pure.
 *
 * Accepted documents (each one API response as returned; lists are `{"results": [...]}`):
 *  - GET /api/v1/schedules/             -> schedules (type calendar or web; ical cannot be read)
 *  - GET /api/v1/on_call_shifts/        -> shifts (add ?schedule_id=ID to get a web schedule's)
 *  - GET /api/v1/users/                 -> users (username, email, and timezone where given)
 *  - GET /api/v1/escalation_chains/     -> chains (names, for messages)
 *  - GET /api/v1/escalation_policies/   -> the steps of every chain
 *  - GET /api/v1/schedules/{id}/final_shifts -> accepted and not needed
 *
 * Mapping (one Onehand team per schedule, one layer per rolling_users or recurrent_event shift,
 * higher `level` first):
 *  - frequency hourly/daily/weekly with a duration equal to interval x frequency -> a shift of that
 *    length, handing off at the shift's start;
 *  - daily, interval 1, shorter duration -> 1d shifts and a window every day;
 *  - weekly, interval 1, by_day and/or a shorter duration -> 1w shifts handing off at week_start,
 *    with one weekly window per day in by_day;
 *  - rolling_users (one list per turn) -> members, starting at start_rotation_from_user_index.
 * Not mapped (printed): single events and overrides, ical schedules, monthly frequencies, by_month,
 * by_monthday, intervals above 1 with restrictions, turns of several people (the first is kept),
 * escalation steps other than the schedule and single persons (see escalation-map.ts).
 */
import { DateTime } from 'luxon';
import { escalateTeams, fileBySchedule, type EscalationStep, type PolicyForSchedule, type StepTarget } from './escalation-map';
import {
  DAY_NAMES,
  emailLocal,
  hhmm,
  IdAllocator,
  ImportInputError,
  isRecord,
  isZone,
  num,
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

const EXPECTED = 'Grafana OnCall API responses: GET /api/v1/schedules/, /api/v1/on_call_shifts/, /api/v1/users/, /api/v1/escalation_chains/, /api/v1/escalation_policies/';
const SCHEDULE_TYPES = ['ical', 'calendar', 'web'];
const SHIFT_TYPES = ['single_event', 'recurrent_event', 'rolling_users', 'override'];
const ICAL_DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const UNIT_SECONDS = { hourly: 3600, daily: 86_400, weekly: 604_800 } as const;

/** importGrafanaOnCall maps Grafana OnCall API responses onto the Onehand config model. */
export function importGrafanaOnCall(documents: readonly ImportDocument[], now: DateTime): ImportResult {
  const schedules: Raw[] = [];
  const shifts: Raw[] = [];
  const users: Raw[] = [];
  const chains: Raw[] = [];
  const steps: Raw[] = [];
  const unmapped: string[] = [];
  for (const doc of documents) {
    const v = doc.value;
    if (!isRecord(v)) throw new ImportInputError(`${doc.name}: expected a JSON object, one of the ${EXPECTED}`);
    if ('data' in v || 'schedule' in v || 'schedules' in v) {
      const tool = 'data' in v ? 'an Opsgenie' : 'a PagerDuty';
      throw new ImportInputError(`${doc.name}: this looks like ${tool} response, not Grafana OnCall's: use "onehand import ${'data' in v ? 'opsgenie' : 'pagerduty'}"`);
    }
    const items = Array.isArray(v.results) ? v.results : [v];
    if (Array.isArray(v.results) && v.next) {
      const page = num(v.current_page_number) ?? 1;
      const total = num(v.total_pages);
      unmapped.push(`${doc.name}: holds page ${page}${total !== undefined ? ` of ${total}` : ''} and "next" is set: the rest was not read; fetch the next pages (the URL in "next", i.e. ?page=${page + 1} and so on) and pass every file`);
    }
    for (const item of items) {
      if (!isRecord(item)) continue;
      const type = str(item.type);
      if (type !== undefined && SCHEDULE_TYPES.includes(type)) schedules.push(item);
      else if (type !== undefined && SHIFT_TYPES.includes(type)) shifts.push(item);
      else if ('escalation_chain_id' in item) steps.push(item);
      else if ('username' in item) users.push(item);
      else if ('user_pk' in item && 'shift_start' in item) continue;
      else if (str(item.id) && str(item.name) && !('type' in item)) chains.push(item);
      else throw new ImportInputError(`${doc.name}: an item is neither a schedule, an on-call shift, a user nor an escalation chain or policy as Grafana OnCall returns them; pass the ${EXPECTED}`);
    }
  }
  if (schedules.length === 0) throw new ImportInputError('no schedule in the input; add the response of GET {API_URL}/api/v1/schedules/ (see README: Coming from Opsgenie, PagerDuty or Grafana OnCall)');

  const ids = new IdAllocator();
  const members = new Map<string, ImportedMember>();
  const byGid = new Map<string, ImportedMember>();
  const usersById = new Map(users.map((u) => [str(u.id) ?? '', u]));
  let noUsersNoted = false;
  const memberFor = (userId: string, fallbackZone: string): ImportedMember | undefined => {
    const existing = byGid.get(userId);
    if (existing) return existing;
    const user = usersById.get(userId);
    if (!user && users.length > 0) return undefined;
    if (!user && !noUsersNoted) {
      noUsersNoted = true;
      unmapped.push('members: no users response in the input; ids come from Grafana user ids and zones from the schedule (add GET /api/v1/users/)');
    }
    const username = str(user?.username);
    const email = str(user?.email);
    const name = str(user?.name) ?? username ?? email ?? userId;
    const id = ids.take([username, emailLocal(email)], userId);
    const userZone = str(user?.timezone);
    const timeZone = isZone(userZone) ? userZone : fallbackZone;
    const member: ImportedMember = {
      id, name, timeZone, source: `Grafana OnCall user ${userId}${email ? ` (${email})` : ''}`,
      ...(isZone(userZone) ? {} : { zoneNote: 'no IANA zone for the user in the input; the schedule\'s zone is used' }),
    };
    members.set(id, member);
    byGid.set(userId, member);
    return member;
  };

  const teamIds = new IdAllocator();
  const teams: ImportedTeam[] = [];
  const scheduleTeams = new Map<string, ImportedTeam>();
  const claimed = new Set<Raw>();
  for (const s of schedules) {
    const sid = str(s.id) ?? '';
    const sname = str(s.name) ?? sid;
    const teamId = teamIds.take([sname], sid || 'team');
    if (str(s.type) === 'ical') {
      unmapped.push(`schedule "${sname}" (${sid}) is an iCal schedule (its shifts live in ${str(s.ical_url_primary) ?? 'an external calendar'}): not imported; describe it as layers by hand`);
      continue;
    }
    const zoneText = str(s.time_zone);
    let zone = 'UTC';
    if (isZone(zoneText)) zone = zoneText;
    else if (zoneText) unmapped.push(`team ${teamId}: schedule time zone "${zoneText}" is not an IANA zone: UTC written; set the team's time_zone`);
    const team: ImportedTeam = { id: teamId, name: sname, timeZone: zone, lead: '', leadNote: '', members: [], layers: [], source: `Grafana OnCall schedule "${sname}" (${sid})` };
    const listed = Array.isArray(s.shifts) ? s.shifts.map(String) : [];
    const own = shifts.filter((sh) => listed.includes(str(sh.id) ?? '') || str(sh.schedule) === sid || str(sh.schedule_id) === sid || (schedules.length === 1 && listed.length === 0));
    own.forEach((sh) => claimed.add(sh));
    const names = new Set<string>();
    const mapped: { level: number; layer: ImportedLayer }[] = [];
    for (const sh of own) {
      const layer = mapShift(sh, team, names, now, unmapped, (uid) => memberFor(uid, zone));
      if (layer) mapped.push({ level: num(sh.level) ?? 0, layer });
    }
    mapped.sort((a, b) => b.level - a.level);
    const levels = mapped.map((m) => m.level);
    if (new Set(levels).size < levels.length) {
      unmapped.push(`team ${teamId}: several shifts share a priority level; Grafana OnCall notifies everyone on call at an instant, Onehand pages one person: where layers overlap the first listed wins (reorder them if another should)`);
    }
    team.layers.push(...mapped.map((m) => m.layer));
    if (team.layers.length === 0) {
      unmapped.push(`team ${teamId}: schedule "${sname}" has no shift Onehand can use${own.length === 0 ? ' (no shift of it is in the input: add GET /api/v1/on_call_shifts/?schedule_id=' + sid + ')' : ''}: the team is left out`);
      continue;
    }
    for (const l of team.layers) for (const m of l.members) if (!team.members.includes(m)) team.members.push(m);
    teams.push(team);
    scheduleTeams.set(sid, team);
  }
  for (const sh of shifts) {
    if (!claimed.has(sh)) unmapped.push(`shift "${str(sh.name) ?? str(sh.id)}" (${str(sh.id)}) belongs to no schedule in the input: not imported`);
  }

  const chainNames = new Map(chains.map((c) => [str(c.id) ?? '', str(c.name) ?? '']));
  const byChain = new Map<string, Raw[]>();
  for (const p of steps) {
    const cid = str(p.escalation_chain_id) ?? '';
    byChain.set(cid, [...(byChain.get(cid) ?? []), p]);
  }
  const forSchedule = new Map<string, PolicyForSchedule[]>();
  for (const [cid, list] of byChain) {
    fileBySchedule(forSchedule, mapChain(cid, chainNames.get(cid), list), scheduleTeams, unmapped);
  }
  escalateTeams(scheduleTeams, forSchedule, members, (uid, _label, team) => memberFor(uid, team.timeZone), unmapped, { name: 'Grafana OnCall', policyTerm: 'escalation chain' });
  return { tool: 'grafana-oncall', members: [...members.values()], teams, unmapped };
}

function mapShift(
  sh: Raw,
  team: ImportedTeam,
  names: Set<string>,
  now: DateTime,
  unmapped: string[],
  memberFor: (userId: string) => ImportedMember | undefined,
): ImportedLayer | undefined {
  const sname = str(sh.name) ?? str(sh.id) ?? 'shift';
  const where = `team ${team.id}, shift "${sname}"`;
  const type = str(sh.type);
  if (type === 'single_event' || type === 'override') {
    unmapped.push(`${where}: a ${type === 'override' ? 'override' : 'one-off event'} (${str(sh.start)}, ${num(sh.duration) ?? '?'}s): not imported (use "oncall override MEMBER FROM TO" in Onehand)`);
    return undefined;
  }
  const zone = str(sh.time_zone) ?? team.timeZone;
  if (zone !== team.timeZone) unmapped.push(`${where}: its time zone ${zone} differs from the schedule's (${team.timeZone}); its times are written as they are, read in ${team.timeZone}: check the handoff and windows`);
  const start = DateTime.fromISO(str(sh.start) ?? '', { zone: isZone(zone) ? zone : team.timeZone }).setZone(team.timeZone);
  const duration = num(sh.duration);
  const frequency = str(sh.frequency);
  const interval = num(sh.interval) ?? 1;
  if (!start.isValid || duration === undefined || duration <= 0) {
    unmapped.push(`${where}: no valid start or duration: left out`);
    return undefined;
  }
  const until = str(sh.until) ? DateTime.fromISO(str(sh.until) as string, { zone: isZone(zone) ? zone : team.timeZone }) : undefined;
  if (until?.isValid && until <= now) {
    unmapped.push(`${where}: ended ${until.toISO()}: left out`);
    return undefined;
  }
  if (frequency !== 'hourly' && frequency !== 'daily' && frequency !== 'weekly') {
    unmapped.push(`${where}: frequency ${JSON.stringify(sh.frequency)}; Onehand shifts are whole hours, days or weeks: left out (describe it as a layer by hand)`);
    return undefined;
  }
  for (const key of ['by_month', 'by_monthday'] as const) {
    if (Array.isArray(sh[key]) && (sh[key] as unknown[]).length > 0) {
      unmapped.push(`${where}: ${key} ${JSON.stringify(sh[key])}; Onehand windows repeat daily or weekly: left out`);
      return undefined;
    }
  }

  // Turns: one list of users per turn (rolling_users), or one list for every turn (recurrent_event).
  const groups: string[][] = type === 'rolling_users' && Array.isArray(sh.rolling_users)
    ? sh.rolling_users.map((g) => (Array.isArray(g) ? g.map(String) : []))
    : [Array.isArray(sh.users) ? sh.users.map(String) : []];
  const offset = num(sh.start_rotation_from_user_index) ?? 0;
  const rotated = groups.length > 0 ? [...groups.slice(offset % groups.length), ...groups.slice(0, offset % groups.length)] : [];
  const memberIds: string[] = [];
  rotated.forEach((g, i) => {
    if (g.length === 0) {
      unmapped.push(`${where}: turn ${i + 1} has nobody; Onehand rotations have no empty turns: dropped, so later turns come one place earlier`);
      return;
    }
    if (g.length > 1) unmapped.push(`${where}: turn ${i + 1} puts ${g.length} people on call together; Onehand pages one person: the first (${g[0]}) is kept`);
    const member = memberFor(g[0] as string);
    if (!member) {
      unmapped.push(`${where}: user ${g[0]} is not in the users given: dropped (add the users response)`);
      return;
    }
    if (memberIds.includes(member.id)) {
      unmapped.push(`${where}: ${member.id} has two turns (turn ${i + 1}); Onehand lists each member once: the repeat is dropped, so turns after it come one place earlier`);
      return;
    }
    memberIds.push(member.id);
  });
  if (memberIds.length === 0) {
    unmapped.push(`${where}: nobody on call: left out`);
    return undefined;
  }

  const period = interval * UNIT_SECONDS[frequency];
  const byDay = Array.isArray(sh.by_day) ? sh.by_day.map(String) : [];
  const days = byDay.map((d) => ICAL_DAYS.indexOf(d.toUpperCase()));
  if (days.some((d) => d < 0)) {
    unmapped.push(`${where}: by_day ${JSON.stringify(sh.by_day)} names a day that is not MO..SU (or a monthly position): left out`);
    return undefined;
  }
  const time = hhmm(start.hour, start.minute);
  const comments = {
    members: type === 'rolling_users' ? `rolling_users, from index ${offset}` : 'the users of the recurrent event',
  };
  const base = { members: memberIds, source: `Grafana OnCall shift "${sname}" (${str(sh.id) ?? '?'}, ${type}, level ${num(sh.level) ?? 0})` };
  const note = (extra: ImportedLayer['comments']) => ({ ...comments, ...extra });
  const endNote = () => {
    if (until?.isValid) unmapped.push(`${where}: ends ${until.toISO()}; Onehand layers have no end date: remove the layer then`);
  };
  const onlyStartDay = days.length === 0 || (days.length === 1 && days[0] === start.weekday - 1);

  // Whole turns: the duration fills the period.
  if (duration === period && (frequency !== 'weekly' || onlyStartDay) && (frequency === 'weekly' || days.length === 0)) {
    const length = shiftLength(period);
    if (length === null) {
      unmapped.push(`${where}: a turn of ${period}s is longer than Onehand's longest shift (52 weeks): left out`);
      return undefined;
    }
    endNote();
    return {
      ...base,
      name: uniqueLayerName(sname, names),
      shift: length.text,
      handoff: length.unit === 'weeks' ? `${DAY_NAMES[start.weekday - 1]} ${time}` : time,
      start: start.toISODate() as string,
      restrictions: [],
      comments: note({ shift: `frequency ${frequency}, interval ${interval}`, handoff: `start ${str(sh.start)}, duration ${duration}s` }),
    };
  }
  if (interval !== 1) {
    unmapped.push(`${where}: ${frequency} every ${interval} with a duration of ${duration}s${days.length ? ` on ${byDay.join(',')}` : ''}; Onehand windows repeat every day or week: left out (describe it as a layer by hand)`);
    return undefined;
  }
  const endOf = (startMinuteOfWeek: number) => {
    const m = (startMinuteOfWeek + Math.round(duration / 60)) % (7 * 1440);
    return `${DAY_NAMES[Math.floor(m / 1440)]} ${hhmm(Math.floor((m % 1440) / 60), m % 60)}`;
  };
  // A daily turn at the start time, shown only in `restrictions`.
  const daily = (restrictions: ImportedWindow[]): ImportedLayer => ({
    ...base,
    name: uniqueLayerName(sname, names),
    shift: '1d',
    handoff: time,
    start: start.toISODate() as string,
    restrictions,
    comments: note({ shift: 'frequency daily, interval 1', handoff: `start ${str(sh.start)}` }),
  });
  if (frequency === 'daily' && days.length === 0 && duration < 86_400) {
    const end = start.plus({ seconds: duration });
    endNote();
    return daily([{ from: time, to: hhmm(end.hour, end.minute), source: `start ${time}, duration ${duration}s` }]);
  }
  if (frequency === 'weekly' && duration <= 86_400 * 7) {
    // One turn per week (week_start to week_start); a window on each by_day day (or the start's day).
    const weekStart = ICAL_DAYS.indexOf((str(sh.week_start) ?? 'SU').toUpperCase());
    const windowDays = days.length > 0 ? days : [start.weekday - 1];
    const back = (start.weekday - 1 - weekStart + 7) % 7;
    const firstWeek = start.minus({ days: back });
    const handoffMinute = weekStart * 1440 + start.hour * 60 + start.minute;
    const restrictions: ImportedWindow[] = windowDays.map((d) => {
      const from = d * 1440 + start.hour * 60 + start.minute;
      return { from: `${DAY_NAMES[d]} ${time}`, to: endOf(from), source: `by_day ${ICAL_DAYS[d]}, start ${time}, duration ${duration}s` };
    });
    for (const d of windowDays) {
      const from = d * 1440 + start.hour * 60 + start.minute;
      const untilHandoff = (handoffMinute - from + 7 * 1440) % (7 * 1440) || 7 * 1440;
      if (duration / 60 > untilHandoff) unmapped.push(`${where}: the ${ICAL_DAYS[d]} window runs past the week's handoff (${DAY_NAMES[weekStart]} ${time}); its end goes to the next person in Onehand`);
    }
    endNote();
    return {
      ...base,
      name: uniqueLayerName(sname, names),
      shift: '1w',
      handoff: `${DAY_NAMES[weekStart]} ${time}`,
      start: firstWeek.toISODate() as string,
      restrictions,
      comments: note({ shift: 'frequency weekly, interval 1: one turn per week', handoff: `week_start ${str(sh.week_start) ?? 'SU (default)'} at the start time ${time}`, start: `the week of start ${str(sh.start)}` }),
    };
  }
  if (frequency === 'daily' && days.length > 0 && duration <= 86_400) {
    unmapped.push(`${where}: daily on ${byDay.join(',')} only; Grafana OnCall counts turns by its own rule there, Onehand hands off every day at ${time} and shows the layer on those days: check the turns against GET /api/v1/schedules/{id}/final_shifts`);
    endNote();
    return daily(days.map((d) => ({ from: `${DAY_NAMES[d]} ${time}`, to: endOf(d * 1440 + start.hour * 60 + start.minute), source: `by_day ${ICAL_DAYS[d]}, duration ${duration}s` })));
  }
  unmapped.push(`${where}: ${frequency} with a duration of ${duration}s${days.length ? ` on ${byDay.join(',')}` : ''} cannot be written as Onehand shifts and windows: left out`);
  return undefined;
}

/** mapChain: a Grafana OnCall escalation chain's policies (steps) as escalation steps. */
function mapChain(chainId: string, chainName: string | undefined, policies: Raw[]): PolicyForSchedule {
  const label = `Grafana OnCall escalation chain ${chainName ? `"${chainName}" ` : ''}(${chainId})`;
  const sorted = [...policies].sort((a, b) => (num(a.position) ?? 0) - (num(b.position) ?? 0));
  const steps: { targets: StepTarget[]; waitMinutes?: number; label: string; notes: string[] }[] = [];
  let repeat = 0;
  const leading: string[] = [];
  for (const p of sorted) {
    const type = str(p.type) ?? '?';
    const position = `step ${(num(p.position) ?? 0) + 1} (${type})`;
    const last = steps[steps.length - 1];
    switch (type) {
      case 'wait': {
        const minutes = (num(p.duration) ?? 0) / 60;
        if (last) last.waitMinutes = (last.waitMinutes ?? 0) + minutes;
        else leading.push(`${position}: a wait before anyone is paged; Onehand pages the on-call at once`);
        break;
      }
      case 'notify_on_call_from_schedule': {
        if (last && last.waitMinutes === undefined) last.waitMinutes = 0;
        const sid = str(p.notify_on_call_from_schedule) ?? '';
        steps.push({ targets: [{ kind: 'schedule', id: sid, label: `schedule ${sid}` }], label: position, notes: p.important ? ['important: Onehand pages are urgent by severity, not by step'] : [] });
        break;
      }
      case 'notify_persons':
      case 'notify_person_next_each_time': {
        if (last && last.waitMinutes === undefined) last.waitMinutes = 0;
        const list = (type === 'notify_persons' ? p.persons_to_notify : p.persons_to_notify_next_each_time);
        const people = Array.isArray(list) ? list.map(String) : [];
        const notes = type === 'notify_person_next_each_time' && people.length > 1 ? ['notifies the next person each time: Onehand pages the same person every time'] : [];
        const targets: StepTarget[] = type === 'notify_person_next_each_time' && people.length > 0
          ? [{ kind: 'user', id: people[0] as string, label: `user ${people[0]}` }]
          : people.map((u) => ({ kind: 'user', id: u, label: `user ${u}` }));
        steps.push({ targets, label: position, notes });
        break;
      }
      case 'repeat_escalation':
        repeat += 1;
        break;
      default: {
        if (last && last.waitMinutes === undefined && type.startsWith('notify')) last.waitMinutes = 0;
        const what = str(p.group_to_notify) ?? str(p.team_to_notify) ?? str(p.action_to_trigger) ?? '';
        if (type.startsWith('notify')) steps.push({ targets: [{ kind: 'other', id: what, label: `${type.replace(/^notify_/, '').replace(/_/g, ' ')} ${what}`.trim() }], label: position, notes: [] });
        else (last ? last.notes : leading).push(`${position}: not imported (Onehand escalates to people only)`);
      }
    }
  }
  if (steps[0]) steps[0].notes.unshift(...leading);
  return { label, steps: steps as EscalationStep[], ...(repeat > 0 ? { repeat, repeatSource: `${repeat} repeat_escalation step${repeat === 1 ? '' : 's'}` } : {}) };
}

