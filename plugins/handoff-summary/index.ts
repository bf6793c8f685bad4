/**
 * handoff-summary: a clean handover at every shift change. At each boundary (a durable timer, so
 * exactly once, also across restarts, late when the bot was down) the incoming on-call (whoever is
 * really on call, overrides included) gets a direct message and the team channel a quiet post with
 * the outgoing shift's incidents, escalations, huddles, response times, deferred pages, the
 * outgoing on-call's notes, and who comes next. `oncall handoff` shows the draft at any time;
 * `oncall handoff note TEXT` leaves a note for the next summary.
 *
 * Settings: `next_shifts` (how many coming shifts to list, default 2).
 */
import { DateTime } from 'luxon';
import { message } from '../../src/core/messages/message';
import type { Team, World } from '../../src/core/model';
import { rt } from '../../src/core/text/rich-text';
import type { Plugin, PluginCall, PluginConfigCheck, PluginHooks } from '../../src/ports/plugin';
import { buildHandoffSummary, type HandoffNote } from './summary';

export interface HandoffConfig {
  readonly nextShifts: number;
}

export function checkHandoffConfig(raw: unknown, _world: World): PluginConfigCheck<HandoffConfig> {
  const section = raw ?? {};
  if (typeof section !== 'object' || Array.isArray(section)) return { ok: false, problems: [{ path: '', message: 'must be a mapping such as { next_shifts: 2 }' }] };
  const problems: Array<{ path: string; message: string }> = [];
  const s = section as Record<string, unknown>;
  for (const key of Object.keys(s)) if (key !== 'next_shifts') problems.push({ path: key, message: 'unknown key; the only setting is next_shifts' });
  const n = s.next_shifts ?? 2;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 10) problems.push({ path: 'next_shifts', message: `${JSON.stringify(n)} is not a whole number from 0 to 10` });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: { nextShifts: n as number } };
}

async function summarize(call: PluginCall, team: Team, from: DateTime, to: DateTime, outgoing: string, incoming: string, draft: boolean, nextShifts: number) {
  // A draft describes the shift so far: open incidents' ages are measured to now, not to the shift's end.
  const histories = await call.incidentsBetween(team.id, from, to);
  const notes = ((await call.storage.get<HandoffNote[]>(`notes:${team.id}`)) ?? []).filter((n) => DateTime.fromISO(n.at) >= from);
  // The first stretch from `to` is the incoming shift itself; the rest are "next", each a change
  // of hands (an override's end, or a layer, that gives the shift back to whoever has it already is
  // not news: "Next: Alice from Tue 16:00; Alice from Mon 07 Dec").
  const stretches = await call.shifts(team.id, to, to.plus({ weeks: 8 }));
  const coming = stretches.filter((s, i) => i > 0 && s.member !== stretches[i - 1]?.member);
  return buildHandoffSummary({ world: call.world, team, from, to, outgoing, incoming, histories, notes, next: coming.slice(0, nextShifts), draft, asOf: call.now });
}

export function handoffHooks(config: HandoffConfig): PluginHooks {
  return {
    async onShiftChange(change, call) {
      const { team, at, outgoing, incoming } = change;
      const summary = await summarize(call, team, outgoing.start, at, outgoing.member, incoming.member, false, config.nextShifts);
      const key = `${team.id}:${at.toMillis()}`;
      call.notify({ key: `${key}:dm`, recipient: { kind: 'member', id: incoming.member }, message: { ...summary, mentions: [] }, role: 'member' });
      call.notify({ key: `${key}:channel`, recipient: { kind: 'channel', team: team.id }, message: summary, role: 'channel' });
      await call.storage.set(`notes:${team.id}`, []);
    },
    commands: [
      {
        spec: {
          group: 'oncall', name: 'handoff', summary: 'Show the handoff draft for the current shift, or leave a note for it ("note TEXT").',
          args: [{ name: 'note', kind: 'text', optional: true, usage: 'note TEXT', help: '"note" followed by the text to hand over; without it, the draft' }],
          options: [{ name: 'team', kind: 'team', help: 'the team (default: your team)' }], permission: 'team-member', example: 'oncall handoff note the payment retry queue is draining slowly',
        },
        async run(args, caller, team, call) {
          const text = typeof args.note === 'string' ? args.note.trim() : '';
          if (text !== '') {
            const m = /^note\s+(.+)$/is.exec(text);
            if (!m) return message('reply', rt`Write "oncall handoff" for the draft, or "oncall handoff note TEXT" to leave a note.`, { private: true });
            const notes = (await call.storage.get<HandoffNote[]>(`notes:${team.id}`)) ?? [];
            const by = caller.kind === 'member' ? caller.id : caller.name;
            notes.push({ by, at: call.now.toISO() as string, text: unquoted((m[1] as string).trim()) });
            await call.storage.set(`notes:${team.id}`, notes.slice(-50));
            return message('reply', rt`Noted for the next handoff of ${team.name}.`);
          }
          const current = (await call.shifts(team.id, call.now, call.now.plus({ weeks: 8 })));
          const now = current[0];
          if (!now) return message('reply', rt`No shifts found for ${team.name}.`);
          const next = current.find((s) => s.member !== now.member) ?? now;
          // The draft covers the shift so far: from the start of the current stretch to its end.
          const start = (await call.shifts(team.id, call.now.minus({ weeks: 8 }), call.now.plus({ milliseconds: 1 }))).filter((s) => s.member === now.member).pop()?.start ?? call.now;
          return summarize(call, team, start, next.start, now.member, next.member, true, config.nextShifts);
        },
      },
    ],
  };
}

export const handoffSummaryPlugin: Plugin<HandoffConfig> = {
  name: 'handoff-summary',
  checkConfig: checkHandoffConfig,
  activate: handoffHooks,
};

/** unquoted: a note that is one quoted string is its inside, as a command's free text is ("two  spaces"). */
function unquoted(text: string): string {
  const m = /^"([^"]*)"$|^'([^']*)'$/.exec(text);
  return m ? (m[1] ?? m[2] ?? text) : text;
}
