/**
 * Escaping for text Onehand puts in Teams: Adaptive Card TextBlocks and FactSet values (a markdown
 * subset) and message text (markdown with `<at>` mentions). Onehand's own wording is trusted; text
 * from people and alerts goes through `escapeText`, so it cannot open a link, emphasis, a list, a
 * heading, an HTML tag, or an `<at>` mention.
 *
 * No backslash escapes and no HTML entities: Teams on iOS and Android render Adaptive Card text
 * with their own markdown parsers, which showed `\[`, `\_` (microsoft/AdaptiveCards#5590, fixed on
 * Android only in 2023, on iOS only for `\*`) and entities such as `&lt;` literally (MicrosoftDocs/
 * msteams-docs#10997). Instead the few characters that make markup are written so that no parser
 * sees markup and every client shows them plainly: look-alike characters for `* _ ~ \` < >` (and
 * thus `<at>`), and an invisible zero-width space that breaks `](` (links) and line-start list or
 * heading markers.
 */
import { stripControl } from '../../src/core/text/rich-text';

const ZWSP = '\u200b';

/** LOOKALIKES: markup characters and the plain characters shown instead. */
const LOOKALIKES: Record<string, string> = {
  '*': '\u2217', // ∗ asterisk operator: no emphasis
  '_': '\u02cd', // ˍ modifier letter low macron: no emphasis
  '~': '\u223c', // ∼ tilde operator: no strikethrough
  '`': '\u02cb', // ˋ modifier letter grave accent: no code span
  '<': '\u2039', // ‹ no HTML tag, no <at> mention
  '>': '\u203a', // › no tag end, no block quote
};

/** escapeText makes `text` inert in Teams cards and messages on every client (see above). */
export function escapeText(text: string): string {
  return stripControl(text)
    .replace(/[*_~`<>]/g, (c) => LOOKALIKES[c] ?? c)
    // "[text](url)" is a link only with "](" adjacent.
    .replace(/\]\(/g, `]${ZWSP}(`)
    // At a line start, "# ", "- ", "+ " and "1. " would become a heading or a list.
    .replace(/^(\s*)([#+-]|\d+\.)/gm, `$1${ZWSP}$2`);
}

/** mentionTag is the `<at>` text of a mention; the name is escaped so it cannot close the tag early. */
export function mentionTag(name: string): string {
  return `<at>${stripControl(name).replace(/[<>]/g, (c) => LOOKALIKES[c] ?? c)}</at>`;
}

/**
 * commandText turns the text of an incoming Teams message into a command line: `<at>` mentions of
 * the bot removed, the few HTML entities Teams sends decoded, whitespace collapsed.
 */
export function commandText(text: string, botMentionTexts: readonly string[]): string {
  let out = text;
  for (const m of botMentionTexts) out = out.split(m).join(' ');
  // Formatting tags (<p>, <div>) go first; then a message that still starts by mentioning someone
  // (the bot under another name, e.g. a renamed app) loses that mention.
  out = out.replace(/<(?!\/?at>)[^>]*>/gi, ' ').replace(/^\s*<at>[^<]*<\/at>/i, ' ');
  return out
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
