/**
 * ConsoleSession reads the console's input, a line at a time, from a terminal or a pipe:
 *   as NAME           switch who is typing (a member id, or any other name: a guest reporter)
 *   advance DURATION  move a simulated clock forward, firing every timer due on the way
 *   # ...             a comment
 *   anything else     a command from the current speaker
 * After each line it waits for the deliveries the line caused, so output follows input in order.
 */
import * as readline from 'node:readline';
import type { Principal } from '../../src/core/incident/types';
import { message } from '../../src/core/messages/message';
import type { World } from '../../src/core/model';
import { parseDuration, toMillis } from '../../src/core/time/duration';
import type { InboundCommand } from '../../src/ports/chat-adapter';
import { CONSOLE, type ConsoleAdapter } from './console-adapter';

export interface SessionControl {
  handle(command: InboundCommand): Promise<import('../../src/core/messages/message').Message>;
  /** Deliver whatever is due now. */
  flush(): Promise<void>;
  /** Move the simulated clock; null when the clock is the system's. */
  advance: ((ms: number) => Promise<void>) | null;
}

export class ConsoleSession {
  private speaker: Principal;
  private reader: readline.Interface | null = null;
  private closed = false;

  constructor(
    private readonly world: World,
    private readonly adapter: ConsoleAdapter,
    private readonly control: SessionControl,
  ) {
    const first = [...world.admins][0] ?? world.teams.get(world.defaultTeam)?.lead ?? '';
    this.speaker = this.principal(first);
  }

  get currentSpeaker(): Principal {
    return this.speaker;
  }

  /** run reads lines until the input ends or close() is called, then delivers what is due. */
  async run(input: NodeJS.ReadableStream): Promise<void> {
    const rl = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
    this.reader = rl;
    for await (const raw of rl) {
      // Lines read before close() may still be queued in the iterator: they are not handled.
      if (this.closed) break;
      await this.line(raw);
    }
    await this.control.flush();
  }

  /**
   * close stops reading (on SIGTERM, say, while a terminal or pipe stays open): the line being
   * handled finishes, no further line is read, and the input no longer keeps the process alive.
   */
  close(): void {
    this.closed = true;
    this.reader?.close();
    this.reader = null;
  }

  async line(raw: string): Promise<void> {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const as = /^as(?:\s+(.*))?$/i.exec(line);
    if (as) {
      // A member id, or any other name (a reporter outside the teams, spaces allowed).
      const name = as[1]?.trim() ?? '';
      if (name === '') return this.say('as NAME: switch who is typing, to a member id from the config or any other name (e.g. "as zed", "as Jane from Support")');
      // "as alice incident ack 1" is a command typed on the as line, not a guest of that name.
      const [first, ...more] = name.split(/\s+/);
      if (more.length > 0 && this.world.members.has((first as string).toLowerCase())) {
        return this.say(`as ${first} switches who is typing; put the command on a line of its own after it ("${more.join(' ')}" was not run)`);
      }
      this.speaker = this.principal(name);
      return;
    }
    const adv = /^advance(?:\s+(.*))?$/i.exec(line);
    if (adv) {
      if (!adv[1]) return this.say('advance DURATION: move the simulated clock forward, e.g. "advance 15m" or "advance 2d"');
      const d = parseDuration(adv[1]);
      if (!this.control.advance) return this.say('advance needs a simulated clock: start with --clock simulated@2026-03-02T08:00:00Z');
      if (!d.ok) return this.say(`advance: ${d.error}`);
      await this.control.advance(toMillis(d.value));
      return;
    }
    const reply = await this.control.handle({ text: line, caller: this.speaker });
    this.adapter.printReply(this.name(), reply);
    await this.control.flush();
  }

  private say(text: string): void {
    this.adapter.printReply(this.name(), message('reply', [{ t: 'user', v: text }], { private: true }));
  }

  private name(): string {
    return this.speaker.kind === 'member' ? this.speaker.id : this.speaker.address;
  }

  private principal(name: string): Principal {
    const id = name.toLowerCase();
    if (this.world.members.has(id)) return { kind: 'member', id };
    return { kind: 'guest', adapter: CONSOLE, address: name, name };
  }
}
