import { DateTime } from 'luxon';
import { parseConfig } from '../../src/config';
import { decideStep, nextPosition, passPlan, rolesOf } from '../../src/core/escalation/escalation';
import type { Incident } from '../../src/core/incident/types';
import type { EscalationPlan, World } from '../../src/core/model';
import { TEST_CONFIG } from '../harness/fixtures';

function world(config = TEST_CONFIG): World {
  const parsed = parseConfig(config);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.config.world;
}

const at = DateTime.fromISO('2026-03-03T10:00:00Z');
const policy: EscalationPlan = { ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'], repeat: 1, unownedEveryMs: 3_600_000 };
const incident = (extra: Partial<Incident> = {}): Incident => ({
  id: 1, team: 'payments', title: 't', severity: 'sev2', source: 'chat', service: null, fingerprint: null, state: 'open',
  assignee: 'dave', reporter: { kind: 'guest', adapter: 'x', address: 'zed', name: 'zed' }, escalationLevel: 0, policy,
  openedAt: at, acknowledgedAt: null, resolvedAt: null, updatedAt: at, ...extra,
});

describe('the escalation chain (pure)', () => {
  it('runs pass 0, then repeats from a page to the on-call, then ends in the unowned alert', () => {
    expect(passPlan(policy, 0)).toEqual(['oncall', 'mentor', 'lead']);
    expect(passPlan(policy, 1)).toEqual(['oncall', 'oncall', 'mentor', 'lead']);
    expect(nextPosition(policy, 0, 2)).toEqual({ pass: 1, index: 0 });
    expect(nextPosition(policy, 1, 3)).toBe('unowned');
    expect(nextPosition({ ...policy, repeat: 0 }, 0, 2)).toBe('unowned');
    // A policy frozen before `repeat` existed repeats once.
    expect(nextPosition({ ackTimeoutMs: 1, renotify: 0, then: ['lead'] }, 0, 0)).toEqual({ pass: 1, index: 0 });
  });

  it('an early manual escalation is skipped in pass 0, but the repeat pages the mentor again', () => {
    const w = world();
    const escalated = incident({ escalationLevel: 1 });
    const first = decideStep(w, escalated, 1, 0);
    expect(first.person).toBe('carol');
    expect(first.skipped).toEqual([{ step: 'mentor', reason: 'already escalated to the mentor' }]);
    const again = decideStep(w, escalated, 2, 1);
    expect(again.person).toBe('alice');
    expect(again.skipped).toEqual([]);
  });

  it('one person, one page: a mentor who is also the lead is paged once, naming both roles', () => {
    const w = world(TEST_CONFIG.replace('mentor: alice }', 'mentor: carol }'));
    const i = incident();
    expect(rolesOf(w, i, 'carol')).toEqual(['mentor', 'lead']);
    const mentor = decideStep(w, i, 1, 0);
    expect(mentor).toMatchObject({ index: 1, person: 'carol', roles: ['mentor', 'lead'], level: 2 });
    const lead = decideStep(w, { ...i, escalationLevel: 2 }, 2, 0);
    expect(lead.index).toBeNull();
    expect(lead.skipped).toEqual([{ step: 'lead', reason: 'the lead is also the mentor and was paged once for both' }]);
  });
});
