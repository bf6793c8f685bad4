/**
 * A timer that does not fire when due stalls an incident's chain. /healthz says so:
 * - a step whose handler keeps failing (or no replica's loop running) is shown in `timers` as
 *   "behind", counted in /metrics and logged at each try, without failing the probe: every replica
 *   reads the same timers, and a readiness probe taking them all out would stop the webhooks too;
 * - a wait that is only a lease running out (a replica died holding the timer) is not "behind";
 * - this replica's own loop making no progress (a handler or transaction that never returns) fails
 *   the probe: a restart of this replica is the fix.
 */
import type { TimerHandler } from '../../src/app/scheduler';
import { ESCALATION_TIMER } from '../../src/app/incident-service';
import type { Store } from '../../src/ports/store';
import { Harness } from '../harness/harness';

describe('/healthz and timers that do not fire', () => {
  let h: Harness;
  afterEach(() => h.stop());

  function handlers(harness: Harness): Map<string, { handler: TimerHandler }> {
    return (harness.app.scheduler as unknown as { handlers: Map<string, { handler: TimerHandler }> }).handlers;
  }

  it('an escalation step that keeps failing: logged and counted at each try, shown as behind naming the incident after two minutes (the probe still answers ok), and ok once the step fires', async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev2 checkout down');
    // A bug in the step (simulated: the handler throws) for a while.
    const entry = handlers(h).get(ESCALATION_TIMER);
    if (!entry) throw new Error('no escalation handler');
    const real = entry.handler;
    let broken = true;
    handlers(h).set(ESCALATION_TIMER, { ...entry, handler: (tx, timer, now) => (broken ? Promise.reject(new Error('simulated bug in the step')) : real(tx, timer, now)) });
    await h.advance('5m'); // the reminder is due, and fails
    expect(h.logger.entries.some((e) => e.level === 'error' && e.msg === 'timer handler failed; will retry')).toBe(true);
    expect((await h.app.health()).timers).toBe('ok'); // not yet two minutes late
    await h.advance('2m30s'); // retried each minute, failing each time
    const health = await h.app.health();
    expect(health.timers).toMatch(/^behind: the oldest due timer \(the escalation of #1\) waits 1\d\d s; the log says why/);
    expect(health.ok).toBe(true);
    expect(await h.app.metrics.registry.metrics()).toMatch(/^onehand_timer_failures_total\{kind="escalate"\} [3-9]$/m);
    broken = false;
    await h.advance('1m'); // the next try fires the reminder
    h.expectMessage('dave', /Reminder: #1/);
    const after = await h.app.health();
    expect(after.timers).toBe('ok');
    expect(after.ok).toBe(true);
  });

  it('a replica that died holding a due timer, with a lease of 5 minutes: the wait for the lease is not "behind"; past the lease and a minute it is', async () => {
    h = await Harness.start();
    const lease = 5 * 60_000;
    (h.app.scheduler as unknown as { settings: { leaseMs?: number } }).settings.leaseMs = lease;
    await h.run('zed', 'incident report sev2 checkout down');
    await h.advance('4m59s');
    // The reminder falls due at 5m; another replica (timers.lease: 5m) claims it and dies.
    const store = h.app.store as Store;
    const due = h.clock.now().plus({ seconds: 1 });
    const claimed = await store.transaction((tx) => tx.claimDueTimers(due, 50, 'dead-replica', due.plus({ milliseconds: lease })));
    expect(claimed.map((t) => t.kind)).toEqual([ESCALATION_TIMER]);
    h.clock.set(due.plus({ minutes: 4 }));
    expect((await h.app.health()).timers).toBe('ok');
    // Nobody takes it over (as if no replica's loop ran): past the lease, a period and a minute.
    h.clock.set(due.plus({ minutes: 6, seconds: 5 }));
    expect((await h.app.health()).timers).toMatch(/^behind: the oldest due timer \(the escalation of #1\) waits 36\d s/);
    await h.advance('1s'); // this replica takes it over now
    h.expectMessage('dave', /Reminder: #1/);
    expect((await h.app.health()).timers).toBe('ok');
  });

  it("this replica's running loop making no progress (a step that never returns): /healthz fails, naming it; ok again once the loop moves", async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev2 checkout down');
    const entry = handlers(h).get(ESCALATION_TIMER);
    if (!entry) throw new Error('no escalation handler');
    let release: () => void = () => undefined;
    let hung = false;
    handlers(h).set(ESCALATION_TIMER, {
      ...entry,
      handler: (tx, timer, now) => {
        hung = true;
        return new Promise<void>((resolve) => {
          release = resolve;
        }).then(() => entry.handler(tx, timer, now));
      },
    });
    h.clock.set(h.clock.now().plus({ minutes: 5 })); // the reminder is due
    h.app.scheduler.start(); // the real loop (a tick now, then every second)
    await waitUntil(() => hung);
    expect((await h.app.health(100)).timers).toBe('ok'); // hung, but not for long yet
    h.clock.set(h.clock.now().plus({ minutes: 2, seconds: 1 }));
    const health = await h.app.health(100);
    expect(health.timers).toBe("failing: this replica's timer loop has made no progress for 121 s (a timer's handler or transaction that does not return; the log says which)");
    expect(health.ok).toBe(false);
    release();
    await waitUntil(() => h.adapter.delivered.some((d) => d.to === 'dave' && /Reminder: #1/.test(d.text)));
    const after = await h.app.health();
    expect(after.timers).toBe('ok');
  });
});

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!done()) throw new Error('timed out waiting');
}
