/**
 * example-counter: the smallest useful plugin, as a template for your own. It counts the incidents
 * reported per severity (onIncidentEvent, in its own storage) and adds a command, `incident tally`,
 * on every platform. Enable it from a path:
 *
 *   plugins:
 *     tally:
 *       module: ./plugins/example-counter   # relative to the config file
 *       title: Incidents so far               # optional
 */
import { message } from '../../src/core/messages/message';
import { rt } from '../../src/core/text/rich-text';
import type { Plugin } from '../../src/ports/plugin';

interface CounterConfig {
  readonly title: string;
}

export const plugin: Plugin<CounterConfig> = {
  name: 'example-counter',

  checkConfig(raw) {
    const section = (raw ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(section).filter((k) => k !== 'title');
    if (unknown.length > 0) return { ok: false, problems: unknown.map((k) => ({ path: k, message: 'unknown key; the only setting is title' })) };
    if (section.title !== undefined && typeof section.title !== 'string') return { ok: false, problems: [{ path: 'title', message: 'must be text' }] };
    return { ok: true, config: { title: (section.title as string | undefined) ?? 'Incidents reported' } };
  },

  activate(config) {
    return {
      async onIncidentEvent(event, incident, call) {
        if (event.kind !== 'reported') return;
        const key = `count:${incident.team}:${incident.severity}`;
        await call.storage.set(key, ((await call.storage.get<number>(key)) ?? 0) + 1);
      },
      commands: [
        {
          spec: {
            group: 'incident', name: 'tally', summary: 'Count the incidents reported, per severity (example plugin).',
            args: [], options: [{ name: 'team', kind: 'team', help: 'the team' }], permission: 'team-member', example: 'incident tally',
          },
          async run(_args, _caller, team, call) {
            const counts = await Promise.all(['sev1', 'sev2', 'sev3', 'sev4'].map(async (s) => `${s}: ${(await call.storage.get<number>(`count:${team.id}:${s}`)) ?? 0}`));
            return message('reply', rt`${config.title} for ${team.name}: ${counts.join(', ')}`);
          },
        },
      ],
    };
  },
};
