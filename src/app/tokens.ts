/** Injection tokens for the composition root (src/app/container.ts). */
export const TOKENS = {
  World: Symbol.for('onehand.World'),
  Store: Symbol.for('onehand.Store'),
  Clock: Symbol.for('onehand.Clock'),
  Logger: Symbol.for('onehand.Logger'),
  Adapters: Symbol.for('onehand.Adapters'),
  Settings: Symbol.for('onehand.Settings'),
  Integrations: Symbol.for('onehand.Integrations'),
  Plugins: Symbol.for('onehand.Plugins'),
  Insights: Symbol.for('onehand.Insights'),
} as const;

/** Settings: runtime knobs from config, defaulted there. */
export interface Settings {
  /** How often the timer loop looks for due timers and deliveries. */
  readonly timerPeriodMs: number;
  /** Name of this process for leases (host:pid:random by default). */
  readonly instanceId: string;
  /** How long a claimed timer or delivery stays leased to this process (default 60 s). */
  readonly leaseMs?: number;
  /** How long a delivery's mark waits for a store that takes no write (default 30 s, MARK_RETRY_MS; tests shorten it). */
  readonly markRetryMs?: number;
  /** How long a plugin hook or command may take before the event goes on without it (default 3 s, HOOK_DEADLINE_MS; tests shorten it). */
  readonly hookDeadlineMs?: number;
  /** The delivery worker's knobs (config `delivery`); defaults in DELIVERY_DEFAULTS (src/config/types). */
  readonly delivery?: {
    /** How long one platform call may take before it counts as failed (default 10 s). */
    readonly timeoutMs: number;
    /** Platform calls in flight at once, per platform (default 8). */
    readonly concurrency: number;
    /** Failed attempts after which a page also goes down the fallback ladder (default 3). */
    readonly fallbackAfter: number;
  };
}
