/**
 * NestingGuard refuses a store call made inside one of the same store's transactions (use the
 * StoreTx you were given): on SQLite such a call waits for the transaction that waits for it, and
 * both wait forever; on PostgreSQL it runs on another connection, blind to the first one's rows.
 *
 * Telling where a call comes from takes AsyncLocalStorage, and on Node 20 and 22 that turns on
 * promise hooks for the whole process: every promise then pays for them, measured at a tenth of
 * the CPU of a busy webhook. So the guard is on where code is written and tested (NODE_ENV=test,
 * which jest sets, or ONEHAND_CHECK_NESTING=1) and off otherwise; in production a transaction that
 * holds the store too long is told instead (SqliteStore's held-store watch, /healthz's timeout).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** nestingChecked: whether stores check nesting in this process (see NestingGuard). */
export function nestingChecked(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.NODE_ENV === 'test' || env.ONEHAND_CHECK_NESTING === '1';
}

export class NestingGuard<T extends { isOpen(): boolean }> {
  private readonly current: AsyncLocalStorage<T> | null;

  /** `store` names the store in the error ("SqliteStore"); `on` defaults to nestingChecked(). */
  constructor(private readonly store: string, on: boolean = nestingChecked()) {
    this.current = on ? new AsyncLocalStorage<T>() : null;
  }

  get checking(): boolean {
    return this.current !== null;
  }

  /** within runs `fn` as the transaction `tx`'s callback. */
  within<R>(tx: T, fn: () => R): R {
    return this.current === null ? fn() : this.current.run(tx, fn);
  }

  /** refuse throws when called from inside an open transaction of this store. */
  refuse(what: string): void {
    if (this.current?.getStore()?.isOpen()) {
      throw new Error(`${this.store}.${what} called inside a transaction: use the StoreTx you were given (a nested transaction would wait for the one it is in, forever)`);
    }
  }
}
