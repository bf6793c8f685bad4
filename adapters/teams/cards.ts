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
  for (const line of message.lines) body.push(textBlock(markdown(line), { spacing: 'Small' }));
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
  if (ping.entities.length === 0) return { card, entities: [], summary };
  return { card, text: ping.text, entities: ping.entities, summary };
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
    for (const line of incident.recent) out.push(textBlock(markdown(line), { isSubtle: true, size: 'Small', spacing: 'None' }));
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
