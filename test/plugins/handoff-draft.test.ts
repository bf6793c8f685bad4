/** The handoff draft mid-shift: ages measured to now, notes credited to whoever wrote them. */
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';

const CONFIG = `${TEST_CONFIG}\nplugins:\n  handoff-summary: { next_shifts: 1 }\n`;

describe('oncall handoff (the draft)', () => {
  it('shows a just-opened incident with its real age and credits each note to its author', async () => {
    const h = await Harness.start({ config: CONFIG }); // Tue 2026-03-03 10:00Z, Dave on call until Mon 08:00Z
    await h.run('zed', 'incident report sev2 checkout returns 502');
    await h.advance('4m');
    await h.run('dave', 'oncall handoff note watch the retry queue');
    await h.run('alice', 'oncall handoff note the db failover is tested');
    await h.run('alice', 'oncall handoff note "keep  both spaces"'); // one quoted text is its inside
    await h.run('alice', `oncall handoff note the "pay" button's fine`); // quotes inside stay
    const draft = await h.run('dave', 'oncall handoff');
    expect(draft).toContain('  • Alice: keep  both spaces');
    expect(draft).toContain(`  • Alice: the "pay" button's fine`);
    expect(draft).toContain('#1 [sev2] checkout returns 502 — open, Dave, open 4m');
    expect(draft).not.toMatch(/open 4d/);
    expect(draft).toContain('Handoff notes:\n  • Dave: watch the retry queue');
    expect(draft).toContain('  • Alice: the db failover is tested');
    expect(draft).not.toContain('Notes from Dave');

    // At the handoff itself the age runs to the handoff, and the notes keep their authors.
    await h.advanceTo('2026-03-09T08:00:00Z');
    const summary = h.expectMessage('alice', /^Handoff for Payments: Dave → Alice/);
    expect(summary.text).toContain('open 5d22h');
    expect(summary.text).toContain('Alice: the db failover is tested');
    await h.stop();
  });
});
