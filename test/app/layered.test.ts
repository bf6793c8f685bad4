/**
 * A layered schedule in the running app: weeknights over a weekday primary, a shadow learning;
 * who is paged, the shadow's notice, gaps held by the lead; `oncall who` and `oncall schedule`,
 * the calendar feed, the handoff draft and the insights all read through the rotation port.
 */
import { Harness } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';
import { runCli, tempDir, writeFile } from '../cli/run-cli';
import * as path from 'node:path';

const LAYERED = TEST_CONFIG
  .replace('members: [alice, bob, dave]', 'members: [alice, bob, dave, erin]')
  .replace('rotation: { shift: 1w, handoff: "Mon 09:00", start: 2026-01-05 }', `rotation:
      layers:
        - name: weeknights
          members: [bob]
          shift: 1w
          handoff: "Mon 18:00"
          start: 2026-01-05
          restrictions:
            - { days: [Mon, Tue, Wed, Thu, Fri], from: "18:00", to: "09:00" }
        - name: primary
          members: [alice, dave]
          shift: 1w
          handoff: "Mon 09:00"
          start: 2026-01-05
          restrictions:
            - { days: [Mon, Tue, Wed, Thu, Fri], from: "09:00", to: "18:00" }
        - name: learning
          shadow: true
          members: [erin]
          shift: 1w
          handoff: "Mon 09:00"
          start: 2026-01-05`) + 'plugins:\n  handoff-summary: {}\n';

describe('a layered schedule in the app', () => {
  it('pages the covering layer, tells the shadow (no mention, no buttons), and the lead holds a gap', async () => {
    const h = await Harness.start({ config: LAYERED }); // Tue 3 March 11:00 Berlin: primary, week 8 of [alice, dave]
    expect(await h.report('zed', 'sev2 checkout is down')).toContain('Alice is on call and has been paged');
    h.expectMessage('alice', /New incident #1/);
    const notice = h.expectMessage('erin', /Shadowing Alice: New incident #1 .* You are not paged/);
    expect(notice.message.mentions).toEqual([]);
    expect(notice.message.actions).toEqual([]);
    expect(await h.run('alice', 'incident show 1')).toContain('Erin (shadowing the on-call) was told, not paged');
    // The shadow is never in the chain: reminder to alice, then her mentor bob, then the lead.
    await h.advance('15m');
    h.expectMessage('alice', /Reminder/);
    h.expectMessage('bob', /Escalated to you as mentor/);
    h.expectMessage('carol', /Escalated to you as lead/);
    h.expectNothingFor('erin');

    await h.advanceTo('2026-03-03T19:00:00Z'); // 20:00 Berlin: weeknights
    await h.report('zed', 'sev3 slow search');
    h.expectMessage('bob', /New incident #2/);
    await h.advanceTo('2026-03-07T12:00:00Z'); // Saturday: no layer covers
    expect(await h.report('zed', 'sev3 refunds stuck')).toContain('Carol is on call');
    h.expectMessage('carol', /New incident #3/);
    expect(await h.run('carol', 'incident show 3')).toContain('no layer of the schedule covers this time: Carol, the lead, holds the gap');
    await h.stop();
  });

  it('oncall who and oncall schedule show the layers, the gaps and the shadow', async () => {
    const h = await Harness.start({ config: LAYERED });
    const who = await h.run('alice', 'oncall who');
    expect(who).toMatch(/^On call for Payments: Alice\nUntil Tue 03 Mar 18:00 GMT\+1 \(primary\)\.\nNext: Bob from Tue 03 Mar 18:00 GMT\+1 \(weeknights\)\.\nShadowing: Erin \(told about each page, never paged\)\.$/);
    const schedule = await h.run('alice', 'oncall schedule 1');
    expect(schedule).toContain('Fri 06 Mar 18:00 GMT+1 → Sat 07 Mar 09:00 GMT+1  Bob (weeknights)');
    expect(schedule).toContain('Sat 07 Mar 09:00 GMT+1 → Mon 09 Mar 09:00 GMT+1  Carol (gap: no layer covers it; the lead holds it)');
    expect(schedule).toContain('Shadowing (told about each page, never paged):\nTue 03 Mar 11:00 GMT+1 → Mon 09 Mar 09:00 GMT+1  Erin (learning)');
    await h.stop();
  });

  it('the calendar feed, the handoff draft and the insights read the layered schedule', async () => {
    const h = await Harness.start({ config: LAYERED });
    const ics = (await h.app.insights.calendar('payments', h.clock.now(), 'bob')) ?? '';
    expect(ics).toContain('DTSTART:20260303T170000Z'); // bob's Tuesday weeknight, 18:00 Berlin
    expect(await h.run('alice', 'oncall handoff')).toContain('Handoff draft for Payments: Alice → Bob at Tue 03 Mar 18:00');
    await h.advanceTo('2026-03-10T12:00:00Z');
    const report = await h.app.insights.report('payments', h.clock.now(), 7 * 86_400_000);
    const bob = report?.members.find((m) => m.member === 'bob');
    // Shifts are counted by the layer's shift (its key): bob's weekly weeknight shift that started on
    // 2 March, and the one from 9 March, however many evenings of each fall in the window.
    expect(bob?.shiftsServed).toBe(2);
    await h.stop();
  });

  it('the CLI: who names the layer and the shadow; schedule marks gaps and lists the shadow', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'onehand.yaml', LAYERED);
    const env = { ONEHAND_DATA: path.join(dir, 'none', 'onehand.db') };
    const who = await runCli(['who', '--config', file, '--team', 'payments', '--at', '2026-03-03T20:00:00+01:00'], '', env);
    expect(who.stdout).toBe('bob (Bob) is on call for payments from 2026-03-03T18:00:00+01:00 to 2026-03-04T09:00:00+01:00 (weeknights)\nerin (Erin) shadows them (told about each page, never paged)\n');
    const schedule = await runCli(['schedule', '--config', file, '--team', 'payments', '--from', '2026-03-06T17:00:00+01:00', '--to', '2026-03-07T10:00:00+01:00', '--json'], '', env);
    expect(JSON.parse(schedule.stdout)).toEqual([
      { member: 'alice', start: '2026-03-06T17:00:00+01:00', end: '2026-03-06T18:00:00+01:00', override: false, layer: 'primary' },
      { member: 'bob', start: '2026-03-06T18:00:00+01:00', end: '2026-03-07T09:00:00+01:00', override: false, layer: 'weeknights' },
      { member: 'carol', start: '2026-03-07T09:00:00+01:00', end: '2026-03-07T10:00:00+01:00', override: false, gap: true },
      { member: 'erin', start: '2026-03-06T17:00:00+01:00', end: '2026-03-07T10:00:00+01:00', shadow: true, layer: 'learning' },
    ]);
  });
});
