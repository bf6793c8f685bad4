/**
 * A stop (SIGTERM) while many steps are due: the process stops after the batch being fired, instead
 * of paging through the whole backlog for minutes (a black-box run saw 78 s and 10,900 messages
 * after the signal); the rest fires at the next start, each step once.
 */
import type { TimerHandler } from '../../src/app/scheduler';
import { ESCALATION_TIMER } from '../../src/app/incident-service';
import { Harness } from '../harness/harness';

describe('stopping with a backlog of due steps', () => {
  let h: Harness;
  afterEach(() => h.stop());

  it('stops after the batch in progress (at most 50 steps); the next start fires the rest, each once', async () => {
    h = await Harness.start();
    for (let i = 0; i < 80; i++) await h.run('zed', `incident report sev2 service ${i} down`);
    const handlers = (h.app.scheduler as unknown as { handlers: Map<string, { handler: TimerHandler }> }).handlers;
    const entry = handlers.get(ESCALATION_TIMER);
    if (!entry) throw new Error('no escalation handler');
    let fired = 0;
    let stopping: Promise<void> | null = null;
    handlers.set(ESCALATION_TIMER, {
      ...entry,
      handler: async (tx, timer, now) => {
        fired++;
        if (fired === 3) stopping = h.app.stop(); // SIGTERM arrives while the third step fires
        await entry.handler(tx, timer, now);
      },
    });
    h.clock.set(h.clock.now().plus({ minutes: 5, seconds: 1 })); // 80 reminders are due
    h.app.scheduler.start();
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (stopping) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    await stopping;
    expect(fired).toBe(50);
    const before = h.adapter.delivered;
    await h.restart();
    await h.advance('1s');
    const reminders = [...before, ...h.adapter.delivered].filter((d) => /Reminder: #\d+/.test(d.text));
    expect(new Set(reminders.map((d) => /Reminder: #(\d+)/.exec(d.text)?.[1])).size).toBe(80);
    expect(reminders).toHaveLength(80);
  });
});
