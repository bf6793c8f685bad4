/**
 * A seeded history for the insights tests, played through the real app with the simulated clock:
 * two incidents in the previous window, nine in the 28-day window ending Mon 2026-03-02 12:00Z,
 * an override, automatic and manual escalations, a huddle, a quiet-hours deferral and an urgent
 * bypass at night. The expected figures are worked out by hand in figures.test.ts.
 *
 * Payments rotates weekly (Mon 09:00 Berlin = 08:00Z in winter): alice (Jan 5), bob, dave, alice,
 * bob (Feb 2), dave (Feb 9), alice (Feb 16), bob (Feb 23), dave (Mar 2), alice (Mar 9), ...
 */
import { Harness, plain } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';

export const INSIGHTS_CONFIG = `${TEST_CONFIG}
insights: { huddle_warning: 10 }
plugins:
  quiet-hours:
    urgent: [sev1]
    defaults: { nights: "22:00-07:00", weekends: false }
`;

/** The end of the seeded window (`--since 28d` from here). */
export const SEED_END = '2026-03-02T12:00:00Z';

export async function seedHistory(): Promise<Harness> {
  const h = await Harness.start({ config: INSIGHTS_CONFIG, at: '2026-01-13T09:00:00Z' });
  const ok = async (who: string, text: string): Promise<void> => {
    const reply = await h.runMessage(who, text);
    // Refusals and errors are private answers.
    if (reply.private) throw new Error(`"${who}: ${text}" was refused: ${plain(reply)}`);
  };
  // The lead puts alice on call for 12 hours of bob's week (Wed Feb 25, 09:00-21:00 Berlin).
  await ok('carol', 'oncall override alice 2026-02-25T09:00 12h --team payments');

  // Previous window.
  await h.advanceTo('2026-01-13T10:00:00Z'); // P1 (bob's week): api, ack 1m, resolve 10m
  await ok('zed', 'incident report sev3 api timeouts --service api --team payments');
  await h.advance('1m');
  await ok('bob', 'incident ack 1');
  await h.advance('9m');
  await ok('bob', 'incident resolve 1 restarted');
  await h.advanceTo('2026-01-20T10:00:00Z'); // P2 (dave): checkout, escalated to alice, ack 10m, resolve 20m
  await ok('zed', 'incident report sev3 checkout slow --service checkout --team payments');
  await h.advance('4m');
  await h.advance('6m'); // the reminder fired at 10:05, the mentor step (alice) at 10:10; then dave acks
  await ok('dave', 'incident ack 2');
  await h.advance('10m');
  await ok('dave', 'incident resolve 2');

  // The window: Feb 2 12:00Z to Mar 2 12:00Z.
  await h.advanceTo('2026-02-03T10:00:00Z'); // #3 (bob): checkout, ack 3m, resolve 30m, solo
  await ok('zed', 'incident report sev2 checkout returns 502 --service checkout --team payments');
  await h.advance('3m');
  await ok('bob', 'incident ack 3');
  await h.advance('27m');
  await ok('bob', 'incident resolve 3 rolled back');

  await h.advanceTo('2026-02-04T10:00:00Z'); // #4 (bob, no ack): reminder, mentor dave; dave acks 12m, resolves 40m
  await ok('zed', 'incident report sev3 search is slow --service api --team payments');
  await h.advance('12m');
  await ok('dave', 'incident ack 4');
  await h.advance('28m');
  await ok('dave', 'incident resolve 4');

  await h.advanceTo('2026-02-10T14:00:00Z'); // #5 (dave): db, ack 2m, huddle, resolve 60m
  await ok('zed', 'incident report sev2 database failover --service db --team payments');
  await h.advance('2m');
  await ok('dave', 'incident ack 5');
  await h.advance('8m');
  await ok('dave', 'incident huddle 5 failover needs <three> people & a plan');
  await h.advance('50m');
  await ok('dave', 'incident resolve 5');

  await h.advanceTo('2026-02-11T01:00:00Z'); // #6 (dave, night): sev3 deferred to 07:00 London; ack 07:03, resolve 07:30
  await ok('zed', 'incident report sev3 checkout retries --service checkout --team payments');
  await h.advanceTo('2026-02-11T07:03:00Z');
  await ok('dave', 'incident ack 6');
  await h.advance('27m');
  await ok('dave', 'incident resolve 6');

  await h.advanceTo('2026-02-12T02:00:00Z'); // #7 (dave, night): sev1 bypasses quiet hours; ack 4m, resolve 20m
  await ok('zed', 'incident report sev1 payments are down --service checkout --team payments');
  await h.advance('4m');
  await ok('dave', 'incident ack 7');
  await h.advance('16m');
  await ok('dave', 'incident resolve 7');

  await h.advanceTo('2026-02-17T10:00:00Z'); // #8 (alice): ledger, ack 1m, manual escalation to mentor bob, resolve 60m
  await ok('zed', 'incident report sev3 ledger mismatch --service ledger --team payments');
  await h.advance('1m');
  await ok('alice', 'incident ack 8');
  await h.advance('4m');
  await ok('alice', 'incident escalate 8 mentor');
  await h.advance('55m');
  await ok('alice', 'incident resolve 8');

  await h.advanceTo('2026-02-18T10:00:00Z'); // #9 (alice): web, ack 4m, resolve 10m, solo
  await ok('zed', 'incident report sev4 typo on the pricing page --service web --team payments');
  await h.advance('4m');
  await ok('alice', 'incident ack 9');
  await h.advance('6m');
  await ok('alice', 'incident resolve 9');

  await h.advanceTo('2026-02-25T12:00:00Z'); // #10 (alice by override): api, ack 1m, resolve 31m, solo
  await ok('zed', 'incident report sev3 api errors --service api --team payments');
  await h.advance('1m');
  await ok('alice', 'incident ack 10');
  await h.advance('30m');
  await ok('alice', 'incident resolve 10');

  await h.advanceTo('2026-02-26T10:00:00Z'); // #11 (bob, no ack): reminder, mentor dave, lead carol; carol acks 16m, resolves 30m
  await ok('zed', 'incident report sev3 ledger lag --service ledger --team payments');
  await h.advance('16m');
  await ok('carol', 'incident ack 11');
  await h.advance('14m');
  await ok('carol', 'incident resolve 11');

  await h.advanceTo(SEED_END);
  return h;
}
