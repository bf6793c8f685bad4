/**
 * The imported config model: what an importer (PagerDuty, Opsgenie, Grafana OnCall) builds from the
 * JSON their REST APIs return, before the YAML writer turns it into a commented onehand.yaml.
 *
 * Every value carries where it came from (`source` / `comments`), so the written file can say so
 * next to the value. What an importer cannot map goes to `unmapped`: one line per item, each
 * naming the item, why, and what to do instead.
 */
import { DateTime, IANAZone } from 'luxon';
import { isAbbreviatedZone } from '../core/time/zones';

/** ImportTool: the tools `onehand import` reads. */
export type ImportTool = 'pagerduty' | 'opsgenie' | 'grafana-oncall';

export const IMPORT_TOOLS: readonly ImportTool[] = ['pagerduty', 'opsgenie', 'grafana-oncall'];

export const TOOL_NAMES: Record<ImportTool, string> = {
  pagerduty: 'PagerDuty',
  opsgenie: 'Opsgenie',
  'grafana-oncall': 'Grafana OnCall',
};

export interface ImportedMember {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  /** Set by the escalation mapping (a single person between the on-call and the lead). */
  mentor?: string;
  /** Where the member came from, e.g. `PagerDuty user PXPGF42 (alice@example.com)`. */
  readonly source: string;
  /** Why the time zone is what it is, when it is not the user's own. */
  readonly zoneNote?: string;
}

/**
 * ImportedWindow: one restriction window in the team's zone. Daily windows have `days` (or none:
 * every day) and "HH:MM" times; weekly windows have "Ddd HH:MM" times and no days. `to <= from`
 * ends the next day (next week for weekly windows).
 */
export interface ImportedWindow {
  readonly days?: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly source: string;
}

export interface ImportedLayer {
  readonly name: string;
  readonly members: readonly string[];
  /** "12h", "1d", "2w". */
  readonly shift: string;
  /** "09:00", or "Mon 09:00" for weekly shifts. */
  readonly handoff: string;
  /** ISO date in the team's zone. */
  readonly start: string;
  readonly restrictions: readonly ImportedWindow[];
  readonly source: string;
  /** Comments for single keys: where the value came from. */
  readonly comments: Partial<Record<'members' | 'shift' | 'handoff' | 'start' | 'restrictions', string>>;
}

export interface ImportedEscalation {
  readonly ackTimeout?: string;
  readonly renotify?: number;
  readonly then?: readonly ('mentor' | 'lead')[];
  readonly repeat?: number;
  readonly source: string;
  readonly comments: Partial<Record<'ack_timeout' | 'renotify' | 'then' | 'repeat', string>>;
}

export interface ImportedTeam {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  lead: string;
  leadNote: string;
  readonly members: string[];
  readonly layers: ImportedLayer[];
  escalation?: ImportedEscalation;
  readonly source: string;
}

export interface ImportResult {
  readonly tool: ImportTool;
  readonly members: ImportedMember[];
  readonly teams: ImportedTeam[];
  /** One line per thing that was not carried over, with the reason and what to do. */
  readonly unmapped: string[];
}

/** ImportInputError: the input is not what the tool's API returns; the message names what was expected and the fix. */
export class ImportInputError extends Error {}

/** ImportDocument: one parsed JSON file and its name (for messages). */
export interface ImportDocument {
  readonly name: string;
  readonly value: unknown;
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the importers

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function isZone(zone: string | undefined): zone is string {
  // The config refuses abbreviations such as EST (see validate.ts): they are not carried over either.
  return zone !== undefined && IANAZone.isValidZone(zone) && !isAbbreviatedZone(zone);
}

/**
 * memberZone: a member's time zone from the tool's user record, else `fallback` (the schedule's),
 * with the note written beside it; a zone that is not an IANA zone is also reported in `unmapped`.
 */
export function memberZone(tool: string, id: string, userZone: string | undefined, fallback: string, unmapped: string[]): { timeZone: string; zoneNote?: string } {
  if (isZone(userZone)) return { timeZone: userZone };
  if (!userZone) return { timeZone: fallback, zoneNote: 'no zone in the input; the schedule\'s zone is used' };
  unmapped.push(`member ${id}: time zone "${userZone}" is not an IANA zone: ${fallback} written; set their zone`);
  return { timeZone: fallback, zoneNote: `${tool} zone "${userZone}" is not an IANA zone; the schedule's zone is used` };
}

/** slugId turns a name or email local part into an Onehand id (lowercase letters, digits, "-", "_"). */
export function slugId(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .replace(/-{2,}/g, '-')
    .slice(0, 40);
}

/** IdAllocator hands out unique ids: "alice", then "alice-2", ... */
export class IdAllocator {
  private readonly used = new Set<string>();

  take(candidates: readonly (string | undefined)[], fallback: string): string {
    const base = candidates.map((c) => (c === undefined ? '' : slugId(c))).find((c) => c !== '') ?? (slugId(fallback) || 'x');
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}

/** emailLocal: "alice.smith@example.com" -> "alice.smith". */
export function emailLocal(email: string | undefined): string | undefined {
  if (email === undefined) return undefined;
  const at = email.indexOf('@');
  return at > 0 ? email.slice(0, at) : email;
}

/** parseInstant reads an ISO date-time with an offset (or Z). */
export function parseInstant(text: unknown): DateTime | undefined {
  if (typeof text !== 'string') return undefined;
  const dt = DateTime.fromISO(text.trim(), { setZone: true });
  return dt.isValid ? dt : undefined;
}

export const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export function hhmm(hour: number, minute: number): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

/**
 * shiftLength writes a turn length in seconds as one Onehand unit (weeks, days or hours), or
 * returns null when it is not a whole number of hours. `wallClock` says whether whole days and
 * weeks may be written as days/weeks (a tool that keeps the handoff's local time across daylight
 * saving changes); hours are always elapsed time.
 */
export function shiftLength(seconds: number): { text: string; unit: 'weeks' | 'days' | 'hours'; amount: number } | null {
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds % 3600 !== 0) return null;
  if (seconds % 604_800 === 0 && seconds / 604_800 <= 52) return { text: `${seconds / 604_800}w`, unit: 'weeks', amount: seconds / 604_800 };
  if (seconds % 86_400 === 0 && seconds / 86_400 <= 364) return { text: `${seconds / 86_400}d`, unit: 'days', amount: seconds / 86_400 };
  if (seconds / 3600 <= 52 * 168) return { text: `${seconds / 3600}h`, unit: 'hours', amount: seconds / 3600 };
  return null;
}

/**
 * handoffFor: the Onehand handoff and start date for a rotation whose first turn starts at
 * `anchor` (already in the team's zone): the weekday and time of the anchor for weekly shifts,
 * the time only otherwise; the start is the anchor's local date. Onehand's first handoff is then
 * exactly the anchor, and the first member takes it.
 */
export function handoffFor(anchor: DateTime, unit: 'weeks' | 'days' | 'hours'): { handoff: string; start: string } {
  const time = hhmm(anchor.hour, anchor.minute);
  return {
    handoff: unit === 'weeks' ? `${DAY_NAMES[anchor.weekday - 1]} ${time}` : time,
    start: anchor.toISODate() as string,
  };
}

/** windowEnd: the "HH:MM" (and weekday) a window ends, `seconds` after a start of day `day` (1-7) at hour:minute. */
export function addToWeekTime(day: number, hour: number, minute: number, seconds: number): { day: number; hour: number; minute: number } {
  const startMinutes = (day - 1) * 1440 + hour * 60 + minute;
  const end = (startMinutes + Math.round(seconds / 60)) % (7 * 1440);
  return { day: Math.floor(end / 1440) + 1, hour: Math.floor((end % 1440) / 60), minute: end % 60 };
}

/** uniqueLayerName: a layer name unique within the team (names come from the tool, slugged). */
export function uniqueLayerName(wanted: string, taken: Set<string>): string {
  const base = slugId(wanted) || 'layer';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

/**
 * chooseLead fills in the team's lead when the escalation policy named nobody: the first member
 * of the first layer stands in, and the written file says to check it.
 */
export function defaultLead(team: ImportedTeam, unmapped: string[], toolName: string): void {
  if (team.lead !== '') return;
  const first = team.layers[0]?.members[0] ?? team.members[0] ?? '';
  team.lead = first;
  team.leadNote = `FILL IN: no ${toolName} escalation level names one person for this schedule; ${first} stands in`;
  unmapped.push(`team ${team.id}: lead: no escalation level after the schedule names a single person; ${first} is written as lead: set the real team lead`);
}
