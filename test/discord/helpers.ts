import type { DiscordMessageBody } from '../../adapters/discord/render';
import type { DiscordUser } from './fake-discord';
import type { DiscordWorld } from './setup';

/** reportData: the data of `/incident report` with the given options. */
export function reportData(title: string, extra: Record<string, string> = {}): Record<string, unknown> {
  const options = [{ name: 'title', type: 3, value: title }, ...Object.entries(extra).map(([name, value]) => ({ name, type: 3, value }))];
  return { name: 'incident', options: [{ name: 'report', type: 1, options }] };
}

export function incidentData(sub: string, id: number, extra: Record<string, string> = {}): Record<string, unknown> {
  const options = [{ name: 'id', type: 4, value: id }, ...Object.entries(extra).map(([name, value]) => ({ name, type: 3, value }))];
  return { name: 'incident', options: [{ name: sub, type: 1, options }] };
}

/** command: dispatches a slash command and returns the interaction callback the bot sent. */
export async function command(w: DiscordWorld, user: DiscordUser, channel: string, data: Record<string, unknown>): Promise<{ type: number; data?: Record<string, unknown> }> {
  const { id } = w.fake.slash(user, channel, data);
  return w.fake.callbackFor(id);
}

export function body(call: { body: unknown } | undefined): DiscordMessageBody & { flags?: number } {
  if (!call) throw new Error('no such call');
  return call.body as DiscordMessageBody & { flags?: number };
}
