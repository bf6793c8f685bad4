/**
 * TokenBucket: a per-integration rate limit. It holds up to `capacity` tokens and refills at
 * capacity per `perMs`; a request takes one token or is refused with the wait until the next one.
 * It reads time from the Clock port, so tests move it with the simulated clock.
 */
import type { Clock } from '../ports/clock';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    private readonly clock: Clock,
  ) {
    this.tokens = capacity;
    this.last = clock.millis();
  }

  /** take: 0 when a token was taken, else the milliseconds until one is available. */
  take(): number {
    const now = this.clock.millis();
    const rate = this.capacity / this.perMs; // tokens per millisecond
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.last) * rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / rate);
  }
}
