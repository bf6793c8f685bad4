/**
 * Opsgenie import: the JSON of Opsgenie's REST API v2 (schedules with rotations, escalations,
 * users) onto the Onehand config model. Pure: documents and `now` in, a model out.
 *
 * Accepted documents (each one API response as returned, `{"data": ...}`):
 *  - GET /v2/schedules/{id}              -> data: a schedule with "rotations"
 *  - GET /v2/schedules?expand=rotation   -> data: a list of schedules with "rotations"
 *  - GET /v2/escalations[/{id}]          -> data: escalation(s) with "rules"
 *  - GET /v2/users                       -> data: users with "username" (the email) and "timeZone"
 *  - GET /v2/schedules/{id}/timeline     -> accepted and not needed (the rotations are the source)
 *
 * Mapping (one Onehand team per schedule, one layer per rotation, in the order listed):
 *  - type weekly/daily/hourly with length N -> Nw / Nd / Nh; startDate -> the first handoff;
 *  - participants of type user -> members; timeRestriction "time-of-day" -> a window every day,
 *    "weekday-and-time-of-day" -> weekly windows.
 * Not mapped (printed): participants "none", teams, escalations and groups; the simultaneous
 * paging of overlapping rotations (Onehand pages one person: the first listed layer wins);
 * end dates; escalation details (see escalation-map.ts).
 */
import type { DateTime } from 'luxon';
import { escalateTeams, fileBySchedule, type EscalationStep, type PolicyForSchedule, type StepTarget } from './escalation-map';
import {
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

const EXPECTED = 'Opsgenie API responses ({"data": ...}): GET /v2/schedules/{id}, GET /v2/escalations and GET /v2/users';
const OPSGENIE_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MAX_SHIFT = { weekly: 52, daily: 364, hourly: 52 * 168 } as const;

/** importOpsgenie maps Opsgenie API responses onto the Onehand config model. */
export function importOpsgenie(documents: readonly ImportDocument[], now: DateTime): ImportResult {
  const schedules: Raw[] = [];
  const escalations: Raw[] = [];
  const users: Raw[] = [];
  const paging: string[] = [];
  for (const doc of documents) {
    const v = doc.value;
    if (!isRecord(v) || !('data' in v)) {
      const hint = isRecord(v) && ('schedule' in v || 'schedules' in v || 'users' in v) ? ' (this looks like a PagerDuty response: use "onehand import pagerduty")'
        : isRecord(v) && 'results' in v ? ' (this looks like a Grafana OnCall response: use "onehand import grafana-oncall")' : '';
      throw new ImportInputError(`${doc.name}: not an Opsgenie response: expected an object with "data"${hint}; pass the ${EXPECTED}`);
    }
    const items = Array.isArray(v.data) ? v.data : [v.data];
    const next = isRecord(v.paging) ? str(v.paging.next) : undefined;
    if (Array.isArray(v.data) && next !== undefined) {
      // A list response holds one page; "paging.next" is the URL of the next one (offset pagination).
      const offset = /[?&]offset=(\d+)/.exec(next)?.[1];
      const total = num(v.totalCount);
      paging.push(`${doc.name}: holds one page (${v.data.length}${total !== undefined ? ` of ${total}` : ''}) and "paging.next" is set: the rest was not read; fetch the next pages (the URL in "paging.next"${offset !== undefined ? `, i.e. &offset=${offset}` : ', with &offset='}) and pass every file`);
    }
    for (const item of items) {
      if (!isRecord(item)) throw new ImportInputError(`${doc.name}: "data" holds ${JSON.stringify(item)?.slice(0, 40)}, not an Opsgenie schedule, escalation or user; pass the ${EXPECTED}`);
      if ('rotations' in item || 'timezone' in item) schedules.push(item);
      else if ('rules' in item) escalations.push(item);
      else if ('username' in item) users.push(item);
      else if ('finalTimeline' in item || 'baseTimeline' in item) continue;
      else throw new ImportInputError(`${doc.name}: an item in "data" has neither "rotations" (a schedule), "rules" (an escalation) nor "username" (a user); pass the ${EXPECTED}`);
    }
  }
  if (schedules.length === 0) throw new ImportInputError('no schedule in the input; add the response of GET https://api.opsgenie.com/v2/schedules/{id} for each schedule (see README: Coming from Opsgenie, PagerDuty or Grafana OnCall)');
  for (const s of schedules) {
    if (!Array.isArray(s.rotations)) throw new ImportInputError(`schedule ${str(s.name) ?? str(s.id) ?? '?'} has no "rotations": fetch it with GET /v2/schedules/{id}, or list schedules with expand=rotation`);
  }

  const unmapped: string[] = [...paging];
  const ids = new IdAllocator();
  const members = new Map<string, ImportedMember>();
  const byOgId = new Map<string, ImportedMember>();
  const userIndex = new Map<string, Raw>();
  for (const u of users) {
    if (str(u.id)) userIndex.set(str(u.id) as string, u);
    if (str(u.username)) userIndex.set((str(u.username) as string).toLowerCase(), u);
  }
  let noUsersNoted = false;

  const memberFor = (recipient: Raw, fallbackZone: string): ImportedMember | undefined => {
    const rid = str(recipient.id);
    const rname = str(recipient.username) ?? str(recipient.name);
    const user = (rid ? userIndex.get(rid) : undefined) ?? (rname ? userIndex.get(rname.toLowerCase()) : undefined);
    const key = str(user?.id) ?? rid ?? rname ?? '';
    const existing = byOgId.get(key);
    if (existing) return existing;
    if (!user && users.length > 0) return undefined;
    if (!user && !noUsersNoted) {
      noUsersNoted = true;
      unmapped.push('members: no users response in the input; names come from usernames and time zones from the schedule (add GET /v2/users for names and zones)');
    }
    const username = str(user?.username) ?? rname;
    const name = str(user?.fullName) ?? username ?? key;
    const id = ids.take([emailLocal(username), name], key);
    const userZone = str(user?.timeZone);
    const member: ImportedMember = { id, name, ...memberZone('Opsgenie', id, userZone, fallbackZone, unmapped), source: `Opsgenie user ${key}${username ? ` (${username})` : ''}` };
    members.set(id, member);
    byOgId.set(key, member);
    return member;
  };

  const teamIds = new IdAllocator();
  const teams: ImportedTeam[] = [];
  const scheduleTeams = new Map<string, ImportedTeam>();
  for (const s of schedules) {
    const sid = str(s.id) ?? '';
    const sname = str(s.name) ?? sid;
    const teamId = teamIds.take([sname], sid || 'team');
    const zoneText = str(s.timezone);
    let zone = 'UTC';
    if (isZone(zoneText)) zone = zoneText;
    else unmapped.push(`team ${teamId}: schedule time zone ${zoneText ? `"${zoneText}" is not an IANA zone` : 'missing'}: UTC written; set the team's time_zone`);
    if (s.enabled === false) unmapped.push(`team ${teamId}: the Opsgenie schedule is disabled; it is imported as a working team: remove it if it is not used`);
    const team: ImportedTeam = { id: teamId, name: sname, timeZone: zone, lead: '', leadNote: '', members: [], layers: [], source: `Opsgenie schedule "${sname}" (${sid})` };
    const names = new Set<string>();
    for (const r of s.rotations as unknown[]) {
      if (!isRecord(r)) continue;
      const layer = mapRotation(r, team, names, now, unmapped, (p) => memberFor(p, zone));
      if (layer) team.layers.push(layer);
    }
    if (team.layers.length === 0) {
      unmapped.push(`team ${teamId}: schedule "${sname}" has no rotation Onehand can use: the team is left out`);
      continue;
    }
    if (team.layers.length > 1) {
      unmapped.push(`team ${teamId}: Opsgenie notifies everyone whose rotation is on call at an instant; Onehand pages one person: where layers overlap, the first listed wins (the rotations' order in Opsgenie): reorder the layers if another should win`);
    }
    for (const l of team.layers) for (const m of l.members) if (!team.members.includes(m)) team.members.push(m);
    teams.push(team);
    scheduleTeams.set(sid, team);
    if (str(s.name)) scheduleTeams.set(`name:${(str(s.name) as string).toLowerCase()}`, team);
  }

  const forSchedule = new Map<string, PolicyForSchedule[]>();
  for (const e of escalations) {
    const policy = mapEscalationRules(e, (recipient) => {
      const type = str(recipient.type);
      const rid = str(recipient.id) ?? '';
      const rname = str(recipient.name) ?? str(recipient.username);
      if (type === 'schedule') {
        const team = scheduleTeams.get(rid) ?? (rname ? scheduleTeams.get(`name:${rname.toLowerCase()}`) : undefined);
        const sid = team ? [...scheduleTeams.entries()].find(([k, t]) => t === team && !k.startsWith('name:'))?.[0] ?? rid : rid;
        return { kind: 'schedule', id: sid, label: `schedule ${rname ?? rid}` };
      }
      if (type === 'user') return { kind: 'user', id: rid || (rname ?? ''), label: `user ${rname ?? rid}` };
      return { kind: 'other', id: rid, label: `${type ?? 'recipient'} ${rname ?? rid}` };
    });
    fileBySchedule(forSchedule, policy, scheduleTeams, unmapped);
  }
  // Schedules are also found by name ("name:..." keys): each team once, under its id.
  const byId = [...scheduleTeams].filter(([sid]) => !sid.startsWith('name:'));
  escalateTeams(byId, forSchedule, members, (uid, label, team) => memberFor({ id: uid, username: label.replace(/^user /, '') }, team.timeZone), unmapped, { name: 'Opsgenie', policyTerm: 'escalation' });
  return { tool: 'opsgenie', members: [...members.values()], teams, unmapped };
}

function mapRotation(
  r: Raw,
  team: ImportedTeam,
  names: Set<string>,
  now: DateTime,
  unmapped: string[],
  memberFor: (participant: Raw) => ImportedMember | undefined,
): ImportedLayer | undefined {
  const rname = str(r.name) ?? str(r.id) ?? 'rotation';
  const where = `team ${team.id}, rotation "${rname}"`;
  const end = parseInstant(r.endDate);
  if (end && end <= now) {
    unmapped.push(`${where}: ended ${end.toISO()}: left out`);
    return undefined;
  }
  const type = str(r.type);
  const length = num(r.length) ?? 1;
  const startDate = parseInstant(r.startDate);
  if ((type !== 'weekly' && type !== 'daily' && type !== 'hourly') || startDate === undefined) {
    unmapped.push(`${where}: type ${JSON.stringify(r.type)} with startDate ${JSON.stringify(r.startDate)} is not a weekly, daily or hourly rotation with a start: left out`);
    return undefined;
  }
  if (!Number.isInteger(length) || length < 1 || length > MAX_SHIFT[type]) {
    unmapped.push(`${where}: length ${length} is not a whole number from 1 to ${MAX_SHIFT[type]}: left out`);
    return undefined;
  }
  const unit = type === 'weekly' ? 'weeks' : type === 'daily' ? 'days' : 'hours';
  const shift = `${length}${unit[0]}`;
  const anchor = startDate.setZone(team.timeZone);
  const { handoff, start } = handoffFor(anchor, unit);

  const memberIds: string[] = [];
  const participants = Array.isArray(r.participants) ? r.participants.filter(isRecord) : [];
  participants.forEach((p, i) => {
    const ptype = str(p.type);
    const label = str(p.username) ?? str(p.name) ?? str(p.id) ?? '?';
    if (ptype === 'none') {
      unmapped.push(`${where}: participant ${i + 1} is "none" (nobody on call for that turn); Onehand rotations have no empty turns: dropped, so later turns come one place earlier (a restriction or an override can leave the gap)`);
      return;
    }
    if (ptype !== 'user') {
      unmapped.push(`${where}: participant ${i + 1} is ${ptype ?? 'unknown'} ${label}; Onehand takes people, not ${ptype ?? 'other'}s (one hand by default): dropped; add its people as members`);
      return;
    }
    const member = memberFor(p);
    if (!member) {
      unmapped.push(`${where}: user ${label} is not in the users given: dropped (add the users response)`);
      return;
    }
    if (memberIds.includes(member.id)) {
      unmapped.push(`${where}: ${member.id} is listed twice (position ${i + 1}); Onehand lists each member once: the repeat is dropped, so turns after it come one place earlier`);
      return;
    }
    memberIds.push(member.id);
  });
  if (memberIds.length === 0) {
    unmapped.push(`${where}: no user participants: left out`);
    return undefined;
  }

  const restrictions: ImportedWindow[] = [];
  const tr = isRecord(r.timeRestriction) ? r.timeRestriction : undefined;
  if (tr) {
    const trType = str(tr.type);
    const time = (h: unknown, m: unknown) => hhmm(num(h) ?? 0, num(m) ?? 0);
    if (trType === 'time-of-day' && isRecord(tr.restriction)) {
      const x = tr.restriction;
      const from = time(x.startHour, x.startMin);
      const to = time(x.endHour, x.endMin);
      if (from !== to) restrictions.push({ from, to, source: `time-of-day ${from}-${to}` });
    } else if (trType === 'weekday-and-time-of-day' && Array.isArray(tr.restrictions)) {
      for (const x of tr.restrictions.filter(isRecord)) {
        const sd = OPSGENIE_DAYS.indexOf((str(x.startDay) ?? '').toLowerCase());
        const ed = OPSGENIE_DAYS.indexOf((str(x.endDay) ?? '').toLowerCase());
        if (sd < 0 || ed < 0) {
          unmapped.push(`${where}: time restriction ${JSON.stringify(x)} has no startDay/endDay: left out`);
          continue;
        }
        const from = `${DAY_NAMES[sd]} ${time(x.startHour, x.startMin)}`;
        const to = `${DAY_NAMES[ed]} ${time(x.endHour, x.endMin)}`;
        restrictions.push({ from, to, source: `${x.startDay} ${time(x.startHour, x.startMin)} to ${x.endDay} ${time(x.endHour, x.endMin)}` });
      }
    } else unmapped.push(`${where}: time restriction of type ${JSON.stringify(tr.type)}: left out (the layer is written without it)`);
  }
  if (startDate > now) unmapped.push(`${where}: starts ${startDate.toISO()}; Onehand applies the layer from now on (its turns are counted from that date)`);
  if (end) unmapped.push(`${where}: ends ${end.toISO()}; Onehand layers have no end date: remove the layer then`);
  return {
    name: uniqueLayerName(rname, names),
    members: memberIds,
    shift,
    handoff,
    start,
    restrictions,
    source: `Opsgenie rotation "${rname}"${str(r.id) ? ` (${str(r.id)})` : ''}`,
    comments: {
      shift: `type ${type}, length ${length}`,
      handoff: `startDate ${str(r.startDate)}`,
      members: 'the rotation\'s participants, in order',
    },
  };
}

const UNIT_MINUTES: Record<string, number> = { days: 1440, hours: 60, minutes: 1, seconds: 1 / 60, miliseconds: 1 / 60000, milliseconds: 1 / 60000 };

/** mapEscalationRules: Opsgenie rules (delays counted from the alert's creation) as steps. */
function mapEscalationRules(e: Raw, target: (recipient: Raw) => StepTarget): PolicyForSchedule {
  const label = `Opsgenie escalation "${str(e.name) ?? '?'}" (${str(e.id) ?? '?'})`;
  const rules = (Array.isArray(e.rules) ? e.rules.filter(isRecord) : []).map((rule) => {
    const delay = isRecord(rule.delay) ? (num(rule.delay.timeAmount) ?? 0) * (UNIT_MINUTES[str(rule.delay.timeUnit) ?? 'minutes'] ?? 1) : 0;
    return { rule, delay };
  });
  rules.sort((a, b) => a.delay - b.delay);
  const levels: { delay: number; rules: Raw[] }[] = [];
  for (const r of rules) {
    const last = levels[levels.length - 1];
    if (last && last.delay === r.delay) last.rules.push(r.rule);
    else levels.push({ delay: r.delay, rules: [r.rule] });
  }
  const steps: EscalationStep[] = levels.map((level, i) => {
    const notes: string[] = [];
    const targets = level.rules.map((rule) => {
      const recipient = isRecord(rule.recipient) ? rule.recipient : {};
      const condition = str(rule.condition);
      if (condition === 'if-not-closed') notes.push('condition if-not-closed: Onehand escalates until someone acknowledges (if-not-acked)');
      const notifyType = str(rule.notifyType);
      if (notifyType && notifyType !== 'default') notes.push(`notifyType ${notifyType} for ${str(recipient.type)} ${str(recipient.name) ?? str(recipient.username) ?? ''}: not imported (Onehand pages the on-call, then one mentor, then the lead)`);
      return target(recipient);
    });
    const next = levels[i + 1];
    return { targets, label: `level at ${level.delay} min`, ...(next ? { waitMinutes: next.delay - level.delay } : {}), notes };
  });
  const repeat = isRecord(e.repeat) ? e.repeat : undefined;
  const count = num(repeat?.count);
  const wait = num(repeat?.waitInterval);
  if (steps[0] && wait !== undefined && wait > 0) {
    (steps[0].notes as string[]).push(`repeat waits ${wait} min between runs; Onehand repeats at once after the last step's ack_timeout`);
  }
  return { label, steps, ...(count !== undefined ? { repeat: count, repeatSource: `repeat.count ${count}` } : {}) };
}
