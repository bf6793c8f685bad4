/**
 * A backlog of small requests that each open a new incident (distinct alerts, no storm grouping):
 * the intake takes them in bounded batches, so the pages of the incidents opened first go out
 * while the rest of the backlog is still being opened, instead of after all of it. Every request
 * is answered once its own alerts are durable, and every incident pages its on-call exactly once.
 */
import type { IntegrationConfig } from '../../src/config';
import { parsePayload } from '../../src/intake/payloads';
import { waitUntil } from '../harness/wait';
import { amAlert, amPayload, IntakeHarness } from './intake-harness';

const CONFIG = `
integrations:
  - id: burst
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    severity: { label: severity, map: { critical: sev1 }, default: sev3 }
    # Every alert must page: no storm grouping.
    storm: { threshold: 100000, window: 1s }
`;

const N = 60;

describe('alert intake: a backlog of new alerts', () => {
  let t: IntakeHarness;
  afterEach(() => t.stop());

  it('is opened in bounded batches: the first pages go out before the last request is answered, each incident pages once', async () => {
    t = await IntakeHarness.start(CONFIG);
    t.h.app.scheduler.start(); // deliveries go out as their incidents commit
    const intake = t.h.app.intake;
    const integration = intake.integration('burst') as IntegrationConfig;
    const pages = (): number => t.h.messagesFor('dave').filter((m) => /New incident/.test(m.text)).length;
    // All N requests are queued at once (as when they arrive while the store is busy).
    const pagesWhenAnswered: number[] = [];
    const answers = Array.from({ length: N }, (_, i) => {
      const parsed = parsePayload(integration, Buffer.from(JSON.stringify(amPayload([
        amAlert({ alertname: 'CheckoutErrors', instance: `checkout-${i}`, severity: 'critical' }, 'firing', { fingerprint: `burst-${i}` }),
      ]))));
      if (!parsed.ok) throw new Error(parsed.error);
      return intake.accept(integration, parsed.alerts).then((outcome) => {
        pagesWhenAnswered.push(pages());
        return outcome;
      });
    });
    const outcomes = await Promise.all(answers);
    expect(outcomes.every((o) => o.alerts === 1 && o.incidents.length === 1)).toBe(true);
    // Pages of the incidents opened first had gone out while later requests were still waiting
    // (one batch of all N would have answered every request before the first page).
    expect(pagesWhenAnswered[N - 1]).toBeGreaterThan(0);
    expect(intake.batchCount).toBeGreaterThan(5);
    await waitUntil(() => pages() === N);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pages()).toBe(N); // once each
    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents).toHaveLength(N);
    expect(new Set(incidents.map((i) => i.fingerprint)).size).toBe(N);
  });
});
