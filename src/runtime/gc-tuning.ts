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
 * bench/compare.ts), such a process promoted 1.4 GB instead of 50-70 MB, ran 72 full collections
 * instead of 4-14, and used 1.5-2.5x the CPU per webhook request for as long as it ran. Runs with
 * 134 tenuring decisions were slow; runs with 0-6 were not. Onehand's long-lived data (the intake
 * memory, the repeat sums) is small and reaches the old generation the ordinary way.
 *
 * Set at run time, before the bot builds anything (V8 reads the flag at each collection; Node does
 * not freeze V8's flags). An operator who names the flag on node's command line (or in
 * NODE_OPTIONS) keeps their choice.
 */
import { setFlagsFromString } from 'node:v8';

export const PRETENURING_FLAG = 'allocation-site-pretenuring';

/** tuneGarbageCollector: see above; returns whether it changed anything. */
export function tuneGarbageCollector(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const named = (text: string) => text.includes(PRETENURING_FLAG);
  if (execArgv.some(named) || named(nodeOptions)) return false;
  setFlagsFromString(`--no-${PRETENURING_FLAG}`);
  return true;
}
