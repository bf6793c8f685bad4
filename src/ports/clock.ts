import type { DateTime } from 'luxon';

/** Clock is responsible for telling the current instant. Only the app's loops and services read it. */
export interface Clock {
  now(): DateTime;
  /** The current instant in epoch milliseconds: `now().toMillis()`, for hot paths (no DateTime is made). */
  millis(): number;
}
