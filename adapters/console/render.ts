/**
 * Plain-text rendering of the neutral Message, for the console and logs. Pure: message in, text out.
 * User text has control characters removed (see toPlain) and its line breaks written as "\n", so
 * an alert's text stays on its own line and cannot print a line that looks like a delivery to
 * someone else; mentions render as @Name.
 */
import type { Message } from '../../src/core/messages/message';
import { toPlain, type RichText, type Segment } from '../../src/core/text/rich-text';

const ACTION_COMMANDS = { ack: 'incident ack', resolve: 'incident resolve', escalate: 'incident escalate' } as const;

const LINE_BREAK = /\r\n|[\r\n\u0085\u2028\u2029]/g;

/** escapeLineBreaks writes line breaks as the two characters "\n". */
export function escapeLineBreaks(text: string): string {
  return text.replace(LINE_BREAK, '\\n');
}

/** plain renders rich text on one line: user text (and names) with their line breaks escaped. */
function plain(text: RichText): string {
  return toPlain(text.map((s): Segment => {
    if (typeof s === 'string') return s;
    if (s.t === 'mention') return { ...s, name: escapeLineBreaks(s.name) };
    return { ...s, v: escapeLineBreaks(s.v) };
  }));
}

export function renderText(message: Message): string {
  const out = [plain(message.headline)];
  for (const line of message.lines) out.push(`  ${plain(line)}`);
  const incident = message.incident;
  if (incident && message.actions.length > 0) {
    out.push(`  → ${message.actions.map((a) => `${ACTION_COMMANDS[a]} ${incident.id}`).join(' | ')}`);
  }
  return out.join('\n');
}
