/**
 * Members Teams cannot reach yet (they never wrote to the bot, and Onehand cannot open a chat with
 * them): their pages wait (the team channel is told meanwhile) and go out as soon as they become
 * reachable; with the tenant configured Onehand opens the chat itself.
 */
import type { ChatAdapter } from '../../src/ports/chat-adapter';
import { TeamsRig, USERS, PAYMENTS_CHANNEL, TENANT, cardOf, cardText } from './rig';

const DAVE_CHAT = 'a:personal-29:dave';

function teams(rig: TeamsRig): ChatAdapter {
  const adapter = rig.h.app.adapters.all().find((a) => a.name === 'teams');
  if (!adapter) throw new Error('no teams adapter');
  return adapter;
}

describe('Teams members not reachable yet', () => {
  let rig: TeamsRig;
  afterEach(async () => {
    await rig.stop();
  });

  it('warns at start which members cannot be reached and how to fix it; health names them', async () => {
    rig = await TeamsRig.start();
    const warning = rig.logger.entries.find((e) => e.level === 'warn' && /teams members not reachable yet/.test(e.msg));
    expect(warning?.fields.members).toBe('alice, carol, dave');
    expect(String(warning?.fields.fix)).toMatch(/open a chat with Onehand in Teams.*microsoft_teams\.tenant_id and service_url/);
    expect(teams(rig).health?.()).toEqual({ ok: true, detail: '3 members not reachable yet (alice, carol, dave)' });

    // Dave's message teaches Onehand the tenant: from now on it opens anyone's chat itself.
    await rig.post(rig.personalMessage(USERS.dave, 'oncall who'));
    expect(teams(rig).health?.()).toEqual({ ok: true });
  });

  it('keeps a page waiting while nobody can be reached, and delivers it when the member first writes to the bot', async () => {
    rig = await TeamsRig.start();
    await rig.h.run('zed', 'incident report sev2 checkout returns 502');
    await rig.flush();
    expect(rig.connector.calls).toEqual([]);
    // Not given up: the page waits for dave.
    expect(await rig.h.run('carol', 'incident show 1')).not.toMatch(/could not be delivered|gave up|given up/);

    await rig.h.advance('2m');
    await rig.post(rig.personalInstall(USERS.dave));
    await rig.flush();
    const pages = rig.connector.sentTo(DAVE_CHAT).filter((c) => /New incident #1/.test(String(c.body.text)));
    expect(pages).toHaveLength(1);
    expect(pages[0]!.body.entities).toEqual([{ type: 'mention', text: '<at>Dave</at>', mentioned: { id: '29:dave', name: 'Dave' } }]);
    expect(cardText(cardOf(pages[0]!.body))).toMatch(/checkout returns 502/);
  });

  it('opens the 1:1 chat itself when microsoft_teams gives the tenant and service URL, and says nothing at start', async () => {
    rig = await TeamsRig.start({ tenant: true });
    expect(rig.logger.entries.filter((e) => /not reachable/.test(e.msg))).toEqual([]);
    await rig.h.run('zed', 'incident report sev2 checkout returns 502');
    await rig.flush();
    const created = rig.connector.calls.filter((c) => c.method === 'POST' && c.path === '/v3/conversations' && c.status === 201);
    expect(created.map((c) => c.body)).toEqual(expect.arrayContaining([
      expect.objectContaining({ isGroup: false, members: [{ id: '29:dave', name: '' }], tenantId: TENANT }),
      expect.objectContaining({ isGroup: true, channelData: expect.objectContaining({ channel: { id: PAYMENTS_CHANNEL } }) as unknown }),
    ]));
    expect(rig.connector.posts().filter((c) => /^<at>Dave<\/at> New incident #1/.test(String(c.body.text)))).toHaveLength(1);
  });

  it('waits when Teams will not open the chat (app not installed for them), then delivers once they open Onehand', async () => {
    rig = await TeamsRig.start({ tenant: true });
    rig.connector.refusesChatWith.add('29:dave');
    await rig.h.run('zed', 'incident report sev2 checkout returns 502');
    await rig.flush();
    expect(rig.connector.calls.some((c) => c.status === 403)).toBe(true);
    expect(rig.connector.posts().filter((c) => /^<at>Dave<\/at> New incident #1/.test(String(c.body.text)))).toEqual([]);
    expect(teams(rig).health?.()).toEqual({ ok: true, detail: '1 member not reachable yet (dave)' });

    await rig.h.advance('3m');
    rig.connector.refusesChatWith.clear();
    await rig.post(rig.personalMessage(USERS.dave, 'oncall who'));
    await rig.flush();
    expect(rig.connector.sentTo(DAVE_CHAT).filter((c) => /^<at>Dave<\/at> New incident #1/.test(String(c.body.text)))).toHaveLength(1);
    expect(teams(rig).health?.()).toEqual({ ok: true });
  });
});
