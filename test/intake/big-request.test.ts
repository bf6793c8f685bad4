/**
 * One webhook with 10,000 new alerts, through HTTP on a real SQLite file: it is applied in chunks
 * (one transaction each), so /healthz and another integration's webhook sent meanwhile are answered
 * before it; every alert is stored once. A failure after some chunks committed answers no 202, and
 * the sender's resend folds into the same incidents: no second incident, no second page.
 */
import * as http from 'node:http';
import { DateTime } from 'luxon';
import { Database } from 'sqlite3';
import { MAX_CHUNK_ALERTS } from '../../src/app/intake-service';
import { BigBodyParser } from '../../src/intake/big-parse';
import * as payloads from '../../src/intake/payloads';
import { amAlert, amPayload, GRAFANA_TOKEN, AM_TOKEN, IntakeHarness } from './intake-harness';

const N = 10_000;

const CONFIG = `
integrations:
  - id: big
    type: alertmanager
    team: payments
    token_env: ONEHAND_AM_TOKEN
    max_body: 16MiB
    storm: { threshold: 10, window: 5m }
  - id: grafana
    type: grafana
    team: search
    token_env: ONEHAND_GRAFANA_TOKEN
`;

function bigBody(): string {
  const alerts = Array.from({ length: N }, (_, i) =>
    amAlert({ alertname: 'DiskFull', instance: `host-${i}`, severity: 'warning' }, 'firing', { fingerprint: `fp-${i}` }));
  return JSON.stringify(amPayload(alerts));
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** sql runs statements on the database file through a second connection (as an operator would). */
function sql(file: string, text: string): Promise<void> {
  const db = new Database(file);
  return new Promise((resolve, reject) => db.exec(text, (err) => db.close(() => (err ? reject(err) : resolve()))));
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('alert intake: one request with 10,000 new alerts', () => {
  let t: IntakeHarness;
  beforeEach(async () => {
    t = await IntakeHarness.start(CONFIG);
    t.server.route('GET', '/healthz', async () => {
      const health = await t.h.app.health();
      return { status: health.ok ? 200 : 503, body: health };
    });
  });
  afterEach(() => t.stop());

  it('is applied in chunks: /healthz and another integration are answered meanwhile; every alert is stored once', async () => {
    // How many batches committed between the other integration's request joining the queue and
    // its answer: the chunk running then and its own, never another chunk of the big request first.
    const intake = t.h.app.intake;
    const accept = intake.accept.bind(intake);
    let otherWaited = -1;
    const spy = jest.spyOn(intake, 'accept').mockImplementation((integration, alerts) => {
      const queuedAt = intake.batchCount;
      const done = accept(integration, alerts);
      if (integration.id === 'grafana') void done.then(() => (otherWaited = intake.batchCount - queuedAt));
      return done;
    });
    const finished: string[] = [];
    const big = t.post('big', bigBody(), { authorization: `Bearer ${AM_TOKEN}` }).then((r) => {
      finished.push('big');
      return r;
    });
    // Once the first chunk committed, the rest of the request is still to do.
    await waitFor(() => t.h.app.intake.batchCount > 0);
    const health = get(t.port, '/healthz').then((status) => {
      finished.push('healthz');
      return status;
    });
    const other = t.post('grafana', JSON.stringify({
      receiver: 'onehand', status: 'firing', orgId: 1, version: '1', groupKey: 'g', title: '[FIRING:1] Search down', message: 'm',
      alerts: [{ status: 'firing', labels: { alertname: 'SearchDown' }, annotations: { summary: 'search is down' }, startsAt: '2026-03-03T09:58:00Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'g1' }],
    }), { authorization: `Bearer ${GRAFANA_TOKEN}` }).then((r) => {
      finished.push('grafana');
      return r;
    });

    const [bigReply, healthStatus, otherReply] = await Promise.all([big, health, other]);
    expect(bigReply.status).toBe(202);
    expect(bigReply.body.accepted).toBe(N);
    expect(bigReply.body.incidents).toHaveLength(N);
    expect(healthStatus).toBe(200);
    expect(otherReply.status).toBe(202);
    expect(finished.indexOf('healthz')).toBeLessThan(finished.indexOf('big'));
    expect(finished.indexOf('grafana')).toBeLessThan(finished.indexOf('big'));
    expect(otherWaited).toBeGreaterThan(0);
    expect(otherWaited).toBeLessThanOrEqual(2);
    spy.mockRestore();
    expect(t.h.app.intake.batchCount).toBeGreaterThanOrEqual(N / MAX_CHUNK_ALERTS);

    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents).toHaveLength(N);
    expect(new Set(incidents.map((i) => i.fingerprint)).size).toBe(N);
    // Every one of them, paged or quiet, is the on-call's.
    expect([...new Set(incidents.map((i) => i.assignee))]).toEqual(['dave']);
    // The storm: the first 11 incidents page (the 11th starts the storm), the rest open quietly.
    // Its summary shows the whole count within a second, as one update, not one edit per chunk.
    await t.h.advance('1s');
    const pages = t.h.messagesFor('dave').filter((d) => d.message.kind === 'page');
    expect(pages.filter((d) => d.message.updateKey === undefined)).toHaveLength(11);
    const summaries = t.h.messagesFor('dave').filter((d) => d.message.updateKey === 'storm:1');
    expect(summaries.at(-1)?.text).toMatch(new RegExp(`Alert storm on Payments: ${N} new incidents`));
    expect(summaries.length).toBeLessThanOrEqual(3);
    const quiet = await t.read((tx) => tx.timeline(5000));
    expect(quiet.map((e) => e.kind)).toEqual(['reported', 'alert-firing', 'storm']);
  }, 180_000);

  it('across a shift change in the middle of the request, the incoming on-call owns every incident', async () => {
    // Monday 09:00 Berlin (08:00Z) dave hands payments over to alice.
    await t.h.advanceTo('2026-03-09T07:59:00Z');
    const big = t.post('big', bigBody(), { authorization: `Bearer ${AM_TOKEN}` });
    await waitFor(() => t.h.app.intake.batchCount > 3); // the storm is on; most alerts are still to come
    // The shift change runs between two chunks: the clock jumps, its timer fires meanwhile.
    t.h.clock.set(DateTime.fromISO('2026-03-09T08:00:01Z'));
    await t.h.app.scheduler.tick();
    expect((await big).status).toBe(202);
    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents).toHaveLength(N);
    // Those opened before the change were handed over; those after it are alice's from the start.
    expect(incidents.some((i) => i.openedAt >= DateTime.fromISO('2026-03-09T08:00:01Z'))).toBe(true);
    expect(incidents.filter((i) => i.assignee !== 'alice')).toEqual([]);
  }, 180_000);

  it('keeps one integration\'s requests in order: a resolve sent during the big request applies after it', async () => {
    const big = t.post('big', bigBody(), { authorization: `Bearer ${AM_TOKEN}` });
    await waitFor(() => t.h.app.intake.batchCount > 0);
    const last = `fp-${N - 1}`;
    const resolve = await t.post('big', JSON.stringify(amPayload([
      amAlert({ alertname: 'DiskFull', instance: `host-${N - 1}`, severity: 'warning' }, 'resolved', { fingerprint: last }),
    ])), { authorization: `Bearer ${AM_TOKEN}` });
    expect(resolve.status).toBe(202);
    expect((await big).status).toBe(202);
    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents.find((i) => i.fingerprint === last)?.state).toBe('resolved');
    expect(incidents.filter((i) => i.state === 'resolved')).toHaveLength(1);
  }, 180_000);

  it('keeps arrival order while a big body is still being parsed: a resolve sent meanwhile waits for it', async () => {
    // Hold the big body's reading until the resolve has arrived: the resolve is read long before.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reading!: () => void;
    const started = new Promise<void>((resolve) => {
      reading = resolve;
    });
    const parse = BigBodyParser.prototype.parse;
    const spy = jest.spyOn(BigBodyParser.prototype, 'parse').mockImplementation(async function (this: BigBodyParser, ...args) {
      reading();
      await held;
      return parse.apply(this, args);
    });
    try {
      const big = t.post('big', bigBody(), { authorization: `Bearer ${AM_TOKEN}` });
      await started;
      const last = `fp-${N - 1}`;
      const resolve = t.post('big', JSON.stringify(amPayload([
        amAlert({ alertname: 'DiskFull', instance: `host-${N - 1}`, severity: 'warning' }, 'resolved', { fingerprint: last }),
      ])), { authorization: `Bearer ${AM_TOKEN}` });
      await new Promise((r) => setTimeout(r, 200)); // the resolve is read and parsed; it must wait
      expect(t.h.app.intake.batchCount).toBe(0);
      release();
      expect((await resolve).status).toBe(202);
      expect((await big).status).toBe(202);
      const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
      expect(incidents.find((i) => i.fingerprint === last)?.state).toBe('resolved');
    } finally {
      spy.mockRestore();
    }
  }, 180_000);

  it('keeps arrival order while a long list (read on this thread, in slices) is still being read: a resolve sent meanwhile waits for it', async () => {
    const M = 700; // more than one slice of 500 alerts, far below the worker's 256 KiB
    const body = JSON.stringify(amPayload(Array.from({ length: M }, (_, i) =>
      amAlert({ alertname: 'DiskFull', instance: `host-${i}`, severity: 'warning' }, 'firing', { fingerprint: `fp-${i}` }))));
    expect(Buffer.byteLength(body)).toBeLessThan(256 * 1024);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const read = payloads.parsePayloadInSlices;
    const spy = jest.spyOn(payloads, 'parsePayloadInSlices').mockImplementation((integration, raw, slice) => {
      const result = read(integration, raw, slice);
      // The long list's reading takes as long as the test wants; a short body reads as it does.
      return result instanceof Promise ? held.then(() => result) : result;
    });
    try {
      const long = t.post('big', body, { authorization: `Bearer ${AM_TOKEN}` });
      await waitFor(() => spy.mock.calls.length === 1);
      const last = `fp-${M - 1}`;
      const resolve = t.post('big', JSON.stringify(amPayload([
        amAlert({ alertname: 'DiskFull', instance: `host-${M - 1}`, severity: 'warning' }, 'resolved', { fingerprint: last }),
      ])), { authorization: `Bearer ${AM_TOKEN}` });
      await new Promise((r) => setTimeout(r, 200)); // the resolve is read and parsed; it must wait
      expect(spy.mock.calls.length).toBe(2);
      expect(t.h.app.intake.batchCount).toBe(0);
      release();
      expect((await resolve).status).toBe(202);
      expect((await long).status).toBe(202);
      const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
      expect(incidents.find((i) => i.fingerprint === last)?.state).toBe('resolved');
      expect(incidents.filter((i) => i.state === 'resolved')).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  }, 180_000);

  it('a parse that fails inside (not the sender\'s mistake) while an earlier request is read answers 500 and holds up nobody after it', async () => {
    const M = 700;
    const body = JSON.stringify(amPayload(Array.from({ length: M }, (_, i) =>
      amAlert({ alertname: 'DiskFull', instance: `host-${i}`, severity: 'warning' }, 'firing', { fingerprint: `fp-${i}` }))));
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const read = payloads.parsePayloadInSlices;
    let calls = 0;
    const spy = jest.spyOn(payloads, 'parsePayloadInSlices').mockImplementation((integration, raw, slice) => {
      calls++;
      if (calls === 2) throw new TypeError('a bug in the parse (test)');
      const result = read(integration, raw, slice);
      return result instanceof Promise ? held.then(() => result) : result;
    });
    const one = (fp: string) => JSON.stringify(amPayload([amAlert({ alertname: 'DiskFull', instance: fp, severity: 'warning' }, 'firing', { fingerprint: fp })]));
    try {
      const long = t.post('big', body, { authorization: `Bearer ${AM_TOKEN}` });
      await waitFor(() => calls === 1);
      // Read while the long list is: its turn comes after it, and its parse throws.
      expect((await t.post('big', one('broken'), { authorization: `Bearer ${AM_TOKEN}` })).status).toBe(500);
      release();
      expect((await long).status).toBe(202);
      // The next request of the integration is not left waiting for the failed one's turn.
      expect((await t.post('big', one('after'), { authorization: `Bearer ${AM_TOKEN}` })).status).toBe(202);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it('a failure after some chunks committed answers no 202; the resend folds into the same incidents and pages nobody again', async () => {
    const body = bigBody();
    await sql(t.h.dbPath, `CREATE TRIGGER lost BEFORE INSERT ON intake_alerts WHEN NEW.fingerprint = 'fp-${N - 300}'
      BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;`);
    const failed = await t.post('big', body, { authorization: `Bearer ${AM_TOKEN}` });
    expect(failed.status).toBe(500);
    const committed = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(N);
    await t.h.app.scheduler.tick();
    const pagesBefore = t.h.messagesFor('dave').filter((d) => d.message.kind === 'page' && d.message.updateKey === undefined);

    await sql(t.h.dbPath, 'DROP TRIGGER lost;');
    const resent = await t.post('big', body, { authorization: `Bearer ${AM_TOKEN}` });
    expect(resent.status).toBe(202);
    expect(resent.body.accepted).toBe(N);
    const incidents = await t.read((tx) => tx.listIncidents({ team: 'payments' }));
    expect(incidents).toHaveLength(N);
    expect(new Set(incidents.map((i) => i.fingerprint)).size).toBe(N);
    // The incidents the first attempt opened are the same ones (same ids), not opened again.
    for (const i of committed) expect(incidents.find((x) => x.fingerprint === i.fingerprint)?.id).toBe(i.id);
    await t.h.app.scheduler.tick();
    const pagesAfter = t.h.messagesFor('dave').filter((d) => d.message.kind === 'page' && d.message.updateKey === undefined);
    expect(pagesAfter).toHaveLength(pagesBefore.length);
    expect(pagesAfter).toHaveLength(11);
  }, 180_000);
});
