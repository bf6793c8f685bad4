import { join } from 'node:path';
import { loadConfigFile } from '../../src/config';
import { BUILTIN_PLUGIN_NAMES, loadPlugins } from '../../src/runtime/plugin-loader';

const EXAMPLE = join(__dirname, '..', '..', 'config', 'onehand.yaml');

describe('config/onehand.yaml (the example)', () => {
  const result = loadConfigFile(EXAMPLE, BUILTIN_PLUGIN_NAMES);

  it('loads without problems', () => {
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    expect(result.config.sourcePath).toBe(EXAMPLE);
  });

  it('maps the payments team into the world', () => {
    if (!result.ok) throw new Error('example did not load');
    const { world } = result.config;
    expect(world.defaultTeam).toBe('payments');
    expect([...world.admins]).toEqual(['carol']);
    const payments = world.teams.get('payments');
    expect(payments).toEqual({
      id: 'payments',
      name: 'Payments',
      timeZone: 'Europe/Berlin',
      lead: 'carol',
      members: ['alice', 'bob', 'dave'],
      channels: { console: '#payments' },
      rotation: {
        members: ['alice', 'bob', 'dave'],
        shift: { unit: 'weeks', amount: 1 },
        handoff: { weekday: 1, time: { hour: 9, minute: 0 } },
        start: '2026-01-05',
        timeZone: 'Europe/Berlin',
      },
      escalation: { ackTimeoutMs: 5 * 60_000, renotify: 1, then: ['mentor', 'lead'], repeat: 1, unownedEveryMs: 3_600_000, handoff: 'reassign' },
    });
  });

  it('has a daily team in another zone whose rotation defaults to the team members', () => {
    if (!result.ok) throw new Error('example did not load');
    const search = result.config.world.teams.get('search');
    expect(search?.timeZone).toBe('America/New_York');
    expect(search?.rotation.shift).toEqual({ unit: 'days', amount: 1 });
    expect(search?.rotation.handoff).toEqual({ weekday: null, time: { hour: 8, minute: 30 } });
    expect(search?.rotation.members).toEqual(search?.members);
    expect(search?.escalation).toEqual({ ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'], repeat: 1, unownedEveryMs: 3_600_000, handoff: 'reassign' });
  });

  it('maps members with mentors and quoted platform identities', () => {
    if (!result.ok) throw new Error('example did not load');
    const { members } = result.config.world;
    expect(members.get('alice')).toEqual({
      id: 'alice',
      name: 'Alice Liddell',
      timeZone: 'Europe/Berlin',
      mentor: 'bob',
      identities: { discord: '812345678901234567', console: 'alice' },
    });
    expect(members.get('bob')?.mentor).toBe('dave');
    expect(members.get('dave')?.mentor).toBe('alice');
    expect(members.get('carol')?.mentor).toBeNull();
  });

  it('fills in the defaults for timers and http', () => {
    if (!result.ok) throw new Error('example did not load');
    expect(result.config.timers).toEqual({ periodMs: 1000, leaseMs: 60_000 });
    expect(result.config.http).toEqual({ port: null, host: '127.0.0.1' });
  });

  it('enables both built-in plugins with valid settings', () => {
    if (!result.ok) throw new Error('example did not load');
    const loaded = loadPlugins(result.config.plugins, result.config.world, join(__dirname, '..', '..', 'config'));
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    expect(loaded.plugins.map((p) => p.name)).toEqual(['handoff-summary', 'quiet-hours']);
  });
});
