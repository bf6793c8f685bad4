/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager, with amtool) sends its webhooks
 * to Onehand over loopback with a bearer token: firing alerts open one incident and page the on-call
 * alone, Alertmanager's resends never page again, and resolving the alerts resolves the incident.
 * CI installs the package (.ci/run); elsewhere the test says it was skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { AM_TOKEN, IntakeHarness } from './intake-harness';

const AM = '/usr/bin/prometheus-alertmanager';
const AMTOOL = '/usr/bin/amtool';
const available = fs.existsSync(AM) && fs.existsSync(AMTOOL);
if (!available && process.env.CI) throw new Error('CI must have prometheus-alertmanager (see .ci/run)');
const maybe = available ? describe : describe.skip;
if (!available) console.warn('skipped: the real Alertmanager test needs Debian\'s prometheus-alertmanager (apt-get install prometheus-alertmanager)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

maybe('a real Alertmanager', () => {
  let ih: IntakeHarness;
  let am: ChildProcess;
  let amUrl = '';
  let log = '';

  beforeAll(async () => {
    ih = await IntakeHarness.start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onehand-am-'));
    fs.writeFileSync(path.join(dir, 'token'), AM_TOKEN);
    fs.writeFileSync(path.join(dir, 'am.yml'), [
      'route:',
      '  receiver: onehand',
      '  group_by: [alertname, service]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: onehand',
      '    webhook_configs:',
      `      - url: http://127.0.0.1:${ih.port}/webhooks/prom-grouped`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      `            credentials_file: ${path.join(dir, 'token')}`,
      '',
    ].join('\n'));
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(AM, [`--config.file=${path.join(dir, 'am.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: ['ignore', 'pipe', 'pipe'] });
    am.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await until('Alertmanager to listen', async () => fetch(`${amUrl}/-/ready`).then((r) => r.ok).catch(() => false));
  }, 30000);

  afterAll(async () => {
    am?.kill('SIGTERM');
    await ih?.stop();
  });

  function amtool(...args: string[]): void {
    const r = spawnSync(AMTOOL, [`--alertmanager.url=${amUrl}`, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`amtool ${args.join(' ')} failed: ${r.stderr}\n${log}`);
  }

  it('firing alerts open one incident and page the on-call alone; resolving them resolves it', async () => {
    amtool('alert', 'add', 'alertname=CheckoutErrors', 'service=checkout', 'severity=critical', 'instance=web-1', '--annotation=summary=Checkout 5xx above 5%');
    amtool('alert', 'add', 'alertname=CheckoutErrors', 'service=checkout', 'severity=critical', 'instance=web-2', '--annotation=summary=Checkout 5xx above 5%');
    const incident = await until('the incident', async () => {
      await ih.h.app.scheduler.tick();
      const list = await ih.read((tx) => tx.listIncidents({ team: 'payments' }));
      return list[0];
    });
    expect(incident.source).toBe('integration:prom-grouped');
    expect(incident.severity).toBe('sev1');
    await until('the page', async () => {
      await ih.h.app.scheduler.tick();
      return ih.h.messagesFor('dave').length > 0;
    });
    // Alertmanager resends the group every group_interval: wait for a few resends, no new page.
    await new Promise((r) => setTimeout(r, 3500));
    await ih.h.app.scheduler.tick();
    expect(ih.h.messagesFor('dave').filter((m) => m.message.kind === 'page')).toHaveLength(1);
    expect(ih.h.adapter.delivered.filter((d) => d.kind === 'direct').map((d) => d.to)).toEqual(['dave']);
    expect(await ih.read((tx) => tx.listIncidents({}))).toHaveLength(1);

    const past = new Date(Date.now() - 60_000).toISOString();
    amtool('alert', 'add', 'alertname=CheckoutErrors', 'service=checkout', 'severity=critical', 'instance=web-1', `--end=${past}`);
    amtool('alert', 'add', 'alertname=CheckoutErrors', 'service=checkout', 'severity=critical', 'instance=web-2', `--end=${past}`);
    const resolved = await until('the incident to resolve', async () => {
      await ih.h.app.scheduler.tick();
      const found = await ih.read((tx) => tx.getIncident(incident.id));
      return found?.state === 'resolved' ? found : null;
    });
    expect(resolved.state).toBe('resolved');
  }, 60000);
});
