/**
 * Replayed interactions: the same signed interaction posted twice to the HTTP endpoint (a proxy
 * retrying, or someone replaying a captured request) runs once and gets the first answer again.
 */
import * as crypto from 'node:crypto';
import { registerInteractionsEndpoint } from '../../adapters/discord/interactions-http';
import { HttpServer } from '../../src/http/server';
import { MemoryLogger } from '../../src/runtime/logger';
import { CHANNELS, startDiscordWorld, USERS, type DiscordWorld } from './setup';
import { reportData } from './helpers';

describe('Discord HTTP interactions replayed', () => {
  let w: DiscordWorld;
  let http: HttpServer;
  afterEach(async () => {
    await http.close();
    await w.stop();
  });

  async function endpoint(): Promise<(payload: string) => Promise<{ status: number; body: { type: number; data?: { content?: string; flags?: number } } }>> {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
    http = new HttpServer(new MemoryLogger());
    registerInteractionsEndpoint(http, hex, w.adapter(), new MemoryLogger());
    const port = await http.listen(0, '127.0.0.1');
    return async (payload) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const signature = crypto.sign(null, Buffer.from(ts + payload), privateKey).toString('hex');
      const res = await fetch(`http://127.0.0.1:${port}/discord/interactions`, {
        method: 'POST', body: payload, headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': ts },
      });
      return { status: res.status, body: (await res.json()) as { type: number; data?: { content?: string } } };
    };
  }

  it('opens one incident for a report sent twice, and answers the replay with the first reply', async () => {
    w = await startDiscordWorld();
    const post = await endpoint();
    const report = JSON.stringify({
      id: '1250000000000000001', type: 2, token: 'tok-report', application_id: '1', channel_id: CHANNELS.payments,
      member: { user: { id: USERS.alice.id, username: 'alice' } }, data: reportData('checkout down', { severity: 'sev2' }),
    });
    const first = await post(report);
    const again = await post(report);
    expect(first.status).toBe(200);
    expect(first.body.data?.content).toMatch(/^Reported #1 \[sev2\] checkout down/);
    expect(again).toEqual(first);

    const list = await w.h.run('carol', 'incident list --all');
    expect(list).toMatch(/#1/);
    expect(list).not.toMatch(/#2/);
    await w.flush();
    // One page to the on-call (dave), not two.
    const dm = w.fake.dmChannelOf(USERS.dave.id);
    expect(w.fake.callsTo('POST', new RegExp(`^/channels/${dm}/messages$`))).toHaveLength(1);

    // A new interaction (new id) with the same words is a new report.
    const second = await post(report.replace('1250000000000000001', '1250000000000000002'));
    expect(second.body.data?.content).toMatch(/^Reported #2 /);
  });

  it('acknowledges once for a button press sent twice; the replay gets the same "You acknowledged" card', async () => {
    w = await startDiscordWorld();
    const post = await endpoint();
    await w.h.run('zed', 'incident report sev2 checkout down');
    const press = JSON.stringify({
      id: '1250000000000000009', type: 3, token: 'tok-ack', application_id: '1', channel_id: CHANNELS.payments,
      member: { user: { id: USERS.dave.id, username: 'dave' } }, message: { id: '1' }, data: { custom_id: 'onehand:ack:1', component_type: 2 },
    });
    const first = await post(press);
    const again = await post(press);
    expect(first.body.type).toBe(7);
    expect(first.body.data?.content).toMatch(/^You acknowledged #1/);
    expect(again).toEqual(first);
    const show = await w.h.run('carol', 'incident show 1');
    expect(show.match(/acknowledged by Dave/g)).toHaveLength(1);
  });
});
