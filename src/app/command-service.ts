/**
 * CommandService is the entry point for every platform: a line of text from a caller becomes a
 * parsed command, a team, a permission check, a use case, and a reply. It never throws: bad input
 * gets a usage line, a refusal says why, and an unexpected failure is logged and answered politely
 * (the transaction rolled back, so nothing half-happened).
 */
import { inject, injectable } from 'inversify';
import { randomUUID } from 'node:crypto';
import { helpFor, helpOverview } from '../core/commands/help';
import { parseCommand, type ParsedCommand } from '../core/commands/parser';
import { closestName } from '../config/problems';
import { COMMANDS, commandName, type CommandSpec } from '../core/commands/spec';
import { checkPermission, isTeamMember } from '../core/incident/permissions';
import type { Incident, Principal, Severity } from '../core/incident/types';
import { message, type Message } from '../core/messages/message';
import { teamsOf, type EscalationTarget, type Team, type World } from '../core/model';
import { rt } from '../core/text/rich-text';
import { storableText } from '../core/text/storable';
import { parseEndArg, parseInstantArg } from '../core/time/instant';
import type { InboundCommand } from '../ports/chat-adapter';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { Refusal, type UseCaseContext } from './context';
import { Engine } from './engine';
import { IncidentService } from './incident-service';
import { InsightsService } from './insights-service';
import { samePrincipal } from './notifications';
import { OncallService } from './oncall-service';
import { PluginHost } from './plugin-host';
import { PolicyBook } from './policies';
import { onCallNow } from './rotation-reader';
import { TOKENS } from './tokens';

/** How long an inbound event id is remembered: platforms redeliver within minutes, not days. */
export const INBOUND_MEMORY_HOURS = 24;
const PRUNE_EVERY_MS = 3600_000;

/** Replayed: the inbound event was handled already (by this or another replica); roll back, answer `reply`. */
class Replayed extends Error {
  constructor(readonly reply: Message) {
    super('inbound event handled already');
  }
}

@injectable()
export class CommandService {
  constructor(
    @inject(TOKENS.World) private readonly world: World,
    @inject(TOKENS.Logger) private readonly log: Logger,
    @inject(Engine) private readonly engine: Engine,
    @inject(IncidentService) private readonly incidents: IncidentService,
    @inject(OncallService) private readonly oncall: OncallService,
    @inject(PluginHost) private readonly plugins: PluginHost,
    @inject(InsightsService) private readonly insights: InsightsService,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(PolicyBook) private readonly policies: PolicyBook,
  ) {
    this.commands = [...COMMANDS, ...plugins.commands().map((c) => c.spec)];
  }

  /** commands: the whole grammar, the core's commands and those plugins add. */
  readonly commands: readonly CommandSpec[];

  /** Replies already remembered in their use case's transaction (so `handle` does not write them again). */
  private readonly remembered = new WeakSet<Message>();
  private lastPrune = 0;

  /**
   * handle answers one command. With `input.id` (the platform's event id) it takes effect at most
   * once: the reply is remembered in the use case's own transaction (refusals and usage errors in
   * one of their own), and a replay of the id, on any replica, gets that reply again and changes
   * nothing (its use case's transaction rolls back; see run).
   * An unexpected failure is not remembered (nothing changed, so a redelivery may try again).
   * Text no store keeps as it is (U+0000, lone surrogates) is replaced first (see storableText).
   */
  async handle(command: InboundCommand): Promise<Message> {
    const input = storableCommand(command);
    const id = input.id;
    if (id === undefined) return this.answer(input);
    let failed = false;
    const reply = await this.answer(input, () => {
      failed = true;
    }).catch((err: unknown) => {
      if (err instanceof Replayed) return err.reply;
      throw err;
    });
    if (failed || this.remembered.has(reply)) return reply;
    return (await this.engine.read((tx) => tx.rememberInbound(id, reply, this.clock.now()))) ?? reply;
  }

  private async answer(input: InboundCommand, onFailure: () => void = () => undefined): Promise<Message> {
    const parsed = parseCommand(input.text, this.commands);
    if (!parsed.ok) return refusal(parsed.usage ? `${parsed.error}\nUsage: ${parsed.usage}` : parsed.error);
    try {
      return await this.execute(parsed.command, input);
    } catch (err) {
      if (err instanceof Refusal) return refusal(err.reply);
      if (err instanceof Replayed) throw err;
      onFailure();
      const ref = randomUUID().slice(0, 8);
      this.log.error('command failed', { ref, command: parsed.command.spec.group + ' ' + parsed.command.spec.name, error: err instanceof Error ? err.stack ?? err.message : String(err) });
      return refusal(`Something went wrong and nothing was changed; the error is in Onehand's log (ref ${ref}).`);
    }
  }

  private async execute(cmd: ParsedCommand, input: InboundCommand): Promise<Message> {
    const { spec, args, options } = cmd;
    if (spec.group === 'help') {
      const topic = typeof args.command === 'string' ? args.command : '';
      const lines = topic ? helpFor(topic, this.commands) : helpOverview(this.commands);
      if (!lines) {
        // "help asign": the closest command, by its full name or its bare one ("assign").
        const names = new Map<string, string>();
        for (const c of this.commands) {
          names.set(commandName(c), commandName(c));
          if (!names.has(c.name)) names.set(c.name, commandName(c));
        }
        const close = closestName(topic.trim().toLowerCase(), names.keys());
        const hint = close === null ? '' : ` Did you mean "help ${names.get(close) ?? close}"?`;
        return refusal(`No command "${topic}".${hint} Type "help" for the list.`);
      }
      return message('reply', rt`${topic ? 'Help' : 'Onehand commands'}:`, { lines: lines.map((l) => [l]), private: true });
    }
    const id = typeof args.id === 'number' ? args.id : null;
    if (id !== null) return this.onIncident(spec, cmd, input, id);

    const team = this.teamFor(input, typeof options.team === 'string' ? options.team : undefined);
    const pluginCommand = this.plugins.command(spec);
    return this.run(input, team, async (ctx) => {
      await this.authorize(spec, ctx);
      if (pluginCommand) {
        const call = (plugin: string) => this.plugins.buildCall(plugin, ctx.tx, ctx.now, ctx.tell);
        return this.plugins.runCommand(pluginCommand.plugin, call, (c) => pluginCommand.run(args, input.caller, team, c));
      }
      switch (`${spec.group} ${spec.name}`) {
        case 'oncall who':
          return this.oncall.who(ctx);
        case 'oncall schedule':
          return this.oncall.schedule(ctx, typeof args.weeks === 'number' ? args.weeks : 4);
        case 'oncall override':
        case 'oncall away': {
          const start = parseInstantArg(String(args.from), team.timeZone, ctx.now);
          if (!start) throw new Refusal(`"${String(args.from)}" is not a date-time; write "now" or 2026-12-01T09:00 (${team.timeZone}).`);
          const end = parseEndArg(String(args.to), start, team.timeZone, ctx.now);
          if (!end) throw new Refusal(`"${String(args.to)}" is not a date-time or a length; write 2026-12-01T18:00 or 8h.`);
          const member = String(args.member);
          return spec.name === 'override' ? this.oncall.override(ctx, member, start, end) : this.oncall.away(ctx, member, start, end);
        }
        case 'oncall maintenance': {
          const end = parseEndArg(String(args.length), ctx.now, team.timeZone, ctx.now);
          if (!end) throw new Refusal(`"${String(args.length)}" is not a length or a date-time; write 2h or 2026-12-01T18:00.`);
          return this.oncall.maintenance(ctx, end, String(args.reason), {
            service: typeof options.service === 'string' ? options.service : undefined,
            integration: typeof options.integration === 'string' ? options.integration : undefined,
          });
        }
        case 'oncall stats':
          return this.insights.stats(ctx, typeof options.since === 'string' ? options.since : undefined);
        case 'oncall swap':
          return this.oncall.swap(ctx, String(args.member), String(args.other));
        case 'incident report':
          return this.incidents.report(ctx, {
            title: String(args.title),
            severity: args.severity as Severity | undefined,
            service: typeof options.service === 'string' ? options.service : undefined,
          });
        case 'incident list':
          return this.incidents.list(ctx, options.all === true);
        default:
          throw new Error(`no route for ${spec.group} ${spec.name}`);
      }
    });
  }

  private async onIncident(spec: CommandSpec, cmd: ParsedCommand, input: InboundCommand, id: number): Promise<Message> {
    const caller = input.caller;
    const found = await this.engine.read((tx) => tx.getIncident(id));
    const team = found ? this.world.teams.get(found.team) : undefined;
    if (!found || !team) return refusal(`There is no incident #${id}. "incident list" shows the open ones.`);
    return this.run(input, team, async (ctx) => {
      const incident = (await ctx.tx.getIncident(id)) as Incident;
      const isReporter = samePrincipal(caller, incident.reporter);
      // The reporter may follow and add to their own incident, even from outside the team.
      const reporterMay = isReporter && spec.reporterToo === true;
      // Whoever it is assigned to may see it, also a member of another team it was handed to.
      const assigneeMay = spec.assigneeToo === true && caller.kind === 'member' && caller.id === incident.assignee;
      if (!reporterMay && !assigneeMay) await this.authorize(spec, ctx, incident);
      const { args } = cmd;
      switch (spec.name) {
        case 'show': {
          // The action hints only for whoever may take them (a reporter or another member sees the card without).
          const card = await this.incidents.show(ctx, incident);
          return (await this.isResponder(ctx, incident)) ? card : { ...card, actions: [] };
        }
        case 'ack':
          return this.incidents.acknowledge(ctx, incident);
        case 'resolve':
          return this.incidents.resolve(ctx, incident, optionalText(args.note));
        case 'reopen':
          return this.incidents.reopen(ctx, incident, optionalText(args.reason));
        case 'note':
          return this.incidents.note(ctx, incident, String(args.text), reporterMay && !(await this.isResponder(ctx, incident)));
        case 'reply':
          return this.incidents.reply(ctx, incident, String(args.text));
        case 'escalate':
          return this.incidents.escalate(ctx, incident, args.to as EscalationTarget | undefined, { now: cmd.options.now === true });
        case 'assign': {
          const toTeam = typeof cmd.options.team === 'string' ? this.teamFor({ text: '', caller }, cmd.options.team) : undefined;
          return this.incidents.assign(ctx, incident, { member: typeof args.member === 'string' ? args.member : undefined, team: toTeam });
        }
        case 'huddle':
          return this.incidents.huddle(ctx, incident, String(args.reason));
        default:
          throw new Error(`no route for incident ${spec.name}`);
      }
    });
  }

  /**
   * run executes a command's use case in one transaction; with an inbound id, the reply is
   * remembered in that same transaction, so the event's effects and its memory commit together.
   * When the id was handled before, or another replica commits it first, everything here rolls
   * back and the first reply is the answer (Replayed).
   */
  private run(input: InboundCommand, team: Team, fn: (ctx: UseCaseContext) => Promise<Message>): Promise<Message> {
    const id = input.id;
    return this.engine.run(input.caller, team, async (ctx) => {
      if (id === undefined) return fn(ctx);
      // Whether the id was handled before is asked first and read after the use case: the question
      // goes out with the use case's first statement (PostgreSQL pipelines them) instead of in a
      // transaction of its own before it. A replay's use case runs, and everything it did rolls
      // back (what it counts is counted only after a commit: StoreTx.afterCommit).
      const earlier = ctx.tx.inboundReply(id);
      earlier.catch(() => undefined); // a failure fails the transaction; it is read below
      let reply: Message;
      try {
        reply = await fn(ctx);
      } catch (err) {
        const seen = await earlier.catch(() => null);
        if (seen) throw new Replayed(seen);
        throw err;
      }
      const seen = await earlier;
      if (seen) throw new Replayed(seen);
      const first = await ctx.tx.rememberInbound(id, reply, ctx.now);
      if (first) throw new Replayed(first);
      if (ctx.now.toMillis() - this.lastPrune >= PRUNE_EVERY_MS) {
        this.lastPrune = ctx.now.toMillis();
        await ctx.tx.pruneInbound(ctx.now.minus({ hours: INBOUND_MEMORY_HOURS }));
      }
      this.remembered.add(reply);
      return reply;
    });
  }

  private async authorize(spec: CommandSpec, ctx: UseCaseContext, incident?: Incident): Promise<void> {
    if (spec.permission === 'anyone') return;
    const onCall = (await onCallNow(this.policies, ctx.tx, ctx.team, ctx.now)).member;
    const verdict = checkPermission(spec.permission, ctx.caller, { world: this.world, team: ctx.team, onCall, incident });
    if (!verdict.ok) throw new Refusal(verdict.reason);
  }

  private async isResponder(ctx: UseCaseContext, incident: Incident): Promise<boolean> {
    const onCall = (await onCallNow(this.policies, ctx.tx, ctx.team, ctx.now)).member;
    return checkPermission('responder', ctx.caller, { world: this.world, team: ctx.team, onCall, incident }).ok;
  }

  /** teamFor: --team, else the channel's team, else the caller's only team, else the default team. */
  private teamFor(input: InboundCommand, named: string | undefined): Team {
    if (named !== undefined) {
      const team = this.world.teams.get(named.toLowerCase());
      if (!team) throw new Refusal(`There is no team "${named}"; teams: ${[...this.world.teams.keys()].join(', ')}.`);
      return team;
    }
    if (input.team) {
      const team = this.world.teams.get(input.team);
      if (team) return team;
    }
    if (input.caller.kind === 'member') {
      const mine = teamsOf(this.world, input.caller.id);
      if (mine.length === 1) return mine[0] as Team;
    }
    return this.defaultTeam();
  }

  private defaultTeam(): Team {
    return this.world.teams.get(this.world.defaultTeam) ?? ([...this.world.teams.values()][0] as Team);
  }

  /**
   * incidentFor: the incident card as `viewer` should see it: the actions only if they may take
   * them (Teams refreshes cards per viewer with this). Null when there is no such incident.
   */
  async incidentFor(id: number, viewer: Principal): Promise<Message | null> {
    const found = await this.engine.read((tx) => tx.getIncident(id));
    const team = found ? this.world.teams.get(found.team) : undefined;
    if (!found || !team) return null;
    return this.engine.run(viewer, team, async (ctx) => {
      const card = await this.incidents.show(ctx, found);
      const onCall = (await onCallNow(this.policies, ctx.tx, team, ctx.now)).member;
      const may = checkPermission('responder', viewer, { world: this.world, team, onCall, incident: found }).ok;
      return { ...card, actions: may ? card.actions : [] };
    });
  }

  /** openIncidents: unresolved incidents, newest first, for pickers such as autocomplete. */
  async openIncidents(team?: string): Promise<Array<{ id: number; team: string; title: string; severity: string; state: string }>> {
    const list = await this.engine.read((tx) => tx.listIncidents({ team, states: ['open', 'acknowledged'], limit: 25 }));
    return list.map((i) => ({ id: i.id, team: i.team, title: i.title, severity: i.severity, state: i.state }));
  }

  /** isMemberOf is used by adapters to decide whether to offer team-only affordances. */
  isMemberOf(caller: Principal, team: Team): boolean {
    return caller.kind === 'member' && isTeamMember(team, caller.id);
  }
}


function refusal(text: string): Message {
  const [first, ...rest] = text.split('\n');
  // Refusals may quote what the caller typed, so every line is user text: renderers escape it.
  return message('reply', [{ t: 'user', v: first ?? '' }], { lines: rest.map((l) => [{ t: 'user', v: l }]), private: true });
}

function optionalText(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** storableCommand: `command` with its text and a guest's name and address storable (the same object when they are). */
function storableCommand(command: InboundCommand): InboundCommand {
  const text = storableText(command.text);
  const { caller } = command;
  if (caller.kind === 'member') return text === command.text ? command : { ...command, text };
  const name = storableText(caller.name);
  const address = storableText(caller.address);
  if (text === command.text && name === caller.name && address === caller.address) return command;
  return { ...command, text, caller: { ...caller, name, address } };
}
