/**
 * The Teams app package: manifest.json (schema 1.17), color.png (192x192), outline.png (32x32),
 * zipped for an admin to upload. The bot's command lists are generated from COMMANDS, within Teams'
 * limits (at most 10 commands per list, title 32 characters, description 128); commands that do not
 * fit a list still work when typed and are listed by `help`.
 */
import JSZip from 'jszip';
import { COMMANDS, commandName, type CommandSpec } from '../../src/core/commands/spec';
import { encodePng, type Rgba } from './png';

export const MANIFEST_VERSION = '1.17';
export const MANIFEST_SCHEMA = 'https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json';
export const ACCENT = '#4464EE';
export const TEAMS_LIMITS = { commandsPerList: 10, title: 32, description: 128 } as const;

const GUID = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;

export interface ManifestOptions {
  /** The bot's Microsoft App ID (a GUID); also used as the Teams app id. */
  readonly appId: string;
  /** App version, semver x.y.z (default 1.0.0). */
  readonly version?: string;
  readonly developerName?: string;
  readonly websiteUrl?: string;
  readonly privacyUrl?: string;
  readonly termsOfUseUrl?: string;
}

/**
 * Which commands each list offers, in order of how often they are needed there. A personal chat is
 * where the on-call answers pages; a channel is where people report and look things up.
 */
const PERSONAL_ORDER = ['incident ack', 'incident resolve', 'incident escalate', 'incident note', 'incident show', 'incident list', 'incident report', 'oncall who', 'oncall schedule', 'help'];
const CHANNEL_ORDER = ['incident report', 'oncall who', 'oncall schedule', 'incident list', 'incident show', 'incident ack', 'incident resolve', 'incident escalate', 'incident huddle', 'help'];

export interface BotCommand {
  readonly title: string;
  readonly description: string;
}

/** commandList: up to 10 commands from COMMANDS in the given order (names not in COMMANDS are skipped). */
export function commandList(order: readonly string[]): BotCommand[] {
  const specs = order.map((name) => COMMANDS.find((c) => commandName(c) === name)).filter((c): c is CommandSpec => c !== undefined);
  return specs.slice(0, TEAMS_LIMITS.commandsPerList).map((c) => ({
    title: clip(commandName(c), TEAMS_LIMITS.title),
    description: clip(`${c.summary} e.g. ${c.example}`, TEAMS_LIMITS.description),
  }));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The app version when none is given. */
export const DEFAULT_APP_VERSION = '1.0.0';

/**
 * manifestProblem: what Teams would refuse in these options (a bad app id, a version not x.y.z, a
 * developer URL that is not https), as one line naming the fix, or null.
 */
export function manifestProblem(options: ManifestOptions): string | null {
  if (!GUID.test(options.appId)) return `the bot app id "${options.appId}" is not a GUID; set MICROSOFT_APP_ID (or --app-id) to the Microsoft App ID of the Azure Bot`;
  const version = options.version ?? DEFAULT_APP_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) return `the app version "${version}" is not x.y.z`;
  for (const [what, url] of [['website', options.websiteUrl], ['privacy', options.privacyUrl], ['terms of use', options.termsOfUseUrl]] as const) {
    if (url !== undefined && !isHttpsUrl(url)) return `the ${what} URL "${url}" is not an https:// URL; Teams refuses a package without one (e.g. --website https://wiki.example.com/onehand)`;
  }
  return null;
}

function isHttpsUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

/** buildManifest returns manifest.json's object, or throws a clear error for what Teams would refuse (see manifestProblem). */
export function buildManifest(options: ManifestOptions): Record<string, unknown> {
  const problem = manifestProblem(options);
  if (problem !== null) throw new Error(problem);
  const version = options.version ?? DEFAULT_APP_VERSION;
  const website = options.websiteUrl ?? 'https://example.com/onehand';
  return {
    $schema: MANIFEST_SCHEMA,
    manifestVersion: MANIFEST_VERSION,
    version,
    id: options.appId,
    developer: {
      name: clip(options.developerName ?? 'Onehand', 32),
      websiteUrl: website,
      privacyUrl: options.privacyUrl ?? website,
      termsOfUseUrl: options.termsOfUseUrl ?? website,
    },
    name: { short: 'Onehand', full: 'Onehand on-call' },
    description: {
      short: 'On-call that pages one person, not the whole team.',
      full: 'Onehand pages the person on call in a private chat, escalates to their mentor and then the team lead when nobody acknowledges, and keeps a quiet record in the team channel. Huddles that call the whole team are rare and explicit. Type "help" to see the commands.',
    },
    icons: { color: 'color.png', outline: 'outline.png' },
    accentColor: ACCENT,
    bots: [
      {
        botId: options.appId,
        scopes: ['personal', 'team', 'groupChat'],
        supportsFiles: false,
        isNotificationOnly: false,
        commandLists: [
          { scopes: ['personal'], commands: commandList(PERSONAL_ORDER) },
          { scopes: ['team', 'groupChat'], commands: commandList(CHANNEL_ORDER) },
        ],
      },
    ],
    permissions: ['identity', 'messageTeamMembers'],
    validDomains: [],
  };
}

const WHITE: Rgba = [255, 255, 255, 255];
const CLEAR: Rgba = [0, 0, 0, 0];

/** The mark: a ring with a "1" inside (one hand by default), in unit coordinates (0..1). */
function mark(u: number, v: number, stroke: number): boolean {
  const r = Math.hypot(u - 0.5, v - 0.5);
  const ring = r > 0.4 - stroke && r < 0.4;
  const stem = Math.abs(u - 0.52) < stroke * 0.75 && v > 0.27 && v < 0.73;
  const flag = v > 0.27 && v < 0.27 + stroke * 1.5 && u > 0.4 && u < 0.53;
  const base = v > 0.73 - stroke * 1.2 && v < 0.73 && u > 0.4 && u < 0.64;
  return ring || stem || flag || base;
}

/** colorIcon: 192x192, the mark in white on the accent colour. */
export function colorIcon(): Buffer {
  const accent: Rgba = [0x44, 0x64, 0xee, 255];
  return encodePng(192, 192, (x, y) => (mark((x + 0.5) / 192, (y + 0.5) / 192, 0.08) ? WHITE : accent));
}

/** outlineIcon: 32x32, the mark in white on transparent (as Teams requires). */
export function outlineIcon(): Buffer {
  return encodePng(32, 32, (x, y) => (mark((x + 0.5) / 32, (y + 0.5) / 32, 0.1) ? WHITE : CLEAR));
}

export interface AppPackage {
  readonly manifest: Record<string, unknown>;
  readonly files: Record<'manifest.json' | 'color.png' | 'outline.png', Buffer>;
  readonly zip: Buffer;
}

/** buildPackage: the three files and the zip Teams accepts (files at the zip's root). */
export async function buildPackage(options: ManifestOptions): Promise<AppPackage> {
  const manifest = buildManifest(options);
  const files = {
    'manifest.json': Buffer.from(JSON.stringify(manifest, null, 2) + '\n'),
    'color.png': colorIcon(),
    'outline.png': outlineIcon(),
  };
  const zip = new JSZip();
  // A fixed date keeps the zip byte-for-byte reproducible.
  const date = new Date(Date.UTC(2026, 0, 1));
  for (const [name, data] of Object.entries(files)) zip.file(name, data, { date });
  const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  return { manifest, files, zip: bytes };
}
