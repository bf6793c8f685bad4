/**
 * Which messages a platform edits instead of posting again, the same on every platform that can
 * edit (Discord, Teams): versions of one message (an `updateKey`, e.g. a storm summary) and the
 * changes of an incident (its channel record, updates to people already told) replace the message
 * posted before; pages, huddle calls and notices always post, so they notify. An edit notifies
 * nobody, so an update that is news (`message.news`) to a person also posts a short notice
 * (`newsNotice`); the team channel's record is only ever edited.
 */
import { message as newMessage, type Message } from '../../src/core/messages/message';
import { recipientKey, type Recipient } from '../../src/ports/store';

/** editKey: where the adapter keeps the id of the message a later version edits; null: none. */
export function editKey(recipient: Recipient, message: Message, incidentId: number | null): string | null {
  if (message.updateKey !== undefined) return `upd:${message.updateKey}:${recipientKey(recipient)}`;
  return incidentId !== null ? `msg:${incidentId}:${recipientKey(recipient)}` : null;
}

/** editsEarlier: this message replaces the one stored under its editKey, when there is one. */
export function editsEarlier(message: Message): boolean {
  return message.updateKey !== undefined || message.kind === 'incident-record' || message.kind === 'incident-update';
}

/**
 * remembers: this message, once posted, is what later versions edit. The team channel keeps one
 * record per incident, so a fallback page posted there never takes the record's place.
 */
export function remembers(recipient: Recipient, message: Message): boolean {
  if (message.updateKey !== undefined) return true;
  if (recipient.kind === 'channel') return message.kind === 'incident-record';
  return message.kind === 'page' || message.kind === 'incident-update' || message.kind === 'incident-record';
}

/**
 * newsNotice: what a platform posts as a new message after it edited the earlier message in place
 * for `message`, so that news notifies: for an update marked `news` to a person (not a channel),
 * its headline alone (it names the incident), with the same mentions, no card and no buttons.
 * Null when nothing is posted besides the edit. A platform that found nothing to edit and posted
 * the whole update instead posts no notice: the new message notifies by itself.
 */
export function newsNotice(recipient: Recipient, message: Message): Message | null {
  if (message.news !== true || recipient.kind === 'channel' || !editsEarlier(message)) return null;
  return newMessage('notice', message.headline, { mentions: message.mentions });
}
