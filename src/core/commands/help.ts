/**
 * helpText renders the command reference from COMMANDS: the overview, or one command in detail.
 * Returns null when the topic names no command.
 */
import { COMMANDS, commandName, usage, type CommandSpec } from './spec';

/** helpOverview: every command's usage and summary, and last how to ask about one (`help [COMMAND]`). */
export function helpOverview(commands: readonly CommandSpec[] = COMMANDS): string[] {
  const line = (c: CommandSpec) => `${usage(c)} — ${c.summary}`;
  return [...commands.filter((c) => c.group !== 'help').map(line), ...commands.filter((c) => c.group === 'help').map(line)];
}

export function helpFor(topic: string, commands: readonly CommandSpec[] = COMMANDS): string[] | null {
  const wanted = topic.trim().toLowerCase().replace(/\s+/g, ' ');
  const matches = commands.filter((c) => commandName(c) === wanted || c.group === wanted);
  if (matches.length === 0) return null;
  return matches.flatMap((c) => [
    `${usage(c)} — ${c.summary}`,
    ...c.args.map((a) => `  ${a.usage ?? a.name.toUpperCase()}${a.optional ? ' (optional)' : ''}: ${a.help}`),
    ...c.options.map((o) => `  --${o.name}: ${o.help}`),
    `  Who may: ${PERMISSION_WORDS[c.permission]}${c.reporterToo || c.assigneeToo ? `, and the incident's ${[c.reporterToo ? 'reporter' : '', c.assigneeToo ? 'assignee' : ''].filter(Boolean).join(' and ')}` : ''}. Example: ${c.example}`,
  ]);
}

export const PERMISSION_WORDS = {
  anyone: 'anyone',
  'team-member': 'members of the team',
  responder: 'the assignee, the on-call, their mentor or the team lead',
  commander: 'the on-call, their mentor or the team lead',
  'rotation-admin': 'the team lead or an admin',
  dispatcher: 'the on-call, the team lead or an admin',
} as const;
