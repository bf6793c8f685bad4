/**
 * A timer that does not fire when due (an escalation step whose handler keeps failing, or a timer
 * loop that lags) stalls an incident's chain: /healthz says so instead of staying "ok".
 */
import type { TimerHandler } from '../../src/app/scheduler';
import { ESCALATION_TIMER } from '../../src/app/incident-service';
import { Harness } from '../harness/harness';

describe('/healthz and timers that do not fire', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('an escalation step that keeps failing: logged at each try, /healthz fails naming the incident after two minutes, and is ok once the step fires', async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev2 checkout down');
    // A bug in the step (simulated: the handler throws) for a while.
    const handlers = (h.app.scheduler as unknown as { handlers: Map<string, { handler: TimerHandler }> }).handlers;
    const entry = handlers.get(ESCALATION_TIMER);
    if (!entry) throw new Error('no escalation handler');
    const real = entry.handler;
    let broken = true;
    handlers.set(ESCALATION_TIMER, { ...entry, handler: (tx, timer, now) => (broken ? Promise.reject(new Error('simulated bug in the step')) : real(tx, timer, now)) });
    await h.advance('5m'); // the reminder is due, and fails
    expect(h.logger.entries.some((e) => e.level === 'error' && e.msg === 'timer handler failed; will retry')).toBe(true);
    expect((await h.app.health()).timers).toBe('ok'); // not yet two minutes late
    await h.advance('2m30s'); // retried each minute, failing each time
    const health = await h.app.health();
    expect(health.timers).toMatch(/^behind: the oldest due timer \(the escalation of #1\) waits 1\d\d s; the log says why/);
    expect(health.ok).toBe(false);
    expect(await h.app.metrics.registry.metrics()).toMatch(/^onehand_timer_failures_total\{kind="escalate"\} [3-9]$/m);
    broken = false;
    await h.advance('1m'); // the next try fires the reminder
    h.expectMessage('dave', /Reminder: #1/);
    const after = await h.app.health();
    expect(after.timers).toBe('ok');
    expect(after.ok).toBe(true);
  });
});
