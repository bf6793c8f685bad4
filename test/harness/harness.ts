/**
 * Harness runs the real Onehand app (composition root, services, SQLite store on a temporary file)
 * with a simulated clock and a recording chat platform, so a test reads like a story:
 *
 *   const h = await Harness.start();
 *   await h.run('zed', 'incident report sev2 checkout is down');
 *   h.expectMessage('dave', /New incident #1/);
 *   h.expectNothingFor('bob');
 *   await h.advance('5m');
 *
 * Names that are member ids act as those members; any other name is a guest (a product user).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DateTime } from 'luxon';
import { buildApp } from '../../src/app/container';
import type { ChatAdapter } from '../../src/ports/chat-adapter';
import type { Store } from '../../src/ports/store';
import type { OnehandApp } from '../../src/app/app';
import type { ActivePlugin } from '../../src/app/plugin-host';
import { parseConfig, type OnehandConfig } from '../../src/config';
import { BUILTIN_PLUGIN_NAMES, loadPlugins } from '../../src/runtime/plugin-loader';
import type { Principal } from '../../src/core/incident/types';
import type { Message } from '../../src/core/messages/message';
import { toPlain } from '../../src/core/text/rich-text';
import { parseDuration, toMillis } from '../../src/core/time/duration';
import { SimulatedClock } from '../../src/runtime/clock';
import { MemoryLogger } from '../../src/runtime/logger';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import type { Settings } from '../../src/app/tokens';
import { RECORDING, RecordingAdapter, type Recorded } from './recording-adapter';
import { TEST_CONFIG, TUESDAY } from './fixtures';

export interface HarnessOptions {
  readonly config?: string;
  readonly at?: string;
  /** Reuse a database file (for restarts); default: a new temporary file. */
  readonly dbPath?: string;
  /**
   * Extra chat adapters for the app (e.g. the real Discord adapter against a fake Discord); called
   * at every boot, restarts included. The recording adapter still runs unless `recording` is false.
   */
  readonly adapters?: (input: { config: OnehandConfig; clock: SimulatedClock; logger: MemoryLogger }) => ChatAdapter[];
  /** Whether the recording adapter is registered with the app (default true). */
  readonly recording?: boolean;
  /** Set by start from the config's plugins section (paths relative to the repository root). */
  readonly activePlugins?: readonly ActivePlugin[];
  /** The delivery worker's knobs (config `delivery`); default: the worker's defaults. */
  readonly delivery?: Settings['delivery'];
  /** The timer period (ms of real time between ticks once `app.scheduler.start()` runs); default 1000. */
  readonly timerPeriodMs?: number;
  /** Opens the app's store (e.g. PostgreSQL in a test schema, migrated); default: SQLite at dbPath. */
  readonly store?: (clock: SimulatedClock) => Promise<Store>;
  /** How long a delivery's mark waits for a store that takes no write (Settings.markRetryMs); default the worker's. */
  readonly markRetryMs?: number;
  /** How long a plugin hook may take (Settings.hookDeadlineMs); default the host's. */
  readonly hookDeadlineMs?: number;
}

export class Harness {
  private seen = new Set<Recorded>();

  private constructor(
    readonly config: OnehandConfig,
    readonly clock: SimulatedClock,
    readonly dbPath: string,
    public adapter: RecordingAdapter,
    public app: OnehandApp,
    private readonly options: HarnessOptions = {},
    /** What the app and its adapters logged (shared across restarts). */
    readonly logger: MemoryLogger = new MemoryLogger(),
  ) {}

  static async start(startOptions: HarnessOptions = {}): Promise<Harness> {
    let options = startOptions;
    const parsed = parseConfig(options.config ?? TEST_CONFIG, undefined, BUILTIN_PLUGIN_NAMES);
    if (!parsed.ok) throw new Error(`test config is invalid:\n${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
    const loaded = loadPlugins(parsed.config.plugins, parsed.config.world, path.resolve(__dirname, '..', '..'));
    if (!loaded.ok) throw new Error(`test plugins are invalid:\n${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
    options = { ...options, activePlugins: loaded.plugins };
    const clock = new SimulatedClock(DateTime.fromISO(options.at ?? TUESDAY, { setZone: true }));
    const dbPath = options.dbPath ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-')), 'onehand.db');
    const logger = new MemoryLogger();
    const { adapter, app } = await Harness.boot(parsed.config, clock, dbPath, options, logger);
    return new Harness(parsed.config, clock, dbPath, adapter, app, options, logger);
  }

  private static async boot(config: OnehandConfig, clock: SimulatedClock, dbPath: string, options: HarnessOptions, logger: MemoryLogger) {
    const store = options.store ? await options.store(clock) : await openSqliteStore(dbPath, { clock });
    const adapter = new RecordingAdapter(config.world, clock);
    const extra = options.adapters?.({ config, clock, logger }) ?? [];
    const app = buildApp({
      world: config.world,
      store,
      clock,
      logger,
      settings: {
        timerPeriodMs: options.timerPeriodMs ?? 1000, instanceId: 'harness',
        ...(options.delivery ? { delivery: options.delivery } : {}), ...(options.markRetryMs !== undefined ? { markRetryMs: options.markRetryMs } : {}),
        ...(options.hookDeadlineMs !== undefined ? { hookDeadlineMs: options.hookDeadlineMs } : {}),
      },
      adapters: [...(options.recording === false ? [] : [adapter]), ...extra],
      integrations: config.integrations,
      insights: config.insights,
      plugins: options.activePlugins ?? [],
    });
    await app.start({ loop: false });
    await app.scheduler.tick();
    return { adapter, app };
  }

  principal(name: string): Principal {
    return this.config.world.members.has(name) ? { kind: 'member', id: name } : { kind: 'guest', adapter: RECORDING, address: name, name };
  }

  /** run: `who` types `text`; returns the reply as plain text after deliveries were made. */
  async run(who: string, text: string, team?: string): Promise<string> {
    const reply = await this.runMessage(who, text, team);
    return plain(reply);
  }

  async runMessage(who: string, text: string, team?: string): Promise<Message> {
    const reply = await this.app.handle({ text, caller: this.principal(who), team });
    await this.app.scheduler.tick();
    return reply;
  }

  /** report: `who` reports an incident ("sev2 checkout is down"); returns the reply. */
  report(who: string, what: string, team?: string): Promise<string> {
    return this.run(who, `incident report ${what}${team ? ` --team ${team}` : ''}`);
  }

  /** advance moves the clock by a duration ("5m", "1h30m", "2d"), firing every timer due on the way. */
  async advance(duration: string): Promise<void> {
    const d = parseDuration(duration);
    if (!d.ok) throw new Error(d.error);
    await this.advanceTo(this.clock.now().plus({ milliseconds: toMillis(d.value) }));
  }

  async advanceTo(at: DateTime | string): Promise<void> {
    const target = typeof at === 'string' ? DateTime.fromISO(at, { setZone: true }) : at;
    await this.app.scheduler.advanceTo(target, (t) => this.clock.set(t));
  }

  /** messagesFor: everything `to` received so far ("#team" for a team channel). */
  messagesFor(to: string): Recorded[] {
    return this.adapter.delivered.filter((d) => d.to === to);
  }

  /** unseen: deliveries no expectMessage has consumed yet. */
  unseen(): Recorded[] {
    return this.adapter.delivered.filter((d) => !this.seen.has(d));
  }

  /** expectMessage consumes the first unseen message to `to` that matches, or fails listing what arrived. */
  expectMessage(to: string, pattern: string | RegExp): Recorded {
    const match = this.unseen().find((d) => d.to === to && (typeof pattern === 'string' ? d.text.includes(pattern) : pattern.test(d.text)));
    if (!match) {
      const got = this.unseen().filter((d) => d.to === to).map((d) => `  ${d.at} ${d.text.split('\n')[0]}`);
      throw new Error(`expected a message to ${to} matching ${String(pattern)}; unseen messages to ${to}:\n${got.join('\n') || '  (none)'}`);
    }
    this.seen.add(match);
    return match;
  }

  /** expectNothingFor fails if `to` has any message no expectMessage consumed. */
  expectNothingFor(...recipients: string[]): void {
    for (const to of recipients) {
      const left = this.unseen().filter((d) => d.to === to);
      if (left.length > 0) throw new Error(`expected nothing for ${to}, got:\n${left.map((d) => `  ${d.at} ${d.text.split('\n')[0]}`).join('\n')}`);
    }
  }

  /** recipientsSince: who received something since delivery number `mark` (see `mark()`). */
  recipientsSince(mark: number): string[] {
    return [...new Set(this.adapter.delivered.slice(mark).map((d) => d.to))].sort();
  }

  mark(): number {
    return this.adapter.delivered.length;
  }

  /** restart stops the app and starts a new one on the same database file, at the same instant. */
  async restart(): Promise<void> {
    await this.app.stop();
    const { adapter, app } = await Harness.boot(this.config, this.clock, this.dbPath, this.options, this.logger);
    this.adapter = adapter;
    this.app = app;
    this.seen = new Set();
  }

  async stop(): Promise<void> {
    await this.app.stop();
  }
}

export function plain(message: Message): string {
  return [toPlain(message.headline), ...message.lines.map((l) => toPlain(l))].join('\n');
}
