/**
 * Metrics is responsible for Onehand's Prometheus metrics, in its own prom-client Registry (never
 * the global one, so two apps in one process, as in tests, do not share counters). Services report
 * what happened through the small methods below; gauges that describe stored state (incidents by
 * state and severity, outbox depth) are computed from the store on each scrape.
 *
 * Series (all prefixed `onehand_`):
 * - incidents{team,state,severity}                   gauge, from the store at scrape time
 * - outbox_depth                                     gauge, pending deliveries
 * - deliveries_total{adapter,kind,outcome}           counter; kind is the message kind ("page" for
 *   pages), outcome sent | failed (a retried attempt) | undeliverable | deferred | dropped
 * - escalation_steps_total{step,trigger}             counter; step reminder | mentor | lead, trigger auto | manual
 * - time_to_ack_seconds{severity}                    histogram, report (or reopen) to acknowledgement
 * - plugin_failures_total{plugin,hook}               counter
 * - timer_failures_total{kind}                       counter; a timer's handler failed (retried when its lease ends)
 * - pages_unreached_total{kind}                      counter; see Unreached
 * - intake_latency_seconds{integration,outcome}      histogram, webhook received to answered
 *
 * Counters are incremented by a use case before its transaction commits; a rare rollback after
 * that point (a store failure) can count a step that did not happen.
 */
import { inject, injectable } from 'inversify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SEVERITIES } from '../core/incident/types';
import type { World } from '../core/model';
import type { Store } from '../ports/store';
import { PluginHost } from './plugin-host';
import { TOKENS } from './tokens';

export type DeliveryOutcome = 'sent' | 'failed' | 'undeliverable' | 'waiting' | 'deferred' | 'dropped';
export type EscalationStepKind = 'reminder' | 'mentor' | 'lead';

const STATES = ['open', 'acknowledged', 'resolved'] as const;

@injectable()
export class Metrics {
  /** The registry /metrics serializes. */
  readonly registry = new Registry();
  private readonly deliveries: Counter<'adapter' | 'kind' | 'outcome'>;
  private readonly escalations: Counter<'step' | 'trigger'>;
  private readonly ackSeconds: Histogram<'severity'>;
  private readonly pluginFailures: Counter<'plugin' | 'hook'>;
  private readonly unreached: Counter<'kind'>;
  private readonly timerFailures: Counter<'kind'>;
  private readonly unmappedSeverities: Counter<'integration'>;
  private readonly intakeSeconds: Histogram<'integration' | 'outcome'>;
  /** intakeSeconds' series by integration and outcome (a configured integration, a handful of outcomes). */
  private readonly intakeSeries = new Map<string, { observe(value: number): void }>();

  constructor(
    @inject(TOKENS.Store) store: Store,
    @inject(TOKENS.World) world: World,
    @inject(PluginHost) plugins: PluginHost,
  ) {
    const registers = [this.registry];
    new Gauge({
      name: 'onehand_incidents',
      help: 'Incidents by team, state and severity (from the database at scrape time).',
      labelNames: ['team', 'state', 'severity'],
      registers,
      async collect() {
        const all = await store.transaction((tx) => tx.listIncidents({}));
        this.reset();
        for (const team of world.teams.keys()) for (const state of STATES) for (const severity of SEVERITIES) this.set({ team, state, severity }, 0);
        for (const i of all) this.inc({ team: i.team, state: i.state, severity: i.severity });
      },
    });
    new Gauge({
      name: 'onehand_outbox_depth',
      help: 'Deliveries waiting in the outbox (not yet sent, not given up).',
      registers,
      async collect() {
        this.set(await store.transaction((tx) => tx.outboxDepth()));
      },
    });
    this.deliveries = new Counter({
      name: 'onehand_deliveries_total',
      help: 'Notifications per adapter, message kind (page, incident-update, ...) and outcome (sent, failed, undeliverable, deferred, dropped).',
      labelNames: ['adapter', 'kind', 'outcome'],
      registers,
    });
    this.escalations = new Counter({
      name: 'onehand_escalation_steps_total',
      help: 'Escalation steps taken: reminder (the on-call again), mentor, lead; automatic or manual.',
      labelNames: ['step', 'trigger'],
      registers,
    });
    this.ackSeconds = new Histogram({
      name: 'onehand_time_to_ack_seconds',
      help: 'Seconds from report (or reopening) to acknowledgement.',
      labelNames: ['severity'],
      buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
      registers,
    });
    this.pluginFailures = new Counter({
      name: 'onehand_plugin_failures_total',
      help: 'Plugin hooks that threw (isolated: the event went on without the plugin).',
      labelNames: ['plugin', 'hook'],
      registers,
    });
    this.unreached = new Counter({
      name: 'onehand_pages_unreached_total',
      help: 'Pages (and urgent team channel posts) that no platform and no team channel took: alert on any increase.',
      labelNames: ['kind'],
      registers,
    });
    this.unreached.inc({ kind: 'page' }, 0);
    this.timerFailures = new Counter({
      name: 'onehand_timer_failures_total',
      help: 'Timers (escalation steps, shift changes, ...) whose handler failed; each is retried after its lease of a minute: alert on any increase.',
      labelNames: ['kind'],
      registers,
    });
    this.timerFailures.inc({ kind: 'escalate' }, 0);
    this.unmappedSeverities = new Counter({
      name: 'onehand_alerts_unmapped_severity_total',
      help: 'Alerts whose severity label value no severity map names: they took the integration\'s default severity (map the value; /healthz names it).',
      labelNames: ['integration'],
      registers,
    });
    this.intakeSeconds = new Histogram({
      name: 'onehand_intake_latency_seconds',
      help: 'Seconds from a monitoring webhook arriving to its answer, by integration and outcome.',
      labelNames: ['integration', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    for (const name of plugins.names) this.pluginFailures.inc({ plugin: name, hook: 'any' }, 0);
    plugins.onFailure((plugin, hook) => this.pluginFailures.inc({ plugin, hook }));
  }

  /** delivery counts one notification's outcome on one adapter. */
  delivery(adapter: string, kind: string, outcome: DeliveryOutcome): void {
    this.deliveries.inc({ adapter, kind, outcome });
  }

  /** pageUnreached counts a page (or huddle call) that reached nobody (see Unreached). */
  pageUnreached(kind: string): void {
    this.unreached.inc({ kind });
  }

  /** timerFailed counts a timer whose handler failed (the scheduler retries it). */
  timerFailed(kind: string): void {
    this.timerFailures.inc({ kind });
  }

  /** escalationStep counts a reminder or an escalation to the mentor or lead. */
  escalationStep(step: EscalationStepKind, trigger: 'auto' | 'manual'): void {
    this.escalations.inc({ step, trigger });
  }

  /** acknowledged observes the time an incident waited for its acknowledgement. */
  acknowledged(severity: string, seconds: number): void {
    this.ackSeconds.observe({ severity }, Math.max(0, seconds));
  }

  /** unmappedSeverity counts alerts of `integration` that took its default severity (see UnmappedSeverities). */
  unmappedSeverity(integration: string, n: number): void {
    this.unmappedSeverities.inc({ integration }, n);
  }

  /** observeIntake records how long one webhook request took, e.g. outcome "accepted", "rejected", "error". */
  observeIntake(integration: string, seconds: number, outcome = 'accepted'): void {
    // The labelled series, found once: prom-client hashes the label object at every observe.
    const key = `${integration}\u0000${outcome}`;
    let series = this.intakeSeries.get(key);
    if (series === undefined) {
      series = this.intakeSeconds.labels({ integration, outcome });
      this.intakeSeries.set(key, series);
    }
    series.observe(Math.max(0, seconds));
  }

  /** startIntakeTimer: call the returned function with the outcome when the request is answered. */
  startIntakeTimer(integration: string): (outcome?: string) => void {
    const started = process.hrtime.bigint();
    return (outcome = 'accepted') => this.observeIntake(integration, Number(process.hrtime.bigint() - started) / 1e9, outcome);
  }

  /** render serializes every series in the Prometheus text format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
