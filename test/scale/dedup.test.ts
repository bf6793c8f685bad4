/**
 * Concurrent duplicate webhooks across replicas: 50 at once, same fingerprint, spread over three
 * `onehand start` processes on one PostgreSQL schema, open exactly one incident and page once.
 * The intake group's primary key does it (an upsert waits for the other writer), not a read-then-write.
 */
import * as path from 'node:path';
import { openPostgresStore } from '../../src/store/postgres/postgres-store';
import { tempDir, writeFile } from '../cli/run-cli';
import { createSchema, describePg, type TestSchema } from '../store/pg-test';
import { Replica, scaleConfig, stepOf, waitFor } from './replicas';

jest.setTimeout(60_000);

describePg('duplicate webhooks on three replicas', () => {
  let schema: TestSchema;
  const replicas: Replica[] = [];
  beforeAll(async () => {
    schema = await createSchema('onehand_dedup');
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await schema?.drop();
  });

  it('50 at once with one fingerprint open one incident and page once', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', scaleConfig({ ackTimeout: '1h' }));
    const env = { ONEHAND_DATABASE_URL: schema.url, ONEHAND_DATA: path.join(dir, 'unused.db') };
    replicas.push(await Replica.start('r1', config, env));
    replicas.push(...(await Promise.all([Replica.start('r2', config, env), Replica.start('r3', config, env)])));
    for (let round = 0; round < 3; round++) {
      const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        (replicas[i % 3] as Replica).report({ title: `checkout down (round ${round})`, fingerprint: `same-${round}` })));
      expect(statuses.every((s) => s === 202)).toBe(true);
    }
    const store = await openPostgresStore(schema.url);
    try {
      const incidents = await store.transaction((tx) => tx.listIncidents({}));
      expect(incidents.map((i) => i.fingerprint).sort()).toEqual(['same-0', 'same-1', 'same-2']);
      await waitFor('the pages', async () => replicas.flatMap((r) => r.lines).filter((d) => stepOf(d) === 'page').length >= 3, 10_000);
      await waitFor('the outbox to drain', async () => (await store.transaction((tx) => tx.outboxDepth())) === 0, 10_000);
      const pages = replicas.flatMap((r) => r.lines).filter((d) => stepOf(d) === 'page');
      expect(pages.map((d) => d.incident).sort()).toEqual(incidents.map((i) => i.id).sort());
      for (const incident of incidents) {
        const timeline = await store.transaction((tx) => tx.timeline(incident.id));
        expect(timeline.filter((e) => e.kind === 'reported')).toHaveLength(1);
      }
    } finally {
      await store.close();
    }
  });
});
