import type { DateTime } from 'luxon';
import type { Principal } from '../core/incident/types';
import type { Message } from '../core/messages/message';
import type { MemberId, Team } from '../core/model';
import type { NotifyDecision } from '../ports/plugin';
import type { StoreTx } from '../ports/store';
import type { Notification } from './notifications';

/**
 * UseCaseContext: what one command or timer run works with. Notifications collected in `tell` are
 * written to the outbox in the same transaction as the state change, after the use case returns.
 */
export interface UseCaseContext {
  readonly tx: StoreTx;
  readonly now: DateTime;
  readonly caller: Principal;
  readonly team: Team;
  tell(notification: Notification): void;
  /**
   * decide asks the plugins now what they will do with a notification (deliver, defer, drop, skip);
   * the answer is remembered and applied when the notification is told. Use it when the answer
   * changes what the use case does (an escalation step skips a person in quiet hours).
   */
  decide(notification: Notification): Promise<NotifyDecision>;
  /**
   * insist decides a notification as delivered now, whatever plugins would say, with `reason` on
   * the incident's timeline (a person's explicit request, e.g. `incident escalate ID mentor --now`).
   */
  insist(notification: Notification, reason: string): NotifyDecision;
  /**
   * availableAt: when plugins (quiet hours) let `member` be disturbed about an incident of
   * `severity`, or null for now. For what cannot wait per person, e.g. a channel alert mentioning them.
   */
  availableAt(member: MemberId, about: { severity: string; onCall: boolean }): Promise<DateTime | null>;
}

/** Refusal: an expected "no" (permission, state) with the words the caller sees. Rolls back. */
export class Refusal extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
}

export type Reply = Message;
