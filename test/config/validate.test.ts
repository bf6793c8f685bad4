import { parseConfig, validateConfig } from '../../src/config';
import { parse, problemAt, problemsOf, validConfig } from './fixtures';

describe('parseConfig on a valid config', () => {
  it('returns the normalized world', () => {
    const result = parse(validConfig());
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    const { world } = result.config;
    expect([...world.members.keys()]).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(world.defaultTeam).toBe('payments');
    expect(world.admins).toEqual(new Set(['carol']));
    expect(world.members.get('alice')?.identities).toEqual({ discord: '812345678901234567' });
    expect(result.config.sourcePath).toBeNull();
  });

  it('fills in defaults for optional keys', () => {
    const c = validConfig();
    delete c.admins;
    delete c.teams[0].escalation;
    delete c.teams[0].rotation.members;
    delete c.teams[0].rotation.shift;
    delete c.teams[0].channels;
    delete c.teams[0].name;
    delete c.members[0].name;
    const result = parse(c);
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    const team = result.config.world.teams.get('payments');
    expect(team?.name).toBe('payments');
    expect(team?.channels).toEqual({});
    expect(team?.rotation.members).toEqual(['alice', 'bob', 'dave']);
    expect(team?.rotation.shift).toEqual({ unit: 'weeks', amount: 1 });
    expect(team?.escalation).toEqual({ ackTimeoutMs: 300_000, renotify: 1, then: ['mentor', 'lead'], repeat: 1, unownedEveryMs: 3_600_000, handoff: 'reassign' });
    expect(result.config.world.members.get('alice')?.name).toBe('alice');
    expect(result.config.world.admins.size).toBe(0);
    expect(result.config.timers).toEqual({ periodMs: 1000, leaseMs: 60_000 });
    expect(result.config.delivery).toEqual({ timeoutMs: 10_000, concurrency: 8, fallbackAfter: 3 });
    expect(result.config.http).toEqual({ port: null, host: '127.0.0.1' });
  });

  it('reads delivery and refuses values outside their range, naming the key and the range', () => {
    const c = validConfig();
    c.delivery = { timeout: '30s', concurrency: 2, fallback_after: 1 };
    const ok = parse(c);
    if (!ok.ok) throw new Error(ok.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    expect(ok.config.delivery).toEqual({ timeoutMs: 30_000, concurrency: 2, fallbackAfter: 1 });
    c.delivery = { timeout: '5m', concurrency: 0, fallback_after: 99 };
    const bad = parse(c);
    if (bad.ok) throw new Error('accepted');
    const text = bad.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    expect(text).toMatch(/delivery\.timeout: "5m" is out of range; timeout \(how long one platform call may take[^)]*\) is from 1s to 2m/);
    expect(text).toMatch(/delivery\.concurrency: .*1 to 64/);
    expect(text).toMatch(/delivery\.fallback_after: .*1 to 20/);
  });

  it('treats empty optional sections as defaults', () => {
    const text = `
members:
  - { id: alice, time_zone: UTC }
teams:
  - id: ops
    time_zone: UTC
    lead: alice
    members: [alice]
    channels:
    rotation: { handoff: "09:00", start: 2026-01-05, shift: 12h }
    escalation:
admins:
timers:
http:
plugins:
`;
    const result = parseConfig(text);
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    expect(result.config.world.teams.get('ops')?.rotation.shift).toEqual({ unit: 'hours', amount: 12 });
  });

  it('reads timers.period, http and renotify 0 / empty then', () => {
    const c = validConfig();
    c.timers = { period: '4s10ms', lease: '19s' };
    c.http = { port: 8080, host: '0.0.0.0' };
    c.teams[0].escalation = { ack_timeout: '1h30m', renotify: 0, then: [], repeat: 0, unowned_every: '30m', handoff: 'keep' };
    const result = parse(c);
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    expect(result.config.timers).toEqual({ periodMs: 4010, leaseMs: 19000 });
    expect(result.config.http).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(result.config.world.teams.get('payments')?.escalation).toEqual({
      ackTimeoutMs: 90 * 60_000,
      renotify: 0,
      then: [],
      repeat: 0,
      unownedEveryMs: 30 * 60_000,
      handoff: 'keep',
    });
  });

  it('refuses an unowned alert interval or handoff rule that would break the escalation promise', () => {
    const c = validConfig();
    c.teams[0].escalation = { unowned_every: '1m', handoff: 'drop', repeat: 11 };
    const problems = problemsOf(c);
    expect(problemAt(problems, 'teams[0].escalation.unowned_every').message).toBe('"1m" is out of range; unowned_every (an unowned incident is announced again at that interval until someone acknowledges it) is from 5m to 1d, default 1h');
    expect(problemAt(problems, 'teams[0].escalation.handoff').message).toMatch(/"reassign".*or "keep"/);
    expect(problemAt(problems, 'teams[0].escalation.repeat').message).toMatch(/whole number from 0 to 10/);
  });

  it('gives a weekly handoff without a weekday the start date\'s weekday', () => {
    const c = validConfig();
    c.teams[0].rotation.handoff = '10:30';
    c.teams[0].rotation.start = '2026-01-07'; // a Wednesday
    const result = parse(c);
    if (!result.ok) throw new Error('expected a valid config');
    expect(result.config.world.teams.get('payments')?.rotation.handoff).toEqual({
      weekday: 3,
      time: { hour: 10, minute: 30 },
    });
  });

  it('accepts a start date given as a Date (YAML 1.1 timestamps) or a string', () => {
    const c = validConfig();
    c.teams[0].rotation.start = new Date(Date.UTC(2026, 0, 5));
    const result = validateConfig(c);
    if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    expect(result.config.world.teams.get('payments')?.rotation.start).toBe('2026-01-05');
  });

  it('accepts a lead in the rotation who is not a team member', () => {
    const c = validConfig();
    c.teams[0].rotation.members = ['alice', 'carol'];
    expect(parse(c).ok).toBe(true);
  });

  it('honours default_team', () => {
    const c = validConfig();
    c.teams.push({ ...structuredClone(c.teams[0]), id: 'search' });
    c.default_team = 'search';
    const result = parse(c);
    expect(result.ok && result.config.world.defaultTeam).toBe('search');
  });
});

describe('unknown keys', () => {
  it('suggests the closest known key for a typo, and does not also call it missing', () => {
    const c = validConfig();
    c.teams[0].rotaton = c.teams[0].rotation;
    delete c.teams[0].rotation;
    const problems = problemsOf(c);
    expect(problems).toEqual([
      expect.objectContaining({ path: 'teams[0].rotaton', message: 'unknown key; did you mean "rotation"?' }),
    ]);
  });

  it('suggests snake_case for camelCase keys', () => {
    const c = validConfig();
    c.members[0].timeZone = c.members[0].time_zone;
    delete c.members[0].time_zone;
    expect(problemAt(problemsOf(c), 'members[0].timeZone').message).toBe('unknown key; did you mean "time_zone"?');
  });

  it('lists the allowed keys when nothing is close', () => {
    const c = validConfig();
    c.members[0].slack = 'U123';
    const p = problemAt(problemsOf(c), 'members[0].slack');
    expect(p.message).toMatch(/unknown key/);
    expect(p.message).toMatch(/discord, teams, console/);
  });

  it('refuses unknown top-level and nested keys', () => {
    const c = validConfig();
    c.timer = { period: '1s' };
    c.teams[0].escalation.ack_timout = '5m';
    c.teams[0].channels.slack = '#x';
    const problems = problemsOf(c);
    expect(problemAt(problems, 'timer').message).toMatch(/did you mean "timers"/);
    expect(problemAt(problems, 'teams[0].escalation.ack_timout').message).toMatch(/did you mean "ack_timeout"/);
    expect(problemAt(problems, 'teams[0].channels.slack').message).toMatch(/unknown key/);
  });
});

describe('types and required keys', () => {
  it('names a missing required key and what to write', () => {
    const c = validConfig();
    delete c.teams[0].lead;
    delete c.members[1].time_zone;
    delete c.teams[0].rotation.start;
    const problems = problemsOf(c);
    expect(problemAt(problems, 'teams[0].lead').message).toMatch(/missing; add "lead:" with .*member id/);
    expect(problemAt(problems, 'members[1].time_zone').message).toMatch(/missing; add "time_zone:" with an IANA/);
    expect(problemAt(problems, 'teams[0].rotation.start').message).toMatch(/missing.*ISO date/);
  });

  it('names the expected and the actual type', () => {
    const c = validConfig();
    c.members[0].name = 42;
    c.teams[0].members = 'alice';
    c.teams[0].escalation.renotify = 'twice';
    c.http = { port: '8080' };
    const problems = problemsOf(c);
    expect(problemAt(problems, 'members[0].name').message).toMatch(/expected a display name.*got the number 42/);
    expect(problemAt(problems, 'teams[0].members').message).toMatch(/expected a list of member ids.*got the text "alice"/);
    expect(problemAt(problems, 'teams[0].escalation.renotify').message).toMatch(/expected a whole number from 0 to 10/);
    expect(problemAt(problems, 'http.port').message).toMatch(/expected a TCP port/);
  });

  it('asks to quote platform ids written as numbers', () => {
    const problems = problemsOf(withDiscordNumber());
    const p = problemAt(problems, 'members[0].discord');
    expect(p.message).toMatch(/quotes/);
    expect(p.message).toMatch(/too long to be read exactly/);
  });

  it('refuses a Discord id that is not one (a username, a handle): a page to it would never arrive, and its mention would ping nobody', () => {
    const c = validConfig();
    Object.assign(c.members[0] as Record<string, unknown>, { discord: 'dave.smith' });
    Object.assign(c.members[1] as Record<string, unknown>, { discord: '@bob' });
    Object.assign(c.teams[0] as Record<string, unknown>, { channels: { discord: '#payments' } });
    const problems = problemsOf(c);
    expect(problemAt(problems, 'members[0].discord').message).toBe('"dave.smith" is not a Discord user id: that is a number of 17 to 20 digits, in quotes (in Discord: User Settings > Advanced > Developer Mode, then right click the user > Copy User ID), e.g. "812345678901234567"');
    expect(problemAt(problems, 'members[1].discord').message).toMatch(/^"@bob" is not a Discord user id/);
    expect(problemAt(problems, 'teams[0].channels.discord').message).toMatch(/^"#payments" is not a Discord channel id: .*Copy Channel ID/);
    // A real one is taken, surrounding spaces too.
    const fine = validConfig();
    Object.assign(fine.members[0] as Record<string, unknown>, { discord: ' 812345678901234567 ' });
    const taken = parse(fine);
    expect(taken.ok && taken.config.world.members.get('alice')?.identities.discord).toBe('812345678901234567');
  });

  it('says an empty value for a required key is empty', () => {
    const text = 'members:\n  - id: alice\n    time_zone:\nteams: []\n';
    expect(problemAt(problemsOf(text), 'members[0].time_zone').message).toMatch(/is empty; write an IANA time zone/);
  });

  it('refuses ids that are not lowercase and suggests one', () => {
    const c = validConfig();
    c.members.push({ id: 'Erin Hannon', time_zone: 'UTC' });
    const p = problemAt(problemsOf(c), 'members[4].id');
    expect(p.message).toMatch(/is not a member id \(lowercase/);
    expect(p.message).toMatch(/write "erin-hannon"/);
  });

  it('reports a top level that is not a mapping', () => {
    expect(problemsOf('- alice\n- bob\n')).toEqual([
      { path: '(config)', message: expect.stringMatching(/expected a mapping.*got a list/) },
    ]);
  });
});

function withDiscordNumber(): string {
  // Written as YAML text: an unquoted 18-digit id is read as an (imprecise) number.
  return `
members:
  - id: alice
    time_zone: UTC
    discord: 812345678901234567
teams:
  - { id: ops, time_zone: UTC, lead: alice, members: [alice], rotation: { handoff: "09:00", start: 2026-01-05 } }
`;
}

describe('empty file, no members, no teams', () => {
  it('reports an empty file once', () => {
    expect(problemsOf('')).toEqual([{ path: '(config)', message: expect.stringMatching(/config is empty/) }]);
    expect(problemsOf('# only a comment\n')).toHaveLength(1);
  });

  it('reports empty or missing members and teams', () => {
    let problems = problemsOf('members: []\nteams: []\n');
    expect(problemAt(problems, 'members').message).toMatch(/^no members; the config needs a list of members/);
    expect(problemAt(problems, 'teams').message).toMatch(/^no teams; the config needs a list of teams/);
    problems = problemsOf('admins: []\n');
    expect(problemAt(problems, 'members').message).toMatch(/^missing/);
    expect(problemAt(problems, 'teams').message).toMatch(/^missing/);
  });
});

describe('duplicate ids', () => {
  it('reports a duplicate member id and a duplicate team id', () => {
    const c = validConfig();
    c.members.push({ id: 'bob', time_zone: 'UTC' });
    c.teams.push(structuredClone(c.teams[0]));
    const problems = problemsOf(c);
    expect(problemAt(problems, 'members[4].id').message).toMatch(/"bob" is already the id of members\[1\]; give each member a unique id/);
    expect(problemAt(problems, 'teams[1].id').message).toMatch(/"payments" is already the id of teams\[0\]; give each team a unique id/);
  });

  it('reports a member listed twice in a team and in a rotation', () => {
    const c = validConfig();
    c.teams[0].members = ['alice', 'bob', 'alice', 'dave'];
    c.teams[0].rotation.members = ['alice', 'bob', 'dave', 'bob'];
    const problems = problemsOf(c);
    expect(problemAt(problems, 'teams[0].members[2]').message).toMatch(/"alice" is listed twice \(also at teams\[0\]\.members\[0\]\)/);
    expect(problemAt(problems, 'teams[0].rotation.members[3]').message).toMatch(/"bob" is listed twice/);
  });
});

describe('unknown member and team ids', () => {
  it('reports each reference to an unknown member, with a suggestion when close', () => {
    const c = validConfig();
    c.teams[0].members = ['alice', 'bobb', 'dave'];
    c.teams[0].lead = 'karol';
    c.teams[0].rotation.members = ['alice', 'zed'];
    c.members[2].mentor = 'nobody';
    c.admins = ['carl'];
    const problems = problemsOf(c);
    expect(problemAt(problems, 'teams[0].members[1]').message).toBe('no member with id "bobb"; did you mean "bob"?');
    expect(problemAt(problems, 'teams[0].lead').message).toBe('no member with id "karol"; did you mean "carol"?');
    expect(problemAt(problems, 'teams[0].rotation.members[1]').message).toMatch(
      /no member with id "zed"; add it under "members" or use a known id \(alice, bob, carol, dave\)/,
    );
    expect(problemAt(problems, 'members[2].mentor').message).toMatch(/no member with id "nobody"/);
    expect(problemAt(problems, 'admins[0]').message).toMatch(/no member with id "carl"; did you mean "carol"/);
  });

  it('reports a default_team naming an unknown team', () => {
    const c = validConfig();
    c.default_team = 'paymnts';
    expect(problemAt(problemsOf(c), 'default_team').message).toBe('no team with id "paymnts"; did you mean "payments"?');
  });
});

describe('time zones', () => {
  it('suggests a close IANA zone, or an example', () => {
    const c = validConfig();
    c.members[0].time_zone = 'Europe/Berln';
    c.teams[0].time_zone = 'CET+1';
    const problems = problemsOf(c);
    expect(problemAt(problems, 'members[0].time_zone').message).toBe(
      '"Europe/Berln" is not a known IANA time zone; did you mean "Europe/Berlin"?',
    );
    expect(problemAt(problems, 'teams[0].time_zone').message).toMatch(/not a known IANA time zone; use an IANA zone such as Europe\/Berlin/);
  });

  it('refuses abbreviations the zone database knows but that name no place (EST has no daylight saving); places without a slash and UTC stay', () => {
    const c = validConfig();
    c.members[0].time_zone = 'CET';
    c.members[1].time_zone = 'EST';
    c.members[2].time_zone = 'Singapore';
    c.teams[0].time_zone = 'Japan';
    const problems = problemsOf(c);
    expect(problems.map((p) => p.path)).toEqual(['members[0].time_zone', 'members[1].time_zone']);
    expect(problemAt(problems, 'members[1].time_zone').message).toBe(
      '"EST" is an abbreviation, not an IANA place name; write the place, such as Europe/Berlin or America/New_York (a place knows its own daylight saving rules), or UTC',
    );
  });

  it("refuses the old three-letter IDs Node's ICU knows (BST would be Bangladesh, not British Summer Time)", () => {
    for (const zone of ['BST', 'pst', 'IST', 'CST', 'JST']) {
      const config = validConfig();
      config.teams[0].time_zone = zone;
      expect(problemAt(problemsOf(config), 'teams[0].time_zone').message).toMatch(new RegExp(`^"${zone}" is an abbreviation, not an IANA place name`));
    }
  });
});

describe('mentors', () => {
  it('refuses a member who is their own mentor', () => {
    const c = validConfig();
    c.members[1].mentor = 'bob';
    expect(problemAt(problemsOf(c), 'members[1].mentor').message).toMatch(/bob cannot be their own mentor; name another member/);
  });
});

describe('rotations', () => {
  it('refuses an empty rotation', () => {
    const c = validConfig();
    c.teams[0].rotation.members = [];
    expect(problemAt(problemsOf(c), 'teams[0].rotation.members').message).toMatch(/the rotation has no members; list who takes shifts/);
  });

  it('refuses an empty rotation defaulted from an empty team', () => {
    const c = validConfig();
    c.teams[0].members = [];
    delete c.teams[0].rotation.members;
    expect(problemAt(problemsOf(c), 'teams[0].rotation.members').message).toMatch(
      /no members: it defaults to the team's members, and teams\[0\]\.members is empty/,
    );
  });

  it('refuses a rotation member who is not in the team', () => {
    const c = validConfig();
    c.teams[0].members = ['alice', 'bob'];
    const p = problemAt(problemsOf(c), 'teams[0].rotation.members[2]');
    expect(p.message).toMatch(/"dave" is not in team "payments" \(its members or lead\); add them to teams\[0\]\.members or remove them/);
  });

  it.each([
    ['1d12h', /mixes units.*"36h" instead of "1d12h"/],
    ['90m', /uses minutes or seconds; a shift is whole hours, days or weeks/],
    ['30s', /uses minutes or seconds/],
    ['weekly', /"weekly" is not a shift length; write one unit: hours, days or weeks/],
    ['0w', /is not a shift length/],
  ])('refuses shift %j', (shift, message) => {
    const c = validConfig();
    c.teams[0].rotation.shift = shift;
    expect(problemAt(problemsOf(c), 'teams[0].rotation.shift').message).toMatch(message);
  });

  it.each([
    ['12h', { unit: 'hours', amount: 12 }],
    ['2d', { unit: 'days', amount: 2 }],
    ['2w', { unit: 'weeks', amount: 2 }],
  ])('accepts shift %j', (shift, expected) => {
    const c = validConfig();
    c.teams[0].rotation.shift = shift;
    if (shift !== '2w') c.teams[0].rotation.handoff = '09:00';
    const result = parse(c);
    expect(result.ok && result.config.world.teams.get('payments')?.rotation.shift).toEqual(expected);
  });

  it.each(['Mon 25:00', 'Funday 09:00', '9am', 'Mon 09:00 UTC'])('refuses handoff %j', (handoff) => {
    const c = validConfig();
    c.teams[0].rotation.handoff = handoff;
    expect(problemAt(problemsOf(c), 'teams[0].rotation.handoff').message).toBe(
      `"${handoff}" is not a weekday and time (e.g. "Mon 09:00")`,
    );
  });

  it('refuses a weekday for a daily shift', () => {
    const c = validConfig();
    c.teams[0].rotation.shift = '1d';
    const p = problemAt(problemsOf(c), 'teams[0].rotation.handoff');
    expect(p.message).toMatch(/a weekday only applies to weekly shifts, so write just the time \(e\.g\. "09:00"\)/);
  });

  it.each([
    ['2026-02-30', /"2026-02-30" is not a date; write an ISO date such as 2026-01-05/],
    ['next monday', /is not a date/],
    ['05.01.2026', /is not a date/],
    ['2026-01-05T09:00:00', /has a time; write just the date/],
  ])('refuses start %j', (start, message) => {
    const c = validConfig();
    c.teams[0].rotation.start = start;
    expect(problemAt(problemsOf(c), 'teams[0].rotation.start').message).toMatch(message);
  });

  it('refuses a start date given as a number', () => {
    const c = validConfig();
    c.teams[0].rotation.start = 20260105;
    expect(problemAt(problemsOf(c), 'teams[0].rotation.start').message).toMatch(/expected an ISO date/);
  });
});

describe('escalation', () => {
  it('refuses a malformed ack_timeout', () => {
    const c = validConfig();
    c.teams[0].escalation.ack_timeout = '5 minutes';
    expect(problemAt(problemsOf(c), 'teams[0].escalation.ack_timeout').message).toMatch(
      /"5 minutes" is not a duration such as "90s", "15m"/,
    );
  });

  it.each([
    [-1, /-1 is out of range; use a whole number from 0 to 10/],
    [11, /11 is out of range/],
    [1.5, /expected a whole number from 0 to 10.*got the number 1.5/],
    ['1', /expected a whole number/],
  ])('refuses renotify %j', (renotify, message) => {
    const c = validConfig();
    c.teams[0].escalation.renotify = renotify;
    expect(problemAt(problemsOf(c), 'teams[0].escalation.renotify').message).toMatch(message);
  });

  it('refuses unknown and repeated steps', () => {
    const c = validConfig();
    c.teams[0].escalation.then = ['mentor', 'lead', 'mentor', 'huddle', 'leed'];
    const problems = problemsOf(c);
    expect(problemAt(problems, 'teams[0].escalation.then[2]').message).toMatch(/"mentor" appears twice; each of mentor and lead may appear at most once/);
    expect(problemAt(problems, 'teams[0].escalation.then[3]').message).toMatch(/"huddle" is not an escalation step: "mentor" or "lead"/);
    expect(problemAt(problems, 'teams[0].escalation.then[4]').message).toMatch(/did you mean "lead"/);
  });
});

describe('timers and http', () => {
  it('refuses a malformed timers.period and an out-of-range port', () => {
    const c = validConfig();
    c.timers = { period: 'soon' };
    c.http = { port: 70000, host: ' ' };
    const problems = problemsOf(c);
    expect(problemAt(problems, 'timers.period').message).toMatch(/"soon" is not a duration/);
    expect(problemAt(problems, 'http.port').message).toMatch(/70000 is out of range; use a TCP port from 1 to 65535/);
    expect(problemAt(problems, 'http.host').message).toMatch(/is empty/);
  });
});

describe('secrets', () => {
  it.each(['token', 'password', 'secret', 'client_secret', 'api_key'])('refuses a key named %s anywhere', (key) => {
    const c = validConfig();
    c.members[0][key] = 'hunter2';
    const p = problemAt(problemsOf(c), `members[0].${key}`);
    // A member takes no secret: the hint must not name a "<key>_env" that exists nowhere.
    expect(p.message).toBe('secrets are never written in config, and "members[0]" takes none: remove it (a secret goes in an environment variable named where it is used, e.g. discord.token_env or integrations[].token_env)');
  });

  it('names the keys that take the secret where there are some, and none where there are none', () => {
    const c = validConfig();
    c.timers = { token: 'abc' };
    c.integrations = [{ id: 'am', type: 'alertmanager', team: c.teams[0].id, token: 'abc' }];
    const problems = problemsOf(c);
    expect(problemAt(problems, 'timers.token').message).toMatch(/^secrets are never written in config, and "timers" takes none: remove it/);
    expect(problemAt(problems, 'integrations[0].token').message).toBe('secrets are never written in config; put it in an environment variable and name it with "token_env" or "token_file" (e.g. token_env: ONEHAND_TOKEN)');
  });

  it('names the real place of a platform secret: discord.token_env (default DISCORD_TOKEN), and MICROSOFT_APP_PASSWORD for Teams', () => {
    const c = validConfig();
    c.discord = { token: 'abc' };
    c.microsoft_teams = { password: 'hunter2' };
    const problems = problemsOf(c);
    expect(problemAt(problems, 'discord.token').message).toBe('secrets are never written in config; put it in an environment variable and name it with "token_env" or "token_file" (e.g. set DISCORD_TOKEN, the variable token_env names by default)');
    expect(problemAt(problems, 'microsoft_teams.password').message).toBe('secrets are never written in config, and "microsoft_teams" takes none: remove it (the Teams bot\'s client secret goes in the environment variable MICROSOFT_APP_PASSWORD, with its app id in MICROSOFT_APP_ID)');
  });

  it('finds secrets at the top level, in unknown sections and in plugin sections', () => {
    const c = validConfig();
    c.discord = { token: 'abc' };
    c.slack = { token: 'abc' };
    c.plugins = { pager: { apiKey: 'x', nested: [{ password: 'y' }] } };
    const problems = problemsOf(c, ['pager']);
    expect(problemAt(problems, 'discord.token').message).toMatch(/secrets are never written/);
    expect(problemAt(problems, 'slack.token').message).toMatch(/secrets are never written/);
    expect(problemAt(problems, 'slack').message).toMatch(/unknown key/);
    expect(problemAt(problems, 'plugins.pager.apiKey').message).toMatch(/"apiKey_env"/);
    expect(problemAt(problems, 'plugins.pager.nested[0].password').message).toMatch(/secrets are never written/);
  });

  it('accepts a key naming an environment variable', () => {
    const c = validConfig();
    c.plugins = { pager: { token_env: 'PAGER_TOKEN' } };
    const result = parse(c, ['pager']);
    expect(result.ok && result.config.plugins).toEqual({ pager: { token_env: 'PAGER_TOKEN' } });
  });
});

describe('plugins', () => {
  it('refuses every plugin while none exist', () => {
    const c = validConfig();
    c.plugins = { foo: {} };
    expect(problemAt(problemsOf(c), 'plugins.foo').message).toMatch(/^no plugin named "foo" \(available: none yet\); a third-party plugin names its code with "module/);
  });

  it('accepts known plugin names passed in, and suggests close ones', () => {
    const c = validConfig();
    c.plugins = { 'quiet-hours': { from: '22:00' }, 'handoff-sumary': {} };
    const problems = problemsOf(c, ['quiet-hours', 'handoff-summary']);
    expect(problems).toHaveLength(1);
    expect(problemAt(problems, 'plugins.handoff-sumary').message).toBe(
      'no plugin named "handoff-sumary" (available: quiet-hours, handoff-summary); did you mean "handoff-summary"?; a third-party plugin names its code with "module: <npm package or ./path>"',
    );
    delete c.plugins['handoff-sumary'];
    const result = parse(c, ['quiet-hours']);
    expect(result.ok && result.config.plugins).toEqual({ 'quiet-hours': { from: '22:00' } });
  });

  it('treats a "__proto__" key as an unknown key', () => {
    const text = 'members:\n  - id: alice\n    time_zone: UTC\n    __proto__: { mentor: bob }\nteams: []\n';
    expect(problemAt(problemsOf(text), 'members[0].__proto__').message).toMatch(/unknown key/);
  });

  it('refuses a plugins value that is not a mapping', () => {
    const c = validConfig();
    c.plugins = ['foo'];
    expect(problemAt(problemsOf(c), 'plugins').message).toMatch(/expected a mapping of plugin name/);
  });
});

describe('many problems at once', () => {
  const text = `# a config with several mistakes
members:
  - id: alice
    time_zone: Europe/Berln
    mentor: alice
  - id: bob
    time_zone: UTC
    password: hunter2
teams:
  - id: payments
    time_zone: Europe/Berlin
    lead: carol
    members: [alice, bob]
    rotaton: {}
  - id: search
    time_zone: UTC
    lead: bob
    members: [bob]
    rotation:
      shift: 1d12h
      handoff: "Mon 25:00"
      start: 2026-13-01
    escalation: { ack_timeout: soon, renotify: 20, then: [mentor, mentor] }
default_team: nope
plugins: { foo: {} }
`;

  it('lists every problem, in the order the keys appear in the file, with lines', () => {
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual([
      'members[0].time_zone',
      'members[0].mentor',
      'members[1].password',
      'teams[0].lead',
      'teams[0].rotaton',
      'teams[1].rotation.shift',
      'teams[1].rotation.handoff',
      'teams[1].rotation.start',
      'teams[1].escalation.ack_timeout',
      'teams[1].escalation.renotify',
      'teams[1].escalation.then[1]',
      'default_team',
      'plugins.foo',
    ]);
    expect(problemAt(problems, 'members[0].time_zone').line).toBe(4);
    expect(problemAt(problems, 'members[1].password').line).toBe(8);
    expect(problemAt(problems, 'teams[0].rotaton').line).toBe(14);
    expect(problemAt(problems, 'plugins.foo').line).toBe(25);
  });
});
