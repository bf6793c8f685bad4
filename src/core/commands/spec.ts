/**
 * The command grammar, described once as data. The parser, the help text, and the platform command
 * definitions (Discord slash commands, Teams command lists) are all generated from COMMANDS, so a
 * command cannot exist on one platform and be missing or different on another.
 */
export type ArgKind =
  | 'member' // a member id from config
  | 'incident' // an incident id: 12 or #12
  | 'severity' // sev1..sev4
  | 'instant' // ISO date-time (read in the team zone when it has no offset) or "now"
  | 'end' // like instant, or a duration after the start ("8h", "2d")
  | 'count' // a positive whole number
  | 'choice' // one of `choices`
  | 'text'; // the rest of the line

export interface ArgSpec {
  readonly name: string;
  readonly kind: ArgKind;
  readonly optional?: boolean;
  readonly choices?: readonly string[];
  readonly help: string;
  /** How it reads in a usage line, when not its name in capitals (e.g. "note TEXT"). */
  readonly usage?: string;
}

export interface OptionSpec {
  readonly name: string; // written --name VALUE, or --name for flags
  readonly kind: 'team' | 'text' | 'flag';
  readonly help: string;
}

/**
 * Permission: who may run a command, checked in the core.
 * - anyone: any caller, members or not
 * - team-member: members (or the lead) of the team the command is about
 * - responder: the assignee, the current on-call, their mentors, the team lead
 * - commander: the current on-call, their mentor, the team lead (huddles)
 * - rotation-admin: the team lead or a configured admin
 * - dispatcher: the current on-call, the team lead, a configured admin (who may hand an incident on)
 */
export type Permission = 'anyone' | 'team-member' | 'responder' | 'commander' | 'rotation-admin' | 'dispatcher';

export interface CommandSpec {
  readonly group: 'oncall' | 'incident' | 'help';
  readonly name: string;
  readonly summary: string;
  readonly args: readonly ArgSpec[];
  readonly options: readonly OptionSpec[];
  readonly permission: Permission;
  /** The incident's reporter may run it too, even from outside the team (follow and add to their own incident). */
  readonly reporterToo?: true;
  /** The incident's assignee may run it too, also a member of another team it was assigned to. */
  readonly assigneeToo?: true;
  readonly example: string;
}

const team: OptionSpec = { name: 'team', kind: 'team', help: 'the team (default: your team, or the channel\'s)' };
const incidentArg: ArgSpec = { name: 'id', kind: 'incident', help: 'the incident number, e.g. 12' };

export const COMMANDS: readonly CommandSpec[] = [
  {
    group: 'oncall', name: 'who', summary: 'Show who is on call now, and who is next.',
    args: [], options: [team], permission: 'anyone', example: 'oncall who',
  },
  {
    group: 'oncall', name: 'schedule', summary: 'Show the coming shifts, overrides marked.',
    args: [{ name: 'weeks', kind: 'count', optional: true, help: 'how many weeks to show (default 4, at most 26)' }],
    options: [team], permission: 'anyone', example: 'oncall schedule 6',
  },
  {
    group: 'oncall', name: 'override', summary: 'Put a member on call for an interval (a swap, a half day).',
    args: [
      { name: 'member', kind: 'member', help: 'who covers' },
      { name: 'from', kind: 'instant', help: 'start: "now" or 2026-12-01T09:00 (team time zone)' },
      { name: 'to', kind: 'end', help: 'end: 2026-12-01T18:00, or a length such as 8h or 2d' },
    ],
    options: [team], permission: 'rotation-admin', example: 'oncall override bob 2026-12-01T09:00 8h',
  },
  {
    group: 'oncall', name: 'swap', summary: 'Swap the next shifts of two members (each covers the other\'s).',
    args: [
      { name: 'member', kind: 'member', help: 'one member' },
      { name: 'other', kind: 'member', help: 'the other member' },
    ],
    options: [team], permission: 'rotation-admin', example: 'oncall swap alice bob',
  },
  {
    group: 'oncall', name: 'away', summary: 'Mark a member away: the rotation skips them for shifts that overlap.',
    args: [
      { name: 'member', kind: 'member', help: 'who is away' },
      { name: 'from', kind: 'instant', help: 'start: "now" or 2026-12-24T00:00' },
      { name: 'to', kind: 'end', help: 'end, or a length such as 2w' },
    ],
    options: [team], permission: 'rotation-admin', example: 'oncall away dave 2026-12-24T00:00 2w',
  },
  {
    group: 'oncall', name: 'maintenance', summary: 'A maintenance window: matching alerts open incidents quietly (no page) until it ends.',
    args: [
      { name: 'length', kind: 'end', help: 'how long, e.g. 2h (at most 7d), or an end such as 2026-12-01T18:00' },
      { name: 'reason', kind: 'text', help: 'what is being done' },
    ],
    options: [team, { name: 'service', kind: 'text', help: 'only alerts for this service' }, { name: 'integration', kind: 'text', help: 'only alerts from this integration' }],
    permission: 'rotation-admin', example: 'oncall maintenance 2h database upgrade --service billing',
  },
  {
    group: 'oncall', name: 'stats', summary: 'Team insights: solo rate, escalations, huddle rate, focus protected, single-person dependencies.',
    args: [], options: [team, { name: 'since', kind: 'text', help: 'the window, e.g. 30d (default), 2w, 90d' }],
    permission: 'team-member', example: 'oncall stats --since 30d',
  },
  {
    group: 'incident', name: 'report', summary: 'Report an incident: only the on-call is paged.',
    args: [
      { name: 'severity', kind: 'severity', optional: true, help: 'sev1 (most urgent) to sev4; default sev3' },
      { name: 'title', kind: 'text', help: 'what is wrong, in a line' },
    ],
    options: [team, { name: 'service', kind: 'text', help: 'the affected service' }],
    permission: 'anyone', example: 'incident report sev2 checkout returns 502 --service checkout',
  },
  {
    group: 'incident', name: 'list', summary: 'List the team\'s open incidents.',
    args: [], options: [team, { name: 'all', kind: 'flag', help: 'include resolved incidents' }],
    permission: 'team-member', example: 'incident list',
  },
  {
    group: 'incident', name: 'show', summary: 'Show an incident and its timeline.',
    args: [incidentArg], options: [], permission: 'team-member', reporterToo: true, assigneeToo: true, example: 'incident show 12',
  },
  {
    group: 'incident', name: 'ack', summary: 'Acknowledge an incident: you own it, escalation stops.',
    args: [incidentArg], options: [], permission: 'responder', example: 'incident ack 12',
  },
  {
    group: 'incident', name: 'resolve', summary: 'Resolve an incident; the note goes to the reporter.',
    args: [incidentArg, { name: 'note', kind: 'text', optional: true, help: 'what fixed it' }],
    options: [], permission: 'responder', example: 'incident resolve 12 rolled back the deploy',
  },
  {
    group: 'incident', name: 'reopen', summary: 'Reopen a resolved incident: the on-call is paged again.',
    args: [incidentArg, { name: 'reason', kind: 'text', optional: true, help: 'why' }],
    options: [], permission: 'responder', example: 'incident reopen 12 errors are back',
  },
  {
    group: 'incident', name: 'note', summary: 'Add a note to the timeline (a reporter\'s note reaches the assignee).',
    args: [incidentArg, { name: 'text', kind: 'text', help: 'the note' }],
    options: [], permission: 'responder', reporterToo: true, example: 'incident note 12 rollback started',
  },
  {
    group: 'incident', name: 'reply', summary: 'Send a note to the reporter of the incident.',
    args: [incidentArg, { name: 'text', kind: 'text', help: 'the message for the reporter' }],
    options: [], permission: 'responder', example: 'incident reply 12 a fix is rolling out, 10 minutes',
  },
  {
    group: 'incident', name: 'escalate', summary: 'Ask for help early: page the mentor, or the lead (--now: even in their quiet hours).',
    args: [incidentArg, { name: 'to', kind: 'choice', choices: ['mentor', 'lead'], optional: true, help: 'mentor or lead (default: the next one)' }],
    options: [{ name: 'now', kind: 'flag', help: 'page them now, even in their quiet hours' }], permission: 'responder', example: 'incident escalate 12 mentor',
  },
  {
    group: 'incident', name: 'assign', summary: 'Hand an incident to a member, or to a team\'s on-call: they are paged, escalation restarts.',
    args: [incidentArg, { name: 'member', kind: 'member', optional: true, help: 'who takes it (or give --team); yourself: you take it on, acknowledged' }],
    options: [{ name: 'team', kind: 'team', help: 'hand it to this team: its on-call takes it' }], permission: 'dispatcher', example: 'incident assign 12 bob',
  },
  {
    group: 'incident', name: 'huddle', summary: 'Call the whole team, with a reason. Rare by design, and counted.',
    args: [incidentArg, { name: 'reason', kind: 'text', help: 'why one hand is not enough' }],
    options: [], permission: 'commander', example: 'incident huddle 12 database failover needs three people',
  },
  {
    group: 'help', name: '', summary: 'List the commands, or explain one.',
    args: [{ name: 'command', kind: 'text', optional: true, help: 'a command, e.g. "incident ack"' }],
    options: [], permission: 'anyone', example: 'help incident report',
  },
];

/** commandName: "incident ack", "oncall who", or "help". */
export function commandName(spec: CommandSpec): string {
  return spec.name ? `${spec.group} ${spec.name}` : spec.group;
}

/** usage renders one line, e.g. `incident resolve ID [NOTE]  [--team TEAM]`. */
export function usage(spec: CommandSpec): string {
  const args = spec.args.map((a) => (a.optional ? `[${a.usage ?? a.name.toUpperCase()}]` : a.usage ?? a.name.toUpperCase()));
  const opts = spec.options.map((o) => (o.kind === 'flag' ? `[--${o.name}]` : `[--${o.name} ${o.name.toUpperCase()}]`));
  return [commandName(spec), ...args, ...opts].join(' ');
}

export function findCommand(group: string, name: string, commands: readonly CommandSpec[] = COMMANDS): CommandSpec | undefined {
  return commands.find((c) => c.group === group && c.name === name);
}
