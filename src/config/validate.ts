/**
 * Config validation: YAML text (or an already parsed value) in, a normalized OnehandConfig or
 * every problem out. Never throws for bad input.
 *
 * Three passes, all of which always run so that every problem is listed at once:
 *  1. secrets: any key named token, password, secret, client_secret or api_key, anywhere;
 *  2. structure: the JSON schema in schema.ts (ajv), translated to key paths and friendly messages;
 *  3. meaning: durations, zones, dates, handoffs, duplicate ids and references between ids. This
 *     pass reads the raw value defensively and stays silent about parts the schema already refused,
 *     so one mistake gives one problem.
 * Problems are sorted by where their key appears in the file.
 */
import Ajv, { type ErrorObject, type SchemaObject } from 'ajv';
import { DateTime, IANAZone } from 'luxon';
import { isAbbreviatedZone } from '../core/time/zones';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Node as YamlNode,
  type YAMLError,
} from 'yaml';
import { DEFAULT_ESCALATION, LAYERED_ROTATION, SINGLE_ROTATION } from '../core/model';
import type { Layer, LayeredSettings, WeeklyWindow } from '../core/rotation/layered';
import { readRestriction } from './restrictions';
import type {
  EscalationPlan,
  TeamEscalation,
  TeamRotation,
  EscalationTarget,
  HandoffPolicy,
  Member,
  MemberId,
  RotationSpec,
  ShiftLength,
  Team,
  TeamId,
  World,
} from '../core/model';
import { formatDuration, parseDuration, toMillis } from '../core/time/duration';
import { parseLocalTime, parseWeekdayTime, type Weekday, type WeekdayTime } from '../core/time/weekday-time';
import { DEFAULT_INSIGHTS_SETTINGS, type InsightsSettings } from '../core/insights/figures';
import {
  closestName,
  DOCUMENT_PATH,
  describeValue,
  didYouMean,
  formatPath,
  type ConfigProblem,
  type PathSegment,
} from './problems';
import { configSchema, ID_PATTERN, IDENTITY_KEYS, isSecretKey } from './schema';
import { DELIVERY_DEFAULTS, minLeaseMs, type ConfigResult, type IntegrationConfig, type IntegrationType, type MicrosoftTeamsSettings, type OnehandConfig } from './types';

export { formatProblems, type ConfigProblem } from './problems';
export type { ConfigResult, OnehandConfig } from './types';

/** ValidateOptions: where the value came from and which plugins exist. */
export interface ValidateOptions {
  /** File path, recorded in OnehandConfig.sourcePath and used as the path of whole-file problems. */
  sourcePath?: string;
  /** Names of known plugins; a `plugins` entry naming any other plugin is a problem. Default: none. */
  knownPlugins?: readonly string[];
  /** Finds the line and column (1-based) of a key path in the source text, when there is one. */
  locate?: (path: readonly PathSegment[]) => { line: number; column: number } | undefined;
}

const DEFAULTS = {
  shift: '1w',
  ackTimeout: '5m',
  renotify: 1,
  then: ['mentor', 'lead'] as EscalationTarget[],
  repeat: 1,
  unownedEvery: '1h',
  timersPeriod: '1s',
  timersLease: '60s',
  deliveryTimeout: formatDuration(DELIVERY_DEFAULTS.timeoutMs),
  httpHost: '127.0.0.1',
};

const ZONE_EXAMPLE = 'use an IANA zone such as Europe/Berlin or America/New_York';
const SHIFT_EXAMPLE = 'e.g. "12h", "1d" or "1w"';
const ID_RE = new RegExp(ID_PATTERN);

/**
 * parseConfig parses YAML text and validates it. A YAML syntax error is a problem with its line
 * and column. `knownPlugins` lists the plugin names a `plugins` entry may use (default: none).
 */
export function parseConfig(yamlText: string, sourcePath?: string, knownPlugins: readonly string[] = []): ConfigResult {
  const docPath = sourcePath ?? DOCUMENT_PATH;
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(yamlText, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  } catch (err) {
    return { ok: false, problems: [{ path: docPath, message: `cannot parse the YAML: ${errorText(err)}` }] };
  }
  if (doc.errors.length > 0) {
    // One broken line makes the parser trip over every token after it (a comment that lost its
    // "#" gave 259 errors): the first is the one to fix, the rest are counted.
    const [first, ...rest] = doc.errors;
    const problem = syntaxProblem(first as (typeof doc.errors)[number], docPath);
    if (rest.length === 0) return { ok: false, problems: [problem] };
    return { ok: false, problems: [{ ...problem, message: `${problem.message} (${rest.length} more YAML error${rest.length === 1 ? '' : 's'} after it, most likely caused by this one: its cause may be a line above it, such as a comment that lost its "#" or an indentation that changed)` }] };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { ok: false, problems: [{ path: docPath, message: `cannot read the YAML: ${errorText(err)}` }] };
  }
  const locate = (path: readonly PathSegment[]) => locateInDocument(doc, lineCounter, path);
  return validateConfig(raw, { sourcePath, knownPlugins, locate });
}

/** validateConfig checks an already parsed config value (plain data as YAML or JSON gives it). */
export function validateConfig(raw: unknown, options: ValidateOptions = {}): ConfigResult {
  const sink = new ProblemSink();
  const docPath = options.sourcePath ?? DOCUMENT_PATH;
  let data: unknown;
  try {
    data = plainCopy(raw);
  } catch (err) {
    if (!(err instanceof CycleError)) throw err;
    const where = err.path.length === 0 ? docPath : formatPath(err.path);
    return {
      ok: false,
      problems: [{ path: where, message: 'contains itself (a YAML alias used inside its own anchor); write the value out' }],
    };
  }
  if (data === null || data === undefined) {
    return {
      ok: false,
      problems: [
        {
          path: docPath,
          message: 'the config is empty; it needs at least "members" and "teams" (see config/onehand.yaml for an example)',
        },
      ],
    };
  }
  if (!isRecord(data)) {
    return {
      ok: false,
      problems: [
        {
          path: docPath,
          message: `expected a mapping with at least "members" and "teams" at the top level, got ${describeValue(data)}`,
        },
      ],
    };
  }

  const secretPaths = findSecrets(data, [], sink);
  checkStructure(data, secretPaths, sink);
  const config = checkMeaning(data, options.knownPlugins ?? [], sink);

  if (sink.problems.length > 0 || config === undefined) {
    return { ok: false, problems: sink.sorted(data, options.locate) };
  }
  return { ok: true, config: { ...config, sourcePath: options.sourcePath ?? null } };
}

// ---------------------------------------------------------------------------------------------
// Problems

interface PendingProblem {
  path: PathSegment[];
  message: string;
}

class ProblemSink {
  readonly problems: PendingProblem[] = [];
  private readonly seen = new Set<string>();

  add(path: readonly PathSegment[], message: string): void {
    const key = `${formatPath(path)}\u0000${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.problems.push({ path: [...path], message });
  }

  /** sorted orders problems by where their path first appears in `data`; ties keep their order. */
  sorted(data: unknown, locate: ValidateOptions['locate']): ConfigProblem[] {
    const order = new Map<string, { pre: number; end: number }>();
    let counter = 0;
    const walk = (value: unknown, path: PathSegment[]): void => {
      const entry = { pre: counter++, end: 0 };
      order.set(formatPath(path), entry);
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      entry.end = counter - 1;
    };
    walk(data, []);
    const rank = (path: readonly PathSegment[]): number => {
      const found = order.get(formatPath(path));
      if (found) return found.pre;
      // A missing key sorts after its nearest existing ancestor's contents.
      for (let n = path.length - 1; n >= 0; n--) {
        const parent = order.get(formatPath(path.slice(0, n)));
        if (parent) return parent.end + 0.5;
      }
      return Infinity;
    };
    return this.problems
      .map((p, index) => ({ p, index, rank: rank(p.path) }))
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map(({ p }) => {
        const problem: ConfigProblem = { path: formatPath(p.path), message: p.message };
        const at = locate?.(p.path);
        if (at) {
          problem.line = at.line;
          problem.column = at.column;
        }
        return problem;
      });
  }
}

function syntaxProblem(err: YAMLError, docPath: string): ConfigProblem {
  const firstLine = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '');
  const pos = err.linePos?.[0];
  const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
  let fix = 'fix the YAML syntax there';
  if (err.code === 'DUPLICATE_KEY') fix = 'each key may appear once per mapping; remove or rename one';
  else if (err.code === 'MULTIPLE_DOCS') fix = 'the config is one YAML document; remove the extra "---"';
  else if (err.code === 'TAB_AS_INDENT') fix = 'indent with spaces, not tabs';
  const detail = err.code === 'MULTIPLE_DOCS' ? 'the file contains more than one YAML document' : firstLine;
  const problem: ConfigProblem = { path: docPath, message: `${where}YAML syntax error: ${detail}; ${fix}` };
  if (pos) {
    problem.line = pos.line;
    problem.column = pos.col;
  }
  return problem;
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
}

function locateInDocument(
  doc: Document.Parsed,
  lines: LineCounter,
  path: readonly PathSegment[],
): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (doc.contents as YamlNode | null)?.range?.[0];
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node) && typeof seg === 'string') {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

// ---------------------------------------------------------------------------------------------
// Pass 1: secrets

function findSecrets(value: unknown, path: PathSegment[], sink: ProblemSink): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown, p: PathSegment[]): void => {
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...p, i]));
    else if (isRecord(v)) {
      for (const [key, child] of Object.entries(v)) {
        const childPath = [...p, key];
        if (isSecretKey(key)) {
          found.add(formatPath(childPath));
          sink.add(childPath, secretHint(key, p));
        } else {
          walk(child, childPath);
        }
      }
    }
  };
  walk(value, path);
  return found;
}

/**
 * secretHint: what to write instead of a secret at `parent`.`key`: the keys that place takes to
 * name the secret (`token_env`, `token_file`, `hmac_secret_env`, ...), read from the schema, or,
 * where the place takes no secret at all (a `token:` under `timers:`), to remove it. It used to
 * suggest "<key>_env" everywhere, naming keys that exist nowhere.
 */
function secretHint(key: string, parent: PathSegment[]): string {
  const squashed = key.toLowerCase().replace(/[-_\s]/g, '');
  const known = Object.keys(schemaAt(parent)?.properties ?? {});
  const ways = known.filter((k) => /_(env|file)$/.test(k) && k.replace(/_(env|file)$/, '').replace(/_/g, '').endsWith(squashed));
  if (ways.length > 0) {
    const env = ways.find((k) => k.endsWith('_env'));
    // Discord's token has a default variable: set it, and no key is needed.
    const example = env === undefined ? ''
      : parent.length === 1 && parent[0] === 'discord' ? ` (e.g. set DISCORD_TOKEN, the variable ${env} names by default)`
        : ` (e.g. ${env}: ONEHAND_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')})`;
    return `secrets are never written in config; put it in an environment variable and name it with ${ways.map((k) => `"${k}"`).join(' or ')}${example}`;
  }
  // A plugin's settings are its own (checked by the plugin): by convention it reads "<key>_env".
  if (parent[0] === 'plugins') return `secrets are never written in config; set an environment variable and name it with "${key}_env" (e.g. ${key}_env: ONEHAND_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')})`;
  // Teams reads its credentials from the environment only (see adapters/teams): name the variable.
  if (parent.length === 1 && parent[0] === 'microsoft_teams') {
    return 'secrets are never written in config, and "microsoft_teams" takes none: remove it (the Teams bot\'s client secret goes in the environment variable MICROSOFT_APP_PASSWORD, with its app id in MICROSOFT_APP_ID)';
  }
  const where = parent.length === 0 ? 'the top level' : `"${formatPath(parent)}"`;
  return `secrets are never written in config, and ${where} takes none: remove it (a secret goes in an environment variable named where it is used, e.g. discord.token_env or integrations[].token_env)`;
}

/** schemaAt: the config schema of the object at `path` (through properties and list items), or undefined. */
function schemaAt(path: PathSegment[]): SchemaObject | undefined {
  let node: SchemaObject | undefined = configSchema;
  for (const segment of path) {
    if (node === undefined) return undefined;
    if (typeof segment === 'number') node = node.items as SchemaObject | undefined;
    else {
      const props = node.properties as Record<string, SchemaObject> | undefined;
      node = props?.[segment] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties as SchemaObject : undefined);
    }
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// Pass 2: structure (ajv)

const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
const validateSchema = ajv.compile(configSchema);

function checkStructure(data: Record<string, unknown>, secretPaths: Set<string>, sink: ProblemSink): void {
  if (validateSchema(data)) return;
  const errors = validateSchema.errors ?? [];
  // A misspelt required key ("rotaton") is reported once, as a typo, not also as missing.
  const typoTargets = new Set<string>();
  for (const err of errors) {
    if (err.keyword !== 'additionalProperties') continue;
    const known = Object.keys(((err.parentSchema ?? {}) as SchemaObject).properties ?? {});
    const best = closestName(String((err.params as Record<string, unknown>).additionalProperty), known);
    if (best !== null) typoTargets.add(formatPath([...pointerToPath(data, err.instancePath), best]));
  }
  for (const err of errors) {
    const translated = translateAjvError(err, pointerToPath(data, err.instancePath));
    if (!translated) continue;
    const where = formatPath(translated.path);
    if (err.keyword === 'additionalProperties' && secretPaths.has(where)) continue;
    if (err.keyword === 'required' && typoTargets.has(where)) continue;
    sink.add(translated.path, translated.message);
  }
}

function pointerToPath(data: unknown, pointer: string): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node: unknown = data;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      path.push(index);
      node = node[index];
    } else {
      path.push(key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return path;
}

function translateAjvError(err: ErrorObject, path: PathSegment[]): PendingProblem | undefined {
  const schema = (err.parentSchema ?? {}) as SchemaObject;
  const expected = typeof schema.description === 'string' ? schema.description : 'a different value';
  const data: unknown = err.data;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': {
      if (data === null || data === undefined) {
        return { path, message: `is empty; write ${expected}` };
      }
      const types = String(params.type).split(',');
      let message = `expected ${expected}, got ${describeValue(data)}`;
      if (types.includes('string') && (typeof data === 'number' || typeof data === 'boolean')) {
        message += '; put the value in quotes so it is read as text exactly as written';
      }
      return { path, message };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const props = (schema.properties ?? {}) as Record<string, SchemaObject>;
      const what = props[key]?.description;
      const message = what ? `missing; add "${key}:" with ${what}` : `missing; add "${key}:"`;
      if (path.length === 0 && (key === 'members' || key === 'teams')) {
        return { path: [key], message: `missing; the config needs ${what ?? `"${key}"`} (see config/onehand.yaml)` };
      }
      return { path: [...path, key], message };
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
      const best = closestName(key, known);
      const message =
        best !== null
          ? `unknown key; did you mean "${best}"?`
          : `unknown key; the keys allowed here are ${known.join(', ')}`;
      return { path: [...path, key], message };
    }
    case 'pattern': {
      const text = String(data);
      const slug = text
        .toLowerCase()
        .trim()
        .replace(/[^a-z0-9_-]+/g, '-')
        .replace(/^[-_]+|[-_]+$/g, '');
      const suggestion = slug !== text && ID_RE.test(slug) ? `; write "${slug}"` : '';
      return { path, message: `${JSON.stringify(text)} is not ${expected}${suggestion}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return { path, message: `${JSON.stringify(data)} is not ${expected}${didYouMean(String(data), allowed)}` };
    }
    case 'minItems': {
      const what = path.length === 1 && typeof path[0] === 'string' ? `no ${path[0]}` : 'the list is empty';
      return { path, message: `${what}; the config needs ${expected} (see config/onehand.yaml)` };
    }
    case 'minLength':
      return { path, message: `is empty; write ${expected}` };
    case 'minimum':
    case 'maximum':
      return { path, message: `${String(data)} is out of range; use ${expected}` };
    default:
      return { path, message: `${err.message ?? 'is not valid'} (expected ${expected})` };
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 3: meaning, building the normalized config

type Raw = Record<string, unknown>;

interface Ids {
  members: Set<string>;
  teams: Set<string>;
}

function checkMeaning(
  data: Raw,
  knownPlugins: readonly string[],
  sink: ProblemSink,
): Omit<OnehandConfig, 'sourcePath'> | undefined {
  const rawMembers = Array.isArray(data.members) ? data.members : [];
  const rawTeams = Array.isArray(data.teams) ? data.teams : [];
  const ids: Ids = {
    members: collectIds(rawMembers, 'members', sink),
    teams: collectIds(rawTeams, 'teams', sink),
  };

  // Entries that could not be built; each should already have a problem (guarded below).
  const unbuilt: PathSegment[][] = [];
  const members = new Map<MemberId, Member>();
  rawMembers.forEach((m, i) => {
    const member = readMember(m, ['members', i], ids, sink);
    if (!member) unbuilt.push(['members', i]);
    else if (!members.has(member.id)) members.set(member.id, member);
  });

  const teams = new Map<TeamId, Team>();
  rawTeams.forEach((t, i) => {
    const team = readTeam(t, ['teams', i], ids, sink);
    if (!team) unbuilt.push(['teams', i]);
    else if (!teams.has(team.id)) teams.set(team.id, team);
  });

  const admins = new Set<MemberId>();
  if (Array.isArray(data.admins)) {
    data.admins.forEach((a, i) => {
      if (typeof a !== 'string') return;
      if (checkMemberRef(a, ['admins', i], ids, sink)) admins.add(a);
    });
  }

  let defaultTeam: TeamId | undefined = rawTeams.length > 0 && isRecord(rawTeams[0]) ? asString(rawTeams[0].id) : undefined;
  if (typeof data.default_team === 'string') {
    defaultTeam = data.default_team;
    if (!ids.teams.has(data.default_team)) {
      sink.add(['default_team'], unknownRef('team', data.default_team, ids.teams, 'teams'));
    }
  }

  const periodMs = readDurationMs(data.timers, 'period', ['timers'], DEFAULTS.timersPeriod, sink, BOUNDS.timersPeriod);
  let leaseMs = readDurationMs(data.timers, 'lease', ['timers'], DEFAULTS.timersLease, sink, BOUNDS.timersLease);
  if (periodMs !== undefined && leaseMs !== undefined && leaseMs < 2 * periodMs) {
    sink.add(['timers', 'lease'], `${formatDuration(leaseMs)} is shorter than twice timers.period (${formatDuration(periodMs)}); a claim would lapse before the loop comes back to it and another replica would redo the work; make the lease at least ${formatDuration(2 * periodMs)}`);
    leaseMs = undefined;
  }

  const deliveryTimeoutMs = readDurationMs(data.delivery, 'timeout', ['delivery'], DEFAULTS.deliveryTimeout, sink, BOUNDS.deliveryTimeout);
  // A delivery's lease must outlast its call (see minLeaseMs): else another replica claims a page
  // that is still being sent, and sends it again.
  if (leaseMs !== undefined && deliveryTimeoutMs !== undefined && leaseMs < minLeaseMs(deliveryTimeoutMs)) {
    const beyond = minLeaseMs(deliveryTimeoutMs) - deliveryTimeoutMs;
    sink.add(['timers', 'lease'], `${formatDuration(leaseMs)} is too short for delivery.timeout (${formatDuration(deliveryTimeoutMs)}): a delivery's lease must outlast its call by ${formatDuration(beyond)} (a late answer's grace and a second), or another replica may send a page that is still being sent again; make the lease at least ${formatDuration(minLeaseMs(deliveryTimeoutMs))} (or the timeout shorter)`);
    leaseMs = undefined;
  }
  const deliverySection = isRecord(data.delivery) ? data.delivery : {};
  const delivery = deliveryTimeoutMs === undefined ? undefined : {
    timeoutMs: deliveryTimeoutMs,
    concurrency: typeof deliverySection.concurrency === 'number' ? deliverySection.concurrency : DELIVERY_DEFAULTS.concurrency,
    fallbackAfter: typeof deliverySection.fallback_after === 'number' ? deliverySection.fallback_after : DELIVERY_DEFAULTS.fallbackAfter,
  };

  let port: number | null = null;
  let host = DEFAULTS.httpHost;
  if (isRecord(data.http)) {
    if (typeof data.http.port === 'number') port = data.http.port;
    if (typeof data.http.host === 'string') {
      host = data.http.host.trim();
      if (host === '') sink.add(['http', 'host'], 'is empty; write a host name or address such as 127.0.0.1');
    }
  }

  const pluginEntries: [string, unknown][] = [];
  if (isRecord(data.plugins)) {
    const available = knownPlugins.length === 0 ? 'none yet' : knownPlugins.join(', ');
    for (const [name, section] of Object.entries(data.plugins)) {
      const module = isRecord(section) ? section.module : undefined;
      if (knownPlugins.includes(name) || (typeof module === 'string' && module.trim() !== '')) {
        // Built-ins by name; third-party plugins name their module (an npm package or a ./path).
        pluginEntries.push([name, section]);
      } else if (module !== undefined) {
        sink.add(['plugins', name, 'module'], 'must be an npm package name or a path such as "./plugins/my-plugin"');
      } else {
        sink.add(['plugins', name], `no plugin named "${name}" (available: ${available})${didYouMean(name, knownPlugins)}; a third-party plugin names its code with "module: <npm package or ./path>"`);
      }
    }
  }

  const plugins: Record<string, unknown> = Object.fromEntries(pluginEntries);
  const integrations = readIntegrations(data.integrations, ids, sink);
  const insights = readInsights(data.insights, sink);
  const microsoftTeams = readMicrosoftTeams(data.microsoft_teams, sink);

  if (sink.problems.length === 0) {
    for (const path of unbuilt) sink.add(path, 'is not valid (no specific problem was found; please report this)');
  }
  if (periodMs === undefined || leaseMs === undefined || delivery === undefined || defaultTeam === undefined) return undefined;
  const world: World = { members, teams, admins, defaultTeam };
  const d = isRecord(data.discord) ? data.discord : {};
  const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  const discord = {
    applicationId: str(d.application_id),
    guildId: str(d.guild_id),
    publicKey: str(d.public_key),
    apiBase: str(d.api_base),
    tokenEnv: str(d.token_env) ?? 'DISCORD_TOKEN',
    tokenFile: str(d.token_file),
  };
  return { world, plugins, timers: { periodMs, leaseMs }, delivery, http: { port, host }, discord, microsoftTeams, integrations, insights };
}

const INTEGRATION_DEFAULTS = {
  severityLabel: 'severity',
  severityMap: { critical: 'sev1', error: 'sev2', warning: 'sev3', info: 'sev4' } as Record<string, 'sev1' | 'sev2' | 'sev3' | 'sev4'>,
  severity: 'sev3' as const,
  reopenWindow: '1h',
  flapWindow: '15m',
  maxBody: 1024 * 1024,
  rateRequests: 600,
  ratePer: '1m',
  stormThreshold: 10,
  stormWindow: '5m',
};

const TYPE_NAMES: Record<IntegrationType, string> = { alertmanager: 'Alertmanager', grafana: 'Grafana', generic: 'Webhook' };
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * readIntegrations checks `integrations:`: unique ids, a known team, the secret variable the type
 * needs (token_env for alertmanager and grafana, hmac_secret_env for generic; the variable itself is
 * read at start, since the environment differs per deployment), durations and sizes.
 */
function readIntegrations(raw: unknown, ids: Ids, sink: ProblemSink): IntegrationConfig[] {
  if (!Array.isArray(raw)) return [];
  const out: IntegrationConfig[] = [];
  const seen = new Map<string, number>();
  raw.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    const path: PathSegment[] = ['integrations', i];
    let ok = true;
    const id = asString(entry.id);
    if (id === undefined || !ID_RE.test(id)) ok = false;
    else if (seen.has(id)) {
      sink.add([...path, 'id'], `"${id}" is already the id of integrations[${seen.get(id)}]; give each integration a unique id`);
      ok = false;
    } else seen.set(id, i);
    const type = asString(entry.type) as IntegrationType | undefined;
    if (type === undefined || !(type in TYPE_NAMES)) ok = false;
    const team = asString(entry.team);
    if (team === undefined) ok = false;
    else if (!ids.teams.has(team)) {
      sink.add([...path, 'team'], unknownRef('team', team, ids.teams, 'teams'));
      ok = false;
    }
    const envName = (key: 'token_env' | 'hmac_secret_env'): string | null => {
      const v = entry[key];
      if (typeof v !== 'string') return null;
      if (!ENV_NAME_RE.test(v.trim())) {
        sink.add([...path, key], `"${v}" is not an environment variable name; write a name such as ONEHAND_${key === 'token_env' ? 'AM_TOKEN' : 'HOOK_SECRET'}`);
        ok = false;
        return null;
      }
      return v.trim();
    };
    const tokenEnv = envName('token_env');
    const hmacSecretEnv = envName('hmac_secret_env');
    const fileOf = (key: 'token_file' | 'hmac_secret_file'): string | null => {
      const v = entry[key];
      if (typeof v !== 'string') return null;
      if (v.trim() === '') {
        sink.add([...path, key], 'is empty; write the path of the file that holds the secret, or remove the key');
        ok = false;
        return null;
      }
      return v.trim();
    };
    const tokenFile = fileOf('token_file');
    const hmacSecretFile = fileOf('hmac_secret_file');
    // Exactly one source for the secret the type needs; none for the one it does not use.
    const [needEnv, needFile, otherEnv, otherFile] = type === 'generic'
      ? (['hmac_secret_env', 'hmac_secret_file', 'token_env', 'token_file'] as const)
      : (['token_env', 'token_file', 'hmac_secret_env', 'hmac_secret_file'] as const);
    const has = (key: string): boolean => entry[key] !== undefined && entry[key] !== null;
    if (type !== undefined && type in TYPE_NAMES) {
      const what = type === 'generic' ? 'a generic integration is signed with an HMAC secret' : `${type} sends a bearer token`;
      if (!has(needEnv) && !has(needFile)) {
        sink.add([...path, needEnv], `missing; ${what}: add "${needEnv}:" with the name of an environment variable holding it (or "${needFile}:" with a file path)`);
        ok = false;
      } else if (has(needEnv) && has(needFile)) {
        sink.add([...path, needFile], `give either "${needEnv}" or "${needFile}", not both`);
        ok = false;
      }
      for (const key of [otherEnv, otherFile]) {
        if (has(key)) {
          sink.add([...path, key], type === 'generic'
            ? `a generic integration is authenticated by its HMAC signature; remove "${key}" and use "${needEnv}" or "${needFile}"`
            : `${type} cannot sign its body; remove "${key}" and use "${needEnv}" or "${needFile}" (a bearer token)`);
          ok = false;
        }
      }
    }
    const sev = isRecord(entry.severity) ? entry.severity : {};
    const severityLabel = typeof sev.label === 'string' ? sev.label : INTEGRATION_DEFAULTS.severityLabel;
    // A map adds to (or changes) the default one: a map naming only a few values keeps the others.
    // The map's own entries win, in any case: "Critical: sev2" replaces the default "critical: sev1".
    const own = isRecord(sev.map) ? (sev.map as Record<string, 'sev1' | 'sev2' | 'sev3' | 'sev4'>) : null;
    const ownKeys = new Set(Object.keys(own ?? {}).map((k) => k.trim().toLowerCase()));
    const severityMap = own ? { ...Object.fromEntries(Object.entries(INTEGRATION_DEFAULTS.severityMap).filter(([k]) => !ownKeys.has(k))), ...own } : INTEGRATION_DEFAULTS.severityMap;
    const severityDefault = typeof sev.default === 'string' ? (sev.default as 'sev1') : INTEGRATION_DEFAULTS.severity;
    let fingerprintLabels: string[] | null = null;
    if (Array.isArray(entry.fingerprint_labels)) {
      if (entry.fingerprint_labels.length === 0) {
        sink.add([...path, 'fingerprint_labels'], 'is an empty list; list label names such as [alertname, service], or remove it to use the sender\'s fingerprint');
        ok = false;
      } else fingerprintLabels = entry.fingerprint_labels.filter((l): l is string => typeof l === 'string');
    }
    const reopenWindowMs = readDurationMs(entry, 'reopen_window', path, INTEGRATION_DEFAULTS.reopenWindow, sink, BOUNDS.reopenWindow);
    const flapWindowMs = readFlapWindow(entry, path, sink);
    const rate = isRecord(entry.rate_limit) ? entry.rate_limit : {};
    const perMs = readDurationMs(rate, 'per', [...path, 'rate_limit'], INTEGRATION_DEFAULTS.ratePer, sink, BOUNDS.ratePer);
    if (perMs === 0) sink.add([...path, 'rate_limit', 'per'], 'must be longer than 0s; write a duration such as "1m"');
    const storm = isRecord(entry.storm) ? entry.storm : {};
    const windowMs = readDurationMs(storm, 'window', [...path, 'storm'], INTEGRATION_DEFAULTS.stormWindow, sink, BOUNDS.stormWindow);
    if (windowMs === 0) sink.add([...path, 'storm', 'window'], 'must be longer than 0s; write a duration such as "5m"');
    const maxBodyBytes = readSize(entry.max_body, [...path, 'max_body'], sink);
    if (!ok || id === undefined || type === undefined || team === undefined || reopenWindowMs === undefined || flapWindowMs === undefined || perMs === undefined
      || !perMs || windowMs === undefined || !windowMs || maxBodyBytes === undefined) return;
    out.push({
      id,
      type,
      name: typeof entry.name === 'string' && entry.name.trim() !== '' ? entry.name.trim() : `${TYPE_NAMES[type]} (${id})`,
      team,
      tokenEnv,
      hmacSecretEnv,
      tokenFile,
      hmacSecretFile,
      severity: { label: severityLabel, map: { ...severityMap }, default: severityDefault },
      fingerprintLabels,
      resolve: entry.resolve === 'any' ? 'any' : 'all',
      reopenWindowMs,
      flapWindowMs,
      maxBodyBytes,
      rateLimit: { requests: typeof rate.requests === 'number' ? rate.requests : INTEGRATION_DEFAULTS.rateRequests, perMs },
      storm: { threshold: typeof storm.threshold === 'number' ? storm.threshold : INTEGRATION_DEFAULTS.stormThreshold, windowMs },
    });
  });
  return out;
}

const SIZE_RE = /^\s*(\d+)\s*(b|kib|kb|mib|mb)?\s*$/i;
const SIZE_UNITS: Record<string, number> = { b: 1, kib: 1024, kb: 1000, mib: 1024 * 1024, mb: 1000 * 1000 };

/** MAX_BODY_BOUNDS: the body sizes max_body may name (a webhook is JSON text, never a file upload). */
export const MAX_BODY_BOUNDS = { min: 1024, max: 16 * 1024 * 1024 } as const;

/** readSize reads a body size ("1MiB", "512KiB", 2048) in bytes, from 1 KiB to 16 MiB; the default is 1 MiB. */
function readSize(value: unknown, path: PathSegment[], sink: ProblemSink): number | undefined {
  if (value === undefined || value === null) return INTEGRATION_DEFAULTS.maxBody;
  const m = SIZE_RE.exec(String(value));
  const bytes = m ? Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1) : NaN;
  if (Number.isNaN(bytes)) {
    sink.add(path, `${JSON.stringify(value)} is not a size; write e.g. "1MiB", "512KiB" or a number of bytes`);
    return undefined;
  }
  if (!Number.isSafeInteger(bytes) || bytes < MAX_BODY_BOUNDS.min || bytes > MAX_BODY_BOUNDS.max) {
    sink.add(path, `${JSON.stringify(value)} is out of range; a body limit is from 1KiB to 16MiB (default 1MiB)`);
    return undefined;
  }
  return bytes;
}

/** collectIds returns every string id in a list and reports duplicates. */
function collectIds(list: unknown[], listName: string, sink: ProblemSink): Set<string> {
  const first = new Map<string, number>();
  list.forEach((entry, i) => {
    if (!isRecord(entry) || typeof entry.id !== 'string') return;
    const seenAt = first.get(entry.id);
    if (seenAt === undefined) first.set(entry.id, i);
    else {
      sink.add(
        [listName, i, 'id'],
        `"${entry.id}" is already the id of ${listName}[${seenAt}]; give each ${listName === 'members' ? 'member' : 'team'} a unique id`,
      );
    }
  });
  return new Set(first.keys());
}

/** DISCORD_ID_RE: a Discord snowflake (user and channel ids), as Discord shows it. */
const DISCORD_ID_RE = /^\d{17,20}$/;

function readMember(raw: unknown, path: PathSegment[], ids: Ids, sink: ProblemSink): Member | undefined {
  if (!isRecord(raw)) return undefined;
  let ok = true;
  const id = asString(raw.id);
  if (id === undefined || !ID_RE.test(id)) ok = false;

  const name = readName(raw, path, id, sink);
  const timeZone = checkZone(raw.time_zone, [...path, 'time_zone'], sink);
  if (timeZone === undefined) ok = false;

  let mentor: MemberId | null = null;
  if (typeof raw.mentor === 'string') {
    if (raw.mentor === id) {
      sink.add([...path, 'mentor'], `${id} cannot be their own mentor; name another member, or remove "mentor"`);
      ok = false;
    } else if (checkMemberRef(raw.mentor, [...path, 'mentor'], ids, sink)) {
      mentor = raw.mentor;
    } else ok = false;
  }

  const identities: Record<string, string> = {};
  for (const key of IDENTITY_KEYS) {
    const value = raw[key];
    if (typeof value !== 'string') continue;
    if (value.trim() === '') {
      sink.add([...path, key], `is empty; write the member's ${key} id in quotes, or remove "${key}"`);
      ok = false;
    } else if (key === 'discord' && !DISCORD_ID_RE.test(value.trim())) {
      // Not a user id: Discord would never deliver to it, and a mention of it pings nobody.
      sink.add([...path, key], `${JSON.stringify(value)} is not a Discord user id: that is a number of 17 to 20 digits, in quotes (in Discord: User Settings > Advanced > Developer Mode, then right click the user > Copy User ID), e.g. "812345678901234567"`);
      ok = false;
    } else identities[key] = value.trim();
  }

  if (!ok || id === undefined || timeZone === undefined || name === undefined) return undefined;
  return { id, name, timeZone, mentor, identities };
}

function readName(raw: Raw, path: PathSegment[], id: string | undefined, sink: ProblemSink): string | undefined {
  if (typeof raw.name === 'string') {
    if (raw.name.trim() !== '') return raw.name.trim();
    sink.add([...path, 'name'], `is empty; write a display name, or remove "name" to use the id`);
    return undefined;
  }
  return raw.name === undefined || raw.name === null ? id : undefined;
}

function readTeam(raw: unknown, path: PathSegment[], ids: Ids, sink: ProblemSink): Team | undefined {
  if (!isRecord(raw)) return undefined;
  let ok = true;
  const id = asString(raw.id);
  if (id === undefined || !ID_RE.test(id)) ok = false;
  const name = readName(raw, path, id, sink);
  const timeZone = checkZone(raw.time_zone, [...path, 'time_zone'], sink);

  const lead = asString(raw.lead);
  if (lead === undefined || !checkMemberRef(lead, [...path, 'lead'], ids, sink)) ok = false;

  let members: MemberId[] | undefined;
  if (Array.isArray(raw.members)) {
    members = readMemberList(raw.members, [...path, 'members'], ids, sink);
    if (members === undefined) ok = false;
  } else ok = false;

  const channels: Record<string, string> = {};
  if (isRecord(raw.channels)) {
    for (const key of IDENTITY_KEYS) {
      const value = raw.channels[key];
      if (typeof value !== 'string') continue;
      if (value.trim() === '') {
        sink.add([...path, 'channels', key], `is empty; write the team's ${key} channel id in quotes, or remove "${key}"`);
        ok = false;
      } else if (key === 'discord' && !DISCORD_ID_RE.test(value.trim())) {
        sink.add([...path, 'channels', key], `${JSON.stringify(value)} is not a Discord channel id: that is a number of 17 to 20 digits, in quotes (in Discord: Developer Mode on, right click the channel > Copy Channel ID), e.g. "123456789012345678"`);
        ok = false;
      } else channels[key] = value.trim();
    }
  }

  const rotation = readRotation(raw.rotation, [...path, 'rotation'], raw, timeZone, ids, sink);
  const escalation = readEscalation(raw.escalation, [...path, 'escalation'], sink);

  if (
    !ok ||
    id === undefined ||
    name === undefined ||
    timeZone === undefined ||
    lead === undefined ||
    members === undefined ||
    rotation === undefined ||
    escalation === undefined
  ) {
    return undefined;
  }
  return { id, name, timeZone, lead, members, channels, rotation, escalation };
}

/** readMemberList checks a list of member ids: strings, known, each listed once. */
function readMemberList(list: unknown[], path: PathSegment[], ids: Ids, sink: ProblemSink): MemberId[] | undefined {
  let ok = true;
  const out: MemberId[] = [];
  const firstAt = new Map<string, number>();
  list.forEach((m, i) => {
    if (typeof m !== 'string') {
      ok = false;
      return;
    }
    const seen = firstAt.get(m);
    if (seen !== undefined) {
      sink.add([...path, i], `"${m}" is listed twice (also at ${formatPath([...path, seen])}); list each member once`);
      ok = false;
      return;
    }
    firstAt.set(m, i);
    if (!checkMemberRef(m, [...path, i], ids, sink)) ok = false;
    out.push(m);
  });
  return ok ? out : undefined;
}

/**
 * readRotationSpec reads one rotation: a team's single rotation (`teamPath` its team, members
 * defaulting to the team's) or a layer (members required). Missing handoff and start are named here
 * (the schema cannot require them: with layers or a plugin's policy they do not belong).
 */
function readRotationSpec(
  raw: Raw,
  path: PathSegment[],
  team: Raw,
  teamPath: PathSegment[],
  timeZone: string | undefined,
  ids: Ids,
  sink: ProblemSink,
  what: 'rotation' | 'layer',
): RotationSpec | undefined {
  let ok = true;
  for (const key of ['handoff', 'start'] as const) {
    if (raw[key] !== undefined) continue;
    // A misspelt key ("strat") is reported once, as an unknown key with the suggestion.
    if (Object.keys(raw).some((k) => k !== key && closestName(k, [key]) === key)) continue;
    sink.add([...path, key], key === 'handoff'
      ? 'missing; add "handoff:" with a weekday and time such as "Mon 09:00", or a time such as "09:00"'
      : 'missing; add "start:" with an ISO date such as 2026-01-05');
    ok = false;
  }
  const teamMembers = Array.isArray(team.members) ? team.members.filter((m): m is string => typeof m === 'string') : undefined;

  // Members: an explicit list, or the team's members in order.
  let members: MemberId[] | undefined;
  if (Array.isArray(raw.members)) {
    if (raw.members.length === 0) {
      sink.add([...path, 'members'], `the ${what} has no members; list who takes shifts, e.g. [alice, bob]`);
      ok = false;
    } else {
      members = readMemberList(raw.members, [...path, 'members'], ids, sink);
      if (members && teamMembers) {
        const teamLabel = typeof team.id === 'string' ? `team "${team.id}"` : 'this team';
        const membersPath = formatPath([...teamPath, 'members']);
        members.forEach((m, i) => {
          if (!teamMembers.includes(m) && m !== team.lead) {
            sink.add(
              [...path, 'members', i],
              `"${m}" is not in ${teamLabel} (its members or lead); add them to ${membersPath} or remove them from the ${what}`,
            );
            ok = false;
          }
        });
      }
    }
  } else if (what === 'rotation' && (raw.members === undefined || raw.members === null)) {
    if (teamMembers && teamMembers.length === 0) {
      sink.add(
        [...path, 'members'],
        `the rotation has no members: it defaults to the team's members, and ${formatPath([...path.slice(0, -1), 'members'])} is empty; list who takes shifts`,
      );
      ok = false;
    } else members = teamMembers;
  }
  if (members === undefined) ok = false;

  // Shift length: one unit of hours, days or weeks.
  let shift: ShiftLength | undefined;
  if (typeof raw.shift === 'string') {
    const result = readShift(raw.shift);
    if (typeof result === 'string') {
      sink.add([...path, 'shift'], result);
      ok = false;
    } else shift = result;
  } else if (raw.shift === undefined || raw.shift === null) {
    shift = readShift(DEFAULTS.shift) as ShiftLength;
  } else ok = false;

  // Start date, read in the team's zone.
  let start: DateTime | undefined;
  if (typeof raw.start === 'string') {
    const text = raw.start.trim();
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(text) ? DateTime.fromISO(text, { zone: timeZone ?? 'UTC' }) : undefined;
    if (parsed?.isValid) start = parsed;
    else if (/^\d{4}-\d{2}-\d{2}[T ]/.test(text)) {
      sink.add([...path, 'start'], `"${raw.start}" has a time; write just the date, e.g. 2026-01-05 (the time of day comes from "handoff")`);
    } else {
      sink.add([...path, 'start'], `"${raw.start}" is not a date; write an ISO date such as 2026-01-05`);
    }
  }
  if (start === undefined) ok = false;

  // Handoff: "Mon 09:00" for weekly shifts (weekday defaults to the start date's), "09:00" otherwise.
  let handoff: WeekdayTime | undefined;
  if (typeof raw.handoff === 'string') {
    const parsed = parseWeekdayTime(raw.handoff);
    if (parsed === null) {
      sink.add([...path, 'handoff'], `"${raw.handoff}" is not a weekday and time (e.g. "Mon 09:00")`);
    } else if (parsed.weekday !== null && shift !== undefined && shift.unit !== 'weeks') {
      sink.add(
        [...path, 'handoff'],
        `"${raw.handoff}" names a weekday, but shifts are ${shift.amount} ${shift.unit} long; ` +
          `a weekday only applies to weekly shifts, so write just the time (e.g. "09:00")`,
      );
    } else if (parsed.weekday === null && shift?.unit === 'weeks' && start !== undefined) {
      handoff = { weekday: start.weekday as Weekday, time: parsed.time };
    } else handoff = parsed;
  }
  if (handoff === undefined) ok = false;

  if (!ok || members === undefined || shift === undefined || handoff === undefined || start === undefined) return undefined;
  if (timeZone === undefined) return undefined;
  return { members, shift, handoff, start: start.toISODate() as string, timeZone };
}

/** SINGLE_KEYS: the keys of a single rotation, which a layered or plugin rotation does not take. */
const SINGLE_KEYS = ['members', 'shift', 'handoff', 'start'] as const;

/**
 * readRotation reads a team's `rotation:` by its policy: "single" (the keys directly under
 * rotation; implied without layers), "layered" (implied by layers; see readLayers), or a plugin's
 * (members optional as for single, its own settings under `settings`, checked when the plugins load).
 */
function readRotation(
  raw: unknown,
  path: PathSegment[],
  team: Raw,
  timeZone: string | undefined,
  ids: Ids,
  sink: ProblemSink,
): TeamRotation | undefined {
  if (!isRecord(raw)) return undefined;
  const teamPath = path.slice(0, -1);
  const named = typeof raw.policy === 'string' ? raw.policy : undefined;
  if (raw.policy !== undefined && raw.policy !== null && (named === undefined || !ID_RE.test(named))) return undefined; // reported by the schema
  const hasLayers = raw.layers !== undefined && raw.layers !== null;
  const policy = named ?? (hasLayers ? LAYERED_ROTATION : SINGLE_ROTATION);
  if (policy === LAYERED_ROTATION) return readLayers(raw, path, team, teamPath, timeZone, ids, sink);
  let ok = true;
  if (hasLayers) {
    sink.add([...path, 'layers'], `layers belong to the "layered" policy, not "${policy}"; write policy: layered (or remove policy), or remove layers`);
    ok = false;
  }
  if (policy === SINGLE_ROTATION) {
    if (raw.settings !== undefined) {
      sink.add([...path, 'settings'], 'settings are for a plugin\'s rotation policy; the single rotation takes members, shift, handoff and start directly under rotation');
      ok = false;
    }
    const spec = readRotationSpec(raw, path, team, teamPath, timeZone, ids, sink, 'rotation');
    return ok ? spec : undefined;
  }
  // A plugin's policy: members as for a single rotation; settings checked by the policy later.
  for (const key of ['shift', 'handoff', 'start'] as const) {
    if (raw[key] === undefined) continue;
    sink.add([...path, key], `"${key}" belongs to the single rotation; the policy "${policy}" takes its settings under settings: (see the plugin's documentation)`);
    ok = false;
  }
  const teamMembers = Array.isArray(team.members) ? team.members.filter((m): m is string => typeof m === 'string') : [];
  let members: MemberId[] | undefined = teamMembers;
  if (Array.isArray(raw.members)) members = readMemberList(raw.members, [...path, 'members'], ids, sink);
  if (!ok || members === undefined || timeZone === undefined) return undefined;
  return { policy, members, timeZone, settings: raw.settings ?? null };
}

/**
 * readLayers reads a layered rotation: layers in priority order, each a rotation in the team's
 * zone with a unique name, optional restrictions (windows in the team's zone) and shadow flag; at
 * least one layer that is not a shadow.
 */
function readLayers(raw: Raw, path: PathSegment[], team: Raw, teamPath: PathSegment[], timeZone: string | undefined, ids: Ids, sink: ProblemSink): TeamRotation | undefined {
  let ok = true;
  for (const key of SINGLE_KEYS) {
    if (raw[key] === undefined) continue;
    sink.add([...path, key], `with layers, each layer has its own members, shift, handoff and start; move "${key}" into the layers (or remove layers for a single rotation)`);
    ok = false;
  }
  if (raw.settings !== undefined) {
    sink.add([...path, 'settings'], 'settings are for a plugin\'s rotation policy; a layered rotation is described by its layers');
    ok = false;
  }
  if (!Array.isArray(raw.layers)) {
    if (raw.layers === undefined || raw.layers === null) {
      sink.add([...path, 'layers'], 'missing; the layered policy needs layers, e.g. [{ name: primary, members: [alice, bob], shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }]');
    }
    return undefined;
  }
  if (raw.layers.length === 0) {
    sink.add([...path, 'layers'], 'the list is empty; list at least one layer, e.g. { name: primary, members: [alice, bob], shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }');
    return undefined;
  }
  const layers: Layer[] = [];
  const names = new Map<string, number>();
  raw.layers.forEach((entry, i) => {
    const at: PathSegment[] = [...path, 'layers', i];
    if (!isRecord(entry)) {
      ok = false;
      return;
    }
    const name = asString(entry.name);
    if (name === undefined || !ID_RE.test(name)) ok = false; // reported by the schema
    else if (names.has(name)) {
      sink.add([...at, 'name'], `"${name}" is already the name of layers[${names.get(name)}]; give each layer a unique name`);
      ok = false;
    } else names.set(name, i);
    const rotation = readRotationSpec(entry, at, team, teamPath, timeZone, ids, sink, 'layer');
    const restrictions: WeeklyWindow[] = [];
    if (Array.isArray(entry.restrictions)) {
      entry.restrictions.forEach((r, j) => {
        if (!isRecord(r) || typeof r.from !== 'string' || typeof r.to !== 'string') {
          ok = false; // reported by the schema
          return;
        }
        const read = readRestriction(r);
        if (!Array.isArray(read)) {
          for (const problem of read.problems) sink.add([...at, 'restrictions', j, problem.key], problem.message);
          ok = false;
        } else restrictions.push(...read);
      });
    }
    if (rotation === undefined || name === undefined) {
      ok = false;
      return;
    }
    layers.push({ name, rotation, restrictions, shadow: entry.shadow === true });
  });
  if (ok && layers.every((l) => l.shadow)) {
    sink.add([...path, 'layers'], 'every layer is a shadow layer, so nobody would be paged; add a layer without "shadow: true"');
    ok = false;
  }
  if (!ok || timeZone === undefined) return undefined;
  const members = [...new Set(layers.flatMap((l) => l.rotation.members))];
  const settings: LayeredSettings = { layers };
  return { policy: LAYERED_ROTATION, members, timeZone, settings };
}

/** MAX_SHIFT: the longest shift in each unit (52 weeks). */
const MAX_SHIFT: Record<ShiftLength['unit'], number> = { weeks: 52, days: 52 * 7, hours: 52 * 7 * 24 };

/** readShift parses a shift length (at most 52 weeks), or returns the problem message. */
export function readShift(text: string): ShiftLength | string {
  const parsed = parseDuration(text);
  if (!parsed.ok) return `"${text}" is not a shift length; write one unit: hours, days or weeks, ${SHIFT_EXAMPLE}`;
  const d = parsed.value;
  if (d.minutes !== 0 || d.seconds !== 0) {
    return `"${text}" uses minutes or seconds; a shift is whole hours, days or weeks, ${SHIFT_EXAMPLE}`;
  }
  const units = ([['weeks', d.weeks], ['days', d.days], ['hours', d.hours]] as const).filter(([, n]) => n > 0);
  if (units.length > 1) {
    const hours = d.weeks * 168 + d.days * 24 + d.hours;
    return `"${text}" mixes units; a shift is one unit: hours, days or weeks (e.g. "${hours}h" instead of "${text}")`;
  }
  const [unit, amount] = units[0] as readonly [ShiftLength['unit'], number];
  if (amount > MAX_SHIFT[unit]) return `"${text}" is longer than a year; a shift is at most ${MAX_SHIFT.weeks} weeks (${MAX_SHIFT[unit]} ${unit})`;
  return { unit, amount };
}

/**
 * readEscalation reads a team's `escalation:`: the base plan its keys describe, and the policy
 * ("default" when absent: the base plan for every incident; else a plugin's, whose `settings` are
 * checked when the plugins load). The policy and settings are kept only for a plugin's policy, so a
 * team on the default has exactly its plan here.
 */
function readEscalation(raw: unknown, path: PathSegment[], sink: ProblemSink): TeamEscalation | undefined {
  if (raw !== undefined && raw !== null && !isRecord(raw)) return undefined;
  const section = isRecord(raw) ? raw : {};
  let ok = true;

  const ackTimeoutMs = readDurationMs(section, 'ack_timeout', path, DEFAULTS.ackTimeout, sink, BOUNDS.ackTimeout);
  if (ackTimeoutMs === undefined) ok = false;

  let renotify = DEFAULTS.renotify;
  if (typeof section.renotify === 'number') {
    if (Number.isInteger(section.renotify) && section.renotify >= 0 && section.renotify <= 10) renotify = section.renotify;
    else ok = false; // reported by the schema
  } else if (section.renotify !== undefined && section.renotify !== null) ok = false;

  let then = DEFAULTS.then;
  if (Array.isArray(section.then)) {
    const steps: EscalationTarget[] = [];
    section.then.forEach((step, i) => {
      if (step !== 'mentor' && step !== 'lead') {
        ok = false; // reported by the schema
        return;
      }
      if (steps.includes(step)) {
        sink.add([...path, 'then', i], `"${step}" appears twice; each of mentor and lead may appear at most once`);
        ok = false;
        return;
      }
      steps.push(step);
    });
    then = steps;
  } else if (section.then !== undefined && section.then !== null) ok = false;

  let repeat = DEFAULTS.repeat;
  if (typeof section.repeat === 'number') {
    if (Number.isInteger(section.repeat) && section.repeat >= 0 && section.repeat <= 10) repeat = section.repeat;
    else ok = false; // reported by the schema
  } else if (section.repeat !== undefined && section.repeat !== null) ok = false;

  // The unowned alert repeats until someone acknowledges: too often is noise, too rarely breaks the promise.
  const unownedEveryMs = readDurationMs(section, 'unowned_every', path, DEFAULTS.unownedEvery, sink, BOUNDS.unownedEvery);
  if (unownedEveryMs === undefined) ok = false;

  let handoff: HandoffPolicy = 'reassign';
  if (section.handoff === 'keep' || section.handoff === 'reassign') handoff = section.handoff;
  else if (section.handoff !== undefined && section.handoff !== null) ok = false; // reported by the schema

  const policy = typeof section.policy === 'string' ? section.policy : DEFAULT_ESCALATION;
  if (section.policy !== undefined && section.policy !== null && (typeof section.policy !== 'string' || !ID_RE.test(section.policy))) ok = false; // reported by the schema
  if (policy === DEFAULT_ESCALATION && section.settings !== undefined) {
    sink.add([...path, 'settings'], 'settings are for a plugin\'s escalation policy; the default policy takes ack_timeout, renotify, then, repeat, unowned_every and handoff directly under escalation');
    ok = false;
  }

  if (!ok || ackTimeoutMs === undefined || unownedEveryMs === undefined) return undefined;
  const plan: EscalationPlan = { ackTimeoutMs, renotify, then, repeat, unownedEveryMs, handoff };
  return policy === DEFAULT_ESCALATION ? plan : { ...plan, policy, settings: section.settings ?? null };
}

/** readInsights checks `insights:`; absent keys take DEFAULT_INSIGHTS_SETTINGS. */
function readInsights(raw: unknown, sink: ProblemSink): InsightsSettings {
  const section = isRecord(raw) ? raw : {};
  const huddleWarning = typeof section.huddle_warning === 'number' ? section.huddle_warning : DEFAULT_INSIGHTS_SETTINGS.huddleWarning;
  let night = DEFAULT_INSIGHTS_SETTINGS.night;
  if (typeof section.night === 'string') {
    const m = /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/.exec(section.night);
    const from = m ? parseLocalTime(m[1] as string) : null;
    const to = m ? parseLocalTime(m[2] as string) : null;
    if (from && to && (from.hour !== to.hour || from.minute !== to.minute)) night = { from, to };
    else sink.add(['insights', 'night'], `${JSON.stringify(section.night)} is not a time window; write "22:00-07:00"`);
  }
  return { huddleWarning, night };
}

/** readMicrosoftTeams: tenant id (a GUID) and service URL (https; http only on loopback), both or neither. */
function readMicrosoftTeams(raw: unknown, sink: ProblemSink): MicrosoftTeamsSettings {
  const section = isRecord(raw) ? raw : {};
  const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  let tenantId = text(section.tenant_id);
  let serviceUrl = text(section.service_url);
  if (tenantId !== null && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenantId)) {
    sink.add(['microsoft_teams', 'tenant_id'], `${JSON.stringify(tenantId)} is not a tenant id; write the directory (tenant) id GUID from the Azure portal (Microsoft Entra ID > Overview), e.g. "72f988bf-86f1-41af-91ab-2d7cd011db47"`);
    tenantId = null;
  }
  if (serviceUrl !== null) {
    let url: URL | null = null;
    try {
      url = new URL(serviceUrl);
    } catch {
      url = null;
    }
    const loopback = url !== null && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
      sink.add(['microsoft_teams', 'service_url'], `${JSON.stringify(serviceUrl)} is not an https URL; write your region's Bot Connector URL, e.g. "https://smba.trafficmanager.net/emea/" (the serviceUrl Teams sends with every activity)`);
      serviceUrl = null;
    }
  }
  const given = (k: string): boolean => text(section[k]) !== null;
  if (given('tenant_id') !== given('service_url')) {
    const missing = given('tenant_id') ? 'service_url' : 'tenant_id';
    sink.add(['microsoft_teams', missing], `is missing: Onehand opens Teams chats itself only with both tenant_id and service_url; set ${missing} too, or remove microsoft_teams`);
  }
  return tenantId !== null && serviceUrl !== null ? { tenantId, serviceUrl } : { tenantId: null, serviceUrl: null };
}

/**
 * BOUNDS: the range of each duration key, with why, shown when a value is outside it. Outside them
 * Onehand breaks at run time (a timer longer than ~24.8 days fires at once in Node; a lease shorter
 * than the work redoes it on another replica; a date beyond luxon's range fails every report).
 */
export const BOUNDS = {
  timersPeriod: { min: 10, max: 60_000, why: 'how often the timer loop looks for due work' },
  timersLease: { min: 2_000, max: 3_600_000, why: 'how long a replica keeps a claimed timer or delivery; shorter than the work means another replica does it twice' },
  deliveryTimeout: { min: 1_000, max: 120_000, why: 'how long one platform call may take before it counts as failed and is retried' },
  ackTimeout: { min: 1_000, max: 7 * 86_400_000, why: 'the time to acknowledge before the next escalation step' },
  unownedEvery: { min: 5 * 60_000, max: 24 * 3_600_000, why: 'an unowned incident is announced again at that interval until someone acknowledges it' },
  reopenWindow: { min: 1_000, max: 30 * 86_400_000, why: 'how long after a resolve a new firing reopens the incident' },
  flapWindow: { min: 1_000, max: 86_400_000, why: 'how long after the on-call\'s page an alert firing again counts as flapping and does not page them again; off turns it off' },
  ratePer: { min: 1_000, max: 86_400_000, why: 'the rate limit\'s period' },
  stormWindow: { min: 1_000, max: 86_400_000, why: 'the window in which new incidents count towards a storm' },
} as const;

export interface DurationBounds {
  readonly min: number;
  readonly max: number;
  readonly why: string;
}

/** readFlapWindow: `flap_window` in ms; 0 for off (also `false`, which YAML makes of an unquoted no/false). */
function readFlapWindow(entry: Record<string, unknown>, path: PathSegment[], sink: ProblemSink): number | undefined {
  const value = entry.flap_window;
  if (value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'off')) return 0;
  if (value === true) {
    sink.add([...path, 'flap_window'], `is true; write a duration such as "15m" (the default), or off`);
    return undefined;
  }
  const parsed = typeof value === 'string' ? parseDuration(value) : null;
  if (parsed && !parsed.ok && parsed.zero !== true) {
    sink.add([...path, 'flap_window'], `"${value}" is not a duration; write one such as "15m" (the default), or off to page every reopening`);
    return undefined;
  }
  return readDurationMs(entry, 'flap_window', path, INTEGRATION_DEFAULTS.flapWindow, sink, BOUNDS.flapWindow);
}

/** readDurationMs reads `section[key]` as elapsed milliseconds within `bounds`, or the default when absent. */
function readDurationMs(
  section: unknown,
  key: string,
  path: PathSegment[],
  fallback: string,
  sink: ProblemSink,
  bounds?: DurationBounds,
): number | undefined {
  const value = isRecord(section) ? section[key] : undefined;
  if (value === undefined || value === null) {
    const parsed = parseDuration(fallback);
    return parsed.ok ? toMillis(parsed.value) : undefined;
  }
  if (typeof value !== 'string') return undefined; // reported by the schema
  const parsed = parseDuration(value);
  const outOfRange = (): void => {
    if (bounds) sink.add([...path, key], `"${value}" is out of range; ${key} (${bounds.why}) is from ${formatBound(bounds.min)} to ${formatBound(bounds.max)}, default ${fallback}`);
  };
  if (!parsed.ok) {
    // A zero ("0s") is a duration, only out of range: say the range.
    if (bounds && parsed.zero === true) outOfRange();
    else sink.add([...path, key], parsed.error);
    return undefined;
  }
  const ms = toMillis(parsed.value);
  if (bounds && (ms < bounds.min || ms > bounds.max)) {
    outOfRange();
    return undefined;
  }
  return ms;
}

/** formatBound writes a bound in the config's own units ("10ms", "2s", "7d"). */
function formatBound(ms: number): string {
  return ms < 1000 ? `${ms}ms` : formatDuration(ms);
}

let zoneNames: string[] | undefined;

function checkZone(value: unknown, path: PathSegment[], sink: ProblemSink): string | undefined {
  if (typeof value !== 'string') return undefined; // reported by the schema
  const zone = value.trim();
  // "CET", "EST" and the like resolve in the time zone database, but name no place: their rules
  // are not the ones a team's people live by (EST never has daylight saving). Place names without
  // a slash (Singapore, Japan) and the UTC aliases stay.
  if (isAbbreviatedZone(zone)) {
    sink.add(path, `"${value}" is an abbreviation, not an IANA place name; write the place, such as Europe/Berlin or America/New_York (a place knows its own daylight saving rules), or UTC`);
    return undefined;
  }
  if (zone !== '' && IANAZone.isValidZone(zone)) return zone;
  zoneNames ??= supportedZones();
  const best = closestName(zone, zoneNames);
  const fix = best !== null ? `did you mean "${best}"?` : ZONE_EXAMPLE;
  sink.add(path, `"${value}" is not a known IANA time zone; ${fix}`);
  return undefined;
}

function supportedZones(): string[] {
  try {
    return [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  } catch {
    return ['UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'];
  }
}

function checkMemberRef(id: string, path: PathSegment[], ids: Ids, sink: ProblemSink): boolean {
  if (ids.members.has(id)) return true;
  sink.add(path, unknownRef('member', id, ids.members, 'members'));
  return false;
}

function unknownRef(kind: 'member' | 'team', id: string, known: Set<string>, listName: string): string {
  const best = closestName(id, known);
  if (best !== null) return `no ${kind} with id "${id}"; did you mean "${best}"?`;
  const list = [...known].filter((k) => ID_RE.test(k));
  const shown = list.length === 0 ? 'none yet' : list.slice(0, 12).join(', ') + (list.length > 12 ? ', ...' : '');
  return `no ${kind} with id "${id}"; add it under "${listName}" or use a known id (${shown})`;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** CycleError: the value contains itself (a YAML alias inside its own anchor). */
class CycleError extends Error {
  constructor(readonly path: PathSegment[]) {
    super('cycle');
  }
}

/**
 * plainCopy copies parsed data into plain JSON-like values: a Date (YAML 1.1 timestamps) becomes
 * "2026-01-05" at midnight UTC or a full ISO string otherwise; Maps become objects. Throws
 * CycleError when the value contains itself.
 */
function plainCopy(value: unknown, path: PathSegment[] = [], ancestors: unknown[] = []): unknown {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return String(value);
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) throw new CycleError(path);
  const inner = [...ancestors, value];
  if (Array.isArray(value)) return value.map((v, i) => plainCopy(v, [...path, i], inner));
  const out: Raw = {};
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  for (const [k, v] of entries) {
    // defineProperty, so that a "__proto__" key stays an (unknown) key instead of a prototype.
    const copy = plainCopy(v, [...path, String(k)], inner);
    Object.defineProperty(out, String(k), { value: copy, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
