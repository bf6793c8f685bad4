/**
 * GC tuning for the long-running bot (`onehand start`): V8's allocation-site pretenuring is turned
 * off.
 *
 * V8 watches where objects are allocated, and when most objects of one allocation site survive a
 * young-generation collection it decides to allocate that site's objects in the old generation
 * from then on ("tenure"). The decision is not revisited: objects allocated in the old generation
 * carry no feedback. A server's request objects survive exactly when requests are slow, so one slow
 * stretch (a busy start, a noisy neighbour on the machine) tenured the sites of Onehand's request
 * path for the rest of the process's life. Tenured request objects are garbage in the old
 * generation, and while they wait there for a full collection, everything they point to in the
 * young generation is kept alive and promoted too: measured under the intake benchmark (issue 14,
 * bench/compare.ts; README, Benchmark), such processes promoted 0.8-1.4 GB instead of 30-70 MB,
 * ran 41-72 full collections instead of 4-14, and used 1.5-2.5x the CPU per webhook request for
 * as long as they ran. Runs with 91-134 tenuring decisions were slow; runs with 0-6 were not.
 * Onehand's long-lived data (the intake memory, the repeat sums) is small and reaches the old
 * generation the ordinary way.
 *
 * Set at run time, before the bot builds anything (V8 reads the flag at each collection; Node does
 * not freeze V8's flags). An operator who names the flag on node's command line
 * (`node --allocation-site-pretenuring bin/onehand.js start`, with dashes or underscores) keeps
 * their choice; Node refuses this flag in NODE_OPTIONS.
 */
import { setFlagsFromString } from 'node:v8';

export const PRETENURING_FLAG = 'allocation-site-pretenuring';

/** tuneGarbageCollector: see above; returns whether it changed anything. */
export function tuneGarbageCollector(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => arg.replace(/_/g, '-').includes(PRETENURING_FLAG))) return false;
  setFlagsFromString(`--no-${PRETENURING_FLAG}`);
  return true;
}
