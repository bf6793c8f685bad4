/**
 * Discord's size limits, applied to every body Onehand sends (deliveries, edits, interaction
 * replies: they all come from renderDiscord), so Discord never rejects one (400, code 50035).
 * Pure functions, no client.
 *
 * Long text is cut, with a pointer to `/incident show ID` for the rest. A cut never splits a
 * mention or a timestamp (`<@123>`, `<t:1:R>`), an inline code span, an escape (no trailing
 * lone backslash) or a surrogate pair; `allowed_mentions.users` keeps only the ids whose mention
 * survived in the content.
 *
 * Limits: https://discord.com/developers/docs/resources/message#create-message-jsonform-params and
 * https://discord.com/developers/docs/resources/message#embed-object-embed-limits.
 */
import type { DiscordActionRow, DiscordEmbed, DiscordMessageBody } from './render';

export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  /** The sum of every embed's title, description, field names and values, footer and author. */
  embedTotal: 6000,
  rows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
} as const;

/** cutPointer: what ends a cut text. */
export function cutPointer(incidentId: number | null): string {
  return incidentId === null ? '… (cut to fit Discord)' : `… (cut; type \`/incident show ${incidentId}\` for the rest)`;
}

/** Pieces of Discord text that must stay whole: mentions, channels, roles, emoji, timestamps, code spans. */
const ATOMS = /<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFR])?|\/[^>\n]{1,100}:\d+)>|(?<!\\)`[^`\n]*`/g;

/** Backticks that open or close a code span (an escaped one, "\`", is text). */
const TICKS = /(?<!\\)`/g;

/** safeCut: the largest cut position <= `max` that splits no atom, escape or surrogate pair. */
export function safeCut(text: string, max: number): number {
  let cut = Math.max(0, Math.min(max, text.length));
  if (cut === text.length) return cut;
  for (const m of text.matchAll(ATOMS)) {
    const start = m.index;
    const end = start + m[0].length;
    if (start >= cut) break;
    if (end > cut) {
      cut = start;
      break;
    }
  }
  // An unclosed backtick before the cut would open a code span that swallows the pointer.
  const ticks = [...text.slice(0, cut).matchAll(TICKS)];
  if (ticks.length % 2 === 1) cut = ticks[ticks.length - 1]?.index ?? cut;
  if (cut > 0 && /[\uD800-\uDBFF]/.test(text.charAt(cut - 1))) cut -= 1;
  let slashes = 0;
  while (cut - slashes > 0 && text.charAt(cut - slashes - 1) === '\\') slashes += 1;
  if (slashes % 2 === 1) cut -= 1;
  return cut;
}

/**
 * fitText: `text` when it is at most `max` long; else whole lines while they fit, or the first
 * line cut safely, ending with `pointer`. The result is never longer than `max`.
 */
export function fitText(text: string, max: number, pointer: string): string {
  if (text.length <= max) return text;
  if (pointer.length >= max) return fitText(pointer, max, '…').slice(0, max);
  const room = max - pointer.length;
  const lines = text.split('\n');
  let kept = '';
  for (const line of lines) {
    const next = kept === '' ? line : `${kept}\n${line}`;
    if (next.length + 1 > room) break;
    kept = next;
  }
  if (kept !== '') return `${kept}\n${pointer}`;
  const first = lines[0] ?? '';
  return `${first.slice(0, safeCut(first, room)).trimEnd()}${pointer}`;
}

/** embedSize: what counts towards the 6000 characters of all embeds in a message. */
export function embedSize(e: DiscordEmbed): number {
  return e.title.length + (e.description?.length ?? 0) + e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0) + e.footer.text.length;
}

/**
 * fitBody: `body` cut to Discord's limits. Content and embed description are cut by lines with
 * the pointer; titles, field names and values, footers and button labels are cut short; extra
 * embeds, fields, rows and buttons are dropped; then, while the embeds together are over 6000
 * characters, the description, then the longest field values and names, then the footer and the
 * title give way.
 */
export function fitBody(body: DiscordMessageBody, incidentId: number | null): DiscordMessageBody {
  const L = DISCORD_LIMITS;
  const pointer = cutPointer(incidentId);
  const content = fitText(body.content, L.content, pointer);
  let embeds = body.embeds.slice(0, L.embeds).map((e): DiscordEmbed => ({
    ...e,
    title: fitText(e.title, L.title, '…'),
    ...(e.description !== undefined ? { description: fitText(e.description, L.description, pointer) } : {}),
    fields: e.fields.slice(0, L.fields).map((f) => ({ ...f, name: fitText(f.name, L.fieldName, '…'), value: fitText(f.value, L.fieldValue, '…') })),
    footer: { text: fitText(e.footer.text, L.footer, '…') },
  }));
  embeds = fitEmbedTotal(embeds, pointer);
  const components = body.components.slice(0, L.rows).map((row): DiscordActionRow => ({
    ...row,
    components: row.components.filter((b) => b.custom_id.length <= L.customId).slice(0, L.buttonsPerRow).map((b) => ({ ...b, label: fitText(b.label, L.buttonLabel, '…') })),
  })).filter((row) => row.components.length > 0);
  const users = (body.allowed_mentions.users ?? []).filter((id) => content.includes(`<@${id}>`));
  return { ...body, content, embeds, components, allowed_mentions: users.length > 0 ? { parse: [], users } : { parse: [] } };
}

/** fitEmbedTotal: shortens the embeds until all of them together fit in 6000 characters. */
function fitEmbedTotal(embeds: DiscordEmbed[], pointer: string): DiscordEmbed[] {
  const total = (): number => embeds.reduce((n, e) => n + embedSize(e), 0);
  // Embeds past the budget even at their smallest are dropped (Onehand sends one; this is a bound).
  while (embeds.length > 1 && embeds.slice(0, -1).reduce((n, e) => n + embedSize(e), 0) >= DISCORD_LIMITS.embedTotal) embeds = embeds.slice(0, -1);
  for (let i = embeds.length - 1; i >= 0 && total() > DISCORD_LIMITS.embedTotal; i -= 1) {
    let e = embeds[i] as DiscordEmbed;
    const over = (): number => total() - DISCORD_LIMITS.embedTotal;
    if (e.description !== undefined && over() > 0) {
      const { description, ...rest } = e;
      const keep = description.length - over();
      e = keep > pointer.length ? { ...rest, description: fitText(description, keep, pointer) } : rest;
      embeds[i] = e;
    }
    // Then the longest field value or name, one at a time.
    while (over() > 0) {
      const fields = [...e.fields];
      const texts = fields.flatMap((f, j) => [{ j, key: 'value' as const, length: f.value.length }, { j, key: 'name' as const, length: f.name.length }]);
      const longest = texts.reduce<(typeof texts)[number] | null>((best, t) => (best === null || t.length > best.length ? t : best), null);
      const field = longest ? fields[longest.j] : undefined;
      if (!longest || !field || longest.length <= 1) break;
      fields[longest.j] = { ...field, [longest.key]: fitText(field[longest.key], Math.max(1, longest.length - over()), '…') };
      e = { ...e, fields };
      embeds[i] = e;
    }
    if (over() > 0) {
      e = { ...e, footer: { text: fitText(e.footer.text, Math.max(1, e.footer.text.length - over()), '…') } };
      embeds[i] = e;
    }
    if (over() > 0) embeds[i] = { ...e, title: fitText(e.title, Math.max(1, e.title.length - over()), '…') };
  }
  return embeds;
}
