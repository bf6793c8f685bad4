/**
 * IntakeHarness: the story harness (real app, temporary SQLite, simulated clock, recording chat
 * platform) plus the real HTTP server on a random loopback port with the webhook routes, and a
 * small client to POST payloads the way Alertmanager and Grafana do.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { HttpServer } from '../../src/http/server';
import type { StoreTx } from '../../src/ports/store';
import { readIntegrationSecrets, registerWebhooks, type WebhookHealth } from '../../src/intake/webhooks';
import { Harness, type HarnessOptions } from '../harness/harness';
import { TEST_CONFIG } from '../harness/fixtures';

export const AM_TOKEN = 'am-secret-token';
export const GRAFANA_TOKEN = 'grafana-secret-token';
export const HOOK_SECRET = 'generic-hmac-secret';
export const ENV = { ONEHAND_AM_TOKEN: AM_TOKEN, ONEHAND_GRAFANA_TOKEN: GRAFANA_TOKEN, ONEHAND_HOOK_SECRET: HOOK_SECRET };

/** INTEGRATIONS: appended to the test world (team payments: dave is on call on TUESDAY). */
export const INTEGRATIONS = `
integrations:
  - id: prom
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    severity: { label: severity, map: { critical: sev1, warning: sev3 }, default: sev3 }
    reopen_window: 1h
    max_body: 64KiB
    rate_limit: { requests: 100000, per: 1m }
    storm: { threshold: 10, window: 5m }
  - id: prom-grouped
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    fingerprint_labels: [alertname, service]
    resolve: all
    rate_limit: { requests: 100000, per: 1m }
  - id: prom-any
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    fingerprint_labels: [alertname, service]
    resolve: any
  - id: grafana
    type: grafana
    team: search
    token_env: ONEHAND_GRAFANA_TOKEN
  - id: hook
    type: generic
    team: payments
    hmac_secret_env: ONEHAND_HOOK_SECRET
  - id: slow
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    rate_limit: { requests: 2, per: 1m }
`;

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'payloads', name), 'utf8')) as Record<string, unknown>;
}

export class IntakeHarness {
  private constructor(
    readonly h: Harness,
    readonly server: HttpServer,
    readonly port: number,
    /** What /healthz shows of the webhooks (the parse worker, unmapped severities). */
    readonly webhooks: WebhookHealth,
  ) {}

  static async start(extraConfig = INTEGRATIONS, options: Omit<HarnessOptions, 'config'> = {}): Promise<IntakeHarness> {
    const h = await Harness.start({ ...options, config: TEST_CONFIG + extraConfig });
    const server = new HttpServer(h.logger);
    const webhooks = registerWebhooks(server, {
      intake: h.app.intake,
      integrations: h.config.integrations,
      secrets: readIntegrationSecrets(h.config.integrations, ENV),
      clock: h.clock,
      logger: h.logger,
      metrics: h.app.metrics,
    });
    const port = await server.listen(0, '127.0.0.1');
    return new IntakeHarness(h, server, port, webhooks);
  }

  /** post sends a raw body; `auth` defaults to the integration's right credentials. */
  post(integration: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: this.port, method: 'POST', path: `/webhooks/${integration}`,
        headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** alertmanager posts a payload with the Alertmanager bearer token, then lets deliveries run. */
  async alertmanager(payload: unknown, integration = 'prom'): Promise<Reply> {
    const reply = await this.post(integration, JSON.stringify(payload), { authorization: `Bearer ${AM_TOKEN}` });
    await this.h.app.scheduler.tick();
    return reply;
  }

  async grafana(payload: unknown): Promise<Reply> {
    const reply = await this.post('grafana', JSON.stringify(payload), { authorization: `Bearer ${GRAFANA_TOKEN}` });
    await this.h.app.scheduler.tick();
    return reply;
  }

  async generic(payload: unknown, secret = HOOK_SECRET): Promise<Reply> {
    const body = JSON.stringify(payload);
    const reply = await this.post('hook', body, { 'x-onehand-signature': sign(body, secret) });
    await this.h.app.scheduler.tick();
    return reply;
  }

  /** db runs a read in a store transaction. */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.h.app.store.transaction(fn);
  }

  async stop(): Promise<void> {
    await this.server.close();
    await this.h.stop();
  }
}

export function sign(body: string | Buffer, secret = HOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** amAlert: one Alertmanager-shaped alert. */
export function amAlert(labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status,
    labels,
    annotations: { summary: `${labels.alertname ?? 'alert'} on ${labels.instance ?? 'somewhere'}` },
    startsAt: '2026-03-03T09:58:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-03-03T10:30:00Z',
    generatorURL: 'http://prometheus.invalid/graph',
    ...extra,
  };
}

export function amPayload(alerts: Record<string, unknown>[], status?: 'firing' | 'resolved'): Record<string, unknown> {
  return {
    receiver: 'onehand', status: status ?? (alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'), alerts,
    groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am.invalid', version: '4', groupKey: '{}:{}', truncatedAlerts: 0,
  };
}
