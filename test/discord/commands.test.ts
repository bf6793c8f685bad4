import { buildSlashCommands, OPTION, toCommandText, type SlashCommand } from '../../adapters/discord/slash-commands';
import { COMMANDS } from '../../src/core/commands/spec';
import { parseCommand } from '../../src/core/commands/parser';
import { APP_ID, GUILD_ID } from './fake-discord';
import { startDiscordWorld, USERS, type DiscordWorld } from './setup';

describe('Discord slash commands, generated from COMMANDS', () => {
  let w: DiscordWorld | undefined;
  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  it('are bulk-overwritten in the guild at start: /oncall, /incident and /help with every subcommand', async () => {
    w = await startDiscordWorld();
    const [put, ...others] = w.fake.callsTo('PUT', /commands$/);
    expect(others).toEqual([]);
    expect(put?.path).toBe(`/applications/${APP_ID}/guilds/${GUILD_ID}/commands`);
    expect(put?.auth).toBe('Bot fake-bot-token');
    const body = put?.body as SlashCommand[];
    expect(body.map((c) => c.name)).toEqual(['oncall', 'incident', 'help']);
    for (const group of ['oncall', 'incident'] as const) {
      const command = body.find((c) => c.name === group) as SlashCommand;
      expect(command.options.map((o) => o.name)).toEqual(COMMANDS.filter((c) => c.group === group).map((c) => c.name));
      for (const sub of command.options) {
        const spec = COMMANDS.find((c) => c.group === group && c.name === sub.name);
        expect(sub.type).toBe(OPTION.SUB_COMMAND);
        expect(sub.description).toBe(spec?.summary);
        const names = [...(spec?.args ?? []).map((a) => a.name), ...(spec?.options ?? []).map((o) => o.name)];
        expect([...(sub.options ?? [])].map((o) => o.name).sort()).toEqual(names.sort());
        // Required options come first, as Discord demands.
        const required = (sub.options ?? []).map((o) => o.required === true);
        expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a)));
      }
    }
    const incident = body.find((c) => c.name === 'incident') as SlashCommand;
    const report = incident.options.find((o) => o.name === 'report');
    expect(report?.options).toEqual([
      { type: OPTION.STRING, name: 'title', description: 'what is wrong, in a line', required: true },
      { type: OPTION.STRING, name: 'severity', description: 'sev1 (most urgent) to sev4; default sev3', required: false, choices: ['sev1', 'sev2', 'sev3', 'sev4'].map((s) => ({ name: s, value: s })) },
      { type: OPTION.STRING, name: 'team', description: 'the team (default: your team, or the channel\'s)', required: false, choices: [{ name: 'payments', value: 'payments' }, { name: 'search', value: 'search' }] },
      { type: OPTION.STRING, name: 'service', description: 'the affected service', required: false },
    ]);
    const ack = incident.options.find((o) => o.name === 'ack');
    expect(ack?.options).toEqual([{ type: OPTION.INTEGER, name: 'id', description: 'the incident number, e.g. 12', required: true, autocomplete: true, min_value: 1 }]);
    const escalate = incident.options.find((o) => o.name === 'escalate');
    expect(escalate?.options?.[1]).toMatchObject({ type: OPTION.STRING, name: 'to', required: false, choices: [{ name: 'mentor', value: 'mentor' }, { name: 'lead', value: 'lead' }] });
    const list = incident.options.find((o) => o.name === 'list');
    expect(list?.options?.find((o) => o.name === 'all')).toMatchObject({ type: OPTION.BOOLEAN, required: false });
    const oncall = body.find((c) => c.name === 'oncall') as SlashCommand;
    expect(oncall.options.find((o) => o.name === 'swap')?.options?.map((o) => [o.name, o.type])).toEqual([['member', OPTION.USER], ['other', OPTION.USER], ['team', OPTION.STRING]]);
    expect(oncall.options.find((o) => o.name === 'schedule')?.options?.[0]).toMatchObject({ name: 'weeks', type: OPTION.INTEGER, required: false });
  });

  it('include the commands enabled plugins add, as subcommands of their group', async () => {
    w = await startDiscordWorld({ extraConfig: '\nplugins:\n  handoff-summary: {}\n  quiet-hours: {}\n' });
    const body = w.fake.callsTo('PUT', /commands$/)[0]?.body as SlashCommand[];
    const oncall = body.find((c) => c.name === 'oncall') as SlashCommand;
    expect(oncall.options.map((o) => o.name)).toEqual([...COMMANDS.filter((c) => c.group === 'oncall').map((c) => c.name), 'handoff', 'focus']);
    expect(oncall.options.find((o) => o.name === 'focus')?.options?.[0]).toMatchObject({ name: 'length', type: OPTION.STRING, required: true });
  });

  it('respect Discord limits: lowercase names of at most 32 characters, descriptions of at most 100', () => {
    const check = (o: { name: string; description: string; options?: readonly { name: string; description: string }[] }): void => {
      expect(o.name).toMatch(/^[-_a-z0-9]{1,32}$/);
      expect(o.description.length).toBeGreaterThan(0);
      expect(o.description.length).toBeLessThanOrEqual(100);
      for (const inner of o.options ?? []) check(inner);
    };
    for (const c of buildSlashCommands(['payments'])) check(c);
  });
});

describe('an interaction becomes command text the grammar parses back', () => {
  const linked = new Map([[USERS.bob.id, 'bob'], [USERS.alice.id, 'alice']]);
  const memberOf = (id: string) => linked.get(id) ?? null;
  const sub = (name: string, group: string, options: Array<{ name: string; type: number; value: string | number | boolean }>) => ({ name: group, options: [{ name, type: 1, options }] });

  it('translates options in grammar order, quoting only where needed', () => {
    const report = toCommandText(sub('report', 'incident', [
      { name: 'title', type: 3, value: 'checkout down' }, { name: 'severity', type: 3, value: 'sev2' }, { name: 'service', type: 3, value: 'checkout' },
    ]), memberOf);
    expect(report).toMatchObject({ ok: true, text: 'incident report sev2 checkout down --service checkout' });

    const cases: Array<[ReturnType<typeof sub>, string, Record<string, unknown>]> = [
      [sub('report', 'incident', [{ name: 'title', type: 3, value: 'sev1 is "down"' }]), 'incident report \'sev1 is "down"\'', { title: 'sev1 is "down"' }],
      [sub('report', 'incident', [{ name: 'title', type: 3, value: 'checkout  down' }, { name: 'service', type: 3, value: 'checkout api' }]), 'incident report "checkout  down" --service "checkout api"', { title: 'checkout  down' }],
      [sub('resolve', 'incident', [{ name: 'id', type: 4, value: 12 }, { name: 'note', type: 3, value: 'rolled back --fast' }]), 'incident resolve 12 "rolled back --fast"', { id: 12, note: 'rolled back --fast' }],
      [sub('swap', 'oncall', [{ name: 'member', type: 6, value: USERS.bob.id }, { name: 'other', type: 6, value: USERS.alice.id }]), 'oncall swap bob alice', { member: 'bob', other: 'alice' }],
      [sub('list', 'incident', [{ name: 'all', type: 5, value: true }]), 'incident list --all', {}],
      [sub('escalate', 'incident', [{ name: 'id', type: 4, value: 3 }, { name: 'to', type: 3, value: 'lead' }]), 'incident escalate 3 lead', { id: 3, to: 'lead' }],
    ];
    for (const [data, text, args] of cases) {
      const t = toCommandText(data, memberOf);
      expect(t).toMatchObject({ ok: true, text });
      if (!t.ok) continue;
      const parsed = parseCommand(t.text);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.command.args).toMatchObject(args);
    }
    expect(toCommandText({ name: 'help', options: [{ name: 'command', type: 3, value: 'incident ack' }] }, memberOf)).toMatchObject({ ok: true, text: 'help incident ack' });
  });

  it('refuses an unlinked user as a member option, saying how to link them', () => {
    const t = toCommandText({ ...sub('swap', 'oncall', [{ name: 'member', type: 6, value: USERS.zed.id }, { name: 'other', type: 6, value: USERS.bob.id }]), resolved: { users: { [USERS.zed.id]: { username: 'zed' } } } }, memberOf);
    expect(t).toEqual({ ok: false, error: `zed is not linked to an Onehand member. An admin links them by adding discord: "${USERS.zed.id}" to their member entry in the config.` });
  });
});
