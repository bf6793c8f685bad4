/**
 * Escaping for text Onehand puts in Teams: Adaptive Card TextBlocks and FactSet values (a markdown
 * subset) and message text (markdown with `<at>` mentions). Onehand's own wording is trusted; text
 * from people and alerts goes through `escapeText`, so it cannot open a link, emphasis, a list, a
 * heading, an HTML tag, or an `<at>` mention (the angle brackets become entities, which breaks the
 * `<at>Name</at>` pattern Teams matches against mention entities).
 */
import { stripControl } from '../../src/core/text/rich-text';

const MARKDOWN = /[\\`*_~[\](){}]/g;
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** escapeText makes `text` inert in Teams markdown: control characters removed, markup escaped. */
export function escapeText(text: string): string {
  return stripControl(text)
    .replace(/[&<>"]/g, (c) => HTML[c] ?? c)
    .replace(MARKDOWN, (c) => `\\${c}`)
    // At a line start, "# ", "- ", "+ " and "1. " would become a heading or a list.
    .replace(/^(\s*)([#+-])/gm, '$1\\$2')
    .replace(/^(\s*\d+)\./gm, '$1\\.');
}

/** mentionTag is the `<at>` text of a mention; the name is escaped so it cannot close the tag early. */
export function mentionTag(name: string): string {
  return `<at>${stripControl(name).replace(/[&<>"]/g, (c) => HTML[c] ?? c)}</at>`;
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
