/**
 * Engine runs use cases atomically: one store transaction in which the use case reads state,
 * decides, writes, and collects notifications; the notifications become outbox rows in the same
 * transaction. A Refusal rolls everything back and becomes the caller's reply.
 */
import { inject, injectable } from 'inversify';
import type { Principal } from '../core/incident/types';
import type { Team } from '../core/model';
import type { Clock } from '../ports/clock';
import type { Store, StoreTx } from '../ports/store';
import { AdapterRegistry } from './adapters';
import type { UseCaseContext } from './context';
import { planDeliveries, type Notification } from './notifications';
import { TOKENS } from './tokens';

@injectable()
export class Engine {
  constructor(
    @inject(TOKENS.Store) private readonly store: Store,
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(AdapterRegistry) private readonly adapters: AdapterRegistry,
  ) {}

  /** run executes `fn` in one transaction at the clock's current instant. */
  async run<T>(caller: Principal, team: Team, fn: (ctx: UseCaseContext) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    return this.store.transaction(async (tx) => this.within(tx, caller, team, now, fn));
  }

  /** within runs `fn` inside an existing transaction (timer handlers). */
  async within<T>(tx: StoreTx, caller: Principal, team: Team, now: ReturnType<Clock['now']>, fn: (ctx: UseCaseContext) => Promise<T>): Promise<T> {
    const outgoing: Notification[] = [];
    const ctx: UseCaseContext = { tx, now, caller, team, tell: (n) => outgoing.push(n) };
    const result = await fn(ctx);
    if (outgoing.length > 0) await tx.enqueue(planDeliveries(this.adapters, outgoing, now));
    return result;
  }
}
