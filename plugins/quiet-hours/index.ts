/**
 * quiet-hours: nobody is disturbed who does not have to be.
 *
 * - A non-urgent notification to someone in quiet hours waits until their quiet hours end. Then
 *   a held page still needed goes out as the page it was (down the fallback ladder like any page),
 *   and everything else that waited as one digest.
 * - An urgent one (severities in `urgent`, default sev1) is never held: it pages the on-call, the
 *   mentor and the lead whatever their quiet hours. Urgent huddles still reach the team.
 * - Quiet hours delay a non-urgent escalation step to the end of that person's quiet time; they
 *   never remove it (the escalation invariant: an unacknowledged incident always has a next step).
 *   The on-call's weekends do not hold their pages unless `oncall_weekends: true` (they are on call).
 * - Someone not on call is never disturbed for an update.
 * Every deferral, bypass and skip is on the incident's timeline, where `oncall stats` counts them
 * (no counters of its own: a counter every deferral locked would make them wait for each other).
 *
 * Settings: `defaults` for everyone, `teams.<id>` for a team's members, `members.<id>` per member
 * (each of nights, weekends, time_off; a member's settings start from their team's, which start
 * from the defaults), plus `oncall focus DURATION` to declare a focus block (`oncall focus off`).
 */
import { DateTime } from 'luxon';
import { didYouMean } from '../../src/config/problems';
import type { Incident } from '../../src/core/incident/types';
import { memberName } from '../../src/core/messages/incident-views';
import { teamsOf, type MemberId, type World } from '../../src/core/model';
import { rt } from '../../src/core/text/rich-text';
import { message, type Message } from '../../src/core/messages/message';
import { toPlain } from '../../src/core/text/rich-text';
import { parseDuration, toMillis } from '../../src/core/time/duration';
import { parseLocalTime } from '../../src/core/time/weekday-time';
import type { DeclaredAbsence, NotificationRole, NotifyDecision, OutgoingNotification, Plugin, PluginCall, PluginConfigCheck, PluginHooks } from '../../src/ports/plugin';
import { quietUntil, type QuietSettings } from './policy';

export interface QuietHoursConfig {
  readonly urgent: readonly string[];
  /** Only "wait": a mentor or lead in quiet hours gets a non-urgent step when their quiet time ends. */
  readonly escalation: 'wait';
  readonly defaults: QuietSettings;
  /** Team defaults: a member without own settings takes their (first) team's, else `defaults`. */
  readonly teams: ReadonlyMap<string, QuietSettings>;
  readonly members: ReadonlyMap<MemberId, QuietSettings>;
}

/**
 * HeldPage: a page (or huddle call) about an incident, held for someone's quiet time. When it
 * ends, it goes out as the page it was (see release), not as a line of the digest: a page must be
 * able to fall back to the member's other platforms and the team channel, and move the chain on
 * when it reaches nobody, which a digest's line cannot.
 */
interface HeldPage {
  readonly key: string;
  readonly message: Message;
  readonly role: NotificationRole;
  readonly severity?: string;
}

interface Deferred {
  readonly text: string;
  /** The message's own lines (a list of shifts, a handoff summary's body); absent in digests stored before they were kept. */
  readonly lines?: readonly string[];
  readonly incidentId: number | null;
  readonly at: string;
  /** A page of the member's own shift, held for their night alone (weekends and focus do not hold those). */
  readonly oncall?: boolean;
  /** The page itself (absent for everything else, and in digests stored before pages were kept). */
  readonly page?: HeldPage;
}

/** The most lines of one held message a digest repeats (the rest is counted). */
const DIGEST_LINES_PER_MESSAGE = 20;

const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'];
const TOP_KEYS = ['urgent', 'escalation', 'defaults', 'teams', 'members'];
const SETTING_KEYS = ['nights', 'weekends', 'time_off', 'oncall_weekends'];

type Problems = Array<{ path: string; message: string }>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readSettings(raw: unknown, path: string, base: QuietSettings, problems: Problems): QuietSettings {
  if (raw === null || raw === undefined) return base;
  if (!isRecord(raw)) {
    problems.push({ path, message: 'must be a mapping such as { nights: "22:00-07:00", weekends: true }' });
    return base;
  }
  for (const key of Object.keys(raw)) if (!SETTING_KEYS.includes(key)) problems.push({ path: `${path}.${key}`, message: `unknown key${didYouMean(key, SETTING_KEYS)} (keys: ${SETTING_KEYS.join(', ')})` });
  let nights = base.nights;
  if (raw.nights === false || raw.nights === null) nights = null;
  else if (raw.nights !== undefined) {
    const m = typeof raw.nights === 'string' ? /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/.exec(raw.nights) : null;
    const from = m ? parseLocalTime(m[1] as string) : null;
    const to = m ? parseLocalTime(m[2] as string) : null;
    if (!from || !to || (from.hour === to.hour && from.minute === to.minute)) {
      problems.push({ path: `${path}.nights`, message: `${JSON.stringify(raw.nights)} is not a time window; write "22:00-07:00" (or false for none)` });
    } else nights = { from, to };
  }
  let weekends = base.weekends;
  if (raw.weekends !== undefined) {
    if (typeof raw.weekends !== 'boolean') problems.push({ path: `${path}.weekends`, message: 'must be true or false' });
    else weekends = raw.weekends;
  }
  let timeOff = base.timeOff;
  if (raw.time_off !== undefined) {
    timeOff = [];
    if (!Array.isArray(raw.time_off)) problems.push({ path: `${path}.time_off`, message: 'must be a list such as [{ from: 2026-12-24, to: 2027-01-02 }]' });
    else raw.time_off.forEach((item: unknown, i: number) => {
      const p = `${path}.time_off[${i}]`;
      const date = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : typeof v === 'string' ? v : '');
      const from = isRecord(item) ? date(item.from) : '';
      const to = isRecord(item) ? date(item.to) : '';
      if (!DateTime.fromISO(from).isValid || !DateTime.fromISO(to).isValid || !/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to)) {
        problems.push({ path: p, message: 'must be { from: YYYY-MM-DD, to: YYYY-MM-DD } (inclusive local dates)' });
      } else if (to < from) problems.push({ path: p, message: `ends (${to}) before it starts (${from})` });
      else (timeOff as Array<{ from: string; to: string }>).push({ from, to });
    });
  }
  let oncallWeekends = base.oncallWeekends;
  if (raw.oncall_weekends !== undefined) {
    if (typeof raw.oncall_weekends !== 'boolean') problems.push({ path: `${path}.oncall_weekends`, message: 'must be true (weekends hold non-urgent pages for the on-call too) or false (default: the on-call is on call)' });
    else oncallWeekends = raw.oncall_weekends;
  }
  return { nights, weekends, timeOff, ...(oncallWeekends !== undefined ? { oncallWeekends } : {}) };
}

export function checkQuietHoursConfig(raw: unknown, world: World): PluginConfigCheck<QuietHoursConfig> {
  const problems: Problems = [];
  const section = raw ?? {};
  if (!isRecord(section)) return { ok: false, problems: [{ path: '', message: 'must be a mapping (see README: Quiet hours)' }] };
  for (const key of Object.keys(section)) if (!TOP_KEYS.includes(key)) problems.push({ path: key, message: `unknown key${didYouMean(key, TOP_KEYS)} (keys: ${TOP_KEYS.join(', ')})` });
  let urgent: string[] = ['sev1'];
  if (section.urgent !== undefined) {
    if (!Array.isArray(section.urgent)) {
      problems.push({ path: 'urgent', message: 'must be a list of severities such as [sev1] or [sev1, sev2]' });
    } else {
      const named = section.urgent.map((s) => String(s).trim().toLowerCase());
      const bad = named.flatMap((s, i) => (SEVERITIES.includes(s) ? [] : [i]));
      for (const i of bad) {
        const hint = didYouMean(String(section.urgent[i]), SEVERITIES);
        problems.push({ path: `urgent[${i}]`, message: `${JSON.stringify(section.urgent[i])} is not a severity: sev1, sev2, sev3 or sev4${hint}` });
      }
      if (bad.length === 0 && !named.includes('sev1')) {
        // A sev1 must reach someone at any hour: without it, the worst outage waits for the morning.
        problems.push({ path: 'urgent', message: `${JSON.stringify(section.urgent)} leaves out sev1: a sev1 at night would wait for the end of quiet hours before anyone is paged; list sev1 (the default is [sev1])` });
      }
      if (bad.length === 0) urgent = [...new Set(named)];
    }
  }
  const escalation = 'wait' as const;
  if (section.escalation === 'next') {
    problems.push({ path: 'escalation', message: '"next" would skip a mentor or lead in quiet hours, and an incident could be left with nobody paged; remove the key: a non-urgent step now waits for the end of their quiet time, and an urgent one pages them at once' });
  } else if (section.escalation !== undefined && section.escalation !== null && section.escalation !== 'wait') {
    problems.push({ path: 'escalation', message: `${JSON.stringify(section.escalation)} is not "wait" (the only choice: a non-urgent step waits for the end of their quiet time); remove the key` });
  }
  const defaults = readSettings(section.defaults, 'defaults', { nights: { from: { hour: 22, minute: 0 }, to: { hour: 7, minute: 0 } }, weekends: true, timeOff: [] }, problems);
  const teams = new Map<string, QuietSettings>();
  if (section.teams !== undefined) {
    if (!isRecord(section.teams)) problems.push({ path: 'teams', message: 'must be a mapping of team id to settings' });
    else for (const [id, s] of Object.entries(section.teams)) {
      if (!world.teams.has(id)) problems.push({ path: `teams.${id}`, message: `"${id}" is not a team id (teams[].id)` });
      else teams.set(id, readSettings(s, `teams.${id}`, defaults, problems));
    }
  }
  const teamOf = (member: MemberId): QuietSettings => teams.get(teamsOf(world, member).find((t) => teams.has(t.id))?.id ?? '') ?? defaults;
  const members = new Map<MemberId, QuietSettings>();
  if (section.members !== undefined) {
    if (!isRecord(section.members)) problems.push({ path: 'members', message: 'must be a mapping of member id to settings' });
    else for (const [id, s] of Object.entries(section.members)) {
      if (!world.members.has(id)) problems.push({ path: `members.${id}`, message: `"${id}" is not a member id (members[].id)` });
      else members.set(id, readSettings(s, `members.${id}`, teamOf(id), problems));
    }
  }
  for (const id of world.members.keys()) if (!members.has(id) && teamOf(id) !== defaults) members.set(id, teamOf(id));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: { urgent, escalation, defaults, teams, members } };
}

/** zoneOf: a member's time zone (UTC for an unknown id). */
function zoneOf(world: World, member: MemberId): string {
  return world.members.get(member)?.timeZone ?? 'UTC';
}

/** clockIn: "Tue 07:00", an instant on the clock of `zone`. */
function clockIn(at: DateTime, zone: string): string {
  return at.setZone(zone).toFormat('ccc HH:mm');
}

/**
 * incidentNow: what an incident is now, as the digest tells `member`: resolved (when), or open
 * with its assignee (`you`, or their name) and whether it is acknowledged.
 */
function incidentNow(incident: Incident, member: MemberId, world: World, zone: string): string {
  if (incident.state === 'resolved') return `resolved${incident.resolvedAt ? ` at ${clockIn(incident.resolvedAt, zone)}` : ''}`;
  const who = incident.assignee === member ? 'yours' : `with ${memberName(world, incident.assignee)}`;
  return incident.state === 'acknowledged' ? `${who}, acknowledged` : `${who}, not acknowledged yet`;
}

/** digestKey: the storage key (and timer key) of `member`'s digest of the quiet time ending at `until` (ms). */
function digestKey(member: MemberId, until: number): string {
  return `digest:${member}:${until}`;
}

/** sentKey: the end (ms) of the latest quiet time of `member` whose digest went out. */
function sentKey(member: MemberId): string {
  return `digest-sent:${member}`;
}

/**
 * stillNeeded: whether a held page is still wanted from `member` now: its incident not
 * acknowledged (a huddle call: not resolved), and a page of the on-call's still theirs.
 */
function stillNeeded(page: HeldPage, incident: Incident | undefined, member: MemberId): boolean {
  if (!incident) return false;
  if (page.message.kind === 'huddle') return incident.state !== 'resolved';
  return incident.state === 'open' && (page.role !== 'oncall' || incident.assignee === member);
}

/**
 * release sends, at the end of `member`'s quiet time (ending at `until`, ms), the held pages still
 * needed, each as the page it was: the latest one of each incident (an earlier one of the same
 * incident is left out: the page says it all). The timeline says so. It returns what the digest
 * tells: everything else, pages no longer needed included (with what became of their incident).
 */
async function release(list: readonly Deferred[], member: MemberId, found: ReadonlyMap<number, Incident>, until: number, call: PluginCall): Promise<Deferred[]> {
  const latest = new Map<number, Deferred>();
  for (const d of list) if (d.page && d.incidentId !== null && stillNeeded(d.page, found.get(d.incidentId), member)) latest.set(d.incidentId, d);
  for (const [incidentId, d] of latest) {
    const page = d.page as HeldPage;
    call.notify({
      key: `released:${until}:${page.key}`, recipient: { kind: 'member', id: member }, message: page.message, incidentId, role: page.role,
      ...(page.severity !== undefined ? { severity: page.severity } : {}),
    });
    await call.recordOnIncident(incidentId, 'notification-released', { member, role: page.role, heldSince: d.at });
  }
  return list.filter((d) => !(d.incidentId !== null && d.page && latest.has(d.incidentId)));
}

export function quietHoursHooks(config: QuietHoursConfig): PluginHooks {
  const settingsOf = (m: MemberId) => config.members.get(m) ?? config.defaults;

  /**
   * quietFor: when `member`'s quiet time ends, or null. For their own shift's pages, weekends count
   * only with oncall_weekends, and a focus block not at all: focus keeps the rest of the team's
   * interruptions away, not the on-call's own incidents (a sev2 held a day through a focus block
   * that ran into the night, with no escalation meanwhile).
   */
  async function quietFor(member: MemberId, call: PluginCall, onCall = false): Promise<DateTime | null> {
    return (await quietness(member, call, onCall)).until;
  }

  /** quietness: when `member`'s quiet time ends (as quietFor), and whether only a focus block makes it quiet now. */
  async function quietness(member: MemberId, call: PluginCall, onCall = false): Promise<{ until: DateTime | null; focusOnly: boolean }> {
    const zone = zoneOf(call.world, member);
    // Only read here (written by `oncall focus` alone): a peek, so that no notification's
    // transaction holds it while it waits for a digest's rows (a digest's own notification passes here too).
    const focus = onCall ? undefined : await call.storage.peek<string>(`focus:${member}`);
    const focusUntil = focus ? DateTime.fromISO(focus) : null;
    const base = settingsOf(member);
    const settings = onCall && base.oncallWeekends !== true ? { ...base, weekends: false } : base;
    const until = quietUntil(settings, zone, call.now, focusUntil);
    return { until, focusOnly: until !== null && focusUntil !== null && quietUntil(settings, zone, call.now, null) === null };
  }

  async function defer(n: OutgoingNotification, member: MemberId, until: DateTime, call: PluginCall, asPage = true): Promise<NotifyDecision> {
    const key = digestKey(member, until.toMillis());
    const list = (await call.storage.get<Deferred[]>(key)) ?? [];
    // Read after the digest's own row, which its timer locks first: if that digest went out
    // meanwhile (its timer fired while this waited for the row, or on a replica whose clock is
    // ahead of this one's), its timer will not fire again, and what is added to it now would wait
    // for ever. Their quiet time is over: deliver. (A peek: only the digest's timer writes it.)
    const sent = await call.storage.peek<number>(sentKey(member));
    if (sent !== undefined && sent >= until.toMillis()) {
      if (list.length === 0) await call.storage.delete(key);
      // A plain delivery (no reason): their quiet time is over, nothing was let through.
      return { action: 'deliver' };
    }
    const page: HeldPage | null = asPage && n.incidentId !== null && (n.message.kind === 'page' || n.message.kind === 'huddle')
      ? { key: n.key, message: n.message, role: n.role, ...(n.severity !== undefined ? { severity: n.severity } : {}) } : null;
    list.push({
      text: asPage ? toPlain(n.message.headline) : `passed on while you focused (the chain went on without waiting): ${toPlain(withoutMention(n.message.headline, member))}`, lines: n.message.lines.map(toPlain), incidentId: n.incidentId, at: call.now.toISO() as string,
      ...(n.role === 'oncall' ? { oncall: true } : {}), ...(page ? { page } : {}),
    });
    await call.storage.set(key, list);
    await call.schedule(key, until, { member, key, until: until.toMillis() });
    // With its zone: the timeline line it lands on is in the team's.
    return { action: 'defer', until, reason: `${memberName(call.world, member)} is in quiet hours until ${until.setZone(zoneOf(call.world, member)).toFormat('ccc HH:mm ZZZZ')}` };
  }

  return {
    /** time_off is an absence: local whole days in the member's zone, inclusive. */
    absences(world) {
      const out: DeclaredAbsence[] = [];
      for (const [id, m] of world.members) {
        for (const off of settingsOf(id).timeOff) {
          const start = DateTime.fromISO(off.from, { zone: m.timeZone }).startOf('day');
          const end = DateTime.fromISO(off.to, { zone: m.timeZone }).plus({ days: 1 }).startOf('day');
          if (start.isValid && end.isValid && end > start) out.push({ member: id, start: start.toUTC(), end: end.toUTC() });
        }
      }
      return out;
    },

    async availableAt(member, about, call) {
      if (config.urgent.includes(about.severity)) return null;
      return quietFor(member, call, about.onCall);
    },

    async beforeNotify(n, call) {
      if (n.recipient.kind !== 'member') return { action: 'deliver' };
      const member = n.recipient.id;
      const { until, focusOnly } = await quietness(member, call, n.role === 'oncall');
      if (!until) return { action: 'deliver' };
      // About something that starts before their quiet time ends (a shift they gain tonight).
      if (n.dueBy !== undefined && until > n.dueBy) return { action: 'deliver', reason: `it is about ${n.dueBy <= call.now ? 'now' : clockIn(n.dueBy, zoneOf(call.world, member))}, before their quiet hours end` };
      const urgent = n.severity !== undefined && config.urgent.includes(n.severity);
      if (n.role === 'oncall' || n.role === 'team' || n.role === 'mentor' || n.role === 'lead') {
        // Urgent: every step of the chain pages whatever the hour. Non-urgent: it waits, never vanishes.
        if (urgent) return { action: 'deliver', reason: `${n.severity} is urgent: quiet hours bypassed` };
        // A focus block is one person's afternoon, not the team's night: an escalation step must not
        // wait hours for it (the chain behind them would stall). The chain goes on to its next step
        // now, and the mentor or lead reads what they were spared in the digest when focus ends. A
        // person's own request (`incident escalate`) waits for the end of focus as before: its reply
        // says when, and offers --now.
        if (focusOnly && n.chainStep === true && (n.role === 'mentor' || n.role === 'lead')) {
          await defer(n, member, until, call, false);
          return { action: 'skip', reason: `${memberName(call.world, member)} (the ${n.role}) is in a focus block until ${until.setZone(zoneOf(call.world, member)).toFormat('ccc HH:mm ZZZZ')}: the chain goes on without waiting; they read it in their digest` };
        }
        return defer(n, member, until, call);
      }
      return defer(n, member, until, call);
    },

    async onTimer(key, payload, call) {
      const member = String(payload.member);
      const list = (await call.storage.get<Deferred[]>(String(payload.key))) ?? [];
      await call.storage.delete(String(payload.key));
      // Which quiet time's digest went out (see defer): its end (timers scheduled before it was in
      // the payload carry it as their key's last part).
      const until = typeof payload.until === 'number' ? payload.until : Number(String(payload.key).slice(String(payload.key).lastIndexOf(':') + 1));
      if (Number.isFinite(until) && until > ((await call.storage.get<number>(sentKey(member))) ?? 0)) await call.storage.set(sentKey(member), until);
      if (list.length === 0) return;
      const zone = zoneOf(call.world, member);
      // What became of each incident meanwhile: a page for an incident resolved or handed to
      // somebody else overnight must not read as work waiting for them in the morning.
      const allIds = [...new Set(list.flatMap((d) => (d.incidentId === null ? [] : [d.incidentId])))];
      const found = new Map((allIds.length === 0 ? [] : await call.incidents(allIds)).map((i) => [i.id, i]));
      // Pages still needed go out as pages (one per incident, the latest); the digest tells the rest.
      const rest = await release(list, member, found, Number.isFinite(until) ? until : call.now.toMillis(), call);
      if (rest.length === 0) return;
      const ids = [...new Set(rest.flatMap((d) => (d.incidentId === null ? [] : [d.incidentId])))];
      // The state follows the last line of each incident, unless that line is its resolution.
      const last = new Map<number, number>();
      rest.forEach((d, i) => d.incidentId !== null && last.set(d.incidentId, i));
      const lines = rest.flatMap((d, i) => {
        let line = rt`${clockIn(DateTime.fromISO(d.at), zone)} ${d.text}`;
        const incident = d.incidentId !== null && last.get(d.incidentId) === i ? found.get(d.incidentId) : undefined;
        if (incident && !(incident.resolvedAt !== null && DateTime.fromISO(d.at) >= incident.resolvedAt)) line = rt`${line} (now: ${incidentNow(incident, member, call.world, zone)})`;
        // The held message's own lines follow it, indented (a list of shifts, a handoff's body).
        const own = (d.lines ?? []).flatMap((l) => l.split('\n'));
        const shown = own.slice(0, DIGEST_LINES_PER_MESSAGE).map((l) => rt`    ${l.trim()}`);
        if (own.length > DIGEST_LINES_PER_MESSAGE) shown.push(rt`    … and ${String(own.length - DIGEST_LINES_PER_MESSAGE)} more lines`);
        return [line, ...shown];
      });
      const resolved = ids.filter((id) => found.get(id)?.state === 'resolved').length;
      if (ids.length > 0 && resolved === ids.length) {
        lines.push(rt`${ids.length === 1 ? 'The incident has' : ids.length === 2 ? 'Both incidents have' : `All ${ids.length} incidents have`} been resolved since.`);
      }
      call.notify({
        key,
        recipient: { kind: 'member', id: member },
        // A digest that holds pages of their own shift goes as those did: held for the night
        // alone, not once more by their weekend (a Saturday night's page waited until Monday).
        role: rest.some((d) => d.oncall === true) ? 'oncall' : 'member',
        message: message('notice', rt`While you were in quiet hours, ${rest.length} notification${rest.length === 1 ? '' : 's'} waited for you:`, { lines }),
      });
    },

    commands: [
      {
        spec: {
          group: 'oncall', name: 'focus', summary: 'Declare a focus block: only urgent pages reach you until it ends.',
          args: [{ name: 'length', kind: 'text', help: 'how long, e.g. 2h, or "off" to end it' }],
          options: [], permission: 'team-member', example: 'oncall focus 2h',
        },
        async run(args, caller, _team, call) {
          if (caller.kind !== 'member') return message('reply', rt`Only members can declare focus time.`, { private: true });
          const text = String(args.length ?? '').trim();
          if (text.toLowerCase() === 'off') {
            await call.storage.delete(`focus:${caller.id}`);
            return message('reply', rt`Focus ended; notifications reach you again.`, { private: true });
          }
          const d = parseDuration(text);
          if (!d.ok || toMillis(d.value) > 12 * 3600_000) return message('reply', rt`"${text}" is not a focus length; write e.g. 90m or 2h (at most 12h), or "off".`, { private: true });
          const until = call.now.plus({ milliseconds: toMillis(d.value) });
          await call.storage.set(`focus:${caller.id}`, until.toISO());
          const zone = zoneOf(call.world, caller.id);
          // On call somewhere now: their own incidents still reach them (see quietFor).
          const onCallFor: string[] = [];
          for (const t of teamsOf(call.world, caller.id)) if ((await call.onCall(t.id, call.now)) === caller.id) onCallFor.push(t.name);
          if (onCallFor.length > 0) {
            return message('reply', rt`Focus until ${clockIn(until, zone)} your time (${zone}): you are on call for ${onCallFor.join(', ')}, so its pages still reach you; everything else waits for a digest.`, { private: true });
          }
          return message('reply', rt`Focus until ${clockIn(until, zone)} your time (${zone}): only urgent pages reach you; the rest waits for a digest.`, { private: true });
        },
      },
    ],
  };
}

export const quietHoursPlugin: Plugin<QuietHoursConfig> = {
  name: 'quiet-hours',
  checkConfig: checkQuietHoursConfig,
  activate: quietHoursHooks,
};

/** withoutMention: a headline without its leading mention of `member` (a page's own "@Alice"). */
function withoutMention(headline: Message['headline'], member: MemberId): Message['headline'] {
  const [first, ...rest] = headline;
  if (typeof first === 'object' && first.t === 'mention' && first.member === member) {
    const [next, ...after] = rest;
    return typeof next === 'string' ? [next.trimStart(), ...after] : rest;
  }
  return headline;
}
