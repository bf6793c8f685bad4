/**
 * The Teams adapter at its HTTP boundary: Teams activity JSON in (POST /api/messages), Bot Connector
 * calls out (recorded by a fake connector on loopback), with the real app behind it.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TeamsRig, USERS, PAYMENTS_CHANNEL, TENANT, GENERAL_CHANNEL, cardOf, cardText, actionVerbs } from './rig';
import { expectValidCard } from './schemas';

const APP_ID = '9e8f7a6b-1234-4cde-8f00-aabbccddeeff';
const DAVE_CHAT = 'a:personal-29:dave';

describe('Teams adapter over HTTP', () => {
  let rig: TeamsRig;
  afterEach(async () => {
    await rig.stop();
    jest.restoreAllMocks();
  });

  describe('without authentication (ONEHAND_TEAMS=1)', () => {
    beforeEach(async () => {
      rig = await TeamsRig.start();
    });

    it('does not rewrite the tenant it knows when the store gives its keys back in another order (PostgreSQL jsonb)', async () => {
      await rig.post(rig.personalMessage(USERS.dave, 'oncall who'));
      const tenant = await rig.h.app.store.transaction((tx) => tx.kvGet('adapter:teams', 'tenant')) as Record<string, unknown>;
      expect(tenant).toMatchObject({ tenantId: TENANT });
      // As jsonb returns it: keys sorted by length, then bytes (and a marker the adapter would drop).
      const reordered = { bot: tenant.bot, tenantId: tenant.tenantId, serviceUrl: tenant.serviceUrl, seen: 'kept' };
      await rig.h.app.store.transaction((tx) => tx.kvSet('adapter:teams', 'tenant', reordered));
      await rig.post(rig.personalMessage(USERS.dave, 'oncall who'));
      expect(await rig.h.app.store.transaction((tx) => tx.kvGet('adapter:teams', 'tenant'))).toEqual(reordered);
    });

    it('answers a command in a personal chat as the linked member, with a card in the same chat', async () => {
      const res = await rig.post(rig.personalMessage(USERS.dave, 'oncall who'));
      expect(res.status).toBe(200);
      const [reply, ...more] = rig.connector.posts();
      expect(more).toEqual([]);
      expect(reply?.conversation).toBe(DAVE_CHAT);
      const card = cardOf(reply!.body);
      expectValidCard(card);
      expect(cardText(card)).toMatch(/Dave/);
    });

    it('strips the <at>Onehand</at> mention in a channel, runs the report as a guest for that team, and pages only the on-call', async () => {
      await rig.post(rig.personalInstall(USERS.dave));
      await rig.post(rig.personalInstall(USERS.alice));
      const res = await rig.post(rig.channelMessage(USERS.zed, 'incident report sev2 checkout returns 502'));
      expect(res.status).toBe(200);
      await rig.flush();

      // The reply goes to the same channel thread.
      const replies = rig.connector.posts().filter((c) => c.conversation?.startsWith(`${PAYMENTS_CHANNEL};messageid=`));
      expect(replies).toHaveLength(1);
      expect(cardText(cardOf(replies[0]!.body))).toContain('Reported #1 [sev2] checkout returns 502');
      expect(rig.h.expectMessage('dave', /New incident #1/).message.mentions).toEqual(['dave']);

      // The page: dave's 1:1 chat only, pinging dave only, with the three actions and a refresh for him.
      const pages = rig.connector.sentTo(DAVE_CHAT);
      expect(pages).toHaveLength(1);
      const page = pages[0]!.body;
      expect(page.text).toBe('<at>Dave</at> New incident #1 [sev2] checkout returns 502');
      expect(page.entities).toEqual([{ type: 'mention', text: '<at>Dave</at>', mentioned: { id: '29:dave', name: 'Dave' } }]);
      const card = cardOf(page);
      expectValidCard(card, 'page');
      expect(card.version).toBe('1.5');
      expect(actionVerbs(card)).toEqual(['ack', 'resolve', 'escalate']);
      expect((card.actions as Array<{ type: string; data: unknown }>).every((a) => a.type === 'Action.Execute' && JSON.stringify(a.data) === '{"incidentId":1}')).toBe(true);
      expect(card.refresh).toEqual({ action: { type: 'Action.Execute', title: 'Refresh', verb: 'refresh', data: { incidentId: 1 } }, userIds: ['29:dave'] });
      expect(cardText(card)).toMatch(/Severity: sev2/);
      expect(cardText(card)).toMatch(/State: Open/);
      expect(cardText(card)).toMatch(/reported by Zed Product/);

      // Nobody else was written to on Teams; the channel record is quiet (no mention, no actions).
      expect(rig.connector.sentTo('a:personal-29:alice')).toEqual([]);
      const records = rig.connector.sentTo(PAYMENTS_CHANNEL);
      expect(records).toHaveLength(1);
      expect(records[0]!.body.entities).toBeUndefined();
      expect(records[0]!.body.text).toBeUndefined();
      expect(cardOf(records[0]!.body).actions).toBeUndefined();
      expect((cardOf(records[0]!.body).refresh as { userIds: string[] }).userIds).toEqual(expect.arrayContaining(['29:dave', '29:alice', '29:carol']));
    });

    it('creates the 1:1 chat from a team install when the on-call never wrote to the bot, then reuses it', async () => {
      const res = await rig.post(rig.teamInstall(USERS.carol));
      expect(res.status).toBe(200);
      await rig.h.run('zed', 'incident report sev3 search is slow');
      const created = rig.connector.calls.filter((c) => c.method === 'POST' && c.path === '/v3/conversations');
      expect(created).toHaveLength(2);
      expect(created[0]!.body).toMatchObject({ isGroup: false, members: [{ id: '29:dave' }], tenantId: TENANT, bot: { id: '28:9e8f7a6b-1234-4cde-8f00-aabbccddeeff' } });
      const chat = 'a:created-1';
      expect(rig.connector.sentTo(chat)).toHaveLength(1);
      expect(rig.connector.sentTo(chat)[0]!.path).toBe(`/v3/conversations/${encodeURIComponent(chat)}/activities`);
      // The install was in the General channel; the payments channel gets its record as a new thread there.
      expect(rig.connector.sentTo(GENERAL_CHANNEL)).toEqual([]);
      expect(created[1]!.body).toMatchObject({ isGroup: true, channelData: { channel: { id: PAYMENTS_CHANNEL } }, activity: { type: 'message' } });
      expectValidCard(cardOf(created[1]!.body));

      await rig.h.advance('5m');
      // The reminder reuses the chat created for the page.
      expect(rig.connector.calls.filter((c) => c.method === 'POST' && c.path === '/v3/conversations')).toHaveLength(2);
      expect(rig.connector.sentTo(chat)).toHaveLength(2);
      expect(String(rig.connector.sentTo(chat)[1]!.body.text)).toMatch(/^<at>Dave<\/at> Reminder: #1/);
    });

    it('pings only the members the core chose, and escapes injected mentions, links and HTML', async () => {
      await rig.post(rig.personalInstall(USERS.dave));
      await rig.post(rig.personalInstall(USERS.carol));
      // Typed angle brackets arrive entity-encoded; Onehand decodes them, so the title holds real "<at>".
      const title = '&lt;at&gt;Carol&lt;/at&gt; [click](https://evil.example) &lt;img src=x onerror=alert(1)&gt; **now** &amp;amp;';
      await rig.post(rig.channelMessage(USERS.zed, `incident report sev1 ${title}`));
      await rig.flush();
      const page = rig.connector.sentTo(DAVE_CHAT)[0]!.body;
      expect(page.entities).toEqual([{ type: 'mention', text: '<at>Dave</at>', mentioned: { id: '29:dave', name: 'Dave' } }]);
      const text = String(page.text);
      expect(text.match(/<at>/g)).toHaveLength(1);
      expect(text).toContain('\u2039at\u203aCarol\u2039/at\u203a');
      expect(text).toContain('[click]\u200b(https://evil.example)');
      expect(text).not.toMatch(/<img|\]\(|\*\*/);
      const cardJson = JSON.stringify(cardOf(page));
      expect(cardJson).not.toMatch(/<at>|<img|\[click\]\(/);
      expect(cardText(cardOf(page))).toContain('\u2217\u2217now\u2217\u2217 &amp;');
      // Carol (the lead) got nothing, though her name was typed as a mention.
      expect(rig.connector.sentTo('a:personal-29:carol')).toEqual([]);
      for (const call of rig.connector.posts()) expectValidCard(cardOf(call.body));
    });

    it('runs a card action as the invoking user and answers with the card as they may now use it', async () => {
      await rig.post(rig.personalInstall(USERS.dave));
      await rig.h.run('zed', 'incident report sev2 checkout returns 502');
      const res = await rig.post(rig.cardAction(USERS.dave, 'ack', { incidentId: 1 }));
      expect(res.status).toBe(200);
      const body = res.body as { statusCode: number; type: string; value: Record<string, unknown> };
      expect(body.statusCode).toBe(200);
      expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
      expectValidCard(body.value, 'ack answer');
      expect(cardText(body.value)).toMatch(/You acknowledged #1/);
      expect(cardText(body.value)).toMatch(/State: Acknowledged/);
      expect(actionVerbs(body.value)).toEqual(['resolve', 'escalate']);
      await rig.flush();
      rig.h.expectMessage('zed', /acknowledged by Dave/);

      // Refresh: each viewer sees only what they may do.
      const asLead = (await rig.post(rig.cardAction(USERS.carol, 'refresh', { incidentId: 1 }, PAYMENTS_CHANNEL))).body as { value: Record<string, unknown> };
      expect(actionVerbs(asLead.value)).toEqual(['resolve', 'escalate']);
      const asGuest = (await rig.post(rig.cardAction(USERS.zed, 'refresh', { incidentId: 1 }, PAYMENTS_CHANNEL))).body as { value: Record<string, unknown> };
      expect(actionVerbs(asGuest.value)).toEqual([]);
      expect(cardText(asGuest.value)).toMatch(/State: Acknowledged/);

      // A refusal comes back as a card that says why; nothing changed.
      const refused = (await rig.post(rig.cardAction(USERS.zed, 'resolve', { incidentId: 1 }))).body as { value: Record<string, unknown> };
      expectValidCard(refused.value, 'refusal');
      expect(cardText(refused.value)).toMatch(/Only the assignee/);
      expect(((refused.value.body as Array<{ color?: string }>)[0])?.color).toBe('Attention');
      expect(await rig.h.run('carol', 'incident show 1')).not.toMatch(/resolved by/);

      const unknown = (await rig.post(rig.cardAction(USERS.dave, 'refresh', { incidentId: 99 }))).body as { value: Record<string, unknown> };
      expect(cardText(unknown.value)).toMatch(/There is no incident #99/);
    });

    it('updates the earlier channel card when the incident is acknowledged elsewhere (another platform)', async () => {
      await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
      await rig.h.run('zed', 'incident report sev2 checkout returns 502');
      const records = rig.connector.sentTo(PAYMENTS_CHANNEL);
      expect(records).toHaveLength(1);
      const updatesBefore = rig.connector.updates().length;

      await rig.h.run('dave', 'incident ack 1'); // on the recording platform, not Teams
      rig.h.expectMessage('#payments', /acknowledged by Dave/);
      const updates = rig.connector.updates().slice(updatesBefore);
      expect(updates).toHaveLength(1);
      expect(updates[0]!.conversation).toBe(PAYMENTS_CHANNEL);
      expect(rig.connector.sentTo(PAYMENTS_CHANNEL)).toHaveLength(1); // edited, not posted again
      const card = cardOf(updates[0]!.body);
      expectValidCard(card);
      expect(cardText(card)).toMatch(/State: Acknowledged/);
      expect(cardText(card)).toMatch(/acknowledged by Dave/);
    });

    it('retries 429 and 5xx through the outbox after botbuilder gives up, and delivers once', async () => {
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      await rig.post(rig.personalInstall(USERS.dave));
      await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
      const before = rig.connector.calls.length;
      rig.connector.failNext(8, 429, '0'); // botbuilder tries each send 4 times
      await rig.h.run('zed', 'incident report sev2 checkout returns 502');
      const failed = rig.connector.calls.slice(before);
      expect(failed.map((c) => c.status)).toEqual([429, 429, 429, 429, 429, 429, 429, 429]);
      expect(rig.connector.sentTo(DAVE_CHAT)).toHaveLength(0);
      // One throttled call is not a platform down: shown, not a failed readiness probe.
      let health = await rig.h.app.health();
      expect(health.adapters.teams).toBe('degraded: the last call failed (Teams connector HTTP 429: simulated); retried, and failing once delivery.fallback_after calls in a row fail');
      expect(health.ok).toBe(true);

      rig.connector.failNext(1, 500);
      await rig.h.advance('5s'); // the outbox's first backoff
      await rig.h.advance('10s');
      await rig.h.advance('20s');
      expect(rig.connector.sentTo(DAVE_CHAT)).toHaveLength(1);
      expect(rig.connector.sentTo(PAYMENTS_CHANNEL)).toHaveLength(1);
      const show = await rig.h.run('carol', 'incident show 1');
      // The failed first attempt is on the timeline; no fallback and no lost delivery.
      expect(show).toContain('page to Dave on teams failed (Teams connector HTTP 429: simulated); retrying');
      expect(show).not.toMatch(/could not reach|delivery to .* failed/);
      health = await rig.h.app.health();
      expect([health.ok, health.adapters.teams]).toEqual([true, 'ok']);
    });
  });

  describe('a connector that refuses the bot\'s credentials', () => {
    it('fails /healthz at once with the fix, takes the page down the ladder, and retries what Teams refused once it takes the credentials again (not a page of an incident acknowledged meanwhile)', async () => {
      rig = await TeamsRig.start();
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      await rig.post(rig.personalInstall(USERS.dave));
      await rig.post(rig.channelMessage(USERS.carol, 'oncall who'));
      rig.connector.failNext(1000, 401);
      await rig.h.run('zed', 'incident report sev2 checkout returns 502');
      await rig.h.run('zed', 'incident report sev3 invoices slow');
      await rig.h.run('dave', 'incident ack 2');
      const health = await rig.h.app.health();
      expect(health.ok).toBe(false);
      expect(health.adapters.teams).toMatch(/^failing: Teams refuses the bot's credentials \(HTTP 401\): check MICROSOFT_APP_ID/);
      expect(rig.logger.entries.filter((e) => e.msg.startsWith('teams authentication failed'))).toHaveLength(1);
      // The ladder did not wait for three failures: Dave was reached on his other platform at once.
      const show = await rig.h.run('carol', 'incident show 1');
      expect(show).toMatch(/page to Dave on teams failed \(Teams refuses the bot's credentials.*\); retrying/);
      expect(rig.h.messagesFor('dave').map((m) => m.text.split('\n')[0])).toEqual(['@Dave New incident #1 [sev2] checkout returns 502', '@Dave New incident #2 [sev3] invoices slow']);
      await rig.h.advance('1m'); // still refused: retried with backoff
      rig.connector.recover();
      await rig.h.advance('2m');
      // What Teams refused is retried once it takes the credentials: #1 still waits for an
      // acknowledgement, so its page goes out; #2, acknowledged meanwhile, is not paged late.
      expect(rig.connector.sentTo(DAVE_CHAT)).toHaveLength(1);
      expect(rig.connector.sentTo(DAVE_CHAT)[0]?.body.text ?? JSON.stringify(rig.connector.sentTo(DAVE_CHAT)[0]?.body)).toMatch(/#1/);
      expect(rig.h.logger.entries.find((e) => e.msg === 'retried page not sent: no longer needed')?.fields.why).toBe('#2 was acknowledged meanwhile');
      expect((await rig.h.app.health()).adapters.teams).toBe('ok');
    });
  });

  describe('with an app id (Bot Framework authentication)', () => {
    const credentials = { appId: APP_ID, password: 'not-a-real-secret', appType: 'MultiTenant' as const, tenantId: '' };
    let keyServer: http.Server | null = null;
    afterEach(async () => {
      const s = keyServer;
      keyServer = null;
      if (s) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    });

    async function expectRefused(headers: Record<string, string>): Promise<number> {
      const started = Date.now();
      const res = await rig.post(rig.personalMessage(USERS.dave, 'incident report sev1 forged'), headers);
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toMatch(/not-a-real-secret|ENOTFOUND|login\.botframework/);
      return Date.now() - started;
    }

    it('refuses requests without a valid token (missing, garbage, forged) with 401, and the core never sees them', async () => {
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      rig = await TeamsRig.start({ credentials });
      await expectRefused({});
      await expectRefused({ authorization: 'garbage' });
      await expectRefused({ authorization: 'Bearer garbage' });
      const forged = [{ alg: 'RS256', kid: 'k1', typ: 'JWT' }, { iss: 'https://api.botframework.com', aud: APP_ID, serviceurl: rig.connector.url, exp: 4102444800 }]
        .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') + '.c2lnbmF0dXJl';
      expect(await expectRefused({ authorization: `Bearer ${forged}` })).toBeLessThan(12_000);
      expect(rig.connector.calls).toEqual([]);
      expect(rig.h.adapter.delivered).toEqual([]);
      expect(await rig.h.run('carol', 'incident list --all')).not.toMatch(/forged/);
    });

    it('answers 401 in bounded time when the signing keys cannot be fetched (a server that never answers)', async () => {
      jest.spyOn(console, 'error').mockImplementation(() => undefined);
      keyServer = http.createServer(() => undefined); // accepts, never answers
      await new Promise<void>((resolve) => keyServer?.listen(0, '127.0.0.1', () => resolve()));
      const port = (keyServer.address() as AddressInfo).port;
      rig = await TeamsRig.start({ credentials, authTimeoutMs: 1000, openIdMetadataUrl: `http://127.0.0.1:${port}/openid` });
      const jwt = [{ alg: 'RS256', kid: 'k1' }, { iss: 'https://api.botframework.com', aud: APP_ID }].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2ln';
      const took = await expectRefused({ authorization: `Bearer ${jwt}` });
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(5000);
      expect(rig.h.adapter.delivered).toEqual([]);
    });
  });
});
