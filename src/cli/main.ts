/**
 * The `onehand` command line: start, check-config, who, schedule, import, help.
 * Exit codes: 0 success, 1 invalid config or a failed check (for import: unreadable or foreign
 * input, or a written config that does not load), 2 a usage error.
 * Errors are one clear line (or one per config problem), never a stack trace.
 */
import 'reflect-metadata';
import { existsSync, fstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { isatty } from 'node:tty';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { parseArgs as parseArgsOnce, type ParseArgsConfig } from 'node:util';
import { DateTime } from 'luxon';
import { formatProblems, loadConfigFile, parseConfig, resolveConfigPath, type OnehandConfig } from '../config';
import { IMPORT_TOOLS, importConfig, TOOL_NAMES, writeImportedConfig, type ImportDocument, type ImportTool } from '../import';
import type { Team, World } from '../core/model';
import { parseInstantArg } from '../core/time/instant';
import type { RotationState, Shift } from '../core/rotation/types';
import { PolicyBook, policyFailureText, type PolicyFailure } from '../app/policies';
import { absenceKey, declaredAbsences, type ActivePlugin } from '../app/plugin-host';
import type { StoredAbsence } from '../ports/store';
import { parseClockOption } from '../runtime/clock';
import { BUILTIN_PLUGIN_NAMES, loadPlugins } from '../runtime/plugin-loader';
import { JsonLogger } from '../runtime/logger';
import { openConfiguredStore, storeLocation } from '../store/open';
import { defaultDataPath } from '../store/sqlite/sqlite-store';
import { readIntegrationSecrets } from '../intake/webhooks';
import { PLATFORMS } from './platforms';
import { configDir, startBot } from './start';
import { tuneGarbageCollector } from '../runtime/gc-tuning';
import { parseSince, teamInsights } from '../app/insights-service';
import { statsMessage } from '../core/insights/stats-view';
import { toPlain } from '../core/text/rich-text';
import { gapWords, shiftNote } from '../core/messages/shift-notes';
import { calendarPath, CALENDAR_SECRET_ENV } from '../http/insights-routes';

const USAGE = `Usage: onehand <command> [options]

Commands:
  start         run the bot (console adapter when no chat credentials are set)
                  --json                 print one JSON object per delivery
                  --clock simulated@ISO  a simulated clock moved by "advance 15m" lines
                  --console              read console commands even when a chat platform runs
                  --no-console           read no commands: run headless (HTTP, webhooks, timers)
                                         until SIGTERM; also the default when standard input
                                         is /dev/null or closed (docker run -d, systemd)
  check-config  validate a config file: onehand check-config [PATH] [--at ISO]
                  (warns about gaps in a layered schedule in the 4 weeks from --at, default now)
  migrate       apply pending database migrations and exit (start does too)
  who           who is on call: onehand who --team T [--at ISO] [--json]
  schedule      shifts in a window: onehand schedule --team T --from ISO --to ISO [--json]
                  (at most three years; shifts are cut at the window's edges)
  report        team insights: onehand report --team T [--since 30d] [--at ISO] [--json]
                  (the window ends now, or at --at: use it for data made with a simulated clock)
  calendar-link the calendar feed links: onehand calendar-link --team T [--member M] [--base URL]
                  (tokens from $ONEHAND_CALENDAR_SECRET)
  teams-manifest  build the Teams app package: onehand teams-manifest --out DIR [--app-id GUID] [--website URL]
                  (bot id from --app-id or $MICROSOFT_APP_ID; writes manifest.json, icons, onehand-teams.zip)
  import        a config from another tool's API responses:
                  onehand import pagerduty|opsgenie|grafana-oncall FILE... [--out PATH] [--force]
                  (the config goes to --out or standard output; what could not be carried over,
                  one line each, to standard error; exit 1 when the written config does not load)
  help          every command, or one command's usage: onehand help [COMMAND] (or COMMAND --help)
  version       Onehand's version: onehand version (or --version)

Every command but import, help and version takes --config PATH (else $ONEHAND_CONFIG, else config/onehand.yaml).
Data lives in $ONEHAND_DATA (default ./data/onehand.db), or in PostgreSQL when
$ONEHAND_DATABASE_URL is set (postgres://user:password@host:5432/db), shared by every replica.`;

/** withFooter: one command's usage lines (usageOf), and what to read for the others. */
function withFooter(own: string): string {
  return `${own}\n\n(onehand help lists every command; every command but import, help and version takes --config PATH)`;
}

/**
 * parseArgs is node:util's parseArgs, but an option given twice is a usage error instead of the
 * last one silently winning (`who --team a --team b` answered for b; chat commands refuse it too).
 */
function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgsOnce<T>> {
  const parsed = parseArgsOnce({ ...config, tokens: true });
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given twice; give it once`);
    seen.add(token.name);
  }
  return parsed as ReturnType<typeof parseArgsOnce<T>>;
}

class UsageError extends Error {}

/** packageVersion: the version in Onehand's package.json (found upwards from this file: src/cli or dist/src/cli). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'onehand' && pkg.version) return pkg.version;
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

/** usageOf: the usage lines of one command (its line of USAGE and the indented ones after it), or null. */
function usageOf(command: string): string | null {
  if (!/^[a-z-]+$/.test(command)) return null;
  const lines = USAGE.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  ${command} `));
  if (at < 0) return null;
  const own = [lines[at] as string];
  for (const l of lines.slice(at + 1)) {
    if (!/^ {4,}\S/.test(l)) break;
    own.push(l);
  }
  return `Usage:\n${own.join('\n')}`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  // `onehand who --help`: that command's usage (before `--`, after which an argument is a value).
  const options = rest.indexOf('--') < 0 ? rest : rest.slice(0, rest.indexOf('--'));
  const own = command === undefined ? null : usageOf(command);
  if (own !== null && (options.includes('--help') || options.includes('-h'))) {
    process.stdout.write(`${withFooter(own)}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'start':
        return await start(rest, env);
      case 'check-config':
        return checkConfig(rest, env);
      case 'migrate':
        return await migrate(rest, env);
      case 'who':
        return await who(rest, env);
      case 'schedule':
        return await schedule(rest, env);
      case 'teams-manifest':
        return await teamsManifest(rest, env);
      case 'report':
        return await report(rest, env);
      case 'calendar-link':
        return await calendarLink(rest, env);
      case 'import':
        return importCommand(rest);
      case 'version':
      case '--version':
      case '-v':
        if (rest.length > 0) throw new UsageError(`"${command}" takes no arguments; got ${JSON.stringify(rest.join(' '))}`);
        process.stdout.write(`onehand ${packageVersion()}\n`);
        return 0;
      case 'help': {
        // `onehand help start`: that command's usage.
        if (rest.length > 1) throw new UsageError(`"help" takes one command at most ("onehand help start"); got ${JSON.stringify(rest.join(' '))}`);
        const asked = rest[0] === undefined ? null : usageOf(rest[0]);
        if (rest[0] !== undefined && asked === null) throw new UsageError(`unknown command "${rest[0]}"`);
        process.stdout.write(`${asked === null ? USAGE : withFooter(asked)}\n`);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      // The message first and the command's own usage after it, not buried under every command's.
      process.stderr.write(`onehand: ${err.message}\n\n${own === null ? USAGE : withFooter(own)}\n`);
      return 2;
    }
    process.stderr.write(`onehand: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** loadOrReport loads the config and its plugins, or prints every problem and returns null. */
function loadOrReport(path: string): { config: OnehandConfig; plugins: ActivePlugin[] } | null {
  const result = loadConfigFile(path, BUILTIN_PLUGIN_NAMES);
  const problems = result.ok ? [] : result.problems;
  let plugins: ActivePlugin[] = [];
  if (result.ok) {
    const loaded = loadPlugins(result.config.plugins, result.config.world, dirname(resolvePath(path)));
    if (loaded.ok) plugins = loaded.plugins;
    else problems.push(...loaded.problems);
  }
  if (result.ok && problems.length === 0) return { config: result.config, plugins };
  // A plugin's settings are checked against the members and teams: not before those load.
  const later = !result.ok && pluginsConfigured(path) ? 'the plugins\' own settings are checked once these are fixed (they are read against the members and teams)\n' : '';
  process.stderr.write(`${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}\n${later}`);
  return null;
}

/** pluginsConfigured: whether the file has a top-level `plugins:` key (read as text: the file did not load). */
function pluginsConfigured(path: string): boolean {
  try {
    return /^plugins\s*:/m.test(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}

async function start(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  tuneGarbageCollector();
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, json: { type: 'boolean' }, clock: { type: 'string' }, console: { type: 'boolean' }, 'no-console': { type: 'boolean' } } });
  const clockChoice = parseClockOption(values.clock);
  if ('error' in clockChoice) throw new UsageError(clockChoice.error);
  if (values.console && values['no-console']) throw new UsageError('--console and --no-console contradict each other; pick one');
  if (values['no-console'] && clockChoice.simulated) throw new UsageError('a simulated clock only moves with console "advance" lines; drop --no-console or --clock');
  // Headless with --no-console, or when standard input cannot carry commands (/dev/null or closed:
  // docker run -d, systemd). A terminal or a pipe is a console session that ends with its input.
  const headless = values['no-console'] === true || (!values.console && clockChoice.simulated === null && standardInputKind() === 'none');
  const loaded = loadOrReport(resolveConfigPath(values, env));
  if (!loaded) return 1;
  const config = withEnvOverrides(loaded.config, env);
  const level = env.ONEHAND_LOG_LEVEL?.trim().toLowerCase() || (values.json ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(level)) throw new Error(`ONEHAND_LOG_LEVEL "${env.ONEHAND_LOG_LEVEL ?? ''}" is not a log level: use debug, info, warn or error`);
  const logger = new JsonLogger(level as 'debug' | 'info' | 'warn' | 'error');
  // A stray rejection (a platform SDK's, say) is logged, not fatal: all state is in the database
  // and every piece of work is retried by the timer loop and the outbox.
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection (the bot keeps running)', { error: reason instanceof Error ? reason.message : String(reason) });
  });
  // Standard output closed by its reader (see stopWhenOutputCloses): the bot stops gracefully and
  // exits 1, so a supervisor that restarts on failure brings it back.
  let outputClosed = false;
  const closed = new Promise<void>((resolve) => {
    whenOutputCloses = () => {
      outputClosed = true;
      resolve();
    };
  });
  const bot = await startBot({
    config, env, logger, plugins: loaded.plugins, dataPath: defaultDataPath(env), clock: clockChoice.clock, simulated: clockChoice.simulated,
    json: values.json === true, input: headless ? emptyInput() : process.stdin, forceConsole: values.console === true, headless,
  });
  await Promise.race([bot.done, closed]);
  // From here on the bot is stopping: a closed output changes nothing any more.
  whenOutputCloses = () => undefined;
  if (outputClosed) logger.warn('standard output was closed by its reader: stopping (exit code 1)');
  await bot.stop();
  return outputClosed ? 1 : 0;
}

/**
 * standardInputKind: what standard input is. `terminal` (an interactive console), `script` (a pipe,
 * socket or file: a console session that ends at the end of its input), or `none` (/dev/null or a
 * closed descriptor, as under `docker run -d` without -i, systemd or nohup: nothing to read).
 */
export function standardInputKind(): 'terminal' | 'script' | 'none' {
  if (isatty(0)) return 'terminal';
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket() || stat.isFile() ? 'script' : 'none';
  } catch {
    return 'none';
  }
}

/** emptyInput: a stream that never ends, for a headless bot (it stops on a signal). */
function emptyInput(): NodeJS.ReadableStream {
  return new PassThrough();
}

/**
 * withEnvOverrides: ONEHAND_HTTP_PORT and ONEHAND_HTTP_HOST override config.http, so a container
 * image can expose /healthz without editing the mounted config. An empty variable counts as unset
 * (as `${PORT:-}` in a compose file leaves it).
 */
function withEnvOverrides(config: OnehandConfig, env: NodeJS.ProcessEnv): OnehandConfig {
  let { port, host } = config.http;
  if (env.ONEHAND_HTTP_PORT) {
    const n = Number(env.ONEHAND_HTTP_PORT);
    // The environment, not the command line, is wrong: no usage text (exit 1, as a bad config).
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`ONEHAND_HTTP_PORT "${env.ONEHAND_HTTP_PORT}" is not a TCP port: set it to a number from 0 to 65535 (e.g. 8080; 0 picks a free one), or unset it to use http.port from the config`);
    port = n;
  }
  if (env.ONEHAND_HTTP_HOST) host = env.ONEHAND_HTTP_HOST;
  return { ...config, http: { port, host } };
}

/** GAP_WEEKS: how far ahead check-config looks for gaps in a team's schedule. */
const GAP_WEEKS = 4;

function checkConfig(args: string[], env: NodeJS.ProcessEnv): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' }, at: { type: 'string' } } });
  if (positionals.length > 1) throw new UsageError(`one config file at a time; got ${positionals.length}: ${positionals.join(' ')}`);
  if (positionals.length === 1 && typeof values.config === 'string') throw new UsageError(`give the config file once: ${positionals[0]} or --config ${values.config}`);
  const path = positionals[0] ?? resolveConfigPath(values, env);
  // A bad --at is a usage error before anything is checked (its zone is each team's; validity is not).
  if (typeof values.at === 'string' && parseInstantArg(values.at, 'UTC', DateTime.utc()) === null) {
    throw new UsageError(`--at "${values.at}" is not an ISO date-time (e.g. 2026-03-30T09:00:00+02:00, or 2026-03-30 read in each team's time zone)`);
  }
  const loaded = loadOrReport(path);
  if (!loaded) return 1;
  const { config, plugins } = loaded;
  // Ask each team's policies what the bot asks (the schedule, the stretch at an instant, the
  // shadows, the state window), so a policy that throws is an error here, not a run-time surprise.
  const failures: PolicyFailure[] = [];
  const policies = new PolicyBook(config.world, plugins, (failure) => failures.push(failure));
  const warnings: string[] = [];
  const empty: RotationState = { overrides: [], absences: [] };
  [...config.world.teams.values()].forEach((team, i) => {
    const from = atOrNow(values.at, team);
    const to = from.plus({ weeks: GAP_WEEKS });
    const before = failures.length;
    const gaps = policies.gaps(team, empty, from, to);
    policies.onCallAt(team, empty, from);
    policies.shadowShifts(team, empty, from, to);
    policies.stateWindow(team, from, to);
    // Gaps: valid (the lead holds them), but an admin should know before they happen. Gaps that
    // come from a failing policy are not warned about: the failure is the problem.
    if (gaps.length === 0 || failures.length > before) return;
    const shown = gaps.slice(0, 3).map((g) => `${g.start.setZone(team.timeZone).toFormat('ccc dd LLL HH:mm')} → ${g.end.setZone(team.timeZone).toFormat('ccc dd LLL HH:mm')}`);
    const words = gapWords(policies.rotationName(team));
    warnings.push(`warning: teams[${i}].rotation (${team.id}): ${gaps.length} gap${gaps.length === 1 ? '' : 's'} in the next ${GAP_WEEKS} weeks ${words.where} (${team.timeZone}): ${shown.join('; ')}${gaps.length > 3 ? `; and ${gaps.length - 3} more` : ''}. ` +
      `The lead (${team.lead}) holds them; ${words.fix}, or "oncall override" for a one-off\n`);
  });
  if (failures.length > 0) {
    const index = new Map([...config.world.teams.keys()].map((id, i) => [id, i]));
    const problems = failures.map((f) => ({ path: `teams[${index.get(f.team) ?? 0}].${f.kind}.policy`, message: policyFailureProblem(f) }));
    process.stderr.write(`${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}\n`);
    return 1;
  }
  warnings.push(...platformWarnings(config, env), ...reachWarnings(config, env), ...zoneWarnings(config));
  const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
  process.stdout.write(`${path}: OK (${count(config.world.teams.size, 'team')}, ${count(config.world.members.size, 'member')}, plugins: ${plugins.map((p) => p.name).join(', ') || 'none'})\n`);
  process.stderr.write(warnings.join(''));
  // So does the HTTP port (ONEHAND_HTTP_PORT): webhooks without a server are a warning here.
  if (withEnvOverrides(config, env).http.port === null && config.integrations.length > 0) {
    process.stderr.write(`warning: http.port is not set (nor ONEHAND_HTTP_PORT in this environment): the integrations' webhooks (${config.integrations.map((i) => i.id).join(', ')}) cannot reach Onehand; onehand start refuses to start without it\n`);
  }
  // Secrets live in the environment, which may differ where the bot runs: a warning, not an error.
  try {
    readIntegrationSecrets(config.integrations, env, configDir(config));
  } catch (err) {
    const lines = (err instanceof Error ? err.message : String(err)).split('\n').slice(1);
    process.stderr.write(lines.map((l) => `warning: ${l} (in this environment; onehand start refuses to start without it)\n`).join(''));
  }
  return 0;
}

/**
 * platformWarnings: every chat platform asked for in this environment (a token or credential is
 * set, or the ids are in the config) that `onehand start` would not run (see PlatformOff): what is
 * missing and how to set it. The environment may differ where the bot runs: a warning, not an error.
 */
function platformWarnings(config: OnehandConfig, env: NodeJS.ProcessEnv): string[] {
  return PLATFORMS.flatMap((platform) => {
    const off = platform.unstarted?.(config, env) ?? null;
    if (!off) return [];
    const effect = off.refusesStart ? 'onehand start refuses to start' : `onehand start runs without ${off.platform} (its log and /healthz say so)`;
    return [`warning: ${off.platform}: ${off.problem} (in this environment): ${effect}; ${off.fix}\n`];
  });
}

/**
 * reachWarnings: with chat platforms switched on (Discord: discord.application_id in the config or
 * DISCORD_APPLICATION_ID; Teams: MICROSOFT_APP_ID or ONEHAND_TEAMS=1 in this environment, as for
 * `onehand start`), every member a team may page (its rotation and its lead) without an id on
 * any of them, and every team without a channel on any of them. Such a page falls back to the team
 * channel, where it pings nobody; with no channel either it reaches nobody; either way the chain
 * moves on at once, and the warning says which of the two it is. `onehand
 * start` logs the same for the platforms that really run.
 */
function reachWarnings(config: OnehandConfig, env: NodeJS.ProcessEnv): string[] {
  const { world } = config;
  const platforms = new Set<string>();
  if (config.discord.applicationId !== null || env.DISCORD_APPLICATION_ID) platforms.add('discord');
  if (env.MICROSOFT_APP_ID || env.ONEHAND_TEAMS === '1') platforms.add('teams');
  if (platforms.size === 0) return []; // the console only: it reaches everyone
  const names = [...platforms].sort();
  const memberIndex = new Map([...world.members.keys()].map((id, i) => [id, i]));
  const out: string[] = [];
  [...world.teams.values()].forEach((team, i) => {
    const channel = names.some((p) => team.channels[p] !== undefined);
    for (const member of new Set([...team.rotation.members, team.lead])) {
      const m = world.members.get(member);
      if (!m || names.some((p) => m.identities[p] !== undefined)) continue;
      // Without a channel there either, the page has nowhere to go at all (see Engine.unreachable).
      const pages = channel
        ? 'pages to them go to the team channel instead, where they ping nobody'
        : `pages to them reach nobody (the team has no channel on ${names.join(' or ')} either)`;
      out.push(`warning: teams[${i}] (${team.id}): ${m.name} (${member}) has no id on ${names.join(' or ')}: ${pages}, and the chain moves on to the next person at once; add ${names.map((p) => `${p}: "<id>"`).join(' or ')} to members[${memberIndex.get(member) ?? 0}]\n`);
    }
    if (!channel) {
      out.push(`warning: teams[${i}] (${team.id}): no team channel on ${names.join(' or ')}: a page nobody can take directly reaches nobody, and the unowned alert goes to the lead and the on-call directly; set teams[${i}].channels.${names[0] ?? 'discord'}\n`);
    }
  });
  return out;
}

/**
 * zoneWarnings: time zones named "Etc/GMT+5" and the like are valid, but count the other way (the
 * POSIX sign: Etc/GMT+5 is UTC-05:00), and an admin who meant UTC+5 gets shifts, quiet hours and
 * handoffs ten hours off without any error. Each one is named with what it means and the fix.
 */
function zoneWarnings(config: OnehandConfig): string[] {
  const out: string[] = [];
  const check = (where: string, zone: string): void => {
    const m = /^Etc\/GMT([+-])(\d{1,2})$/i.exec(zone); // any case: the config accepts "etc/gmt+5" too
    if (!m || Number(m[2]) === 0) return;
    const offset = `UTC${m[1] === '+' ? '-' : '+'}${String(m[2]).padStart(2, '0')}:00`;
    const other = `Etc/GMT${m[1] === '+' ? '-' : '+'}${m[2]}`;
    out.push(`warning: ${where}: "${zone}" is ${offset}, not what it seems (the Etc/GMT zones count the other way round); if ${offset} is meant, better write the place (a place knows its daylight saving rules), and if not, ${other}\n`);
  };
  [...config.world.members.values()].forEach((m, i) => check(`members[${i}].time_zone (${m.id})`, m.timeZone));
  [...config.world.teams.values()].forEach((t, i) => check(`teams[${i}].time_zone (${t.id})`, t.timeZone));
  return out;
}

/** policyFailureProblem: a policy that threw when check-config asked it, with what the bot would do and the fix. */
function policyFailureProblem(f: PolicyFailure): string {
  const fix = f.plugin === 'built-in'
    ? 'this is a bug in Onehand: please report it with this line'
    : `fix ${f.call}() in the code of plugin ${f.plugin} (or pick another policy)`;
  return `the ${f.kind} policy "${f.policy}" (${f.plugin === 'built-in' ? 'built-in' : `plugin ${f.plugin}`}) threw in ${f.call}(): ${f.error}. ` +
    `The bot would answer with ${f.outcome}, each time it asks; ${fix}`;
}

async function teamArgs(args: string[], env: NodeJS.ProcessEnv, extra: Record<string, { type: 'string' | 'boolean' }>) {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, team: { type: 'string' }, ...extra } });
  const loaded = loadOrReport(resolveConfigPath(values as { config?: string }, env));
  if (!loaded) return null;
  const { config } = loaded;
  const policies = new PolicyBook(config.world, loaded.plugins, (failure) => process.stderr.write(`warning: ${policyFailureText(failure)}\n`));
  const teamId = values.team as string | undefined;
  if (!teamId) throw new UsageError(`--team is required (teams: ${[...config.world.teams.keys()].join(', ')})`);
  const team = config.world.teams.get(teamId);
  if (!team) throw new UsageError(`there is no team "${teamId}" (teams: ${[...config.world.teams.keys()].join(', ')})`);
  return { config, team, policies, plugins: loaded.plugins, values: values as Record<string, string | boolean | undefined> };
}

/** atOrNow: the instant of --at (read in the team's zone when it has no offset), else now. */
function atOrNow(at: unknown, team: Team): DateTime {
  return typeof at === 'string' ? readInstant(at, team, '--at') : DateTime.utc();
}

function readInstant(text: string, team: Team, flag: string): DateTime {
  const dt = parseInstantArg(text, team.timeZone, DateTime.utc());
  if (!dt) throw new UsageError(`${flag} "${text}" is not an ISO date-time (e.g. 2026-03-30T09:00:00+02:00, or 2026-03-30 read in ${team.timeZone})`);
  return dt;
}

/** migrate applies pending migrations to the configured store (PostgreSQL or SQLite) and exits. */
async function migrate(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // --config is taken like every command's (the usage says so), though the schema needs no config.
  parseArgs({ args, options: { config: { type: 'string' } } });
  const { store, location } = await openConfiguredStore(env);
  let applied: number[];
  try {
    applied = await store.migrate();
  } finally {
    await store.close();
  }
  const what = applied.length === 0 ? 'nothing to apply' : `applied ${applied.length} migration${applied.length === 1 ? '' : 's'} (${applied.join(', ')})`;
  process.stdout.write(`${location.kind} ${location.where}: schema up to date, ${what}\n`);
  return 0;
}

/** rotationState reads overrides and absences from the database when one exists; config only otherwise. */
/**
 * rotationState: the overrides and absences the database holds, plus the absences the config's
 * plugins declare (quiet-hours `time_off`): the bot stores those at its start, and a rotation is
 * checked before the bot ever ran (no database yet) as well as after.
 */
async function rotationState(env: NodeJS.ProcessEnv, team: Team, from: DateTime, to: DateTime, world: World, plugins: readonly ActivePlugin[]): Promise<RotationState> {
  // As stored absences (their ids say where they come from); a plugin whose hook throws stops the command.
  const declared: StoredAbsence[] = declaredAbsences(plugins, world, (_plugin, err) => {
    throw err;
  }).map((a, i) => ({ id: `${a.plugin}:${i}`, member: a.member, start: a.start, end: a.end }));
  if (storeLocation(env).kind === 'sqlite' && !existsSync(defaultDataPath(env))) return { overrides: [], absences: declared };
  const { store } = await openConfiguredStore(env);
  try {
    await store.migrate();
    const stored = await store.transaction(async (tx) => ({
      overrides: await tx.listOverrides(team.id, from.minus({ weeks: 60 }), to.plus({ weeks: 60 })),
      absences: await tx.listAbsences(from.minus({ weeks: 60 }), to.plus({ weeks: 60 })),
    }));
    const known = new Set(stored.absences.map(absenceKey));
    return { overrides: stored.overrides, absences: [...stored.absences, ...declared.filter((a) => !known.has(absenceKey(a)))] };
  } finally {
    await store.close();
  }
}

async function who(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = await teamArgs(args, env, { at: { type: 'string' }, json: { type: 'boolean' } });
  if (!parsed) return 1;
  const { config, team, policies, values } = parsed;
  const at = atOrNow(values.at, team);
  const state = await rotationState(env, team, at, at, config.world, parsed.plugins);
  const shift = policies.onCallAt(team, state, at);
  const shadow = policies.shadowAt(team, state, at);
  const nameOf = (m: string): string => config.world.members.get(m)?.name ?? m;
  if (values.json) process.stdout.write(JSON.stringify({ ...shiftJson(shift, team), ...(shadow !== null ? { shadow } : {}) }) + '\n');
  else {
    process.stdout.write(`${shift.member} (${nameOf(shift.member)}) is on call for ${team.id} from ${iso(shift.start, team)} to ${iso(shift.end, team)}${shiftNote(shift, policies.rotationName(team))}\n`);
    if (shadow !== null) process.stdout.write(`${shadow} (${nameOf(shadow)}) shadows them (told about each page, never paged)\n`);
  }
  return 0;
}

async function schedule(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = await teamArgs(args, env, { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } });
  if (!parsed) return 1;
  const { team, policies, values } = parsed;
  if (typeof values.from !== 'string' || typeof values.to !== 'string') throw new UsageError('--from and --to are required (ISO date-times)');
  const from = readInstant(values.from, team, '--from');
  const to = readInstant(values.to, team, '--to');
  if (to <= from) throw new UsageError('--to must be after --from');
  if (to.diff(from).as('days') > 3 * 366) throw new UsageError('the window is longer than three years (the most schedule shows); ask for less');
  const state = await rotationState(env, team, from, to, parsed.config.world, parsed.plugins);
  const list = policies.shifts(team, state, from, to);
  const shadows = policies.shadowShifts(team, state, from, to);
  if (values.json) {
    const entries = [...list.map((s) => shiftJson(s, team)), ...shadows.map((s) => ({ member: s.member, start: iso(s.start, team), end: iso(s.end, team), shadow: true, ...(s.layer ? { layer: s.layer } : {}) }))];
    process.stdout.write(JSON.stringify(entries) + '\n');
  } else {
    for (const s of list) process.stdout.write(`${iso(s.start, team)}  ${iso(s.end, team)}  ${s.member}${shiftNote(s, policies.rotationName(team)).replace(/^ /, '  ')}\n`);
    for (const s of shadows) process.stdout.write(`${iso(s.start, team)}  ${iso(s.end, team)}  ${s.member}  (shadow${s.layer ? `, ${s.layer}` : ''}: told about pages, never paged)\n`);
  }
  return 0;
}

/** report prints the team's insights from the data file ($ONEHAND_DATA), as text or JSON. */
async function report(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = await teamArgs(args, env, { since: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' } });
  if (!parsed) return 1;
  const { config, team, values } = parsed;
  const since = parseSince(typeof values.since === 'string' ? values.since : undefined);
  if ('error' in since) throw new UsageError(since.error);
  const now = atOrNow(values.at, team).toUTC(); // JSON instants in UTC, as without --at
  const path = defaultDataPath(env);
  if (storeLocation(env).kind === 'sqlite' && !existsSync(path)) throw new Error(`there is no data file at ${path} (set ONEHAND_DATA to the bot's database)`);
  const { store } = await openConfiguredStore(env);
  try {
    await store.migrate();
    const { insights } = await store.transaction((tx) => teamInsights(tx, parsed.policies, config.world, team, now, since.ms, config.insights));
    if (values.json) process.stdout.write(JSON.stringify(insights, null, 2) + '\n');
    else {
      const msg = statsMessage(config.world, insights, since.label);
      process.stdout.write([toPlain(msg.headline), ...msg.lines.map((l) => `- ${toPlain(l)}`)].join('\n') + '\n');
    }
  } finally {
    await store.close();
  }
  return 0;
}

/** calendarLink prints the team's feed link and each member's (or one member's). */
async function calendarLink(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = await teamArgs(args, env, { member: { type: 'string' }, base: { type: 'string' } });
  if (!parsed) return 1;
  const { team, values } = parsed;
  const secret = env[CALENDAR_SECRET_ENV]?.trim();
  if (!secret) {
    // The command is right; its environment lacks what it needs: a failure (1), not a usage error (2).
    process.stderr.write(`onehand: ${CALENDAR_SECRET_ENV} is not set; the links are derived from it (set the same value as the bot's)\n`);
    return 1;
  }
  const base = (typeof values.base === 'string' ? values.base : 'http://localhost:8080').replace(/\/$/, '');
  const member = typeof values.member === 'string' ? values.member : undefined;
  const people = member !== undefined ? [member] : [...new Set([...team.rotation.members, ...team.members])];
  for (const m of people) if (!team.members.includes(m) && !team.rotation.members.includes(m) && team.lead !== m) throw new UsageError(`"${m}" is not in team ${team.id}`);
  if (member === undefined) process.stdout.write(`${team.id}: ${base}${calendarPath(secret, team.id)}\n`);
  for (const m of people) process.stdout.write(`${team.id}/${m}: ${base}${calendarPath(secret, team.id, m)}\n`);
  return 0;
}

/**
 * importCommand: `onehand import TOOL FILE... [--out PATH] [--force]`. Exit 0 when the config was
 * written and loads, 1 when an input cannot be read or is not the tool's shape, or when the written
 * config does not load (its problems are printed), 2 for a usage error.
 */
function importCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, force: { type: 'boolean' } } });
  const [tool, ...files] = positionals;
  if (tool === undefined) throw new UsageError(`name the tool to import from: ${IMPORT_TOOLS.join(', ')}`);
  if (!(IMPORT_TOOLS as readonly string[]).includes(tool)) throw new UsageError(`cannot import from "${tool}"; the tools are ${IMPORT_TOOLS.join(', ')}`);
  if (files.length === 0) throw new UsageError(`name the JSON file(s) to import: the API responses saved from ${TOOL_NAMES[tool as ImportTool]} (see README: Coming from Opsgenie, PagerDuty or Grafana OnCall)`);
  if (values.out !== undefined) checkOutPath(values.out, values.force === true);
  const documents: ImportDocument[] = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory; name the JSON files in it' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err)}`);
    }
    try {
      return { name: file, value: JSON.parse(text) as unknown };
    } catch (err) {
      throw new Error(`${file} is not JSON (${err instanceof Error ? err.message : String(err)}); save the API response unchanged, e.g. curl -o ${file} ...`);
    }
  });
  const now = DateTime.utc();
  const result = importConfig(tool as ImportTool, documents, now);
  const command = `onehand import ${tool} ${files.join(' ')}`;
  const text = writeImportedConfig(result, command, now.toISODate() as string);
  if (values.out !== undefined) {
    try {
      writeFileSync(values.out, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`cannot write ${values.out}: ${code === 'EACCES' || code === 'EPERM' ? `permission denied; choose a --out path in a folder you may write to` : err instanceof Error ? err.message : String(err)}`);
    }
    process.stdout.write(`wrote ${values.out} (${result.teams.length} team${result.teams.length === 1 ? '' : 's'}, ${result.members.length} member${result.members.length === 1 ? '' : 's'}); ${result.unmapped.length} thing${result.unmapped.length === 1 ? '' : 's'} not imported, listed on standard error and at the end of the file\n`);
  } else process.stdout.write(text);
  process.stderr.write(result.unmapped.map((u) => `not imported: ${u}\n`).join(''));
  const check = parseConfig(text, values.out ?? '(imported config)', BUILTIN_PLUGIN_NAMES);
  if (!check.ok) {
    process.stderr.write(`the imported config does not load yet (${check.problems.length} problem${check.problems.length === 1 ? '' : 's'}); fix these before using it:\n${formatProblems(check.problems)}\n`);
    return 1;
  }
  return 0;
}

/**
 * checkOutPath refuses (as a usage error) an --out path whose folder does not exist, that is a
 * folder, or that exists without --force: before any input is read or anything is written.
 */
function checkOutPath(out: string, force: boolean): void {
  const folder = dirname(resolvePath(out));
  if (!existsSync(folder)) throw new UsageError(`--out ${out}: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) or choose a --out path in an existing folder`);
  if (!statSync(folder).isDirectory()) throw new UsageError(`--out ${out}: ${folder} is a file, not a folder; choose a --out path in a folder`);
  if (!existsSync(out)) return;
  if (statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder; name the file to write, e.g. ${out.replace(/\/$/, '')}/onehand.yaml`);
  if (!force) throw new UsageError(`${out} exists; choose another --out path, or add --force to replace it`);
}

async function teamsManifest(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, config: { type: 'string' }, 'app-id': { type: 'string' }, version: { type: 'string' }, website: { type: 'string' } } });
  if (!values.out) throw new UsageError('--out DIR is required (where manifest.json, the icons and onehand-teams.zip go)');
  if (existsSync(values.out) && !statSync(values.out).isDirectory()) {
    throw new UsageError(`--out ${values.out} is a file; name a folder (manifest.json, the icons and onehand-teams.zip go in it)`);
  }
  const appId = values['app-id'] ?? env.MICROSOFT_APP_ID?.trim() ?? '';
  if (appId === '') throw new UsageError('the bot\'s Microsoft App ID is missing: set MICROSOFT_APP_ID or pass --app-id GUID');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as below: loaded only for this command
  const { manifestProblem } = require('../../adapters/teams/manifest') as typeof import('../../adapters/teams/manifest');
  const problem = manifestProblem({ appId, version: values.version, websiteUrl: values.website });
  if (problem !== null) throw new UsageError(problem);
  // A config given explicitly is checked, so an admin learns of problems before uploading the app.
  if (values.config && !loadOrReport(values.config)) return 1;
  // The package builder (and jszip) is loaded only for this command.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- require, not import(): under tsx a dynamic import goes to Node's ESM loader, which cannot resolve an extensionless .ts module
  const { writeTeamsPackage } = require('../../adapters/teams/package-cli') as typeof import('../../adapters/teams/package-cli');
  const out = values.out;
  const written = await writeTeamsPackage({ out, appId, version: values.version, websiteUrl: values.website }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied; choose an --out folder you may write to'
      : code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way of that folder; choose another --out folder'
        : err instanceof Error ? err.message : String(err);
    throw new Error(`cannot write the Teams package to ${out}: ${why}`, { cause: err });
  });
  process.stdout.write(`wrote ${written.join(', ')}\nupload ${written[written.length - 1]} in Teams (Apps > Manage your apps > Upload an app) or the Teams admin center\n`);
  return 0;
}

function iso(dt: DateTime, team: Team): string {
  return dt.setZone(team.timeZone).toISO({ suppressMilliseconds: true }) as string;
}

function shiftJson(s: Shift, team: Team) {
  return { member: s.member, start: iso(s.start, team), end: iso(s.end, team), override: s.override, ...(s.gap ? { gap: true } : {}), ...(s.layer ? { layer: s.layer } : {}) };
}


/** runCli runs `onehand` with the process's arguments and sets the exit code. */
export function runCli(): void {
  stopWhenOutputCloses();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`onehand: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/**
 * What a closed standard output does: a one-shot command ends at once with the exit code it has
 * so far (0 unless it failed before); `start` replaces it while the bot runs (see start).
 */
let whenOutputCloses: () => void = () => process.exit(process.exitCode ?? 0);

/**
 * stopWhenOutputCloses: a reader that stops early (`onehand schedule ... | head -1`) closes the pipe,
 * and the next write fails with EPIPE: see whenOutputCloses, never a stack trace. Any other standard
 * output error is one line on stderr, exit 1.
 */
function stopWhenOutputCloses(): void {
  let closed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (closed) return;
    closed = true;
    if (err.code !== 'EPIPE') {
      process.stderr.write(`onehand: cannot write to standard output: ${err.message}\n`);
      process.exit(1);
    }
    whenOutputCloses();
  });
}

if (require.main === module) runCli();
