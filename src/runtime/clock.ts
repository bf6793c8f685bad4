import { DateTime } from 'luxon';
import type { Clock } from '../ports/clock';

/** SystemClock reads the machine's clock. */
export class SystemClock implements Clock {
  now(): DateTime {
    return DateTime.utc();
  }
  millis(): number {
    return Date.now();
  }
}

/**
 * SimulatedClock stands still until told to move: `set` and `advance` are called by the scheduler's
 * `advanceTo`, which fires every timer due on the way. Used by tests and `--clock simulated@ISO`.
 */
export class SimulatedClock implements Clock {
  private current: DateTime;
  constructor(start: DateTime) {
    this.current = start.toUTC();
  }
  now(): DateTime {
    return this.current;
  }
  millis(): number {
    return this.current.toMillis();
  }
  set(instant: DateTime): void {
    if (instant < this.current) throw new RangeError('a simulated clock never goes back');
    this.current = instant.toUTC();
  }
}

/** parseClockOption reads `--clock system` or `--clock simulated@2026-03-01T08:00:00Z`. */
export function parseClockOption(value: string | undefined): { clock: Clock; simulated: SimulatedClock | null } | { error: string } {
  if (value === undefined || value === 'system') return { clock: new SystemClock(), simulated: null };
  const m = /^simulated@(.+)$/.exec(value);
  if (!m) return { error: `--clock "${value}" is not "system" or "simulated@ISO" (e.g. simulated@2026-03-02T08:00:00Z)` };
  const start = DateTime.fromISO(m[1] as string, { setZone: true });
  if (!start.isValid || !/(Z|[+-]\d{2}:?\d{2})$/i.test(m[1] as string)) {
    return { error: `--clock simulated@${m[1]}: give an ISO instant with an offset, e.g. simulated@2026-03-02T08:00:00Z` };
  }
  const sim = new SimulatedClock(start);
  return { clock: sim, simulated: sim };
}
