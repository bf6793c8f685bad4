/** BUILTIN_PLUGINS: the plugins that ship with Onehand, enabled by name in config. */
import type { Plugin } from '../src/ports/plugin';
import { handoffSummaryPlugin } from './handoff-summary';
import { quietHoursPlugin } from './quiet-hours';

export const BUILTIN_PLUGINS: ReadonlyMap<string, Plugin<never>> = new Map<string, Plugin<never>>([
  [handoffSummaryPlugin.name, handoffSummaryPlugin as Plugin<never>],
  [quietHoursPlugin.name, quietHoursPlugin as Plugin<never>],
]);
