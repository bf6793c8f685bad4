/**
 * Notifications: the app's single way to tell anyone anything unprompted. A Notification names one
 * recipient; `planDeliveries` turns it into outbox rows, one per adapter that can reach the
 * recipient, written in the same transaction as the state change that caused it.
 */
import type { DateTime } from 'luxon';
import type { Principal } from '../core/incident/types';
import { message, type Message } from '../core/messages/message';
import type { MemberId, TeamId } from '../core/model';
import { mention, rt } from '../core/text/rich-text';
import type { NotificationRole } from '../ports/plugin';
import { recipientKey, type NewOutboxRow, type Recipient } from '../ports/store';
import type { AdapterRegistry } from './adapters';

export interface Notification {
  /** Unique per event and recipient, so enqueueing twice delivers once. */
  readonly key: string;
  readonly recipient: Recipient;
  readonly message: Message;
  readonly incidentId: number | null;
  /** Why this person is told; plugins (quiet hours) decide by it. Default: "member". */
  readonly role?: NotificationRole;
  readonly severity?: string;
  /** See OutgoingNotification.dueBy. */
  readonly dueBy?: DateTime;
  /** See OutgoingNotification.chainStep. */
  readonly chainStep?: boolean;
}

export { recipientKey };

export function recipientOf(p: Principal): Recipient {
  return p.kind === 'member' ? { kind: 'member', id: p.id } : { kind: 'guest', adapter: p.adapter, address: p.address, name: p.name };
}

export function samePrincipal(a: Principal | null, b: Principal | null): boolean {
  if (!a || !b || a.kind !== b.kind) return false;
  if (a.kind === 'member' && b.kind === 'member') return a.id === b.id;
  return a.kind === 'guest' && b.kind === 'guest' && a.adapter === b.adapter && a.address === b.address;
}

export function planDeliveries(adapters: AdapterRegistry, notifications: readonly Notification[], now: DateTime): NewOutboxRow[] {
  return notifications.flatMap((n) =>
    adapters.reaching(n.recipient).map((a) => ({
      key: `${n.key}@${a.name}`,
      adapter: a.name,
      recipient: n.recipient,
      message: n.message,
      incidentId: n.incidentId,
      notBefore: now,
    })),
  );
}

/** URGENT_KINDS: messages that need the person now, so they fall back to the channel when a DM fails. */
const URGENT_KINDS: ReadonlySet<Message['kind']> = new Set(['page', 'huddle']);

/** isUrgent: the message needs its recipient now (a page or a huddle call): it goes down the fallback ladder. */
export function isUrgent(m: Message): boolean {
  return URGENT_KINDS.has(m.kind);
}

/**
 * channelFallback: what the team channel gets when a page (or huddle call) cannot reach `member`
 * directly: the same message, prefixed with a mention of that member alone, without buttons others
 * could misuse. Null for messages that are not urgent: those are only recorded as undelivered.
 */
export function channelFallback(n: Notification & { readonly incidentId: number }, member: MemberId, memberName: string, team: TeamId): Notification | null {
  if (!URGENT_KINDS.has(n.message.kind)) return null;
  // A page's headline already starts with the member's mention: keep one.
  const [first, ...rest] = n.message.headline;
  const headline = typeof first === 'object' && first.t === 'mention' && first.member === member ? rest : n.message.headline;
  return {
    key: `fallback:${n.key}`,
    recipient: { kind: 'channel', team },
    message: message(n.message.kind, rt`${mention(member, memberName)} (could not reach you directly)${headline}`, {
      lines: n.message.lines, incident: n.message.incident, actions: [], mentions: [member],
    }),
    incidentId: n.incidentId,
    role: 'channel',
  };
}
