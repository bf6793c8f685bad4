/**
 * TeamsRig: the real Onehand app (harness: temp SQLite, simulated clock, recording platform) with
 * the real Teams adapter on a real HttpServer, talking to a FakeConnector on loopback. Tests POST
 * Teams activity JSON to /api/messages and read what reached the connector.
 *
 * World: the harness's test world with Teams ids — dave "29:dave" (Teams user id), alice
 * "aad-alice" (an AAD object id; Teams sends it as from.aadObjectId with from.id "29:alice"),
 * carol "29:carol"; bob has none. Team payments posts to channel "19:payments@thread.tacv2".
 */
import { HttpServer } from '../../src/http/server';
import { MemoryLogger } from '../../src/runtime/logger';
import { TeamsAdapter, type TeamsCredentials } from '../../adapters/teams/adapter';
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';
import { FakeConnector } from './fake-connector';

export const PAYMENTS_CHANNEL = '19:payments@thread.tacv2';
export const GENERAL_CHANNEL = '19:general-payments@thread.tacv2';
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const BOT = { id: '28:9e8f7a6b-1234-4cde-8f00-aabbccddeeff', name: 'Onehand' };

export const TEAMS_CONFIG = TEST_CONFIG
  .replace('{ id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob }', '{ id: alice, name: Alice, time_zone: Europe/Berlin, mentor: bob, teams: "aad-alice" }')
  .replace('{ id: carol, name: Carol, time_zone: Europe/Berlin }', '{ id: carol, name: Carol, time_zone: Europe/Berlin, teams: "29:carol" }')
  .replace('{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice }', '{ id: dave, name: Dave, time_zone: Europe/London, mentor: alice, teams: "29:dave" }')
  .replace('    lead: carol\n', `    lead: carol\n    channels: { teams: "${PAYMENTS_CHANNEL}" }\n`);

export interface TeamsUser {
  readonly id: string;
  readonly name: string;
  readonly aadObjectId?: string;
}

export const USERS = {
  dave: { id: '29:dave', name: 'Dave', aadObjectId: 'aad-dave' },
  alice: { id: '29:alice', name: 'Alice', aadObjectId: 'aad-alice' },
  carol: { id: '29:carol', name: 'Carol', aadObjectId: 'aad-carol' },
  zed: { id: '29:zed', name: 'Zed Product', aadObjectId: 'aad-zed' },
} satisfies Record<string, TeamsUser>;

let seq = 1_710_000_000_000;

export class TeamsRig {
  private constructor(
    readonly h: Harness,
    readonly connector: FakeConnector,
    readonly http: HttpServer,
    readonly url: string,
    readonly logger: MemoryLogger,
  ) {}

  /** start; `tenant: true` configures microsoft_teams (TENANT, the fake connector's URL), as a deployment would. */
  static async start(options: { credentials?: TeamsCredentials; authTimeoutMs?: number; openIdMetadataUrl?: string; config?: string; tenant?: boolean; replyTimeoutMs?: number } = {}): Promise<TeamsRig> {
    const connector = await new FakeConnector().start();
    const logger = new MemoryLogger();
    const http = new HttpServer(logger);
    const h = await Harness.start({
      config: options.config ?? TEAMS_CONFIG,
      adapters: ({ config }) => [new TeamsAdapter({
        world: config.world, logger, http, credentials: options.credentials ?? null, authTimeoutMs: options.authTimeoutMs, openIdMetadataUrl: options.openIdMetadataUrl,
        tenant: options.tenant ? { tenantId: TENANT, serviceUrl: connector.url } : null, replyTimeoutMs: options.replyTimeoutMs,
      })],
    });
    const port = await http.listen(0, '127.0.0.1');
    return new TeamsRig(h, connector, http, `http://127.0.0.1:${port}/api/messages`, logger);
  }

  async stop(): Promise<void> {
    await this.http.close();
    await this.h.stop();
    await this.connector.stop();
  }

  /** post sends an activity to /api/messages as Teams would; returns the HTTP answer. */
  async post(activity: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
    const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(activity) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* plain text */
    }
    return { status: res.status, body };
  }

  /** flush delivers everything due now through the outbox. */
  flush(): Promise<void> {
    return this.h.app.scheduler.tick();
  }

  // ---- Teams activity JSON, as the service sends it --------------------------------------------

  personalMessage(from: TeamsUser, text: string): Record<string, unknown> {
    const id = String(++seq);
    return {
      type: 'message', id, timestamp: '2026-03-03T10:00:00.000Z', localTimestamp: '2026-03-03T10:00:00.000+00:00',
      serviceUrl: this.connector.url, channelId: 'msteams',
      from: { ...from }, conversation: { conversationType: 'personal', tenantId: TENANT, id: `a:personal-${from.id}` },
      recipient: { ...BOT }, textFormat: 'plain', locale: 'en-US', text,
      entities: [{ type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/London' }],
      channelData: { tenant: { id: TENANT } },
    };
  }

  channelMessage(from: TeamsUser, text: string, channel = PAYMENTS_CHANNEL): Record<string, unknown> {
    const id = String(++seq);
    return {
      type: 'message', id, timestamp: '2026-03-03T10:00:00.000Z', serviceUrl: this.connector.url, channelId: 'msteams',
      from: { ...from }, conversation: { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: `${channel};messageid=${id}` },
      recipient: { ...BOT }, textFormat: 'plain', locale: 'en-US', text: `<at>Onehand</at> ${text}`,
      entities: [
        { type: 'mention', text: '<at>Onehand</at>', mentioned: { id: BOT.id, name: 'Onehand' } },
        { type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/London' },
      ],
      channelData: { teamsChannelId: channel, teamsTeamId: GENERAL_CHANNEL, channel: { id: channel }, team: { id: GENERAL_CHANNEL }, tenant: { id: TENANT } },
    };
  }

  /** personalInstall: the conversationUpdate Teams sends when a user adds the app for themselves. */
  personalInstall(from: TeamsUser): Record<string, unknown> {
    return {
      type: 'conversationUpdate', id: `f:${++seq}`, timestamp: '2026-03-03T09:00:00.000Z', serviceUrl: this.connector.url, channelId: 'msteams',
      from: { ...from }, conversation: { conversationType: 'personal', tenantId: TENANT, id: `a:personal-${from.id}` },
      recipient: { ...BOT }, membersAdded: [{ id: BOT.id }], channelData: { tenant: { id: TENANT } },
    };
  }

  /** teamInstall: the conversationUpdate when the app is added to a team (General channel). */
  teamInstall(from: TeamsUser): Record<string, unknown> {
    return {
      type: 'conversationUpdate', id: `f:${++seq}`, timestamp: '2026-03-03T09:00:00.000Z', serviceUrl: this.connector.url, channelId: 'msteams',
      from: { ...from }, conversation: { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: GENERAL_CHANNEL },
      recipient: { ...BOT }, membersAdded: [{ id: BOT.id }],
      channelData: { team: { aadGroupId: 'f1e2d3c4-0000-4000-8000-000000000001', name: 'Payments', id: GENERAL_CHANNEL }, eventType: 'teamMemberAdded', tenant: { id: TENANT } },
    };
  }

  /** cardAction: the invoke Teams sends for an Action.Execute, from a 1:1 chat (or `conversationId`). */
  cardAction(from: TeamsUser, verb: string, data: Record<string, unknown>, conversationId = `a:personal-${from.id}`, replyToId = 'msg-1'): Record<string, unknown> {
    const channel = conversationId.startsWith('19:');
    return {
      type: 'invoke', name: 'adaptiveCard/action', id: `f:${++seq}`, timestamp: '2026-03-03T10:00:00.000Z', serviceUrl: this.connector.url, channelId: 'msteams',
      from: { ...from }, conversation: channel ? { isGroup: true, conversationType: 'channel', tenantId: TENANT, id: conversationId } : { conversationType: 'personal', tenantId: TENANT, id: conversationId },
      recipient: { ...BOT }, replyToId, locale: 'en-US',
      value: { action: { type: 'Action.Execute', title: verb, verb, data }, trigger: verb === 'refresh' ? 'automatic' : 'manual' },
      channelData: { tenant: { id: TENANT }, source: { name: 'message' }, legacy: { replyToId } },
    };
  }
}

/** cardOf: the Adaptive Card in a connector call's activity (or in the activity of a created conversation). */
export function cardOf(body: Record<string, unknown>): Record<string, unknown> {
  const activity = (body.activity as Record<string, unknown> | undefined) ?? body;
  const attachments = activity.attachments as Array<{ contentType: string; content: Record<string, unknown> }> | undefined;
  const card = attachments?.[0];
  if (!card) throw new Error(`no card in ${JSON.stringify(body).slice(0, 300)}`);
  expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
  return card.content;
}

/** cardText: every TextBlock and fact of a card, as one string, to match against. */
export function cardText(card: unknown): string {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
      if (typeof o.title === 'string' && typeof o.value === 'string') out.push(`${o.title}: ${o.value}`);
      for (const [k, v] of Object.entries(o)) if (k !== 'refresh') walk(v);
    }
  };
  walk(card);
  return out.join('\n');
}

/** actionVerbs: the Action.Execute verbs of a card's actions. */
export function actionVerbs(card: Record<string, unknown>): string[] {
  return ((card.actions as Array<{ verb: string }> | undefined) ?? []).map((a) => a.verb);
}
