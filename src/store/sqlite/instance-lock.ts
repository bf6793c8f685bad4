/**
 * InstanceLock: one serving process per SQLite file. At start the SQLite store takes every lease
 * of a timer or delivery as a dead process's (see SqliteStore.recoverAtStart); a second bot on the
 * same file (a restart while the old process still stops, a second container on the same volume)
 * would take over the first one's claims and both would send the same pages. So the serving
 * process holds `<file>.lock` (its pid, host and whether it is stopping), touched every few
 * seconds, and a bot that finds it:
 *
 * - held by this very process (a store reopened in-process, as tests do): takes it over;
 * - held by another pid of this host that is gone (kill -9): takes it over at once;
 * - not touched for `staleMs` (its holder died; a pid now reused by another program after a
 *   reboot): takes it over;
 * - held by a holder that is stopping (SIGTERM): waits for it, up to `waitMs`;
 * - held on another host (a shared volume), or by this pid in an earlier life (pid 1 of a
 *   container restarted after a crash, which may also be another container sharing this host
 *   name): waits until it is stale, else refuses;
 * - held by a live process of this host that is not stopping: refuses at once, naming it and the fix.
 *
 * The database stays the truth: the lock only keeps two bots from serving one file at once.
 * Commands that read or change the file without serving it (`onehand export`, ...) do not take it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

const TOUCH_MS = 5_000;
const STALE_MS = 15_000;
const WAIT_MS = 30_000;
const POLL_MS = 250;

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  /** When the process started (ms): tells this process from an earlier one with the same pid. */
  readonly started?: number;
  readonly stopping?: boolean;
}

export interface InstanceLock {
  /** stopping: tells a bot starting meanwhile to wait for this one instead of refusing. */
  stopping(): void;
  /** release: removes the lock if it is still this process's. */
  release(): void;
}

/** The refusal: another live process serves the file. */
export class DatabaseInUse extends Error {}

/**
 * acquireInstanceLock takes the file's lock, waiting as the file comment says. Each attempt (read
 * the lock, maybe remove a dead holder's, create ours) runs inside `serialize`: the SQLite store
 * passes a write transaction on the database itself, so two bots starting at once take turns and
 * the second sees the first's fresh lock (without it, both could remove the same dead lock and
 * each create its own). Waiting happens between attempts, holding nothing.
 */
export async function acquireInstanceLock(
  file: string,
  options: { waitMs?: number; staleMs?: number } = {},
  serialize: <T>(attempt: () => T) => Promise<T> = async (attempt) => attempt(),
): Promise<InstanceLock> {
  const lockPath = `${file}.lock`;
  const waitMs = options.waitMs ?? WAIT_MS;
  const staleMs = options.staleMs ?? STALE_MS;
  const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), started: Math.round(performance.timeOrigin) };
  const begun = Date.now();
  for (;;) {
    const step = await serialize(() => attempt(lockPath, me, staleMs));
    if (step.taken) return held(lockPath, me);
    // A stopping holder is waited for; one that may be dead without a word (another host, or
    // this pid in an earlier life: pid 1 of a restarted container), until it would be stale; a
    // live holder of this host that is not stopping, not at all.
    const waited = Date.now() - begun;
    const wait = step.holder?.stopping === true ? waited < waitMs : step.mayBeDead && waited < staleMs + TOUCH_MS;
    if (!wait) {
      const h = step.holder;
      const who = h ? `pid ${h.pid} on ${h.host}${h.stopping ? ', stopping' : ''}, serving it since ${h.since}` : 'a process that left no name';
      throw new DatabaseInUse(`another Onehand process serves ${file} (${who}): stop it first, or give this one its own file (ONEHAND_DATA). Two bots on one SQLite file would send the same pages twice; several replicas need PostgreSQL (ONEHAND_DATABASE_URL)`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** attempt: one look at the lock; creates ours when it is free or its holder is gone. */
function attempt(lockPath: string, me: Holder, staleMs: number): { taken: true } | { taken: false; holder: Holder | null; mayBeDead: boolean } {
  for (;;) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(me), { flag: 'wx' });
      return { taken: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const found = read(lockPath);
    if (found === 'gone') continue;
    const { holder, touchedAgoMs } = found;
    const stale = touchedAgoMs > staleMs; // a live holder touches it every TOUCH_MS
    const thisProcess = holder !== null && holder.host === me.host && holder.pid === me.pid && holder.started === me.started;
    const sameHost = holder !== null && holder.host === me.host;
    // This host's pid namespace: a pid that is gone is a dead holder (kill -9). Our own pid in an
    // earlier life (pid 1 again in a restarted container) may also be another container sharing
    // this host name: judged by age, as another host's.
    const gone = sameHost && holder.pid !== me.pid && !alive(holder.pid);
    if (thisProcess || gone || stale) {
      fs.rmSync(lockPath, { force: true });
      continue;
    }
    return { taken: false, holder, mayBeDead: holder === null || !sameHost || holder.pid === me.pid };
  }
}

function held(lockPath: string, me: Holder): InstanceLock {
  let holder = me;
  const touch = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(lockPath, now, now);
    } catch {
      // Removed under us (by hand): the next bot takes the file; nothing to do here.
    }
  }, TOUCH_MS);
  touch.unref();
  const mine = (): boolean => {
    const found = read(lockPath);
    return found !== 'gone' && found.holder?.pid === me.pid && found.holder.host === me.host && found.holder.since === me.since;
  };
  return {
    stopping() {
      holder = { ...holder, stopping: true };
      try {
        if (mine()) fs.writeFileSync(lockPath, JSON.stringify(holder));
      } catch {
        // A lock that cannot be written still holds: a starting bot waits for it to go stale.
      }
    },
    release() {
      clearInterval(touch);
      try {
        if (mine()) fs.rmSync(lockPath, { force: true });
      } catch {
        // Left behind: the next start on this host sees its pid gone and takes it over.
      }
    },
  };
}

function read(lockPath: string): { holder: Holder | null; touchedAgoMs: number } | 'gone' {
  try {
    const touchedAgoMs = Date.now() - fs.statSync(lockPath).mtimeMs;
    let holder: Holder | null = null;
    try {
      const parsed = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<Holder>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
        holder = { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? ''), ...(typeof parsed.started === 'number' ? { started: parsed.started } : {}), stopping: parsed.stopping === true };
      }
    } catch {
      // Being written, or not ours: judged by its age alone.
    }
    return { holder, touchedAgoMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
}

/** alive: whether a process of this host runs (a zombie, dead but not yet reaped, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
