import { helpFor, helpOverview } from '../../src/core/commands/help';
import { parseCommand, tokenize } from '../../src/core/commands/parser';
import { COMMANDS, usage } from '../../src/core/commands/spec';

function ok(line: string) {
  const r = parseCommand(line);
  if (!r.ok) throw new Error(`expected ${line} to parse: ${r.error}`);
  return r.command;
}

function err(line: string): string {
  const r = parseCommand(line);
  if (r.ok) throw new Error(`expected ${line} to fail`);
  return r.usage ? `${r.error} | ${r.usage}` : r.error;
}

describe('the command grammar', () => {
  it('parses every example in the command descriptions', () => {
    for (const spec of COMMANDS) expect(ok(spec.example).spec).toBe(spec);
  });

  it('reads an optional severity before the title, and options anywhere', () => {
    const c = ok('incident report sev1 checkout returns 502 --service checkout');
    expect(c.args).toEqual({ severity: 'sev1', title: 'checkout returns 502' });
    expect(c.options).toEqual({ service: 'checkout' });
    const d = ok('incident report checkout is slow');
    expect(d.args).toEqual({ title: 'checkout is slow' });
  });

  it('accepts #12 and 12, quoted text, a leading slash and any case in the verb', () => {
    expect(ok('/Incident ACK #12').args).toEqual({ id: 12 });
    expect(ok('incident note 12 "two  spaces"').args).toEqual({ id: 12, text: 'two  spaces' });
    expect(tokenize(`a "b c" 'd e' f`)).toEqual(['a', 'b c', 'd e', 'f']);
  });

  it('keeps free text as typed: quotes inside it, its spacing, and quoted words that look like options', () => {
    expect(ok('incident report sev2 the "pay" button fails').args).toEqual({ severity: 'sev2', title: 'the "pay" button fails' });
    expect(ok(`incident report "db down" since 5pm`).args).toEqual({ title: '"db down" since 5pm' });
    expect(ok(`incident note 12 it's  down,  'again'`).args).toEqual({ id: 12, text: `it's  down,  'again'` });
    expect(ok('incident report sev3 "--dry-run" left on in prod').args).toEqual({ severity: 'sev3', title: '"--dry-run" left on in prod' });
    // A lone "--" inside the text stays (it still ends the options); one before the text does not.
    expect(ok('incident note 1 step 1 -- then step 2').args).toEqual({ id: 1, text: 'step 1 -- then step 2' });
    expect(ok('incident report deploy -- rollback -- failed').args).toEqual({ title: 'deploy -- rollback -- failed' });
    expect(ok('incident report x  --  y').args).toEqual({ title: 'x  --  y' });
    expect(ok('incident report sev2 -- --force-push broke main').args).toEqual({ severity: 'sev2', title: '--force-push broke main' });
    // A quoted word is text, never an optional argument's keyword.
    expect(ok('incident report "sev2" is a title').args).toEqual({ title: '"sev2" is a title' });
    expect(ok('incident report "sev2"').args).toEqual({ title: 'sev2' });
    // Text an option interrupts is joined by one space; the option is read as an option.
    const c = ok('incident report disk  full --service db on  the replica');
    expect(c.args).toEqual({ title: 'disk  full on  the replica' });
    expect(c.options).toEqual({ service: 'db' });
  });

  it('answers bad input with what is wrong and the usage line, never an exception', () => {
    expect(err('')).toContain('Empty command');
    expect(err('deploy now')).toContain('Unknown command "deploy"');
    expect(err('incident frobnicate 1')).toContain('"incident frobnicate" is not a command; use one of: report, list');
    expect(err('incident')).toContain('"incident" needs a subcommand');
    expect(err('incident ack')).toBe('Missing ID: the incident number, e.g. 12. | incident ack ID');
    expect(err('incident ack twelve')).toContain('ID "twelve" is not valid');
    expect(err('incident escalate 3 boss')).toContain('TO "boss" is not valid: mentor or lead');
    expect(err('oncall schedule -3')).toContain('WEEKS "-3" is not valid');
    expect(err('oncall override bob tomorrow 8h')).toContain('FROM "tomorrow" is not valid');
    expect(err('incident list --colour red')).toContain('has no option --colour');
    expect(err('incident list --team')).toContain('--team needs a value');
    expect(err('oncall who --team payments --team search')).toBe('--team is given twice ("payments" and "search"); give it once. | oncall who [--team TEAM]');
    expect(err('incident ack 1 2')).toContain('Unexpected "2"');
  });

  it('help is generated from the same descriptions', () => {
    expect(helpOverview()).toHaveLength(COMMANDS.length);
    expect(helpOverview().at(-1)).toMatch(/^help \[COMMAND\] — /); // how to ask about one command, last
    expect(helpOverview()[0]).toBe(`${usage(COMMANDS[0]!)} — ${COMMANDS[0]!.summary}`);
    expect(helpFor('incident huddle')?.join('\n')).toContain('Who may: the on-call, their mentor or the team lead');
    // The reporter may follow and add to their own incident (show, note), not act on it.
    expect(helpFor('incident note')?.join('\n')).toContain('Who may: the assignee, the on-call, their mentor or the team lead, and the incident\'s reporter.');
    expect(helpFor('incident show')?.join('\n')).toContain('Who may: members of the team, and the incident\'s reporter and assignee.');
    expect(helpFor('incident resolve')?.join('\n')).toContain('Who may: the assignee, the on-call, their mentor or the team lead. Example');
    expect(helpFor('nothing')).toBeNull();
  });
});
