/** The command parser's edges: unknown severities are refused, `--` ends the options. */
import { parseCommand } from '../../src/core/commands/parser';

function parsed(line: string) {
  const r = parseCommand(line);
  return r.ok ? { args: r.command.args, options: r.command.options } : { error: r.error };
}

describe('incident report severities and "--"', () => {
  it('refuses an unknown severity instead of reporting it as sev3 with the severity in the title', () => {
    expect(parsed('incident report sev5 disk full')).toEqual({ error: 'SEVERITY "sev5" is not valid: sev1 (most urgent) to sev4; default sev3.' });
    expect(parsed('incident report SEV0 disk full')).toEqual({ error: 'SEVERITY "SEV0" is not valid: sev1 (most urgent) to sev4; default sev3.' });
    expect(parsed('incident report sev2 disk full')).toEqual({ args: { severity: 'sev2', title: 'disk full' }, options: {} });
    expect(parsed('incident report severe disk')).toEqual({ args: { title: 'severe disk' }, options: {} });
  });

  it('"--" ends the options: a title may start with "--", or with a word like a severity', () => {
    expect(parsed('incident report -- --force-push broke main')).toEqual({ args: { title: '--force-push broke main' }, options: {} });
    expect(parsed('incident report sev1 --service api -- --dry-run deleted data')).toEqual({ args: { severity: 'sev1', title: '--dry-run deleted data' }, options: { service: 'api' } });
    expect(parsed('incident report -- sev5 is the new tier')).toEqual({ args: { title: 'sev5 is the new tier' }, options: {} });
    expect(parsed('incident report --force-push broke main')).toEqual({ error: '"incident report" has no option --force-push (options: --team, --service). Text that starts with "--" goes after a lone "--".' });
  });
});
