/**
 * Every card the bot produced in a busy Teams session is a valid Adaptive Card 1.5 (official schema)
 * and renders with the `adaptivecards` renderer in headless Chromium.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { helpCard, noticeCard } from '../../adapters/teams/cards';
import { escapeText, commandText } from '../../adapters/teams/escape';
import { rt } from '../../src/core/text/rich-text';
import { TeamsRig, USERS, PAYMENTS_CHANNEL, cardOf, cardText } from './rig';
import { expectValidCard, validators } from './schemas';

const CHROMIUM = '/usr/bin/chromium';

describe('Teams cards', () => {
  const cards: Array<{ label: string; card: Record<string, unknown> }> = [];

  beforeAll(async () => {
    const rig = await TeamsRig.start();
    try {
      for (const u of [USERS.dave, USERS.alice, USERS.carol]) await rig.post(rig.personalInstall(u));
      const say = async (who: typeof USERS.dave, text: string) => {
        const res = await rig.post(rig.personalMessage(who, text));
        expect(res.status).toBe(200);
        await rig.flush();
      };
      const invoke = async (who: typeof USERS.dave, verb: string, conv?: string) => {
        const res = await rig.post(rig.cardAction(who, verb, { incidentId: 1 }, conv));
        expect(res.status).toBe(200);
        cards.push({ label: `invoke ${verb} by ${who.name}`, card: (res.body as { value: Record<string, unknown> }).value });
        await rig.flush();
      };
      await rig.post(rig.channelMessage(USERS.zed, 'incident report sev1 <at>Carol</at> checkout [down](https://x.example) *now* --service checkout'));
      await rig.flush();
      for (const text of ['help', 'help incident ack', 'oncall who', 'oncall schedule 2', 'incident list', 'incident show 1', 'frobnicate', 'incident note 1 rollback started']) await say(USERS.dave, text);
      await invoke(USERS.zed, 'refresh', PAYMENTS_CHANNEL);
      await invoke(USERS.zed, 'resolve', PAYMENTS_CHANNEL);
      await invoke(USERS.dave, 'escalate');
      await invoke(USERS.dave, 'ack');
      await say(USERS.dave, 'incident reply 1 a fix is rolling out');
      await say(USERS.dave, 'incident huddle 1 failover needs three people');
      await invoke(USERS.dave, 'resolve');
      await say(USERS.carol, 'incident reopen 1 errors are back');
      await say(USERS.carol, 'oncall override alice now 8h');
      await invoke(USERS.dave, 'refresh');
      await invoke(USERS.dave, 'bogus');
      for (const call of [...rig.connector.posts(), ...rig.connector.updates()]) cards.push({ label: `${call.method} ${call.path}`, card: cardOf(call.body) });
      cards.push({ label: 'help card', card: helpCard() as unknown as Record<string, unknown> }, { label: 'notice', card: noticeCard(rt`There is no incident #${'9'}.`, true) as unknown as Record<string, unknown> });
    } finally {
      await rig.stop();
    }
  });

  it('the session produced cards of every kind', () => {
    const all = cards.map((c) => cardText(c.card)).join('\n');
    for (const expected of [/Onehand commands/, /on call/i, /New incident #1/, /Huddle on #1/, /Reopened/, /Reminder|Escalated|asks for your help/, /Unknown action/, /State: Resolved/, /unknown command|not a command|frobnicate/i]) expect(all).toMatch(expected);
    expect(cards.length).toBeGreaterThan(20);
  });

  it('every card is a valid Adaptive Card 1.5', () => {
    for (const { label, card } of cards) expectValidCard(card, label);
    // The validator does reject what Teams would reject.
    expect(validators().card({ ...cards[0]!.card, msteams: { entities: [] } })).toBe(false);
  });

  it('escapes markdown, HTML and mentions in user text, and reads commands out of Teams text', () => {
    // No backslashes or entities (mobile clients show them literally): look-alikes and zero-width spaces.
    expect(escapeText('<at>Carol</at> [x](https://e) **b** _i_ `c` ~~s~~')).toBe('\u2039at\u203aCarol\u2039/at\u203a [x]\u200b(https://e) \u2217\u2217b\u2217\u2217 \u02cdi\u02cd \u02cbc\u02cb \u223c\u223cs\u223c\u223c');
    expect(escapeText('# title\n- item\n1. first\na-b 3.5')).toBe('\u200b# title\n\u200b- item\n\u200b1. first\na-b 3.5');
    expect(escapeText('a \\[x](y) & b')).not.toMatch(/\]\(|&amp;/);
    expect(escapeText('a\u202eb\u0007c')).toBe('abc');
    expect(commandText('<at>Onehand</at>&nbsp;incident ack 12', ['<at>Onehand</at>'])).toBe('incident ack 12');
    expect(commandText('<p><at>Oncall Bot</at> oncall who</p>', [])).toBe('oncall who');
    for (const { card } of cards) expect(JSON.stringify(card)).not.toMatch(/<at>|\[down\]\(/);
  });

  const chromium = fs.existsSync(CHROMIUM) ? it : it.skip;
  if (!fs.existsSync(CHROMIUM)) {
    console.warn(`Skipping the Chromium render test: ${CHROMIUM} is missing (apt-get install -y chromium; CI installs it).`);
  }
  chromium('every card renders with the adaptivecards renderer in headless Chromium, without console errors', async () => {
    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>');
      await page.addScriptTag({ path: path.join(path.dirname(require.resolve('adaptivecards/package.json')), 'dist', 'adaptivecards.min.js') });
      const results = await page.evaluate((list) => {
        interface Events { eventCount: number; getEventAt(i: number): { message: string } }
        // The page's DOM, typed structurally (the project compiles without the DOM library).
        interface El { querySelectorAll(selector: string): { length: number }; textContent: string | null; appendChild(child: El): void }
        const doc = (globalThis as unknown as { document: { getElementById(id: string): El | null } }).document;
        const AC = (globalThis as unknown as {
          AdaptiveCards: {
            SerializationContext: new () => Events;
            AdaptiveCard: new () => { parse(j: unknown, ctx?: Events): void; render(): El | undefined; validateProperties(): { validationEvents: Array<{ message: string }> } };
          };
        }).AdaptiveCards;
        return list.map(({ label, card }) => {
          const ac = new AC.AdaptiveCard();
          const ctx = new AC.SerializationContext();
          ac.parse(card, ctx);
          const el = ac.render();
          if (el) doc.getElementById('root')?.appendChild(el);
          const failures = [
            ...Array.from({ length: ctx.eventCount }, (_, i) => ctx.getEventAt(i).message),
            ...ac.validateProperties().validationEvents.map((e) => e.message),
          ];
          return { label, elements: el ? el.querySelectorAll('*').length : 0, text: el?.textContent ?? '', buttons: el ? el.querySelectorAll('button').length : 0, failures };
        });
      }, cards);
      for (const r of results) {
        expect({ label: r.label, failures: r.failures }).toEqual({ label: r.label, failures: [] });
        expect({ label: r.label, rendered: r.elements > 0 && r.text.length > 5 }).toEqual({ label: r.label, rendered: true });
      }
      const page1 = results.find((r) => r.text.includes('New incident #1') && r.buttons >= 3);
      expect(page1).toBeDefined();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
