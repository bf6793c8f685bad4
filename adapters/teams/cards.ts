/**
 * Rendering of the neutral Message into Teams: an Adaptive Card (version 1.5) and, when the message
 * may ping someone, a short text with `<at>Name</at>` and its mention entities. Pure: no I/O, no
 * recipients chosen. Cards carry no mentions (the 1.5 schema has no place for them); mentions live
 * in the activity text, only for members the message lists in `mentions` and the adapter can name.
 */
import type { IncidentAction, IncidentCard, Message } from '../../src/core/messages/message';
import { COMMANDS, usage, type CommandSpec } from '../../src/core/commands/spec';
import type { MemberId } from '../../src/core/model';
import { toPlain, type RichText } from '../../src/core/text/rich-text';
import { escapeText, mentionTag } from './escape';

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const CARD_VERSION = '1.5';

export type CardElement = Record<string, unknown>;

export interface AdaptiveCard {
  readonly type: 'AdaptiveCard';
  readonly $schema: string;
  readonly version: string;
  readonly body: CardElement[];
  readonly actions?: CardElement[];
  readonly refresh?: { readonly action: CardElement; readonly userIds: string[] };
  readonly fallbackText?: string;
}

export interface MentionEntity {
  readonly type: 'mention';
  readonly text: string;
  readonly mentioned: { readonly id: string; readonly name: string };
}

/** TeamsRendering: what one delivery or reply becomes. `text` is set only when someone is pinged. */
export interface TeamsRendering {
  readonly card: AdaptiveCard;
  readonly text?: string;
  readonly entities: MentionEntity[];
  readonly summary: string;
}

export interface RenderOptions {
  /** The Teams user id of a member the message may ping, or null when they have none. */
  readonly teamsIdOf: (member: MemberId) => string | null;
  /** Teams user ids whose clients refresh the card automatically (Universal Actions), max 60. */
  readonly refreshUserIds?: readonly string[];
  /** A line shown on top of the card, e.g. the answer to a card action or a refusal. */
  readonly notice?: { readonly text: RichText; readonly refused: boolean };
}

export const ACTION_TITLES: Record<IncidentAction, string> = { ack: 'Acknowledge', resolve: 'Resolve', escalate: 'Escalate to mentor' };
/** Verbs of Action.Execute; `refresh` is the Universal Actions refresh. */
export const VERBS = { ack: 'ack', resolve: 'resolve', escalate: 'escalate', refresh: 'refresh' } as const;

const SEVERITY_COLOR: Record<string, string> = { sev1: 'Attention', sev2: 'Warning', sev3: 'Default', sev4: 'Default' };
const STATE_WORDS: Record<string, string> = { open: 'Open (not acknowledged)', acknowledged: 'Acknowledged', resolved: 'Resolved' };
const MAX_REFRESH_USERS = 60;

/**
 * ACTIVITY_BUDGET: the most characters of serialized activity JSON Onehand sends. Teams refuses
 * messages over about 100 KB counted in UTF-16 (413 MessageSizeTooBig) and recommends staying within
 * 80 KB; 80 KB of UTF-16 is 40,960 code units, minus room for what botbuilder adds (conversation,
 * from, recipient, service URL, ids).
 */
export const ACTIVITY_BUDGET = 38_000;
/** The longest one TextBlock (a line, the headline) or one fact value may be, in characters. */
const MAX_BLOCK = 3_000;
const MAX_FACT = 500;
/** Body elements a cut may drop (`lines` of the message, `recent` timeline lines), by role. */
const LINE = 'onehand:line';
const RECENT = 'onehand:recent';

/** markdown renders rich text for a card: user text escaped, mentions as plain (escaped) names. */
export function markdown(text: RichText): string {
  return text
    .map((s) => {
      if (typeof s === 'string') return s;
      if (s.t === 'mention') return escapeText(s.name);
      return escapeText(s.v);
    })
    .join('');
}

/**
 * pingText renders rich text for the activity text: a mention becomes `<at>Name</at>` with an entity
 * only if the member is in `allowed` and has a Teams id; anything else stays an escaped name.
 */
export function pingText(text: RichText, allowed: readonly MemberId[], teamsIdOf: (m: MemberId) => string | null): { text: string; entities: MentionEntity[] } {
  const entities: MentionEntity[] = [];
  const out = text
    .map((s) => {
      if (typeof s === 'string') return s;
      if (s.t !== 'mention') return escapeText(s.v);
      const id = allowed.includes(s.member) ? teamsIdOf(s.member) : null;
      if (id === null) return escapeText(s.name);
      const tag = mentionTag(s.name);
      if (!entities.some((e) => e.mentioned.id === id)) entities.push({ type: 'mention', text: tag, mentioned: { id, name: s.name } });
      return tag;
    })
    .join('');
  return { text: out, entities };
}

/** renderMessage: the card for any Message, with the ping text when the message mentions someone. */
export function renderMessage(message: Message, options: RenderOptions): TeamsRendering {
  const body: CardElement[] = [];
  if (options.notice) body.push(textBlock(markdown(options.notice.text), { color: options.notice.refused ? 'Attention' : 'Good', weight: 'Bolder' }));
  body.push(textBlock(markdown(message.headline), { size: 'Medium', weight: 'Bolder' }));
  for (const line of message.lines) body.push(droppable(textBlock(markdown(line), { spacing: 'Small' }), LINE));
  const incident = message.incident;
  if (incident) body.push(...incidentBody(incident));
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    body,
    ...(incident && message.actions.length > 0 ? { actions: message.actions.map((a) => executeAction(a, incident.id)) } : {}),
    ...(incident && (options.refreshUserIds?.length ?? 0) > 0
      ? { refresh: { action: { type: 'Action.Execute', title: 'Refresh', verb: VERBS.refresh, data: { incidentId: incident.id } }, userIds: [...(options.refreshUserIds ?? [])].slice(0, MAX_REFRESH_USERS) } }
      : {}),
    fallbackText: markdown(message.headline),
  };
  const summary = plainSummary(message).slice(0, 200);
  const ping = pingText(message.headline, message.mentions, options.teamsIdOf);
  const rendering = ping.entities.length === 0 ? { card, entities: [], summary } : { card, text: ping.text, entities: ping.entities, summary };
  return fitActivity(rendering, incident?.id ?? null);
}

/**
 * fitActivity makes a rendering fit Teams' message size (ACTIVITY_BUDGET, as serialized activity
 * JSON): each text block and fact is cut to a bounded length, then the oldest `recent` timeline
 * lines and the last message lines are left out until it fits, and a closing line says so and
 * points to `incident show ID`. Headline, facts and actions always stay. Pure; a rendering that fits
 * comes back unchanged (without the internal role marks).
 */
export function fitActivity(r: TeamsRendering, incidentId: number | null, budget = ACTIVITY_BUDGET): TeamsRendering {
  const unmark = (body: CardElement[]): CardElement[] => body.map(({ [ROLE]: _role, ...rest }) => rest);
  const size = (x: TeamsRendering): number => JSON.stringify(activityJson(x)).length;
  const plain = { ...r, card: { ...r.card, body: unmark(r.card.body) } };
  if (size(plain) <= budget) return plain;

  // 1. Bound every text: nothing single may take the whole message.
  let body = r.card.body.map((el) => boundElement(el));
  const text = r.text !== undefined && r.text.length > MAX_BLOCK ? cutText(r.text, Math.max(MAX_BLOCK, r.text.lastIndexOf('</at>') + 5)) : r.text;
  const fallbackText = r.card.fallbackText !== undefined ? cutText(r.card.fallbackText, MAX_BLOCK) : undefined;
  const pointer = textBlock(incidentId !== null
    ? `Cut to fit in Teams: type **incident show ${incidentId}** for the rest.`
    : 'Cut to fit in Teams.', { isSubtle: true, size: 'Small', spacing: 'Medium' });
  const build = (b: CardElement[], cut: boolean): TeamsRendering => ({
    ...r, ...(text !== undefined ? { text } : {}),
    card: { ...r.card, ...(fallbackText !== undefined ? { fallbackText } : {}), body: [...unmark(b), ...(cut ? [pointer] : [])] },
  });

  // 2. Leave out whole lines: the oldest recent timeline lines first, then message lines from the end.
  const fixed = size(build(body, true)) - body.reduce((n, el) => n + (el[ROLE] ? JSON.stringify(unmark([el])[0]).length + 1 : 0), 0);
  let room = budget - fixed;
  const keep = new Set<CardElement>();
  const lines = body.filter((el) => el[ROLE] === LINE);
  const recent = body.filter((el) => el[ROLE] === RECENT).reverse(); // newest first
  for (const el of [...lines, ...recent]) {
    const n = JSON.stringify(unmark([el])[0]).length + 1;
    if (n <= room) {
      keep.add(el);
      room -= n;
    } else if (el[ROLE] === LINE) {
      break; // message lines stay in order: no later line without the ones before it
    }
  }
  body = body.filter((el) => !el[ROLE] || keep.has(el));
  // A "Recent" heading with nothing under it goes too.
  body = body.filter((el, i) => !(el.text === 'Recent' && el.separator === true && !body.slice(i + 1).some((x) => x[ROLE] === RECENT)));
  return build(body, true);
}

/** What Teams counts: the activity as botbuilder posts it (without the fields botbuilder adds). */
function activityJson(r: TeamsRendering): Record<string, unknown> {
  return { type: 'message', text: r.text, entities: r.entities, summary: r.summary, attachments: [{ contentType: CARD_CONTENT_TYPE, content: r.card }] };
}

const ROLE = '__onehandRole';

function droppable(el: CardElement, role: string): CardElement {
  return { ...el, [ROLE]: role };
}

function boundElement(el: CardElement): CardElement {
  if (el.type === 'TextBlock' && typeof el.text === 'string' && el.text.length > MAX_BLOCK) return { ...el, text: cutText(el.text, MAX_BLOCK) };
  if (el.type === 'FactSet' && Array.isArray(el.facts)) {
    return { ...el, facts: (el.facts as Array<{ title: string; value: string }>).map((f) => ({ title: cutText(f.title, MAX_FACT), value: cutText(f.value, MAX_FACT) })) };
  }
  return el;
}

/** cutText shortens escaped markdown to `max` characters with "…", never splitting an escape. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // half of a surrogate pair (an emoji)
  cut = cut.replace(/&[#a-zA-Z0-9]*$/, ''); // a half HTML entity (&lt;)
  if (/(^|[^\\])(\\\\)*\\$/.test(cut)) cut = cut.slice(0, -1); // a lone escaping backslash
  return `${cut}…`;
}

function incidentBody(incident: IncidentCard): CardElement[] {
  const facts = [
    { title: 'Severity', value: escapeText(incident.severity) },
    { title: 'State', value: STATE_WORDS[incident.state] ?? escapeText(incident.state) },
    { title: 'Team', value: escapeText(incident.team) },
    { title: 'Assignee', value: escapeText(incident.assignee) },
    { title: 'Reporter', value: escapeText(incident.reporter) },
    ...(incident.service ? [{ title: 'Service', value: escapeText(incident.service) }] : []),
    { title: 'Opened', value: escapeText(incident.openedAt.replace(/\.\d+Z$/, 'Z')) },
  ];
  const out: CardElement[] = [
    {
      type: 'ColumnSet',
      columns: [
        { type: 'Column', width: 'auto', items: [textBlock(escapeText(incident.severity.toUpperCase()), { weight: 'Bolder', color: SEVERITY_COLOR[incident.severity] ?? 'Default' })] },
        { type: 'Column', width: 'stretch', items: [textBlock(`#${incident.id} · ${STATE_WORDS[incident.state] ?? escapeText(incident.state)}`, { isSubtle: true })] },
      ],
    },
    { type: 'FactSet', facts },
  ];
  if (incident.recent.length > 0) {
    out.push(textBlock('Recent', { weight: 'Bolder', spacing: 'Medium', separator: true }));
    for (const line of incident.recent) out.push(droppable(textBlock(markdown(line), { isSubtle: true, size: 'Small', spacing: 'None' }), RECENT));
  }
  return out;
}

function executeAction(action: IncidentAction, incidentId: number): CardElement {
  return {
    type: 'Action.Execute',
    title: ACTION_TITLES[action],
    verb: VERBS[action],
    data: { incidentId },
    ...(action === 'ack' ? { style: 'positive' } : {}),
  };
}

function textBlock(text: string, extra: Record<string, unknown> = {}): CardElement {
  return { type: 'TextBlock', text, wrap: true, ...extra };
}

/** plainSummary: the notification preview, plain text with angle brackets made harmless. */
function plainSummary(message: Message): string {
  return toPlain(message.headline).replace(/</g, '‹').replace(/>/g, '›');
}

/** helpCard lists every command (COMMANDS plus plugin commands; the manifest uses the same source). */
export function helpCard(commands: readonly CommandSpec[] = COMMANDS): AdaptiveCard {
  const body: CardElement[] = [textBlock('Onehand commands', { size: 'Medium', weight: 'Bolder' })];
  for (const group of ['oncall', 'incident', 'help'] as const) {
    const specs = commands.filter((c) => c.group === group);
    body.push(textBlock(group === 'help' ? 'More' : group, { weight: 'Bolder', spacing: 'Medium', separator: true }));
    body.push({ type: 'FactSet', facts: specs.map((c) => ({ title: escapeText(usage(c)), value: escapeText(c.summary) })) });
  }
  body.push(textBlock('Type a command in this chat, or mention Onehand in a channel: ' + escapeText('@Onehand incident report sev2 checkout is down'), { isSubtle: true, size: 'Small' }));
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: CARD_VERSION, body, fallbackText: 'Onehand commands: type "help"' };
}

/** noticeCard: a one-line card, for answers without an incident (unknown action, no such incident). */
export function noticeCard(text: RichText, refused: boolean): AdaptiveCard {
  return {
    type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: CARD_VERSION,
    body: [textBlock(markdown(text), { color: refused ? 'Attention' : 'Default' })], fallbackText: markdown(text),
  };
}
