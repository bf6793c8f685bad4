/**
 * Checkpointer copies SQLite's write-ahead log into the database file from a connection of its own,
 * beside the store's writes instead of inside them.
 *
 * Why: by default SQLite checkpoints inside the COMMIT that makes the log pass 1,000 pages (4 MiB):
 * that commit copies the whole log and flushes the file twice while every other writer waits. A big
 * webhook writes the log that fast (about 3 KiB an alert), so during one 10,000-alert request one
 * commit in eleven took 13-19 ms instead of 1 (measured): the one-alert webhook or /healthz probe
 * waiting behind it waited that much longer, and so did the pages the delivery worker marks sent.
 *
 * How: the store's connection checkpoints only past `BACKSTOP_PAGES` (a backstop, see there), and `CHECKPOINT_AFTER_MS` after a
 * commit this connection runs a PASSIVE checkpoint, which copies every page committed so far while
 * the store goes on committing (SQLite lets a checkpoint and one writer run at once; the store's
 * connection and its mutex are not touched). A log of `RESTART_PAGES` or more gets a second PASSIVE
 * checkpoint inside the store's mutex (`hold`) right after: under steady writes commits land during
 * every copy, so the log is never copied whole and SQLite never starts it over (measured: it grew
 * by the whole 40 MiB written). Inside the mutex nobody commits, the copy takes only the pages
 * written during the first one, and the next write starts the log over from its beginning.
 *
 * Failures: a checkpoint that fails is told (`onError`: logged, and in /healthz) and the store's
 * connection goes back to SQLite's own checkpoints (`fallBack`), so the log never grows unwatched.
 * Durability is the same either way: a commit is in the log (kill -9 loses nothing), and a
 * checkpoint flushes the log before it copies it.
 */
import { Database, OPEN_READWRITE } from 'sqlite3';

/** How long after a commit the checkpoint runs (commits meanwhile share it). */
export const CHECKPOINT_AFTER_MS = 100;
/** A log this long after a checkpoint beside the writes is copied whole inside the store's mutex (SQLite's own default size). */
export const RESTART_PAGES = 1000;
/**
 * The store's connection still checkpoints inside a commit past this many pages (40 MiB): a
 * backstop for when the finishing copy cannot keep the log short (it waits its turn behind a long
 * queue of transactions, or another process on the file keeps committing during it). Such a
 * commit copies only what the checkpoints beside it left.
 */
export const BACKSTOP_PAGES = 10_000;

/** What `PRAGMA wal_checkpoint` answers: frames in the log, and frames copied into the file. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

export interface CheckpointerHooks {
  /** Runs `fn` while the store holds its mutex (no commit can land meanwhile); skips it once the store is closing. */
  readonly hold: (fn: () => Promise<unknown>) => Promise<void>;
  /** The store's connection takes SQLite's own checkpoints again (`PRAGMA wal_autocheckpoint=1000`). */
  readonly fallBack: () => Promise<void>;
  /** A checkpoint failed (the store tells its background listeners). */
  readonly onError: (err: unknown) => void;
}

export class Checkpointer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** Set once a checkpoint failed: SQLite checkpoints in commits again, this one stays idle. */
  private failed = false;
  /** Checkpoints run, and how many of them had to hold the store (see bench and tests). */
  readonly counts = { beside: 0, held: 0 };

  private constructor(private readonly db: Database, private readonly hooks: CheckpointerHooks) {}

  /** open: a second connection on the (WAL-mode) file at `path`. */
  static open(path: string, hooks: CheckpointerHooks): Promise<Checkpointer> {
    return new Promise((resolve, reject) => {
      const db = new Database(path, OPEN_READWRITE, (err) => {
        if (err) reject(new Error(`cannot open a checkpoint connection on ${path}: ${err.message}`));
        else resolve(new Checkpointer(db, hooks));
      });
    });
  }

  /** wrote: a commit landed; the log is copied CHECKPOINT_AFTER_MS from now (one timer for many commits). */
  wrote(): void {
    if (this.closed || this.failed || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.running === null) {
        const cycle: Promise<void> = this.cycle().finally(() => {
          if (this.running === cycle) this.running = null;
        });
        this.running = cycle;
      } else this.wrote(); // the one running may have started before this commit
    }, CHECKPOINT_AFTER_MS);
    this.timer.unref();
  }

  /** checkpointNow: one cycle after the one running, if any (tests); resolves when it is done. */
  async checkpointNow(): Promise<void> {
    const next: Promise<void> = (this.running ?? Promise.resolve()).then(() => this.cycle()).finally(() => {
      if (this.running === next) this.running = null;
    });
    this.running = next;
    await next;
  }

  /** close: waits for a running cycle, then closes the connection (before the store closes its own: the last one out removes the log). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await new Promise<void>((resolve) => this.db.close(() => resolve()));
  }

  private async cycle(): Promise<void> {
    if (this.closed || this.failed) return;
    try {
      const beside = await this.checkpoint();
      this.counts.beside++;
      // `log` is the log's length when the copy began: commits that landed during it are not
      // counted there, so a long log is finished inside the mutex whatever the copy reported.
      if (beside.log >= RESTART_PAGES && !this.closed) {
        await this.hooks.hold(async () => {
          await this.checkpoint();
          this.counts.held++;
        });
      }
    } catch (err) {
      this.failed = true;
      this.hooks.onError(new Error(`copying SQLite's write-ahead log into the database file failed (${err instanceof Error ? err.message : String(err)}); SQLite now does it inside commits again, which makes some of them slower; check the disk and restart Onehand`));
      await this.hooks.fallBack().catch((e: unknown) => this.hooks.onError(e));
    }
  }

  private checkpoint(): Promise<CheckpointResult> {
    return new Promise((resolve, reject) => {
      this.db.all<CheckpointResult>('PRAGMA wal_checkpoint(PASSIVE)', [], (err, rows) => {
        if (err) reject(err);
        else resolve(rows[0] ?? { busy: 0, log: 0, checkpointed: 0 });
      });
    });
  }
}
