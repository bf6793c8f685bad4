/**
 * renderDiscord turns a neutral Message into the body of a Discord message: content, one embed for
 * an incident, buttons for the actions, and an explicit `allowed_mentions`. Pure: message in, JSON
 * out, so it is snapshot-testable and the same body serves REST posts, edits and interaction
 * responses. Every body is cut to Discord's limits (limits.ts), with a pointer to `/incident show`.
 *
 * The mention contract: `allowed_mentions` is always `{ parse: [] }`, plus `users` listing exactly
 * the Discord ids of members that the message lists in `mentions` AND that appear as mention
 * segments. Every other piece of text (user text, names, unlisted mentions) is escaped and inert.
 */
import type { IncidentAction, IncidentCard, Message } from '../../src/core/messages/message';
import type { MemberId } from '../../src/core/model';
import type { RichText, Segment } from '../../src/core/text/rich-text';
import { stripControl } from '../../src/core/text/rich-text';
import { escapeCode, escapeUserText, truncate } from './escape';
import { cutPointer, fitBody, fitText } from './limits';

/** Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const LIMITS = { content: 2000, title: 256, description: 4096, fieldValue: 1024, footer: 2048, buttonsPerRow: 5 } as const;

export interface AllowedMentions {
  readonly parse: readonly [];
  readonly users?: readonly string[];
}

export interface DiscordEmbed {
  readonly title: string;
  readonly color: number;
  readonly description?: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly value: string; readonly inline: boolean }>;
  readonly footer: { readonly text: string };
  readonly timestamp: string;
}

export interface DiscordButton {
  readonly type: 2;
  readonly style: 1 | 2 | 3 | 4;
  readonly label: string;
  readonly custom_id: string;
}

export interface DiscordActionRow {
  readonly type: 1;
  readonly components: readonly DiscordButton[];
}

/** DiscordMessageBody: what POST/PATCH /channels/{c}/messages and interaction responses carry. */
export interface DiscordMessageBody {
  readonly content: string;
  readonly embeds: readonly DiscordEmbed[];
  readonly components: readonly DiscordActionRow[];
  readonly allowed_mentions: AllowedMentions;
}

export interface RenderOptions {
  /** The Discord user id of a member, or null when they are not linked. */
  readonly discordIdOf: (member: MemberId) => string | null;
  /** Whether to show the message's actions as buttons (direct messages and ephemeral replies only). */
  readonly buttons: boolean;
  /** Leave out `message.lines` (an updated card keeps only its headline and embed). */
  readonly withoutLines?: boolean;
}

export const SEVERITY_COLOURS: Readonly<Record<string, number>> = {
  sev1: 0xed4245, // red
  sev2: 0xe67e22, // orange
  sev3: 0xfee75c, // yellow
  sev4: 0x5865f2, // blurple
};

const BUTTONS: Readonly<Record<IncidentAction, { label: string; style: DiscordButton['style'] }>> = {
  ack: { label: 'Acknowledge', style: 1 },
  resolve: { label: 'Resolve', style: 3 },
  escalate: { label: 'Escalate', style: 2 },
};

/** CUSTOM_ID_PREFIX marks Onehand's buttons: `onehand:<action>:<incident id>`. */
export const CUSTOM_ID_PREFIX = 'onehand';

export function customId(action: IncidentAction, incidentId: number): string {
  return `${CUSTOM_ID_PREFIX}:${action}:${incidentId}`;
}

/** parseCustomId reads a button id back; null for anything that is not one of Onehand's. */
export function parseCustomId(id: string): { action: IncidentAction; incidentId: number } | null {
  const m = /^onehand:(ack|resolve|escalate):(\d{1,12})$/.exec(id);
  return m ? { action: m[1] as IncidentAction, incidentId: Number(m[2]) } : null;
}

export function renderDiscord(message: Message, options: RenderOptions): DiscordMessageBody {
  const pingable = new Set(message.mentions);
  const users: string[] = [];
  const segment = (s: Segment): string => {
    if (typeof s === 'string') return s;
    if (s.t === 'user') return escapeUserText(s.v);
    if (s.t === 'code') return `\`${escapeCode(s.v)}\``;
    const id = pingable.has(s.member) ? options.discordIdOf(s.member) : null;
    if (id === null || !/^\d{1,25}$/.test(id)) return escapeUserText(s.name);
    if (!users.includes(id)) users.push(id);
    return `<@${id}>`;
  };
  const text = (t: RichText): string => t.map(segment).join('');
  const lines = [text(message.headline), ...(options.withoutLines ? [] : message.lines.map(text))];
  const incident = message.incident;
  // Cut to Discord's limits (limits.ts): only ids whose mention survived the cut may ping.
  return fitBody({
    content: lines.join('\n'),
    embeds: incident ? [renderEmbed(incident)] : [],
    components: incident && options.buttons ? renderButtons(message.actions, incident.id) : [],
    allowed_mentions: users.length > 0 ? { parse: [], users } : { parse: [] },
  }, incident?.id ?? null);
}

/** renderEmbed: the incident card. Names in an embed never ping, so mentions render as names. */
export function renderEmbed(card: IncidentCard): DiscordEmbed {
  const plain = (t: RichText): string => t.map((s) => (typeof s === 'string' ? s : s.t === 'mention' ? escapeUserText(s.name) : s.t === 'code' ? `\`${escapeCode(s.v)}\`` : escapeUserText(s.v))).join('');
  const opened = Date.parse(card.openedAt);
  const field = (name: string, value: string, inline = true) => ({ name, value: truncate(value || '—', LIMITS.fieldValue), inline });
  const description = card.recent.map(plain).join('\n');
  return {
    title: truncate(`#${card.id} [${card.severity}] ${escapeUserText(card.title)}`, LIMITS.title),
    color: SEVERITY_COLOURS[card.severity] ?? 0x99aab5,
    ...(description ? { description: fitText(description, LIMITS.description, cutPointer(card.id)) } : {}),
    fields: [
      field('Service', card.service ? escapeUserText(card.service) : '—'),
      field('Reporter', escapeUserText(card.reporter)),
      field('Assignee', escapeUserText(card.assignee)),
      field('State', card.state),
      field('Opened', Number.isFinite(opened) ? `<t:${Math.floor(opened / 1000)}:R>` : '—'),
    ],
    footer: { text: truncate(stripControl(card.team), LIMITS.footer) },
    timestamp: card.openedAt,
  };
}

export function renderButtons(actions: readonly IncidentAction[], incidentId: number): DiscordActionRow[] {
  if (actions.length === 0) return [];
  const buttons = actions.slice(0, LIMITS.buttonsPerRow).map((a): DiscordButton => ({ type: 2, style: BUTTONS[a].style, label: BUTTONS[a].label, custom_id: customId(a, incidentId) }));
  return [{ type: 1, components: buttons }];
}
