/**
 * Plain-text rendering of the neutral Message, for the console and logs. Pure: message in, text out.
 * User text has control characters removed (see toPlain); mentions render as @Name.
 */
import type { Message } from '../../src/core/messages/message';
import { toPlain } from '../../src/core/text/rich-text';

const ACTION_COMMANDS = { ack: 'incident ack', resolve: 'incident resolve', escalate: 'incident escalate' } as const;

export function renderText(message: Message): string {
  const out = [toPlain(message.headline)];
  for (const line of message.lines) out.push(`  ${toPlain(line)}`);
  const incident = message.incident;
  if (incident && message.actions.length > 0) {
    out.push(`  → ${message.actions.map((a) => `${ACTION_COMMANDS[a]} ${incident.id}`).join(' | ')}`);
  }
  return out.join('\n');
}
