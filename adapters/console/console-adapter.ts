/**
 * ConsoleAdapter: the embedded platform. Alone (no chat platform runs), every member, team channel
 * and console guest is reachable; a delivery is printed with its recipient and kind, as text or as
 * one JSON object per line. Beside a chat platform (`--console`) it is where commands are typed,
 * not a way to reach anyone: a page printed on a terminal nobody watches must not count as
 * reaching Dave (his page would skip the fallback ladder), so only its own guests are reachable.
 */
import type { Message } from '../../src/core/messages/message';
import type { World } from '../../src/core/model';
import type { AdapterContext, ChatAdapter, Delivery, DeliveryOutcome } from '../../src/ports/chat-adapter';
import type { Clock } from '../../src/ports/clock';
import type { Recipient } from '../../src/ports/store';
import { renderText } from './render';

export const CONSOLE = 'console';

export interface ConsoleLine {
  readonly to: string;
  readonly kind: 'direct' | 'channel';
  readonly text: string;
  readonly incident?: number;
  readonly reply?: true;
  readonly at: string;
}

export class ConsoleAdapter implements ChatAdapter {
  readonly name = CONSOLE;

  constructor(
    private readonly world: World,
    private readonly clock: Clock,
    private readonly json: boolean,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text + '\n'),
    /** False beside a chat platform: members and team channels are reached there, not here. */
    private readonly reachesMembers = true,
    /** Alone and headless (no chat credentials, no console input): its pages reach no person. */
    private readonly headless = false,
  ) {}

  /**
   * health: headless with no chat platform (`docker run -d` with a forgotten DISCORD_TOKEN), every
   * page is a line on standard output that pages nobody: /healthz says so (degraded), instead of
   * a green probe over a bot that reaches no one.
   */
  health(): { ok: boolean; degraded?: boolean; lasting?: boolean; detail?: string } {
    if (!this.headless || !this.reachesMembers) return { ok: true };
    return { ok: true, degraded: true, lasting: true, detail: 'no chat platform runs, and nobody reads this console: pages are only printed on standard output, where they page nobody; configure Discord (its token, application and guild ids) or Teams (MICROSOFT_APP_ID): the log at start says what is missing' };
  }

  canReach(recipient: Recipient): boolean {
    if (recipient.kind === 'guest') return recipient.adapter === CONSOLE;
    if (!this.reachesMembers) return false;
    if (recipient.kind === 'member') return this.world.members.has(recipient.id);
    return this.world.teams.has(recipient.team);
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    this.print(this.addressOf(delivery.recipient), delivery.recipient.kind === 'channel' ? 'channel' : 'direct', delivery.message, false);
    return { status: 'delivered' };
  }

  /** printReply shows the answer to a command, to the caller only. */
  printReply(to: string, message: Message): void {
    this.print(to, 'direct', message, true);
  }

  async start(_context: AdapterContext): Promise<void> {
    // Input is read by ConsoleSession, which also handles the simulation lines ("as", "advance").
  }

  async stop(): Promise<void> {}

  private print(to: string, kind: 'direct' | 'channel', message: Message, reply: boolean): void {
    const text = renderText(message);
    if (this.json) {
      const line: ConsoleLine = {
        to, kind, text,
        ...(message.incident ? { incident: message.incident.id } : {}),
        ...(reply ? { reply: true as const } : {}),
        at: this.clock.now().toISO() as string,
      };
      this.write(JSON.stringify(line));
    } else {
      const label = reply ? `reply → ${to}` : `${kind} → ${to}`;
      this.write(`[${this.clock.now().toFormat("yyyy-LL-dd HH:mm'Z'")}] [${label}] ${text}`);
    }
  }

  private addressOf(r: Recipient): string {
    if (r.kind === 'member') return r.id;
    if (r.kind === 'guest') return r.address;
    return this.world.teams.get(r.team)?.channels[CONSOLE] ?? `#${r.team}`;
  }
}
