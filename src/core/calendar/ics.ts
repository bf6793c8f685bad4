/**
 * iCalendar (RFC 5545) export of shifts, at the edge only: the rotation stays the model and the
 * .ics text is generated from its shifts on each request (STYLE.md: don't keep iCal as the model).
 *
 * renderCalendar writes CRLF line endings, folds lines longer than 75 octets (without splitting a
 * UTF-8 character), escapes TEXT values (backslash, semicolon, comma, newline), and writes every
 * instant in UTC with a trailing Z, so no VTIMEZONE is needed and every client shows the shift at
 * the same instant in its own zone.
 */
import type { DateTime } from 'luxon';
import type { MemberId, Team, World } from '../model';
import type { Shift } from '../rotation/types';

export interface CalendarEvent {
  readonly uid: string;
  readonly start: DateTime;
  readonly end: DateTime;
  readonly summary: string;
  readonly description?: string;
}

export interface Calendar {
  readonly name: string;
  readonly events: readonly CalendarEvent[];
  /** DTSTAMP of every event: when the feed was generated. */
  readonly stamp: DateTime;
}

/** escapeText escapes a TEXT value (RFC 5545 3.3.11). */
export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
}

/** foldLine splits a content line into 75-octet pieces joined by CRLF and a space (RFC 5545 3.1). */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  let limit = 75;
  for (const ch of line) {
    const size = utf8Octets(ch);
    if (octets + size > limit) {
      out.push(current);
      current = '';
      octets = 0;
      limit = 74; // continuation lines start with a space
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

function utf8Octets(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** utcStamp: 20260303T090000Z. */
export function utcStamp(dt: DateTime): string {
  return dt.toUTC().toFormat("yyyyMMdd'T'HHmmss'Z'");
}

export function renderCalendar(cal: Calendar): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Onehand//On-call rotation//EN', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH', `X-WR-CALNAME:${escapeText(cal.name)}`];
  for (const e of cal.events) {
    lines.push('BEGIN:VEVENT', `UID:${escapeText(e.uid)}`, `DTSTAMP:${utcStamp(cal.stamp)}`, `DTSTART:${utcStamp(e.start)}`, `DTEND:${utcStamp(e.end)}`, `SUMMARY:${escapeText(e.summary)}`);
    if (e.description) lines.push(`DESCRIPTION:${escapeText(e.description)}`);
    lines.push('TRANSP:TRANSPARENT', 'END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

/**
 * shiftEvents: one event per shift (a stretch of the rotation with overrides applied), named after
 * the member; overrides are marked in the summary and the description. The UID depends on the
 * team, member and the shift's bounds, so a shift keeps its UID across fetches and an override
 * that changes a shift gives it a new one. `member` limits the feed to one person's shifts.
 */
export function shiftEvents(world: World, team: Team, shifts: readonly Shift[], member?: MemberId): CalendarEvent[] {
  return shifts
    .filter((s) => member === undefined || s.member === member)
    .map((s) => {
      const name = world.members.get(s.member)?.name ?? s.member;
      return {
        uid: `${team.id}-${s.member}-${utcStamp(s.start)}-${utcStamp(s.end)}@onehand`,
        start: s.start,
        end: s.end,
        summary: `On call: ${name} (${team.name})${s.override ? ' [override]' : ''}`,
        description: s.override ? `${name} covers this shift (override) for ${team.name}.` : `${name} is on call for ${team.name} (rotation).`,
      };
    });
}
