/**
 * startBot: what `onehand start` does, apart from argument parsing: config, store, clock, chat
 * platforms (the console when none has credentials), HTTP server, composition root, timer loop.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import { CONSOLE, ConsoleAdapter } from '../../adapters/console/console-adapter';
import { ConsoleSession } from '../../adapters/console/console-session';
import type { OnehandApp } from '../app/app';
import { buildApp } from '../app/container';
import type { ActivePlugin } from '../app/plugin-host';
import type { OnehandConfig } from '../config';
import { registerInsightsRoutes } from '../http/insights-routes';
import { HttpServer } from '../http/server';
import { readIntegrationSecrets, registerWebhooks } from '../intake/webhooks';
import type { ChatAdapter } from '../ports/chat-adapter';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { PlatformOff } from '../ports/platform';
import type { SimulatedClock } from '../runtime/clock';
import { LeaderLease } from '../app/leader-lease';
import { openConfiguredStore } from '../store/open';
import { PLATFORMS } from './platforms';

export interface StartOptions {
  readonly config: OnehandConfig;
  readonly plugins?: readonly ActivePlugin[];
  readonly dataPath: string;
  readonly clock: Clock;
  readonly simulated: SimulatedClock | null;
  readonly json: boolean;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  /** Console input; the console runs when no platform has credentials, or when forced. */
  readonly input: NodeJS.ReadableStream;
  readonly forceConsole?: boolean;
  /**
   * headless: read no console input (`--no-console`, or standard input is /dev/null or closed, as
   * under `docker run -d` or systemd). The bot runs (HTTP, webhooks, timers, chat platforms) until
   * SIGINT/SIGTERM; with no chat platform the console adapter still prints deliveries on stdout.
   */
  readonly headless?: boolean;
  readonly output?: (line: string) => void;
}

export interface RunningBot {
  readonly app: OnehandApp;
  readonly http: HttpServer;
  readonly httpPort: number | null;
  /** Resolves when the bot should stop: console input ended, or SIGINT/SIGTERM. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function startBot(options: StartOptions): Promise<RunningBot> {
  const { config, clock, simulated, logger, env } = options;
  // Integration secrets are read first: a missing variable stops the start before anything opens.
  const secrets = readIntegrationSecrets(config.integrations, env, configDir(config));
  // ONEHAND_DATABASE_URL selects PostgreSQL (shared by replicas); else SQLite at dataPath.
  const { store, location } = await openConfiguredStore({ ...env, ONEHAND_DATA: options.dataPath }, {
    clock, onError: (err) => logger.warn('database connection error', { error: err.message }),
  });
  const instanceId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  // On a shared database, singleton roles (the Discord gateway session) go to one replica at a time.
  const leader = location.kind === 'postgres'
    ? (name: string) => new LeaderLease(store, clock, logger, name, instanceId)
    : undefined;
  const http = new HttpServer(logger);
  const adapters: ChatAdapter[] = [];
  // A platform asked for (its token set) that stays off is named on /healthz and in the start's log.
  const platformsOff: PlatformOff[] = [];
  for (const make of PLATFORMS) {
    const adapter = make({ config, env, clock, logger, http, ...(leader ? { leader } : {}) });
    if (adapter) adapters.push(adapter);
    const off = adapter ? null : make.unstarted?.(config, env) ?? null;
    if (off) platformsOff.push(off);
  }
  // Integrations and Teams only ever reach Onehand over its HTTP server: without one they would
  // wait for requests that cannot arrive, and say nothing.
  const unreachable = [
    ...(config.integrations.length > 0 ? [`the integrations' webhooks (${config.integrations.map((i) => i.id).join(', ')})`] : []),
    ...(adapters.some((a) => a.name === 'teams') ? ['Microsoft Teams (POST /api/messages)'] : []),
  ];
  if (config.http.port === null && unreachable.length > 0) {
    await store.close();
    throw new Error(`the HTTP server is off, but ${unreachable.join(' and ')} can only reach Onehand through it: set http.port in the config (e.g. 8080) or ONEHAND_HTTP_PORT`);
  }
  let consoleAdapter: ConsoleAdapter | null = null;
  if (adapters.length === 0 || options.forceConsole) {
    consoleAdapter = new ConsoleAdapter(config.world, clock, options.json, options.output, adapters.length === 0, options.headless === true);
    adapters.push(consoleAdapter);
  }
  const app = buildApp({
    world: config.world,
    store,
    clock,
    logger,
    settings: { timerPeriodMs: config.timers.periodMs, instanceId, leaseMs: config.timers.leaseMs, delivery: config.delivery },
    adapters,
    platformsOff,
    plugins: options.plugins ?? [],
    integrations: config.integrations,
    insights: config.insights,
  });
  const webhooks = registerWebhooks(http, { intake: app.intake, integrations: config.integrations, secrets, clock, logger, metrics: app.metrics });
  http.route('GET', '/healthz', async () => {
    const health = await app.health();
    // A degraded parse worker slows the others down but loses nothing: shown, not a 503.
    const parseWorker = webhooks.parseWorker();
    // Unmapped severities are a config to mend, not a failure: the alerts were kept and paged.
    const severities = webhooks.severities();
    return { status: health.ok ? 200 : 503, body: { ...health, ...(parseWorker === null ? {} : { parseWorker }), ...(severities === null ? {} : { severities }) } };
  });
  registerInsightsRoutes(http, { app, env, clock, logger });
  // The port first, answering 503 until the app has started: a start that cannot have it fails
  // before any timer fires or page goes out (a half-started bot, paging without its webhooks and
  // /healthz, would look alive to a supervisor and never be restarted).
  const open = http.holdUntilReady();
  let httpPort: number | null = null;
  try {
    if (config.http.port !== null) httpPort = await listenOrExplain(http, config.http.port, config.http.host);
    // A simulated clock only moves on "advance"; the console session flushes after each line instead.
    await app.start({ loop: simulated === null });
  } catch (err) {
    // A start that fails (the port taken, a platform refusing its token) lets go of the port and of
    // the database (app.start stopped the adapters it had started): a listening server or a pool
    // would keep the process alive, neither working nor exiting.
    await http.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  open();
  warnUnreachable(config, adapters, logger);
  logger.info('onehand started', {
    teams: config.world.teams.size, members: config.world.members.size, data: location.where,
    adapters: adapters.map((a) => a.name), http: httpPort === null ? 'off' : `${config.http.host}:${httpPort}`, clock: simulated ? 'simulated' : 'system',
  });
  for (const off of platformsOff) {
    logger.warn(`${off.platform} is not running, though it was asked for: no page goes there (/healthz shows it as degraded)`, { platform: off.platform, problem: off.problem, fix: off.fix, running: adapters.map((a) => a.name) });
  }

  const signalled = new Promise<void>((resolve) => {
    const stopOn = (signal: string) => () => {
      logger.info('stopping: signal received; in-flight work finishes first', { signal });
      resolve();
    };
    process.once('SIGINT', stopOn('SIGINT'));
    process.once('SIGTERM', stopOn('SIGTERM'));
  });
  let done: Promise<void> = signalled;
  let stopInput = async (): Promise<void> => undefined;
  if (!consoleAdapter && !options.headless && (options.input as { isTTY?: boolean }).isTTY === true) {
    // Someone at a terminal would type commands that nothing reads: say so once, with the way.
    logger.info('console input is off: a chat platform runs, so commands typed here are not read; start with --console to type them here too', { adapters: adapters.map((a) => a.name) });
  } else if (consoleAdapter && options.headless) {
    logger.info('no console input (standard input is not a terminal, pipe or file, or --no-console): running until SIGTERM', { deliveries: 'printed on standard output' });
  } else if (consoleAdapter) {
    const session = new ConsoleSession(config.world, consoleAdapter, {
      handle: (cmd) => app.handle(cmd),
      flush: () => app.scheduler.flush(),
      advance: simulated ? (ms) => app.scheduler.advanceTo(simulated.now().plus({ milliseconds: ms }), (at) => simulated.set(at)) : null,
    });
    const reading = session.run(options.input);
    done = Promise.race([reading, signalled]);
    // Stopping waits for the line being handled (its command commits before the store closes).
    stopInput = async () => {
      session.close();
      await reading.catch(() => undefined);
    };
  }
  return {
    app, http, httpPort, done,
    stop: async () => {
      await stopInput();
      await http.close();
      await app.stop();
      logger.info('onehand stopped', {});
    },
  };
}

/** listenOrExplain: the HTTP server listening, or an error that says why it cannot and the fix. */
async function listenOrExplain(http: HttpServer, port: number, host: string): Promise<number> {
  try {
    return await http.listen(port, host);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const why = code === 'EADDRINUSE' ? 'the address is in use (another Onehand, or another program?)'
      : code === 'EACCES' ? 'not allowed (ports below 1024 need privileges)'
        : code === 'EADDRNOTAVAIL' ? 'this machine has no such address'
          : err instanceof Error ? err.message : String(err);
    throw new Error(`cannot listen on ${host}:${port}: ${why}; choose another http.port / http.host (or ONEHAND_HTTP_PORT / ONEHAND_HTTP_HOST)`, { cause: err });
  }
}

/**
 * warnUnreachable: at start, names every on-call member no running platform can page, and every
 * team without a channel, with the config key that fixes it. Such a page falls back to the team
 * channel (see Engine); with no channel either it reaches nobody and the chain moves on at once
 * (see Unreached): an admin should know before the first incident.
 */
function warnUnreachable(config: OnehandConfig, adapters: readonly ChatAdapter[], logger: Logger): void {
  // The console beside a chat platform reaches nobody (see ConsoleAdapter): not a fix to offer.
  const names = adapters.map((a) => a.name).filter((n, _i, all) => n !== CONSOLE || all.length === 1);
  for (const team of config.world.teams.values()) {
    const channel = adapters.some((a) => a.canReach({ kind: 'channel', team: team.id }));
    for (const member of new Set([...team.rotation.members, team.lead])) {
      if (!adapters.some((a) => a.canReach({ kind: 'member', id: member }))) {
        logger.warn('member cannot be paged on any running platform', {
          team: team.id, member, platforms: names,
          pages: channel ? 'go to the team channel instead, where they ping nobody (the chain moves on at once)' : 'reach nobody: the team has no channel either (the chain moves on at once)',
          fix: `add ${names.map((n) => `${n}: "<id>"`).join(' or ')} to the member "${member}"`,
        });
      }
    }
    if (!channel) {
      logger.warn('team has no channel on any running platform', { team: team.id, platforms: names, fix: `set teams[].channels.${names[0] ?? 'discord'} for "${team.id}"` });
    }
  }
}

/** configDir: where relative paths in the config (secret files) are read from. */
export function configDir(config: OnehandConfig): string {
  return config.sourcePath ? dirname(resolvePath(config.sourcePath)) : process.cwd();
}
