/**
 * The composition root: the one place that wires Onehand together. Read it top to bottom to see
 * every service and what it is given. Nothing else touches the container.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import type { IntegrationConfig } from '../config/types';
import { DEFAULT_INSIGHTS_SETTINGS, type InsightsSettings } from '../core/insights/figures';
import type { World } from '../core/model';
import type { ChatAdapter } from '../ports/chat-adapter';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import type { PlatformOff } from '../ports/platform';
import type { Store } from '../ports/store';
import { AdapterRegistry } from './adapters';
import { OnehandApp } from './app';
import { CommandService } from './command-service';
import { DeliveryWorker } from './delivery-worker';
import { Engine } from './engine';
import { Unreached } from './unreached';
import { IncidentService } from './incident-service';
import { InsightsService } from './insights-service';
import { IntakeService } from './intake-service';
import { Metrics } from './metrics';
import { OncallService } from './oncall-service';
import { PluginHost, type ActivePlugin } from './plugin-host';
import { PolicyBook, policyFailureText } from './policies';
import { ShiftWatch } from './shift-watch';
import { Scheduler } from './scheduler';
import { StoreMonitor } from './store-monitor';
import { TOKENS, type Settings } from './tokens';

export interface AppParts {
  readonly world: World;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: Settings;
  readonly adapters: readonly ChatAdapter[];
  /** Platforms asked for (a token is set) that do not run, for /healthz (see PlatformOff). Default: none. */
  readonly platformsOff?: readonly PlatformOff[];
  /** Monitoring integrations (config `integrations:`), for the alert intake. Default: none. */
  readonly integrations?: readonly IntegrationConfig[];
  /** Enabled plugins, activated with their checked config (see src/plugins-loader). */
  readonly plugins?: readonly ActivePlugin[];
  /** Config `insights:` (huddle warning, night). Default: DEFAULT_INSIGHTS_SETTINGS. */
  readonly insights?: InsightsSettings;
}

export function buildApp(parts: AppParts): OnehandApp {
  const container = new Container({ defaultScope: 'Singleton' });
  // Values from outside: configuration, infrastructure, platforms.
  container.bind<World>(TOKENS.World).toConstantValue(parts.world);
  // Every store call goes through the monitor, so /healthz sees the database fail.
  const store = new StoreMonitor(parts.store, (message) => parts.logger.error('database call failed', { error: message }));
  container.bind<Store>(TOKENS.Store).toConstantValue(store);
  container.bind(StoreMonitor).toConstantValue(store);
  container.bind<Clock>(TOKENS.Clock).toConstantValue(parts.clock);
  container.bind<Logger>(TOKENS.Logger).toConstantValue(parts.logger);
  container.bind<Settings>(TOKENS.Settings).toConstantValue(parts.settings);
  const registry = new AdapterRegistry();
  for (const adapter of parts.adapters) registry.add(adapter);
  for (const off of parts.platformsOff ?? []) registry.addOff(off);
  container.bind(AdapterRegistry).toConstantValue(registry);
  container.bind<readonly IntegrationConfig[]>(TOKENS.Integrations).toConstantValue(parts.integrations ?? []);
  container.bind<readonly ActivePlugin[]>(TOKENS.Plugins).toConstantValue(parts.plugins ?? []);
  container.bind<InsightsSettings>(TOKENS.Insights).toConstantValue(parts.insights ?? DEFAULT_INSIGHTS_SETTINGS);
  // Rotation and escalation policies: the built-ins and those the enabled plugins contribute; each
  // team's pick is asked through this book (src/ports/policy.ts).
  // A policy that throws is logged once a minute per failure, with how often it failed meanwhile.
  container.bind(PolicyBook).toConstantValue(new PolicyBook(
    parts.world, parts.plugins ?? [],
    (failure, repeats) => parts.logger.error(policyFailureText(failure), { ...failure, ...(repeats > 0 ? { repeatsSinceLastLog: repeats } : {}) }),
    () => parts.clock.now().toMillis(),
  ));
  // Application services.
  container.bind(PluginHost).toSelf();
  container.bind(Metrics).toSelf();
  container.bind(ShiftWatch).toSelf();
  container.bind(Unreached).toSelf();
  container.bind(Engine).toSelf();
  container.bind(IncidentService).toSelf();
  container.bind(IntakeService).toSelf();
  container.bind(OncallService).toSelf();
  container.bind(InsightsService).toSelf();
  container.bind(CommandService).toSelf();
  container.bind(DeliveryWorker).toSelf();
  container.bind(Scheduler).toSelf();
  container.bind(OnehandApp).toSelf();
  return container.get(OnehandApp);
}
