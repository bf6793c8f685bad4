import { renderDiscord } from '../../adapters/discord/render';
import { escapeUserText } from '../../adapters/discord/escape';
import { message } from '../../src/core/messages/message';
import { mention, rt } from '../../src/core/text/rich-text';

const ids: Record<string, string> = { dave: '111000000000000004', alice: '111000000000000001' };
const opts = { discordIdOf: (m: string) => ids[m] ?? null, buttons: true };

describe('renderDiscord (pure)', () => {
  it('pings only members listed in mentions who have a Discord id; others render as escaped names', () => {
    const m = message('notice', rt`${mention('dave', 'Dave')} and ${mention('alice', 'Alice')} and ${mention('frank', '*Frank*')}`, { mentions: ['dave', 'frank'] });
    const out = renderDiscord(m, opts);
    expect(out.content).toBe('<@111000000000000004> and Alice and \\*Frank\\*');
    expect(out.allowed_mentions).toEqual({ parse: [], users: ['111000000000000004'] });
    expect(out.embeds).toEqual([]);
    expect(out.components).toEqual([]);
  });

  it('lists no user whose mention was cut off by the 2000-character limit', () => {
    const m = message('notice', rt`${'x'.repeat(1990)} ${mention('dave', 'Dave')}`, { mentions: ['dave'] });
    const out = renderDiscord(m, opts);
    expect(out.content.length).toBeLessThanOrEqual(2000);
    expect(out.allowed_mentions).toEqual({ parse: [] });
  });

  it('escapes user text: no line breaks, markdown, mentions, masked links or block quotes', () => {
    expect(escapeUserText('> quote\n# heading <@&1> @here [a](http://x) ||spoiler||')).toBe('\\> quote # heading <\u200b@&1> @\u200bhere \\[a\\](http://x) \\|\\|spoiler\\|\\|');
  });

  it('escapes every masked link in user text, not only the first of a line', () => {
    const title = 'deploy [status](https://status.example) then [login here](https://evil.example/phish)\n[again](https://evil.example)';
    const escaped = escapeUserText(title);
    expect(escaped).toBe('deploy \\[status\\](https://status.example) then \\[login here\\](https://evil.example/phish) \\[again\\](https://evil.example)');
    // No "[text](url)" is left that Discord would render as a link with hidden target.
    expect(/(^|[^\\])\[[^\]]*\]\(/.test(escaped)).toBe(false);
  });
});
