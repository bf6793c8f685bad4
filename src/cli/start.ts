/**
 * startBot: what `onehand start` does, separated from argument parsing so the test harness and the
 * CLI build the bot the same way: config, store, clock, adapters, composition root, start.
 */
import * as os from 'node:os';
import { ConsoleAdapter } from '../../adapters/console/console-adapter';
import { ConsoleSession } from '../../adapters/console/console-session';
import { buildApp } from '../app/container';
import type { OnehandConfig } from '../config';
import type { Logger } from '../ports/logger';
import type { Clock } from '../ports/clock';
import type { SimulatedClock } from '../runtime/clock';
import { openSqliteStore } from '../store/sqlite/sqlite-store';

export interface StartOptions {
  readonly config: OnehandConfig;
  readonly dataPath: string;
  readonly clock: Clock;
  readonly simulated: SimulatedClock | null;
  readonly json: boolean;
  readonly logger: Logger;
  readonly input: NodeJS.ReadableStream;
  readonly output?: (line: string) => void;
}

/** runConsole runs the bot on the console until the input ends; resolves when it has stopped. */
export async function runConsole(options: StartOptions): Promise<void> {
  const { config, clock, simulated, logger } = options;
  const store = await openSqliteStore(options.dataPath, { clock });
  const consoleAdapter = new ConsoleAdapter(config.world, clock, options.json, options.output);
  const app = buildApp({
    world: config.world,
    store,
    clock,
    logger,
    settings: { timerPeriodMs: config.timers.periodMs, instanceId: `${os.hostname()}:${process.pid}` },
    adapters: [consoleAdapter],
  });
  // A simulated clock only moves on "advance", so the loop would only re-check the same instant;
  // the session flushes after each line instead.
  await app.start({ loop: simulated === null });
  logger.info('onehand started', { teams: config.world.teams.size, members: config.world.members.size, data: options.dataPath, clock: simulated ? 'simulated' : 'system' });
  const session = new ConsoleSession(config.world, consoleAdapter, {
    handle: (cmd) => app.handle(cmd),
    flush: () => app.scheduler.tick(),
    advance: simulated ? (ms) => app.scheduler.advanceTo(simulated.now().plus({ milliseconds: ms }), (at) => simulated.set(at)) : null,
  });
  const stopping = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.race([session.run(options.input), stopping]);
  await app.stop();
}
