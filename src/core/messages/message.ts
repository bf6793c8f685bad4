/**
 * Message: the platform-neutral model of everything Onehand says. Renderers in adapters turn it
 * into plain text, a Discord embed with buttons, or an Adaptive Card; they add nothing and decide
 * no recipients. Messages are plain JSON so the outbox can store them.
 */
import type { MemberId } from '../model';
import type { IncidentState, Severity } from '../incident/types';
import type { RichText } from '../text/rich-text';

export type IncidentAction = 'ack' | 'resolve' | 'escalate';

/** IncidentCard: the facts of an incident, as shown on a page or a channel record. */
export interface IncidentCard {
  readonly id: number;
  readonly team: string;
  readonly title: string;
  readonly severity: Severity;
  readonly state: IncidentState;
  readonly service: string | null;
  readonly reporter: string;
  readonly assignee: string;
  /** ISO instant the incident opened, for age display. */
  readonly openedAt: string;
  /** Latest timeline lines, oldest first, already worded. */
  readonly recent: readonly RichText[];
}

export type MessageKind =
  | 'page' // an incident needs the recipient now
  | 'incident-record' // the quiet channel record of an incident
  | 'incident-update' // a change on an incident someone follows
  | 'huddle'
  | 'notice' // anything else sent unprompted
  | 'reply'; // the answer to a command

export interface Message {
  readonly kind: MessageKind;
  readonly headline: RichText;
  readonly lines: readonly RichText[];
  readonly incident?: IncidentCard;
  /** Buttons the recipient may press (platforms without buttons show the equivalent commands). */
  readonly actions: readonly IncidentAction[];
  /** Members a renderer may ping. Everything else renders as plain names. */
  readonly mentions: readonly MemberId[];
  /**
   * Messages to one recipient with the same `updateKey` are versions of one message (an alert
   * storm summary that grows): a platform that can edit what it sent edits the first one in place;
   * the others post each version. Absent: every message stands alone.
   */
  readonly updateKey?: string;
  /**
   * True on an 'incident-update' that is news for its recipient (acknowledged, resolved,
   * reassigned, a reporter's note): a platform that edits the earlier message in place also posts
   * the headline as a new message, since edits notify nobody. Absent: a quiet update (a storm
   * summary that grows).
   */
  readonly news?: boolean;
  /** True when the answer is for the caller's eyes only (errors, refusals, help). */
  readonly private?: boolean;
}

export function message(kind: MessageKind, headline: RichText, extra: Partial<Omit<Message, 'kind' | 'headline'>> = {}): Message {
  return { kind, headline, lines: extra.lines ?? [], actions: extra.actions ?? [], mentions: extra.mentions ?? [], ...extra };
}
