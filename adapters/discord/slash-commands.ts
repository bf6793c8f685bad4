/**
 * Slash commands, generated from the core's COMMANDS so Discord and the grammar never drift:
 * `/oncall` and `/incident` with one subcommand per command, and `/help`. Each argument becomes a
 * typed option (member -> USER, severity -> STRING with choices, incident -> INTEGER with
 * autocomplete, ...). `toCommandText` goes the other way: an interaction's options back to the
 * command line the core parses.
 */
import { COMMANDS, commandName, type ArgSpec, type CommandSpec, type OptionSpec } from '../../src/core/commands/spec';
import { SEVERITIES } from '../../src/core/incident/types';
import type { MemberId } from '../../src/core/model';

/** Discord application command option types (https://discord.com/developers/docs/interactions). */
export const OPTION = { SUB_COMMAND: 1, STRING: 3, INTEGER: 4, BOOLEAN: 5, USER: 6 } as const;

export interface SlashOption {
  readonly type: number;
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly choices?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly autocomplete?: boolean;
  readonly min_value?: number;
  readonly options?: readonly SlashOption[];
}

export interface SlashCommand {
  readonly type: 1;
  readonly name: string;
  readonly description: string;
  readonly options: readonly SlashOption[];
}

const NAME = /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u;
const GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  oncall: 'Who is on call, the schedule, overrides, swaps and time away.',
  incident: 'Report and handle incidents: one hand by default.',
};

/**
 * buildSlashCommands: the body of the bulk overwrite (PUT .../guilds/{guild}/commands).
 * `teams` (team ids) become the choices of every `team` option when there are at most 25.
 */
export function buildSlashCommands(teams: readonly string[] = [], commands: readonly CommandSpec[] = COMMANDS): SlashCommand[] {
  const out: SlashCommand[] = [];
  for (const group of ['oncall', 'incident'] as const) {
    const specs = commands.filter((c) => c.group === group);
    out.push({
      type: 1,
      name: checkName(group),
      description: describe(GROUP_DESCRIPTIONS[group] ?? group),
      options: specs.map((spec) => ({ type: OPTION.SUB_COMMAND, name: checkName(spec.name), description: describe(spec.summary), options: optionsOf(spec, teams) })),
    });
  }
  const help = commands.find((c) => c.group === 'help');
  if (help) {
    const topics = ['oncall', 'incident', ...commands.filter((c) => c.group !== 'help').map(commandName)].slice(0, 25);
    out.push({
      type: 1,
      name: 'help',
      description: describe(help.summary),
      options: help.args.map((a) => ({ type: OPTION.STRING, name: checkName(a.name), description: describe(a.help), required: false, choices: topics.map((t) => ({ name: t, value: t })) })),
    });
  }
  return out;
}

function optionsOf(spec: CommandSpec, teams: readonly string[]): SlashOption[] {
  const args = spec.args.map((a) => argOption(a));
  const opts = spec.options.map((o) => flagOption(o, teams));
  const all = [...args, ...opts];
  // Discord requires required options before optional ones; the order is otherwise the grammar's.
  return [...all.filter((o) => o.required), ...all.filter((o) => !o.required)];
}

function argOption(arg: ArgSpec): SlashOption {
  const base = { name: checkName(arg.name), description: describe(arg.help), required: arg.optional !== true };
  switch (arg.kind) {
    case 'member':
      return { type: OPTION.USER, ...base };
    case 'severity':
      return { type: OPTION.STRING, ...base, choices: SEVERITIES.map((s) => ({ name: s, value: s })) };
    case 'incident':
      return { type: OPTION.INTEGER, ...base, autocomplete: true, min_value: 1 };
    case 'count':
      return { type: OPTION.INTEGER, ...base, min_value: 1 };
    case 'choice':
      return { type: OPTION.STRING, ...base, choices: (arg.choices ?? []).map((c) => ({ name: c, value: c })) };
    case 'instant':
    case 'end':
    case 'text':
      return { type: OPTION.STRING, ...base };
  }
}

function flagOption(opt: OptionSpec, teams: readonly string[]): SlashOption {
  const base = { name: checkName(opt.name), description: describe(opt.help), required: false };
  if (opt.kind === 'flag') return { type: OPTION.BOOLEAN, ...base };
  if (opt.kind === 'team' && teams.length > 0 && teams.length <= 25) return { type: OPTION.STRING, ...base, choices: teams.map((t) => ({ name: t, value: t })) };
  return { type: OPTION.STRING, ...base };
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`"${name}" cannot be a Discord command or option name (lowercase, at most 32 characters)`);
  return name;
}

function describe(text: string): string {
  const t = text.trim();
  return t.length <= 100 ? t : `${t.slice(0, 99)}…`;
}

// ---- interaction -> command text --------------------------------------------------------------

/** The parts of an APPLICATION_COMMAND interaction's data that translation reads. */
export interface CommandData {
  readonly name: string;
  readonly options?: readonly InteractionOption[];
  readonly resolved?: { readonly users?: Readonly<Record<string, { readonly username?: string; readonly global_name?: string | null }>> };
}

export interface InteractionOption {
  readonly name: string;
  readonly type: number;
  readonly value?: string | number | boolean;
  readonly options?: readonly InteractionOption[];
  readonly focused?: boolean;
}

export type Translation =
  | { readonly ok: true; readonly text: string; readonly spec: CommandSpec }
  | { readonly ok: false; readonly error: string };

/**
 * toCommandText: `/incident report severity:sev2 title:"checkout down" service:checkout` ->
 * `incident report sev2 checkout down --service checkout`. Users become member ids through
 * `memberOf`; an unlinked user is an error that says how an admin links them. Values are quoted
 * where the grammar needs it (a quoted word is never an option: text that starts with "--" stays text).
 */
export function toCommandText(data: CommandData, memberOf: (discordUserId: string) => MemberId | null, commands: readonly CommandSpec[] = COMMANDS): Translation {
  const group = data.name;
  let name = '';
  let values: readonly InteractionOption[] = data.options ?? [];
  const sub = values.find((o) => o.type === OPTION.SUB_COMMAND);
  if (sub) {
    name = sub.name;
    values = sub.options ?? [];
  }
  const spec = commands.find((c) => c.group === group && c.name === name);
  if (!spec) return { ok: false, error: `Onehand does not know /${[group, name].filter(Boolean).join(' ')}; the commands may be out of date, try again in a minute.` };
  const byName = new Map(values.map((o) => [o.name, o.value]));
  if (spec.group === 'help') {
    const topic = byName.get('command');
    return { ok: true, spec, text: typeof topic === 'string' && topic.trim() ? `help ${topic.trim()}` : 'help' };
  }
  const words: string[] = [commandName(spec)];
  let skippedOptional = false;
  for (const arg of spec.args) {
    const value = byName.get(arg.name);
    if (value === undefined || value === '') {
      if (arg.optional) skippedOptional = true;
      continue;
    }
    if (arg.kind === 'member') {
      const member = memberOf(String(value));
      if (member === null) {
        const u = data.resolved?.users?.[String(value)];
        const who = u?.global_name || u?.username || 'That user';
        return { ok: false, error: `${who} is not linked to an Onehand member. An admin links them by adding discord: "${String(value)}" to their member entry in the config.` };
      }
      words.push(member);
    } else if (arg.kind === 'text') {
      words.push(quoteText(String(value), skippedOptional));
    } else {
      words.push(quoteToken(String(value)));
    }
  }
  for (const opt of spec.options) {
    const value = byName.get(opt.name);
    if (value === undefined || value === false || value === '') continue;
    words.push(opt.kind === 'flag' ? `--${opt.name}` : `--${opt.name} ${quoteToken(String(value))}`);
  }
  return { ok: true, spec, text: words.join(' ') };
}

/** quoteToken: a value that must stay one token (an option value, a date-time). */
export function quoteToken(value: string): string {
  const v = value.trim();
  if (v !== '' && /^[^\s"']\S*$/.test(v)) return v;
  return quote(v);
}

/**
 * quoteText: the trailing free text of a command. Left as typed when the parser reads it back
 * unchanged; quoted when a word starts with a quote or "--", spacing is unusual, or an optional
 * argument before it was left out (so "sev1 is down" stays a title, not a severity).
 */
export function quoteText(value: string, skippedOptional: boolean): string {
  const v = value.trim();
  const words = v.split(' ');
  const plain = words.every((w) => w !== '' && /^[^\s"'-]|^-(?!-)/.test(w) && !/\s/.test(w));
  if (plain && !skippedOptional) return v;
  return quote(v);
}

function quote(v: string): string {
  if (!v.includes('"')) return `"${v}"`;
  if (!v.includes("'")) return `'${v}'`;
  // Both quote kinds inside: drop the double quotes rather than let the grammar split the text.
  return `"${v.replace(/"/g, '')}"`;
}

/** focusedOption: the option being typed in an autocomplete interaction. */
export function focusedOption(data: CommandData): InteractionOption | undefined {
  const find = (opts: readonly InteractionOption[] | undefined): InteractionOption | undefined => {
    for (const o of opts ?? []) {
      if (o.focused) return o;
      const inner = find(o.options);
      if (inner) return inner;
    }
    return undefined;
  };
  return find(data.options);
}
