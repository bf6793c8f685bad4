/**
 * Escaping of text that came from people or alerts, before it goes into a Discord message or embed.
 * Pure functions, no client.
 *
 * escapeUserText makes a string inert on Discord: markdown cannot format it, and nothing in it can
 * ping or look like a mention. It is the second line of defence; the first is that every message
 * sets `allowed_mentions` explicitly (see render.ts), so even an unescaped mention would not ping.
 */
import { escapeMarkdown } from 'discord.js';
import { stripControl } from '../../src/core/text/rich-text';

const ZWSP = '\u200b';

/**
 * neutralizeMentions breaks every mention syntax with a zero-width space so Discord shows it as
 * text: @everyone, @here, <@id>, <@!id>, <@&role>, <#channel>, </command:id>, and custom emoji or
 * timestamps (<:name:id>, <t:...>) are left readable but inert.
 */
export function neutralizeMentions(text: string): string {
  return text
    .replace(/@(everyone|here)/gi, `@${ZWSP}$1`)
    .replace(/<([@#/:&!]|a:|t:)/gi, `<${ZWSP}$1`);
}

/**
 * escapeUserText: control characters removed, line breaks folded into spaces (user text cannot
 * start a new line that looks like Onehand's), markdown escaped, mentions neutralized. Every square
 * bracket is escaped, so no masked link (`[text](url)`) survives: discord.js's maskedLink option
 * escapes only the first one of a line, and a second link in a title stayed clickable.
 */
export function escapeUserText(text: string): string {
  const oneLine = stripControl(text.replace(/\r\n|\r|\n|\u2028|\u2029/g, ' '));
  const escaped = escapeMarkdown(oneLine, { heading: true, bulletedList: true, numberedList: true, maskedLink: false })
    .replace(/[[\]]/g, '\\$&')
    // A leading ">" would start a block quote; escapeMarkdown leaves it alone.
    .replace(/^(\s*)>/, '$1\\>');
  return neutralizeMentions(escaped);
}

/** escapeCode: text shown in inline code; backticks cannot end the span early. */
export function escapeCode(text: string): string {
  const clean = stripControl(text.replace(/\r\n|\r|\n/g, ' ')).replace(/`/g, 'ˋ');
  return neutralizeMentions(clean);
}

/** truncate cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Do not end on a lone backslash, which would escape the ellipsis, or half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  if (/\\$/.test(cut) && !/\\\\$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
