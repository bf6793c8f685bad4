/**
 * StoreMonitor is responsible for noticing that the database fails: it wraps the Store, passes
 * every call through, and remembers the last error that came from the store itself (a StoreTx
 * call, BEGIN or COMMIT), not from a use case that refused or failed. /healthz reports such an
 * error for a minute, so a full disk or a corrupted page shows even when the health probe's own
 * write happens to succeed.
 */
import { RERUN_CODES, type Store, type StoreTx, type TransactionOptions } from '../ports/store';

/** Errors a store recovers from by itself (those, and a guarded race). */
const TRANSIENT_CODES = new Set([...RERUN_CODES, '23505']);
const RECENT_MS = 60_000;
/** PostgreSQL's 25P02: a statement sent after an earlier one failed in the same transaction. */
const IN_FAILED_TRANSACTION = '25P02';

/** isTransientStoreError: a deadlock or serialization failure: the transaction runs again, nobody's fault. */
export function isTransientStoreError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RERUN_CODES.has(code);
}

/**
 * Codes of a store that takes no write now: SQLite's file locked by another process, full,
 * unwritable or failing; PostgreSQL unreachable, shutting down, full, read-only or out of
 * connections. A full disk can also refuse one large write only: marks that waited for it are
 * tried once more without their adapters' data (DeliveryWorker.giveUpMarks).
 */
const UNAVAILABLE_CODES = new Set([
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PROTOCOL',
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN',
  // shutting down, cannot connect now; disk full, out of memory, too many connections; read-only (a standby, right after a failover)
  '57P01', '57P02', '57P03', '53100', '53200', '53300', '25006',
]);
/** PostgreSQL's connection exceptions (class 08), but not 08P01 (a protocol violation a statement can cause). */
const CONNECTION_EXCEPTION = /^08(000|001|003|004|006|007)$/;

/**
 * isStoreUnavailable: the store failed as a whole (locked, full, unreachable), not because of what
 * the transaction wrote: the same transaction may well succeed once the store is back.
 */
export function isStoreUnavailable(err: unknown): boolean {
  // The store's own wrappers keep the driver's error as their cause.
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || CONNECTION_EXCEPTION.test(code))) return true;
    // node-postgres says a dropped or refused connection in words only.
    if (e instanceof Error && /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error and is not queryable/i.test(e.message)) return true;
  }
  return false;
}

export class StoreMonitor implements Store {
  private last: { readonly at: number; readonly message: string } | null = null;

  /** The inner store's fast path, watched like a transaction (absent when the inner has none). */
  readonly quickRepeats?: Store['quickRepeats'];
  readonly singleProcess?: boolean;

  constructor(
    private readonly inner: Store,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.singleProcess = inner.singleProcess;
    // What the store does on its own (SQLite's fold of the repeat log) fails as loudly as a transaction.
    inner.onBackgroundError?.((err) => this.failed(err));
    const quick = inner.quickRepeats?.bind(inner);
    if (quick) {
      this.quickRepeats = async (keys, plan, now) => {
        let fromPlan: unknown = null;
        try {
          return await quick(keys, (known) => {
            try {
              return plan(known);
            } catch (err) {
              fromPlan = err;
              throw err;
            }
          }, now);
        } catch (err) {
          if (err !== fromPlan) this.failed(err);
          throw err;
        }
      };
    }
  }

  migrate(): Promise<number[]> {
    return this.inner.migrate();
  }

  async recoverAtStart(): Promise<void> {
    await this.inner.recoverAtStart?.();
  }

  stopping(): void {
    this.inner.stopping?.();
  }

  async serveAlone(): Promise<void> {
    await this.inner.serveAlone?.();
  }

  onEnqueued(listener: () => void): () => void {
    return this.inner.onEnqueued(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const fromCallback = new WeakSet<object>();
    try {
      return await this.inner.transaction(async (tx) => {
        try {
          return await fn(this.watch(tx));
        } catch (err) {
          if (typeof err === 'object' && err !== null) fromCallback.add(err);
          throw err;
        }
      }, options);
    } catch (err) {
      if (!(typeof err === 'object' && err !== null && fromCallback.has(err))) this.failed(err);
      throw err;
    }
  }

  /** recent: the last store error if it happened within the last minute (wall time), else null. */
  recent(): string | null {
    return this.last && Date.now() - this.last.at < RECENT_MS ? this.last.message : null;
  }

  private watch(tx: StoreTx): StoreTx {
    return new Proxy(tx, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) {
            return result.catch((err: unknown) => {
              this.failed(err);
              throw err;
            });
          }
          return result;
        };
      },
    });
  }

  private failed(err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return;
    // "current transaction is aborted" only follows an earlier error of the same transaction,
    // told already (or retried): it must not stand in for that cause in /healthz.
    if (code === IN_FAILED_TRANSACTION) return;
    const message = err instanceof Error ? err.message : String(err);
    this.last = { at: Date.now(), message };
    this.onError(message);
  }
}
