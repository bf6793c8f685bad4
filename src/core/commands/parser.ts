/**
 * parseCommand turns a line of text into a command from COMMANDS, or a ParseError that says what is
 * wrong and shows the usage line. It never throws. Values are checked for shape here (an incident
 * number, a severity, a date-time); meaning (does the member exist, which zone) is the app's job.
 */
import { parseDuration } from '../time/duration';
import { SEVERITIES, type Severity } from '../incident/types';
import { COMMANDS, commandName, findCommand, usage, type ArgSpec, type CommandSpec } from './spec';

export type ArgValue = string | number;

export interface ParsedCommand {
  readonly spec: CommandSpec;
  readonly args: Readonly<Record<string, ArgValue | undefined>>;
  readonly options: Readonly<Record<string, string | true | undefined>>;
}

export interface ParseError {
  readonly error: string;
  readonly usage: string | null;
}

export type ParseResult = { ok: true; command: ParsedCommand } | ({ ok: false } & ParseError);

/** tokenize splits on whitespace, keeping "quoted strings" and 'quoted strings' together. */
export function tokenize(line: string): string[] {
  return spans(line).map((t) => t.text);
}

/** A token and where it stands in the line (quotes included), so free text can be kept as typed. */
interface Span {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly quoted: boolean;
}

function spans(line: string): Span[] {
  const out: Span[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push({ text: m[1] ?? m[2] ?? m[3] ?? '', start: m.index, end: m.index + m[0].length, quoted: m[3] === undefined });
  return out;
}

const INSTANT = /^(now|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?)$/i;

/** parseCommand reads `line` against `commands` (the core's COMMANDS plus any plugin commands). */
export function parseCommand(line: string, commands: readonly CommandSpec[] = COMMANDS): ParseResult {
  const raw = line.trim().replace(/^\//, '');
  if (raw === '') return fail('Empty command.', null, 'Type "help" for the list of commands.');
  const tokens = spans(raw);
  const words = tokens.map((t) => t.text);
  const group = (words[0] ?? '').toLowerCase();
  if (group === 'help' || group === '?') {
    const spec = findCommand('help', '', commands) as CommandSpec;
    const topic = words.slice(1).join(' ');
    return { ok: true, command: { spec, args: { command: topic || undefined }, options: {} } };
  }
  const groupSpecs = commands.filter((c) => c.group === group);
  if (groupSpecs.length === 0) {
    return fail(`Unknown command "${truncate(words[0] ?? '')}".`, null, 'Commands start with "oncall", "incident" or "help".');
  }
  const name = (words[1] ?? '').toLowerCase();
  const spec = findCommand(group, name, commands);
  if (!spec) {
    const names = groupSpecs.map((c) => c.name).join(', ');
    const what = name ? `"${group} ${truncate(name)}" is not a command` : `"${group}" needs a subcommand`;
    return fail(`${what}; use one of: ${names}.`, null, `Type "help ${group}" for details.`);
  }
  return parseArgs(spec, words.slice(2), { line: raw, spans: tokens.slice(2) });
}

/**
 * parseArgs reads options (`--name value`, `--name=value`, flags) anywhere on the line and the
 * positional arguments in order. `--` ends the options: every token after it is positional text
 * (a title that starts with "--"), and none of them is read as an optional argument's keyword. A
 * quoted token is never an option nor that `--`.
 */
function parseArgs(spec: CommandSpec, tokens: string[], source: { line: string; spans: readonly Span[] }): ParseResult {
  const options: Record<string, string | true> = {};
  const positional: string[] = [];
  // Each positional token's index in `tokens` (free text is taken from the line as typed).
  const from: number[] = [];
  // Index in `positional` from which tokens came after "--" (literal text).
  let literalFrom = Infinity;
  // The lone "--" token's index in `tokens` (-1: none): inside free text it stays part of it.
  let terminator = -1;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === '--' && !source.spans[i]?.quoted) {
      literalFrom = positional.length;
      terminator = i;
      positional.push(...tokens.slice(i + 1));
      for (let j = i + 1; j < tokens.length; j++) from.push(j);
      break;
    }
    if (!token.startsWith('--') || token.length < 3 || source.spans[i]?.quoted) {
      positional.push(token);
      from.push(i);
      continue;
    }
    const [key, inline] = token.slice(2).split('=', 2) as [string, string | undefined];
    const opt = spec.options.find((o) => o.name === key.toLowerCase());
    if (!opt) {
      const known = spec.options.map((o) => `--${o.name}`).join(', ') || 'none';
      const literal = spec.args.some((a) => a.kind === 'text') ? ' Text that starts with "--" goes after a lone "--".' : '';
      return fail(`"${commandName(spec)}" has no option --${truncate(key)} (options: ${known}).${literal}`, usage(spec));
    }
    if (opt.kind === 'flag') {
      options[opt.name] = true;
      continue;
    }
    const value = inline ?? tokens[++i];
    if (value === undefined || value === '') return fail(`--${opt.name} needs a value.`, usage(spec));
    // `--team payments --team search`: which one was meant? Not silently the last.
    if (opt.name in options && options[opt.name] !== value) return fail(`--${opt.name} is given twice ("${truncate(String(options[opt.name]))}" and "${truncate(value)}"); give it once.`, usage(spec));
    options[opt.name] = value;
  }

  const args: Record<string, ArgValue> = {};
  let rest = positional;
  const literal = () => positional.length - rest.length >= literalFrom;
  // A quoted token is never an optional argument's keyword ("sev2" in quotes is title text).
  const quoted = () => source.spans[from[positional.length - rest.length] ?? -1]?.quoted === true;
  for (const [index, arg] of spec.args.entries()) {
    if (arg.kind === 'text') {
      const text = asTyped(source, from.slice(positional.length - rest.length), terminator).trim();
      if (text === '' && !arg.optional) return fail(`Missing ${arg.name.toUpperCase()}: ${arg.help}.`, usage(spec));
      if (text !== '') args[arg.name] = text;
      rest = [];
      continue;
    }
    const token = rest[0];
    if (token === undefined) {
      if (arg.optional) continue;
      return fail(`Missing ${arg.name.toUpperCase()}: ${arg.help}.`, usage(spec));
    }
    const value = (literal() || quoted()) && arg.optional ? undefined : readValue(arg, token);
    if (value === undefined) {
      // An optional argument that does not match is skipped when a later argument can take the
      // token, unless the token is plainly meant for it ("sev5" is a wrong severity, not a title).
      if (arg.optional && index + 1 < spec.args.length && (literal() || quoted() || !meantFor(arg, token))) continue;
      return fail(`${arg.name.toUpperCase()} "${truncate(token)}" is not valid: ${arg.help}.`, usage(spec));
    }
    args[arg.name] = value;
    rest = rest.slice(1);
  }
  if (rest.length > 0) return fail(`Unexpected "${truncate(rest.join(' '))}".`, usage(spec));
  return { ok: true, command: { spec, args, options } };
}

/**
 * asTyped: free text as the user typed it (quotes, spacing and all: `the "pay" button`), from the
 * tokens at `indices`; one quoted token alone is its inside (`"two  spaces"`). A lone "--" (at
 * `terminator`) between two of its words stays in it (`step 1 -- then step 2`); where an option
 * interrupts the text (`disk full --service db on the replica`), its two sides are joined by one
 * space.
 */
function asTyped(source: { line: string; spans: readonly Span[] }, given: readonly number[], terminator: number): string {
  const only = given.length === 1 ? source.spans[given[0] as number] : undefined;
  if (only?.quoted) return only.text;
  const inside = terminator >= 0 && given.some((i) => i < terminator) && given.some((i) => i > terminator);
  const indices = inside ? [...given, terminator].sort((a, b) => a - b) : given;
  const runs: string[] = [];
  let start = -1;
  indices.forEach((index, k) => {
    const span = source.spans[index] as Span;
    if (start < 0) start = span.start;
    if (indices[k + 1] !== index + 1) {
      runs.push(source.line.slice(start, span.end));
      start = -1;
    }
  });
  return runs.join(' ');
}

/** meantFor: a token that can only have been meant as this kind of argument, though invalid. */
function meantFor(arg: ArgSpec, token: string): boolean {
  return arg.kind === 'severity' && /^sev\d*$/i.test(token);
}

function readValue(arg: ArgSpec, token: string): ArgValue | undefined {
  switch (arg.kind) {
    case 'member':
      return /^@?[a-z0-9][a-z0-9_-]*$/i.test(token) ? token.replace(/^@/, '').toLowerCase() : undefined;
    case 'incident': {
      const m = /^#?(\d{1,12})$/.exec(token);
      return m ? Number(m[1]) : undefined;
    }
    case 'severity': {
      const t = token.toLowerCase();
      return (SEVERITIES as readonly string[]).includes(t) ? (t as Severity) : undefined;
    }
    case 'count': {
      const n = Number(token);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    }
    case 'choice':
      return arg.choices?.includes(token.toLowerCase()) ? token.toLowerCase() : undefined;
    case 'instant':
      return INSTANT.test(token) ? token : undefined;
    case 'end':
      return INSTANT.test(token) || parseDuration(token).ok ? token : undefined;
    case 'text':
      return token;
  }
}

function fail(error: string, usageLine: string | null, hint?: string): { ok: false } & ParseError {
  return { ok: false, error: hint ? `${error} ${hint}` : error, usage: usageLine };
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
