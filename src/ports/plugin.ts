/**
 * Plugin is a module that enforces a team habit around the core: it is enabled in config, checks
 * its own settings, and hooks named events. Plugins get a narrow context per call (clock instant,
 * logger, their own storage namespace, a notifier, read-only queries), never the container.
 *
 * Hooks run inside the transaction of the event that triggered them, so what a plugin stores or
 * sends commits with it. A hook that throws is isolated: the error is logged, /healthz shows the
 * plugin as failing, and the event goes on as if the plugin had no opinion (a broken plugin never
 * stops a page).
 */
import type { DateTime } from 'luxon';
import type { CommandSpec } from '../core/commands/spec';
import type { Incident, Principal, TimelineEvent } from '../core/incident/types';
import type { Message } from '../core/messages/message';
import type { MemberId, Team, TeamId, World } from '../core/model';
import type { Shift } from '../core/rotation/types';
import type { Logger } from './logger';
import type { PolicySet } from './policy';
import type { Recipient } from './store';

/** Why a notification is sent, so policies (quiet hours) can tell a page from an update. */
export type NotificationRole =
  | 'oncall' // the person on call for it (page, re-page)
  | 'mentor'
  | 'lead'
  | 'involved' // someone already paged, told of a change
  | 'reporter'
  | 'team' // a huddle
  | 'member' // rotation changes, digests, summaries
  | 'channel';

export interface OutgoingNotification {
  readonly key: string;
  readonly recipient: Recipient;
  readonly message: Message;
  readonly incidentId: number | null;
  readonly role: NotificationRole;
  /** The incident's severity, when the notification is about one. */
  readonly severity?: string;
  /**
   * dueBy: the notice is about something that starts then (a shift someone gains, an override);
   * arriving later it is of no use. Quiet hours deliver it at once when their quiet time would end
   * after it (someone put on call for the night is told now, not in the morning).
   */
  readonly dueBy?: DateTime;
  /**
   * chainStep: the page is a step the incident's escalation chain took by itself (a mentor's or
   * lead's turn, not a person's request): `skip` moves the chain to its next step now, so a plugin
   * may pass a step on instead of making the chain wait for its person.
   */
  readonly chainStep?: boolean;
}

/** NotifyDecision: what beforeNotify wants. `skip` means "try the next escalation step instead". */
export type NotifyDecision =
  | { readonly action: 'deliver'; readonly reason?: string }
  | { readonly action: 'defer'; readonly until: DateTime; readonly reason: string }
  | { readonly action: 'drop'; readonly reason: string }
  | { readonly action: 'skip'; readonly reason: string };

export interface ShiftChange {
  readonly team: Team;
  readonly at: DateTime;
  readonly outgoing: Shift;
  readonly incoming: Shift;
}

export interface PluginStorage {
  /** get reads a key and holds it until the hook's transaction ends (read-modify-write is safe across replicas). */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** peek reads a key without holding it: for values the hook only reads (see README: Writing a plugin). */
  peek<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

/** IncidentHistory: an incident and its whole timeline. */
export interface IncidentHistory {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEvent[];
}

/** PluginCall: what a hook may use during one call. */
export interface PluginCall {
  readonly now: DateTime;
  readonly world: World;
  readonly logger: Logger;
  readonly storage: PluginStorage;
  /**
   * Sends through the outbox (and through other plugins' beforeNotify). A page or huddle call
   * (message kinds 'page', 'huddle') about an incident goes down the fallback ladder like the
   * core's own: the member's other platforms, the team channel, and the chain moves on when it
   * reaches nobody. `severity`: the incident's, for other plugins' decisions.
   */
  notify(n: { key: string; recipient: Recipient; message: Message; incidentId?: number | null; role?: NotificationRole; severity?: string }): void;
  /** Schedules this plugin's onTimer(key, payload) at `at` (durable; once per key). */
  schedule(key: string, at: DateTime, payload?: Record<string, unknown>): Promise<void>;
  /** Records an event on an incident's timeline (e.g. "deferred by quiet hours"). */
  recordOnIncident(incidentId: number, kind: string, data: Record<string, unknown>): Promise<void>;
  /** These incidents as they are now, read without locking them (ids with no incident are left out; newest first). */
  incidents(ids: readonly number[]): Promise<Incident[]>;
  /**
   * Incidents of a team that were open at any time in [from, to), with timelines; also those moved
   * to another team in [from, to) (their `incident.team` is the other team: see the 'reassigned'
   * events' data.fromTeam and data.team for when each was whose).
   */
  incidentsBetween(team: TeamId, from: DateTime, to: DateTime): Promise<IncidentHistory[]>;
  /** The team's shifts in [from, to), overrides and absences applied. */
  shifts(team: TeamId, from: DateTime, to: DateTime): Promise<Shift[]>;
  /** Who is on call for the team at `at`. */
  onCall(team: TeamId, at: DateTime): Promise<MemberId>;
}

export interface PluginCommand {
  readonly spec: CommandSpec;
  run(args: Readonly<Record<string, string | number | undefined>>, caller: Principal, team: Team, call: PluginCall): Promise<Message>;
}

/** PluginConfigCheck: a normalized settings value, or problems with paths relative to the plugin's section. */
export type PluginConfigCheck<C> = { readonly ok: true; readonly config: C } | { readonly ok: false; readonly problems: ReadonlyArray<{ path: string; message: string }> };

export interface Plugin<C = unknown> {
  readonly name: string;
  /** Validates and normalizes this plugin's config section (the `module` key is removed first). */
  checkConfig(raw: unknown, world: World): PluginConfigCheck<C>;
  /** Builds the hooks for a checked config. */
  activate(config: C): PluginHooks;
  /**
   * policies: rotation and escalation policies this plugin contributes, by name (src/ports/policy.ts).
   * They are available once the plugin is enabled under `plugins:`; a team picks one with
   * `rotation.policy: NAME` or `escalation.policy: NAME` and gives it `settings:`.
   */
  readonly policies?: PolicySet;
}

/** DeclaredAbsence: a member away from `start` to `end` (half-open), declared in a plugin's config. */
export interface DeclaredAbsence {
  readonly member: MemberId;
  readonly start: DateTime;
  readonly end: DateTime;
}

export interface PluginHooks {
  /**
   * absences: the absences this plugin's config declares (quiet-hours `time_off`). The rotation
   * honours them like `oncall away`: they are stored at start (and removed when the config drops
   * them), and whoever gains a shift through one is told.
   */
  absences?(world: World): readonly DeclaredAbsence[];
  /**
   * availableAt: when `member` may be disturbed about an incident of `severity` (null: now), for
   * notifications that cannot be held one by one (a channel alert that mentions them). `onCall`:
   * they are on call for it.
   */
  availableAt?(member: MemberId, about: { readonly severity: string; readonly onCall: boolean }, call: PluginCall): Promise<DateTime | null>;
  onIncidentEvent?(event: TimelineEvent, incident: Incident, call: PluginCall): Promise<void>;
  beforeNotify?(notification: OutgoingNotification, call: PluginCall): Promise<NotifyDecision>;
  onShiftChange?(change: ShiftChange, call: PluginCall): Promise<void>;
  onTimer?(key: string, payload: Readonly<Record<string, unknown>>, call: PluginCall): Promise<void>;
  readonly commands?: readonly PluginCommand[];
}
