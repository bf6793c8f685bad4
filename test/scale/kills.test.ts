/**
 * kill -9, again and again: a real `onehand start` on SQLite takes signed webhooks while it is
 * killed at random moments (some right in the middle of a burst of pages) and started again on the
 * same database. Every incident's page reaches the on-call; a kill repeats at most the sends that
 * were in flight at that instant (one per delivery lane; here the on-call's DMs and the channel).
 */
import * as path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { tempDir, writeFile } from '../cli/run-cli';
import { Replica, scaleConfig, sleep, stepOf, waitFor } from './replicas';

jest.setTimeout(120_000);

const KILLS = 5;
const PER_ROUND = 40;
/** Lanes that get messages here: the on-call's DMs and the team channel. */
const LANES = 2;

it(`${KILLS} kills at random moments: every page delivered, at most one repeat per lane and kill`, async () => {
  const dir = tempDir();
  // A long ack timeout: each incident makes exactly one page (and one channel record).
  const config = writeFile(dir, 'onehand.yaml', scaleConfig({ ackTimeout: '1h' }));
  const env = { ONEHAND_DATA: path.join(dir, 'data', 'onehand.db'), ONEHAND_DATABASE_URL: '' };
  const all: Replica[] = [];
  let n = 0;
  try {
    let live = await Replica.start('p0', config, env);
    all.push(live);
    for (let kill = 1; kill <= KILLS; kill++) {
      // A burst of new incidents, then a kill while their pages go out (or just after).
      const burst = Array.from({ length: PER_ROUND }, () => n++);
      const target = live;
      const answers = Promise.all(burst.map((i) => target.report({ title: `disk full on node ${i}`, fingerprint: `node-${i}` }).catch(() => 0)));
      await sleep(20 + Math.floor(Math.random() * 200));
      await live.kill();
      const statuses = await answers;
      live = await Replica.start(`p${kill}`, config, env);
      all.push(live);
      // What was not answered 202 is sent again (a sender's retry); the fingerprint folds repeats.
      for (const [k, status] of statuses.entries()) {
        if (status !== 202) expect(await live.report({ title: `disk full on node ${burst[k]}`, fingerprint: `node-${burst[k]}` })).toBe(202);
      }
    }
    const store = await openSqliteStore(env.ONEHAND_DATA);
    try {
      await waitFor('every page delivered and the outbox empty', async () => {
        const paged = new Set(all.flatMap((r) => r.lines).filter((d) => stepOf(d) === 'page').map((d) => d.incident));
        return paged.size >= n && (await store.transaction((tx) => tx.outboxDepth())) === 0;
      }, 30_000, 200);
      const incidents = await store.transaction((tx) => tx.listIncidents({}));
      expect(incidents).toHaveLength(n);
      const counts = new Map<string, number>();
      for (const d of all.flatMap((r) => r.lines)) {
        if (d.reply || d.incident === undefined) continue;
        const k = `${d.to}|${d.incident}|${d.text.split('\n')[0] ?? ''}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const pages = [...counts.entries()].filter(([k]) => / New incident #/.test(k));
      expect(pages).toHaveLength(n);
      const repeats = [...counts.values()].reduce((sum, c) => sum + (c - 1), 0);
      process.stdout.write(`[kills] ${KILLS} kills, ${n} incidents: every page delivered; repeated sends ${repeats} (at most ${KILLS * LANES} allowed)\n`);
      expect(repeats).toBeLessThanOrEqual(KILLS * LANES);
    } finally {
      await store.close();
    }
  } finally {
    await Promise.all(all.filter((r) => r.alive).map((r) => r.stop()));
  }
});
