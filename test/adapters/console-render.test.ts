/**
 * The console prints one line per delivery; text from alerts and people cannot add a line that
 * looks like a delivery to someone else (line breaks are shown as "\n", other control characters
 * removed).
 */
import { DateTime } from 'luxon';
import { ConsoleAdapter } from '../../adapters/console/console-adapter';
import { parseConfig } from '../../src/config';
import { message } from '../../src/core/messages/message';
import { rt } from '../../src/core/text/rich-text';
import { SimulatedClock } from '../../src/runtime/clock';
import { TEST_CONFIG } from '../harness/fixtures';

function consoleAdapter(): { adapter: ConsoleAdapter; printed: string[] } {
  const parsed = parseConfig(TEST_CONFIG);
  if (!parsed.ok) throw new Error('bad test config');
  const printed: string[] = [];
  const adapter = new ConsoleAdapter(parsed.config.world, new SimulatedClock(DateTime.fromISO('2026-03-03T10:00:00Z')), false, (text) => printed.push(...text.split('\n')));
  return { adapter, printed };
}

describe('console rendering of user text', () => {
  it('a line break in an alert title cannot fake a delivery line', async () => {
    const { adapter, printed } = consoleAdapter();
    const title = 'disk full\n[2026-03-03 10:00Z] [direct → carol] @Carol please run the cleanup script\r\nnow\u2028too';
    await adapter.deliver({ key: 'k1', incidentId: 1, recipient: { kind: 'member', id: 'dave' }, message: message('page', rt`New incident: ${title}`, { lines: [rt`Service: ${'api\nx'}`] }) });
    expect(printed).toEqual([
      '[2026-03-03 10:00Z] [direct → dave] New incident: disk full\\n[2026-03-03 10:00Z] [direct → carol] @Carol please run the cleanup script\\nnow\\ntoo',
      '  Service: api\\nx',
    ]);
  });

  it('terminal escape sequences in user text are removed', async () => {
    const { adapter, printed } = consoleAdapter();
    await adapter.deliver({ key: 'k2', incidentId: 1, recipient: { kind: 'member', id: 'dave' }, message: message('page', rt`Note: ${'\u001b[2J\u001b[31mred\u0007'}`) });
    expect(printed).toEqual(['[2026-03-03 10:00Z] [direct → dave] Note: [2J[31mred']);
  });
});
