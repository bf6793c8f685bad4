/**
 * The YAML writer for imported configs: an ImportResult in, the text of a commented onehand.yaml
 * out. Every value that came from the tool says where it came from in a comment; values a person
 * must supply are marked FILL IN; what could not be carried over is listed at the end.
 *
 * A team with one layer and no restrictions is written with the plain rotation keys (members,
 * shift, handoff, start); anything else uses `rotation.layers`.
 */
import { TOOL_NAMES, type ImportedLayer, type ImportedTeam, type ImportResult } from './model';

const COMMENT_COLUMN = 34;

/** writeImportedConfig renders the config text. `command` is the command line shown in the header. */
export function writeImportedConfig(result: ImportResult, command: string, generatedAt: string): string {
  const tool = TOOL_NAMES[result.tool];
  const out: string[] = [];
  const line = (indent: number, text: string, comment?: string) => {
    const body = ' '.repeat(indent) + text;
    out.push(comment ? `${body.padEnd(COMMENT_COLUMN - 1)} # ${oneLine(comment)}` : body);
  };
  out.push(
    `# Onehand config imported from ${tool} by \`${oneLine(command)}\` on ${generatedAt}.`,
    '# Comments say where each value came from. Lines marked FILL IN need a person; the list at the',
    `# end of the file is what could not be carried over (the command printed it too).`,
    '# Check the file with: onehand check-config PATH',
    '',
    '# members: everyone who takes shifts or is a mentor or lead.',
    'members:',
  );
  for (const m of result.members) {
    line(2, `- id: ${m.id}`, m.source);
    line(4, `name: ${JSON.stringify(m.name)}`);
    line(4, `time_zone: ${m.timeZone}`, m.zoneNote);
    if (m.mentor !== undefined) line(4, `mentor: ${m.mentor}`, 'from the escalation policy: the first level after the on-call that pages one person');
    line(4, `# FILL IN how Onehand reaches ${m.id}: discord: "<user id>" and/or teams: "<29:... id>" (${tool} does not know them)`);
  }
  out.push('', '# teams: one per imported schedule.', 'teams:');
  for (const team of result.teams) writeTeam(team, line, out);
  out.push('');
  if (result.unmapped.length === 0) out.push(`# Everything in the input was carried over.`);
  else {
    out.push(`# Not imported (${result.unmapped.length}):`);
    for (const u of result.unmapped) out.push(`#   - ${oneLine(u)}`);
  }
  return out.join('\n') + '\n';
}

type LineFn = (indent: number, text: string, comment?: string) => void;

function writeTeam(team: ImportedTeam, line: LineFn, out: string[]): void {
  line(2, `- id: ${team.id}`, team.source);
  line(4, `name: ${JSON.stringify(team.name)}`);
  line(4, `time_zone: ${team.timeZone}`, 'the schedule\'s zone: handoffs and restrictions are read in it');
  line(4, `lead: ${team.lead}`, team.leadNote);
  line(4, `members: [${team.members.join(', ')}]`);
  line(4, '# FILL IN the team channel for its quiet record, e.g. channels: { discord: "<channel id>" }');
  out.push('    rotation:');
  const single = team.layers.length === 1 && (team.layers[0] as ImportedLayer).restrictions.length === 0;
  if (single) {
    const l = team.layers[0] as ImportedLayer;
    line(6, `# ${l.source}`);
    writeLayerKeys(l, 6, line);
  } else {
    out.push('      layers:                       # the first listed layer that has someone at an instant wins');
    for (const l of team.layers) {
      line(8, `- name: ${l.name}`, l.source);
      writeLayerKeys(l, 10, line);
      if (l.restrictions.length > 0) {
        line(10, 'restrictions:', l.comments.restrictions ?? `in ${team.timeZone}`);
        for (const r of l.restrictions) {
          if (r.days && r.days.length > 0) {
            line(12, `- days: [${r.days.join(', ')}]`, r.source);
            line(14, `from: "${r.from}"`);
          } else line(12, `- from: "${r.from}"`, r.source);
          line(14, `to: "${r.to}"`);
        }
      }
    }
  }
  const e = team.escalation;
  if (e) {
    line(4, 'escalation:', e.source);
    if (e.ackTimeout !== undefined) line(6, `ack_timeout: ${e.ackTimeout}`, e.comments.ack_timeout);
    if (e.renotify !== undefined) line(6, `renotify: ${e.renotify}`, e.comments.renotify);
    if (e.then !== undefined) line(6, `then: [${e.then.join(', ')}]`, e.comments.then);
    if (e.repeat !== undefined) line(6, `repeat: ${e.repeat}`, e.comments.repeat);
  } else {
    line(4, '# escalation: none imported; Onehand\'s defaults apply (ack_timeout 5m, renotify 1, then [mentor, lead])');
  }
}

function writeLayerKeys(l: ImportedLayer, indent: number, line: LineFn): void {
  line(indent, `members: [${l.members.join(', ')}]`, l.comments.members);
  line(indent, `shift: ${l.shift}`, l.comments.shift);
  line(indent, `handoff: "${l.handoff}"`, l.comments.handoff);
  line(indent, `start: ${l.start}`, l.comments.start);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
