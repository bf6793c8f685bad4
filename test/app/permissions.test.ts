import { Harness } from '../harness/harness';

describe('permissions, checked in the core, with refusals that say why', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
    await h.run('zed', 'incident report sev3 slow search');
  });
  afterAll(() => h.stop());

  it('anyone may report, even from outside the teams', async () => {
    expect(await h.run('someone-from-support', 'incident report sev4 typo on pricing page')).toContain('Reported #2');
  });

  it('a guest may not list the team\'s incidents, but may follow their own', async () => {
    expect(await h.run('zed', 'incident list')).toContain('Only members of the team may do this');
    expect(await h.run('zed', 'incident show 1')).toContain('#1 [sev3] slow search');
    // Without the action hints the reporter may not use; the assignee gets them.
    expect((await h.runMessage('zed', 'incident show 1')).actions).toEqual([]);
    expect((await h.runMessage('bob', 'incident show 1')).actions).toEqual([]);
    expect((await h.runMessage('dave', 'incident show 1')).actions).toEqual(['ack', 'resolve', 'escalate']);
    expect(await h.run('mallory', 'incident show 1')).toContain('Only members of the team may do this');
  });

  it('team members may list; another team may not ack', async () => {
    expect(await h.run('bob', 'incident list')).toContain('#1 [sev3] slow search');
    expect(await h.run('erin', 'incident ack 1')).toContain('Only the assignee, the on-call, their mentor or the team lead may do this (team Payments and incident #1)');
  });

  it('a team member who is not a responder may not ack', async () => {
    // bob is neither on call (dave is), nor dave's mentor (alice), nor the lead (carol).
    expect(await h.run('bob', 'incident ack 1')).toContain('Only the assignee, the on-call');
  });

  it('only the lead or an admin changes the rotation', async () => {
    expect(await h.run('dave', 'oncall override bob now 2h')).toContain('Only the team lead or an admin may do this');
    expect(await h.run('root', 'oncall override bob now 2h --team payments')).toContain('Override set: Bob is on call');
    expect(await h.run('carol', 'oncall who')).toContain('On call for Payments: Bob');
  });

  it('a mistyped member or command gets the closest one suggested (a swap of two letters too)', async () => {
    expect(await h.run('carol', 'incident assign 1 frnak')).toBe('There is no member "frnak" (did you mean "frank"?); member ids are in the config (members[].id).');
    expect(await h.run('carol', 'oncall away zzzzzz now 1d')).toBe('There is no member "zzzzzz"; member ids are in the config (members[].id).');
    expect(await h.run('carol', 'help asign')).toBe('No command "asign". Did you mean "help incident assign"? Type "help" for the list.');
    expect(await h.run('carol', 'help xyzzy')).toBe('No command "xyzzy". Type "help" for the list.');
  });

  it('the mentor may ack', async () => {
    // The override from now handed #1 (unacknowledged) over to Bob: his mentor is Dave, not Alice.
    expect(await h.run('alice', 'incident ack 1')).toContain('Only the assignee, the on-call, their mentor or the team lead may do this');
    expect(await h.run('dave', 'incident ack 1')).toContain('You acknowledged #1');
  });
});
