/**
 * TeamsAdapter: Microsoft Teams behind the ChatAdapter port, on botbuilder's CloudAdapter and
 * TeamsActivityHandler. It serves POST /api/messages on Onehand's HTTP server, turns messages and
 * Adaptive Card actions into command text, and delivers what the core addressed: a member in their
 * 1:1 chat (creating it when needed), a team in its channel. Cards posted about an incident are
 * updated in place when the incident changes; news to a person (acknowledged, resolved,
 * reassigned, a reporter's note) also posts a short card, since updates notify nobody. botbuilder stays inside this folder, so switching to
 * its successor (the Microsoft 365 Agents SDK) touches nothing else.
 *
 * Delivery: a member with no chat that cannot be opened yet is `waiting` (reachable() once they
 * write or the tenant is known); cards are cut to Teams' size limit (cards.ts) and a 413 is
 * undeliverable; sends honour the delivery's abort signal. Inbound: each command carries the
 * activity id (replays run once); a reply the connector refuses in the turn goes through the outbox.
 */
import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TeamsActivityHandler,
  TurnContext,
  type Activity,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type ChannelAccount,
  type ConversationParameters,
  type ConversationReference,
  type Request as BotRequest,
  type Response as BotResponse,
} from 'botbuilder';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../src/core/incident/types';
import type { Message } from '../../src/core/messages/message';
import type { MemberId, TeamId, World } from '../../src/core/model';
import { rt, user } from '../../src/core/text/rich-text';
import type { HttpRequest, HttpResponse, HttpServer } from '../../src/http/server';
import type { AdapterContext, ChatAdapter, Delivery, DeliveryOutcome } from '../../src/ports/chat-adapter';
import type { Logger } from '../../src/ports/logger';
import type { Recipient } from '../../src/ports/store';
import { CARD_CONTENT_TYPE, helpCard, noticeCard, renderMessage, type AdaptiveCard, type TeamsRendering } from './cards';
import { editKey, editsEarlier, newsNotice, remembers } from '../shared/edits';
import { commandText } from './escape';

export const TEAMS = 'teams';
const MSTEAMS = 'msteams';
/** The OAuth scope of the public Bot Framework cloud (outbound calls to the connector). */
const CONNECTOR_AUDIENCE = 'https://api.botframework.com';
const VERB_COMMANDS: Record<string, string> = { ack: 'incident ack', resolve: 'incident resolve', escalate: 'incident escalate' };
const JWT = /^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** TeamsCredentials come from the environment only and are never logged. */
export interface TeamsCredentials {
  readonly appId: string;
  readonly password: string;
  readonly appType: 'MultiTenant' | 'SingleTenant';
  readonly tenantId: string;
}

export interface TeamsAdapterOptions {
  readonly world: World;
  readonly logger: Logger;
  readonly http: HttpServer;
  /** null: no authentication (local development and tests), app id ''. */
  readonly credentials: TeamsCredentials | null;
  /** How long token validation may take before the request is refused with 401 (default 10 s). */
  readonly authTimeoutMs?: number;
  /** Where the Bot Framework's signing keys are published (default: the public cloud's). */
  readonly openIdMetadataUrl?: string;
  /** How long the reply to a command may take in its turn before it goes through the outbox (default 10 s). */
  readonly replyTimeoutMs?: number;
  /**
   * `microsoft_teams:` in the config: the tenant and Bot Connector URL, so Onehand can open a 1:1
   * chat with a member who never wrote to it before any activity taught it these (null: learn them).
   */
  readonly tenant?: { readonly tenantId: string; readonly serviceUrl: string } | null;
}

/** What the adapter keeps to edit a card it posted: where, and the activity id. */
interface PostedCard {
  readonly ref: Partial<ConversationReference>;
  readonly activityId: string;
}

/** Tenant facts from any activity seen: enough to create a conversation nobody has started yet. */
interface TenantInfo {
  readonly serviceUrl: string;
  readonly tenantId: string | null;
  readonly bot: ChannelAccount;
}

class DeliveryRefused extends Error {}
/** NotYetReachable: Teams cannot reach the recipient yet, but will (DeliveryOutcome `waiting`). */
class NotYetReachable extends Error {}

/** The fix for a member Onehand cannot reach on Teams yet, as logs and timelines say it. */
const REACH_FIX = 'ask them to open a chat with Onehand in Teams once (or install the app for them), or set microsoft_teams.tenant_id and service_url in the config so Onehand opens the chat itself';

export class TeamsAdapter implements ChatAdapter {
  readonly name = TEAMS;
  private readonly cloud: CloudAdapter;
  private readonly handler: TeamsActivityHandler;
  private readonly appId: string;
  private context: AdapterContext | null = null;
  /** The connector refuses the bot's credentials (401): nothing goes out to anyone; /healthz fails. */
  private authFailure: string | null = null;
  /**
   * The last call's transient failure (429, 5xx, unreachable), until a call succeeds: shown, not a
   * failed probe. One throttled call is not a platform down: the delivery worker's count
   * (delivery.fallback_after failures in a row) decides that.
   */
  private lastFailure: string | null = null;
  /** Members with a Teams id whom Onehand cannot reach yet (no chat known, none can be opened). */
  private readonly unreachable = new Set<MemberId>();

  constructor(private readonly options: TeamsAdapterOptions) {
    const c = options.credentials;
    this.appId = c?.appId ?? '';
    const auth = new ConfigurationBotFrameworkAuthentication(
      c
        ? {
          MicrosoftAppId: c.appId, MicrosoftAppPassword: c.password, MicrosoftAppType: c.appType, MicrosoftAppTenantId: c.tenantId,
          // Overriding one endpoint makes botbuilder take every endpoint from config: keep the issuer.
          ...(options.openIdMetadataUrl ? { ToBotFromChannelOpenIdMetadataUrl: options.openIdMetadataUrl, ToBotFromChannelTokenIssuer: 'https://api.botframework.com' } : {}),
        }
        : {},
    );
    this.cloud = new CloudAdapter(auth);
    this.cloud.onTurnError = async (_context, error) => {
      options.logger.error('teams turn failed', { error: error.message });
      throw error;
    };
    this.handler = new CardActionHandler((ctx, value) => this.onCardAction(ctx, value));
    this.handler.onConversationUpdate(async (ctx, next) => {
      await this.remember(ctx.activity);
      await next();
    });
    this.handler.onMessage(async (ctx, next) => {
      await this.onMessage(ctx);
      await next();
    });
    options.http.route('POST', '/api/messages', (req) => this.handleHttp(req));
  }

  canReach(recipient: Recipient): boolean {
    if (recipient.kind === 'guest') return recipient.adapter === TEAMS;
    if (recipient.kind === 'member') return this.teamsIdOf(recipient.id) !== null;
    return this.options.world.teams.get(recipient.team)?.channels[TEAMS] !== undefined;
  }

  async start(context: AdapterContext): Promise<void> {
    this.context = context;
    this.unreachable.clear();
    if (await this.tenant()) return; // any member's chat can be opened on demand
    for (const m of this.options.world.members.values()) {
      const teamsId = m.identities[TEAMS];
      if (teamsId !== undefined && !(await context.kv.get(`ref:user:${teamsId}`))) this.unreachable.add(m.id);
    }
    if (this.unreachable.size > 0) {
      this.options.logger.warn('teams members not reachable yet: their pages wait, and go to the team channel meanwhile', {
        members: [...this.unreachable].join(', '), fix: REACH_FIX,
      });
    }
  }

  async stop(): Promise<void> {
    this.context = null;
  }

  /**
   * health: failing while the connector refuses the bot's credentials; degraded (shown, ok) while
   * its last call failed otherwise; else ok, naming members not reachable yet.
   */
  health(): { ok: boolean; detail?: string; degraded?: boolean } {
    if (this.authFailure) return { ok: false, detail: this.authFailure };
    const n = this.unreachable.size;
    const waiting = n === 0 ? null : `${n} member${n === 1 ? '' : 's'} not reachable yet (${[...this.unreachable].join(', ')})`;
    if (this.lastFailure) {
      return { ok: true, degraded: true, detail: `the last call failed (${this.lastFailure}); retried, and failing once delivery.fallback_after calls in a row fail${waiting ? `; ${waiting}` : ''}` };
    }
    return waiting ? { ok: true, detail: waiting } : { ok: true };
  }

  // ---- inbound -------------------------------------------------------------------------------

  /** handleHttp: POST /api/messages. Authentication happens in botbuilder, before any Onehand code. */
  private async handleHttp(req: HttpRequest): Promise<HttpResponse> {
    if (!this.context) return { status: 503, body: { error: 'Onehand is starting' } };
    const authHeader = String(req.headers.authorization ?? '');
    // Without a well-formed bearer token there is nothing to verify: refuse before botbuilder looks
    // for signing keys on the network.
    if (this.options.credentials && !JWT.test(authHeader)) return { status: 401, body: { error: 'a Bot Framework token is required' } };
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'the body is not JSON' } };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { status: 400, body: { error: 'the body is not an activity' } };

    const res = new ResponseShim();
    let abandoned = false;
    const processing = this.cloud.process({ method: 'POST', headers: req.headers, body } as unknown as BotRequest, res as unknown as BotResponse, async (ctx) => {
      res.turnStarted = true;
      if (abandoned) throw new Error('request abandoned: token check took too long');
      await this.handler.run(ctx);
    });
    if (this.options.credentials) {
      // Token validation may need Microsoft's signing keys; if they cannot be fetched in time the
      // request is refused (401) rather than left hanging, and the turn never starts afterwards.
      const timeoutMs = this.options.authTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([processing.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (first === 'timeout' && !res.turnStarted && !res.ended) {
        abandoned = true;
        processing.catch(() => undefined);
        return { status: 401, body: { error: 'the Bot Framework token could not be verified' } };
      }
    }
    await processing;
    // botbuilder answers 401 for a bad token, and 500 when it could not check one (e.g. Microsoft's
    // signing keys are unreachable); either way no turn ran, and the caller learns nothing more.
    if (res.statusCode === 401 || (this.options.credentials && !res.turnStarted && res.statusCode >= 500)) {
      this.options.logger.warn('teams request refused', { reason: 'Bot Framework token missing, invalid, or not verifiable' });
      return { status: 401, body: { error: 'the Bot Framework token is not valid' } };
    }
    if (res.statusCode >= 500) return { status: res.statusCode, body: { error: 'the Teams turn failed; see the Onehand log' } };
    return { status: res.statusCode, ...(res.body !== undefined ? { body: res.body } : {}) };
  }

  private async onMessage(ctx: TurnContext): Promise<void> {
    const context = this.requireContext();
    const activity = ctx.activity;
    await this.remember(activity);
    const botMentions = (activity.entities ?? [])
      .filter((e) => e.type === 'mention' && (e as { mentioned?: { id?: string } }).mentioned?.id === activity.recipient?.id)
      .map((e) => String((e as { text?: string }).text ?? ''))
      .filter((t) => t !== '');
    const text = commandText(activity.text ?? '', botMentions) || 'help';
    const caller = this.callerOf(activity);
    const id = inboundId(activity);
    const reply = await context.onCommand({ text, caller, team: this.teamOf(activity), ...id });
    const card = /^help\s*$/i.test(text) ? { card: helpCard(this.context?.commands), entities: [], summary: 'Onehand commands' } : this.render(reply, [activity.from?.id ?? '']);
    try {
      // Teams gives up on a request after about 15 s (and sends it again): answer well before.
      await abortable(ctx.sendActivity(toActivity(card)), AbortSignal.timeout(this.options.replyTimeoutMs ?? 10_000));
    } catch (err) {
      // The command has run (and committed): its answer must not be lost with the turn, nor the
      // request fail (Teams would send it again). The outbox delivers it to the caller instead.
      if (!context.replyLater) throw err;
      this.options.logger.warn('teams reply not sent in its turn; it goes through the outbox', { status: statusOf(err), error: firstLine(err) });
      await context.replyLater(recipientOf(caller), reply, id.id ?? `${TEAMS}:${activity.conversation?.id ?? ''}:${randomUUID()}`);
    }
  }

  /** onCardAction: an Action.Execute from a card. The answer is the card as the caller should now see it. */
  private async onCardAction(ctx: TurnContext, value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const context = this.requireContext();
    await this.remember(ctx.activity);
    const caller = this.callerOf(ctx.activity);
    const viewerIds = [ctx.activity.from?.id ?? ''];
    const verb = String(value.action?.verb ?? '');
    const data = (value.action?.data ?? {}) as { incidentId?: unknown };
    const id = Number(data.incidentId);
    const answer = (card: AdaptiveCard): AdaptiveCardInvokeResponse => ({ statusCode: 200, type: CARD_CONTENT_TYPE, value: card as unknown as Record<string, unknown> });
    if (!Number.isInteger(id) || id <= 0) return answer(noticeCard(rt`This card names no incident.`, true));
    let notice: { text: Message['headline']; refused: boolean } | undefined;
    if (verb !== 'refresh') {
      const command = VERB_COMMANDS[verb];
      if (!command) return answer(noticeCard(rt`Unknown action ${verb}.`, true));
      const reply = await context.onCommand({ text: `${command} ${id}`, caller, team: this.teamOf(ctx.activity), ...inboundId(ctx.activity) });
      notice = { text: reply.headline, refused: reply.private === true };
    }
    const view = await context.incidentFor(id, caller);
    if (!view) return answer(noticeCard(rt`There is no incident #${user(String(id))}.`, true));
    return answer(this.render(view, viewerIds, notice).card);
  }

  /** remember stores where this activity came from, so Onehand can write there later. */
  private async remember(activity: Activity): Promise<void> {
    const context = this.requireContext();
    const ref = { ...TurnContext.getConversationReference(activity), activityId: undefined };
    const channelData = (activity.channelData ?? {}) as { tenant?: { id?: string }; channel?: { id?: string }; team?: { id?: string } };
    const tenantId = activity.conversation?.tenantId ?? channelData.tenant?.id ?? null;
    const from = activity.from;
    const kind = activity.conversation?.conversationType;
    // What becomes reachable now; told to the delivery worker once the facts are stored.
    const reachable: Recipient[] = [];
    if (activity.serviceUrl && activity.recipient) {
      const tenant: TenantInfo = { serviceUrl: activity.serviceUrl, tenantId, bot: { id: activity.recipient.id, name: activity.recipient.name } };
      const before = (await context.kv.get('tenant')) as TenantInfo | undefined;
      // Compared field by field: PostgreSQL's jsonb gives the keys back in its own order.
      if (!before || before.serviceUrl !== tenant.serviceUrl || before.tenantId !== tenant.tenantId || before.bot?.id !== tenant.bot.id || before.bot?.name !== tenant.bot.name) {
        await context.kv.set('tenant', tenant);
      }
      // The first tenant known: Onehand can now open a chat with anyone, and post to any channel.
      if (!before && !this.options.tenant) reachable.push(...this.everyoneOnTeams());
    }
    if (from?.aadObjectId && from.id) await context.kv.set(`mri:${from.aadObjectId}`, from.id);
    if (kind === 'personal' && from?.id) {
      const known = await context.kv.get(`ref:user:${from.id}`);
      await context.kv.set(`ref:user:${from.id}`, ref);
      if (from.aadObjectId) await context.kv.set(`ref:user:${from.aadObjectId}`, ref);
      if (!known) reachable.push(recipientOf(this.callerOf(activity)));
    } else if (kind === 'channel' && activity.conversation) {
      const base = baseConversationId(activity.conversation.id);
      const channelRef = { ...ref, conversation: { ...activity.conversation, id: base } };
      for (const key of new Set([channelData.channel?.id, channelData.team?.id, base])) {
        if (!key) continue;
        const known = await context.kv.get(`ref:channel:${key}`);
        await context.kv.set(`ref:channel:${key}`, channelRef);
        if (!known) reachable.push(...this.teamsWithChannel(key));
      }
    }
    for (const r of reachable) {
      if (r.kind === 'member') this.unreachable.delete(r.id);
      await context.reachable(r);
    }
  }

  /** everyoneOnTeams: every member with a Teams id and every team with a Teams channel. */
  private everyoneOnTeams(): Recipient[] {
    const out: Recipient[] = [];
    for (const m of this.options.world.members.values()) if (m.identities[TEAMS] !== undefined) out.push({ kind: 'member', id: m.id });
    for (const t of this.options.world.teams.values()) if (t.channels[TEAMS] !== undefined) out.push({ kind: 'channel', team: t.id });
    return out;
  }

  private teamsWithChannel(channelId: string): Recipient[] {
    return [...this.options.world.teams.values()].filter((t) => t.channels[TEAMS] === channelId).map((t) => ({ kind: 'channel' as const, team: t.id }));
  }

  private callerOf(activity: Activity): Principal {
    const from = activity.from;
    const ids = [from?.aadObjectId, from?.id].filter((x): x is string => typeof x === 'string' && x !== '');
    for (const m of this.options.world.members.values()) {
      const teamsId = m.identities[TEAMS];
      if (teamsId !== undefined && ids.includes(teamsId)) return { kind: 'member', id: m.id };
    }
    return { kind: 'guest', adapter: TEAMS, address: from?.id ?? 'unknown', name: from?.name ?? 'someone' };
  }

  private teamOf(activity: Activity): TeamId | undefined {
    const channelData = (activity.channelData ?? {}) as { channel?: { id?: string } };
    const candidates = [channelData.channel?.id, activity.conversation ? baseConversationId(activity.conversation.id) : undefined];
    for (const team of this.options.world.teams.values()) {
      const channel = team.channels[TEAMS];
      if (channel !== undefined && candidates.includes(channel)) return team.id;
    }
    return undefined;
  }

  // ---- outbound ------------------------------------------------------------------------------

  /**
   * deliver posts (or edits) the message. Its connector calls honour `delivery.signal`: when the
   * worker's per-call timeout aborts it, the HTTP request is cancelled (botbuilder's own retries
   * included) and deliver rejects, so a connector that never answers cannot hold the worker.
   */
  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    const { recipient, message, incidentId, signal } = delivery;
    const refresh = message.incident ? await this.refreshIdsFor(recipient) : [];
    const activity = toActivity(this.render(message, refresh));
    // Update rather than post again where the shared rule says so (adapters/shared/edits.ts).
    const postKey = editKey(recipient, message, incidentId);
    try {
      if (postKey && editsEarlier(message)) {
        const previous = (await this.requireContext().kv.get(postKey)) as PostedCard | null | undefined;
        if (previous && (await this.update(previous, activity, signal))) {
          // An edit notifies nobody: news also goes out as a short new message.
          const notice = newsNotice(recipient, message);
          if (notice) await this.post(recipient, toActivity(this.render(notice, [])), signal);
          return this.delivered();
        }
      }
      const posted = await this.post(recipient, activity, signal);
      // Where it went, to update it later: kept with the delivery's mark (one transaction, not two).
      return this.delivered(postKey && posted && remembers(recipient, message) ? { key: postKey, value: posted } : undefined);
    } catch (err) {
      if (err instanceof DeliveryRefused) return { status: 'undeliverable', reason: err.message };
      if (err instanceof NotYetReachable) {
        if (recipient.kind === 'member') this.unreachable.add(recipient.id);
        return { status: 'waiting', reason: err.message };
      }
      const status = statusOf(err);
      if (status === 401) {
        // The connector refuses the bot's own credentials: nothing goes out, to anyone, until they
        // are fixed. Unavailable: retried, and pages go down the fallback ladder meanwhile.
        const reason = 'Teams refuses the bot\'s credentials (HTTP 401): check MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (and MICROSOFT_APP_TENANT_ID for SingleTenant), then restart';
        if (this.authFailure !== reason) this.options.logger.error('teams authentication failed; pages go to other platforms and team channels', { fix: reason });
        this.authFailure = reason;
        return { status: 'unavailable', reason };
      }
      if (status === 403 || status === 404) return { status: 'undeliverable', reason: `Teams refused the message (HTTP ${status})` };
      // Rendering keeps messages under Teams' size limit; if Teams still finds one too large, a
      // retry cannot help: give up on it so the fallback runs, instead of retrying for a day.
      if (status === 413) return { status: 'undeliverable', reason: 'Teams refused the message as too large (HTTP 413)' };
      const reason = `Teams connector ${status === null ? 'unreachable' : `HTTP ${status}`}: ${firstLine(err)}`;
      this.lastFailure = reason;
      throw new Error(reason);
    }
  }

  private delivered(remember?: { key: string; value: PostedCard }): DeliveryOutcome {
    this.authFailure = null;
    this.lastFailure = null;
    return remember ? { status: 'delivered', remember } : { status: 'delivered' };
  }

  /** update edits a card posted earlier; false when it is gone (then a new one is posted). */
  private async update(previous: PostedCard, activity: Partial<Activity>, signal?: AbortSignal): Promise<boolean> {
    try {
      await abortable(this.cloud.continueConversationAsync(this.appId, previous.ref, async (ctx) => {
        const out = TurnContext.applyConversationReference({ ...activity, id: previous.activityId }, { ...previous.ref, activityId: undefined });
        await connectorOf(ctx, this.cloud).conversations.updateActivity(previous.ref.conversation?.id ?? '', previous.activityId, out, callOptions(signal));
      }), signal);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  /** post sends a new activity to the recipient's conversation, creating it when none is known. */
  private async post(recipient: Recipient, activity: Partial<Activity>, signal?: AbortSignal): Promise<PostedCard | null> {
    const context = this.requireContext();
    if (recipient.kind === 'channel') {
      const channelId = this.options.world.teams.get(recipient.team)?.channels[TEAMS];
      if (!channelId) throw new DeliveryRefused(`team ${recipient.team} has no Teams channel`);
      const ref = (await context.kv.get(`ref:channel:${channelId}`)) as Partial<ConversationReference> | undefined;
      if (ref) return this.sendTo(ref, activity, signal);
      return this.createChannelPost(channelId, activity, signal);
    }
    const teamsId = recipient.kind === 'member' ? this.teamsIdOf(recipient.id) : recipient.address;
    if (!teamsId) throw new DeliveryRefused('the member has no Teams id');
    const ref = (await context.kv.get(`ref:user:${teamsId}`)) as Partial<ConversationReference> | undefined;
    if (ref) return this.sendTo(ref, activity, signal);
    return this.createPersonalChat(teamsId, activity, signal);
  }

  private async sendTo(ref: Partial<ConversationReference>, activity: Partial<Activity>, signal?: AbortSignal): Promise<PostedCard | null> {
    let posted: PostedCard | null = null;
    const target = { ...ref, activityId: undefined };
    await abortable(this.cloud.continueConversationAsync(this.appId, ref, async (ctx) => {
      // Posted to the conversation (not as a reply to the reference's activity).
      const sent = await sendNew(ctx, this.cloud, target, activity, signal);
      if (sent) posted = { ref: target, activityId: sent };
    }), signal);
    return posted;
  }

  /** tenant: what Teams' activities taught Onehand, else the config's `microsoft_teams`, else null. */
  private async tenant(): Promise<TenantInfo | null> {
    const learned = (await this.requireContext().kv.get('tenant')) as TenantInfo | undefined;
    if (learned) return learned;
    const configured = this.options.tenant;
    return configured ? { serviceUrl: configured.serviceUrl, tenantId: configured.tenantId, bot: { id: `28:${this.appId}`, name: 'Onehand' } } : null;
  }

  /**
   * createPersonalChat opens the 1:1 chat with `teamsId` (an AAD object id or a Teams user id) and
   * posts the activity there. NotYetReachable when Onehand knows no tenant yet, or Teams will not
   * open the chat (the app is not installed for that person: 403/404).
   */
  private async createPersonalChat(teamsId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<PostedCard | null> {
    const tenant = await this.tenant();
    if (!tenant) throw new NotYetReachable(`they have not talked to Onehand in Teams yet, and Onehand cannot open a chat before it knows your tenant: ${REACH_FIX}`);
    const context = this.requireContext();
    let posted: PostedCard | null = null;
    let opened = false;
    const params: ConversationParameters = {
      isGroup: false, bot: tenant.bot, members: [{ id: teamsId, name: '' }],
      ...(tenant.tenantId ? { tenantId: tenant.tenantId } : {}),
      channelData: tenant.tenantId ? { tenant: { id: tenant.tenantId } } : {},
    };
    try {
      // botbuilder's createConversation takes no abort signal: the wait for it is cut instead.
      await abortable(this.cloud.createConversationAsync(this.appId, MSTEAMS, tenant.serviceUrl, CONNECTOR_AUDIENCE, params, async (ctx) => {
        opened = true;
        const ref = { ...TurnContext.getConversationReference(ctx.activity), activityId: undefined, user: { id: teamsId, name: '' } };
        await context.kv.set(`ref:user:${teamsId}`, ref);
        const sent = await sendNew(ctx, this.cloud, ref, activity, signal);
        if (sent) posted = { ref, activityId: sent };
      }), signal);
    } catch (err) {
      const status = statusOf(err);
      if (!opened && (status === 403 || status === 404)) {
        throw new NotYetReachable(`Teams would not open a chat with them (HTTP ${status}; usually the Onehand app is not installed for them): ${REACH_FIX}`);
      }
      throw err;
    }
    return posted;
  }

  /** createChannelPost starts a thread in the channel with the activity (Teams' way to post to a channel first). */
  private async createChannelPost(channelId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<PostedCard | null> {
    const tenant = await this.tenant();
    if (!tenant) throw new NotYetReachable(`Onehand has not been added to the team of channel ${channelId} yet (no tenant known): add the app to the team`);
    const context = this.requireContext();
    let posted: PostedCard | null = null;
    const params: ConversationParameters = {
      isGroup: true, bot: tenant.bot, activity: activity as Activity,
      ...(tenant.tenantId ? { tenantId: tenant.tenantId } : {}),
      channelData: { channel: { id: channelId }, ...(tenant.tenantId ? { tenant: { id: tenant.tenantId } } : {}) },
    };
    await abortable(this.cloud.createConversationAsync(this.appId, MSTEAMS, tenant.serviceUrl, CONNECTOR_AUDIENCE, params, async (ctx) => {
      const threadId = ctx.activity.conversation.id;
      const base = { ...TurnContext.getConversationReference(ctx.activity), activityId: undefined };
      await context.kv.set(`ref:channel:${channelId}`, { ...base, conversation: { ...base.conversation, id: channelId, isGroup: true, conversationType: 'channel' } });
      const activityId = /;messageid=(.+)$/.exec(threadId)?.[1];
      if (activityId) posted = { ref: base, activityId };
    }), signal);
    return posted;
  }

  // ---- helpers -------------------------------------------------------------------------------

  private render(message: Message, refreshUserIds: readonly string[], notice?: { text: Message['headline']; refused: boolean }): TeamsRendering {
    return renderMessage(message, { teamsIdOf: (m) => this.teamsIdOf(m), refreshUserIds: refreshUserIds.filter((x) => x !== ''), ...(notice ? { notice } : {}) });
  }

  private teamsIdOf(member: MemberId): string | null {
    return this.options.world.members.get(member)?.identities[TEAMS] ?? null;
  }

  /** refreshIdsFor: whose Teams clients refresh this card by themselves (as Teams user ids when known). */
  private async refreshIdsFor(recipient: Recipient): Promise<string[]> {
    const world = this.options.world;
    let members: MemberId[] = [];
    if (recipient.kind === 'guest') return [recipient.address];
    if (recipient.kind === 'member') members = [recipient.id];
    else {
      const team = world.teams.get(recipient.team);
      members = team ? [...team.members, team.lead] : [];
    }
    const out: string[] = [];
    for (const m of new Set(members)) {
      const id = this.teamsIdOf(m);
      if (id === null) continue;
      const mri = (await this.requireContext().kv.get(`mri:${id}`)) as string | undefined;
      out.push(mri ?? id);
    }
    return out;
  }

  private requireContext(): AdapterContext {
    if (!this.context) throw new Error('the Teams adapter is not started');
    return this.context;
  }
}

/** CardActionHandler routes `adaptiveCard/action` invokes (Action.Execute) to the adapter. */
class CardActionHandler extends TeamsActivityHandler {
  constructor(private readonly onCard: (ctx: TurnContext, value: AdaptiveCardInvokeValue) => Promise<AdaptiveCardInvokeResponse>) {
    super();
  }

  protected override onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    return this.onCard(context, invokeValue);
  }
}

/** ResponseShim: the express-style response CloudAdapter.process writes to, read back afterwards. */
class ResponseShim {
  statusCode = 200;
  body: unknown = undefined;
  ended = false;
  turnStarted = false;
  readonly headers: Record<string, string> = {};
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  header(name: string, value: unknown): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }
  send(body?: unknown): this {
    this.body = body;
    return this;
  }
  end(): this {
    this.ended = true;
    return this;
  }
}

export function toActivity(r: TeamsRendering): Partial<Activity> {
  return {
    type: ActivityTypes.Message,
    ...(r.text !== undefined ? { text: r.text } : {}),
    ...(r.entities.length > 0 ? { entities: r.entities.map((e) => ({ ...e })) } : {}),
    summary: r.summary,
    attachments: [{ contentType: CARD_CONTENT_TYPE, content: r.card }],
  };
}

/**
 * inboundId: the activity as Onehand's inbound event id (absent when Teams sent no id). Teams
 * message ids are unique within a conversation, so the conversation is part of it.
 */
function inboundId(activity: Activity): { id?: string } {
  return activity.id ? { id: `${TEAMS}:${activity.conversation?.id ?? ''}:${activity.id}` } : {};
}

/** A channel thread's conversation id is "<channel>;messageid=<root>"; the channel is the part before. */
function baseConversationId(id: string): string {
  return id.split(';')[0] ?? id;
}

/** ConnectorCalls: the Bot Connector operations Onehand calls itself, to hand them an abort signal. */
interface ConnectorCalls {
  readonly conversations: {
    sendToConversation(conversationId: string, activity: Partial<Activity>, options?: { abortSignal?: AbortSignal }): Promise<{ id?: string }>;
    updateActivity(conversationId: string, activityId: string, activity: Partial<Activity>, options?: { abortSignal?: AbortSignal }): Promise<{ id?: string }>;
  };
}

/** connectorOf: the turn's connector client (botbuilder puts it in the turn state). */
function connectorOf(ctx: TurnContext, cloud: CloudAdapter): ConnectorCalls {
  const client = ctx.turnState.get(cloud.ConnectorClientKey) as ConnectorCalls | undefined;
  if (!client) throw new Error('botbuilder gave the turn no connector client');
  return client;
}

/** sendNew posts `activity` as a new message in the conversation of `ref`; returns its id. */
async function sendNew(ctx: TurnContext, cloud: CloudAdapter, ref: Partial<ConversationReference>, activity: Partial<Activity>, signal?: AbortSignal): Promise<string | null> {
  const out = TurnContext.applyConversationReference({ ...activity }, { ...ref, activityId: undefined });
  delete out.id;
  delete out.replyToId;
  const sent = await connectorOf(ctx, cloud).conversations.sendToConversation(ref.conversation?.id ?? '', out, callOptions(signal));
  return sent?.id ?? null;
}

function callOptions(signal?: AbortSignal): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

/**
 * abortable: `work`, or a rejection as soon as `signal` aborts (work botbuilder runs without a
 * signal, such as creating a conversation, goes on in the background; its result is dropped).
 */
function abortable<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  const timedOut = (): Error => new Error('the Teams connector did not answer within the delivery timeout');
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(timedOut());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(timedOut());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
}

/** recipientOf: where a caller is told things later (their 1:1 chat). */
function recipientOf(caller: Principal): Recipient {
  return caller.kind === 'member' ? { kind: 'member', id: caller.id } : { kind: 'guest', adapter: caller.adapter, address: caller.address, name: caller.name };
}

function statusOf(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { statusCode?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const v of [e.statusCode, e.status, e.response?.status]) if (typeof v === 'number') return v;
  return null;
}
