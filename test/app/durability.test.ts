import { Harness } from '../harness/harness';

describe('durable escalation timers across restarts', () => {
  it('a step due while the bot was down fires once at start, late, and the plan continues', async () => {
    const h = await Harness.start();
    await h.run('zed', 'incident report sev2 disk full');
    h.expectMessage('dave', /New incident/);
    await h.advance('3m');
    await h.app.stop();

    // The bot is down across the re-page instant (10:05) and starts again at 10:07.
    h.clock.set(h.clock.now().plus({ minutes: 4 }));
    await h.restart();
    const reminder = h.expectMessage('dave', /Reminder: #1/);
    expect(reminder.at).toBe('2026-03-03T10:07:00.000Z');
    await h.restart();
    await h.advance('4m59s');
    h.expectNothingFor('dave', 'alice');
    await h.advance('1s');
    h.expectMessage('alice', /Escalated to you as mentor/);
    await h.stop();
  });

  it('incidents, timelines and overrides survive a restart', async () => {
    const h = await Harness.start();
    await h.run('zed', 'incident report sev3 kept');
    await h.run('carol', 'oncall override bob now 1d');
    await h.run('dave', 'incident note 1 first clue');
    await h.restart();
    expect(await h.run('carol', 'incident show 1')).toContain('note from Dave: first clue');
    expect(await h.run('carol', 'oncall who')).toContain('On call for Payments: Bob');
    await h.stop();
  });
});
