/**
 * The Store contract: what every implementation of the Store port must do, written once and run
 * against each store (sqlite.contract.test.ts, postgres.contract.test.ts). A kit gives fresh,
 * empty, migrated stores and second handles on the same database (a second replica).
 */
import { DateTime } from 'luxon';
import type { Incident, NewIncident } from '../../src/core/incident/types';
import type { Message } from '../../src/core/messages/message';
import type { NewOutboxRow, Store, StoreTx } from '../../src/ports/store';

export interface StoreKit {
  /** A new store on its own empty database, migrated. */
  fresh(): Promise<Store>;
  /** Another store on the database of `store` (like a second replica), migrated. */
  another(store: Store): Promise<Store>;
  /** Closes every store the kit opened and removes their databases. */
  cleanup(): Promise<void>;
}

export const T0 = DateTime.fromISO('2026-03-01T09:00:00Z', { zone: 'utc' });
export const at = (minutes: number): DateTime => T0.plus({ minutes });

export function newIncident(overrides: Partial<NewIncident> = {}): NewIncident {
  return {
    team: 'payments',
    title: 'Checkout returns 500',
    severity: 'sev2',
    source: 'integration:grafana',
    service: 'checkout',
    fingerprint: 'fp-1',
    state: 'open',
    assignee: 'alice',
    reporter: { kind: 'guest', adapter: 'discord', address: 'u-42', name: 'Dana' },
    escalationLevel: 1,
    policy: { ackTimeoutMs: 300_000, renotify: 2, then: ['mentor', 'lead'] },
    openedAt: at(0),
    acknowledgedAt: at(3),
    resolvedAt: null,
    updatedAt: at(3),
    ...overrides,
  };
}

export const msg = (text: string): Message => ({ kind: 'page', headline: [text, { t: 'user', v: 'x' }], lines: [], actions: ['ack'], mentions: ['alice'] });

export function outboxRow(key: string, notBefore: DateTime, incidentId: number | null = null): NewOutboxRow {
  return { key, adapter: 'console', recipient: { kind: 'member', id: 'alice' }, message: msg(key), incidentId, notBefore };
}

function expectSameIncident(actual: Incident | null, expected: Incident): void {
  expect(actual).not.toBeNull();
  const a = actual as Incident;
  const millis = (i: Incident) => ({
    ...i,
    openedAt: i.openedAt.toMillis(),
    acknowledgedAt: i.acknowledgedAt?.toMillis() ?? null,
    resolvedAt: i.resolvedAt?.toMillis() ?? null,
    updatedAt: i.updatedAt.toMillis(),
  });
  expect(millis(a)).toEqual(millis(expected));
  expect(a.openedAt.zoneName).toBe('UTC');
}

const alert = (fingerprint: string, alertKey: string, status: 'firing' | 'resolved', startsAt: string | null = 's1') => ({
  integration: 'grafana', fingerprint, alertKey, status, startsAt, labels: { a: 'b' }, annotations: { summary: 'x' },
});

/** runStoreContract defines the contract's tests for the store `kit()` gives (called at test time). */
export function runStoreContract(kit: () => StoreKit): void {
  afterEach(async () => {
    await kit().cleanup();
  });
  const store = (): Promise<Store> => kit().fresh();

  describe('migrations', () => {
    it('migrates idempotently, also from a second replica', async () => {
      const s = await store();
      await s.migrate();
      const b = await kit().another(s);
      await b.migrate();
      await expect(b.transaction((tx) => tx.outboxDepth())).resolves.toBe(0);
    });
  });

  describe('incidents and timeline', () => {
    it('round-trips every field of an incident', async () => {
      const s = await store();
      const inserted = await s.transaction((tx) => tx.insertIncident(newIncident()));
      expect(inserted.id).toBeGreaterThan(0);
      expectSameIncident(await s.transaction((tx) => tx.getIncident(inserted.id)), inserted);
      const updated: Incident = {
        ...inserted, state: 'resolved', service: null, fingerprint: null, assignee: 'bob', reporter: { kind: 'member', id: 'carol' },
        escalationLevel: 2, acknowledgedAt: null, resolvedAt: at(30), updatedAt: at(30),
      };
      await s.transaction((tx) => tx.updateIncident(updated));
      expectSameIncident(await s.transaction((tx) => tx.getIncident(inserted.id)), updated);
      await expect(s.transaction((tx) => tx.getIncident(9999))).resolves.toBeNull();
      await expect(s.transaction((tx) => tx.updateIncident({ ...updated, id: 9999 }))).rejects.toThrow('incident 9999 does not exist');
    });

    it('numbers incidents 1, 2, 3 in insertion order', async () => {
      const s = await store();
      const ids = await s.transaction(async (tx) => [
        (await tx.insertIncident(newIncident())).id, (await tx.insertIncident(newIncident())).id, (await tx.insertIncident(newIncident())).id,
      ]);
      expect(ids).toEqual([1, 2, 3]);
    });

    it('lists incidents by team and state, newest first, with a limit', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.insertIncident(newIncident({ title: 'a', openedAt: at(0) }));
        await tx.insertIncident(newIncident({ title: 'b', openedAt: at(10), state: 'acknowledged' }));
        await tx.insertIncident(newIncident({ title: 'c', openedAt: at(20), state: 'resolved' }));
        await tx.insertIncident(newIncident({ title: 'd', openedAt: at(5), team: 'search' }));
      });
      const titles = (list: Incident[]) => list.map((i) => i.title);
      await s.transaction(async (tx) => {
        expect(titles(await tx.listIncidents({}))).toEqual(['c', 'b', 'd', 'a']);
        expect(titles(await tx.listIncidents({ team: 'payments' }))).toEqual(['c', 'b', 'a']);
        expect(titles(await tx.listIncidents({ team: 'payments', states: ['open', 'acknowledged'] }))).toEqual(['b', 'a']);
        expect(titles(await tx.listIncidents({ states: ['open'] }))).toEqual(['d', 'a']);
        expect(titles(await tx.listIncidents({ limit: 2 }))).toEqual(['c', 'b']);
        expect(await tx.listIncidents({ states: [] })).toEqual([]);
        expect(await tx.listIncidents({ limit: 0 })).toEqual([]);
      });
    });

    it('lists the ids of a member\'s open incidents of a team, oldest first (a shift change hands them over)', async () => {
      const s = await store();
      const ids = await s.transaction(async (tx) => [
        (await tx.insertIncident(newIncident({ openedAt: at(20) }))).id,
        (await tx.insertIncident(newIncident({ openedAt: at(0) }))).id,
        (await tx.insertIncident(newIncident({ openedAt: at(5), state: 'acknowledged' }))).id,
        (await tx.insertIncident(newIncident({ openedAt: at(6), assignee: 'bob' }))).id,
        (await tx.insertIncident(newIncident({ openedAt: at(7), team: 'search' }))).id,
        (await tx.insertIncident(newIncident({ openedAt: at(10) }))).id,
      ]);
      expect(await s.transaction((tx) => tx.openIncidentIdsOf('payments', 'alice'))).toEqual([ids[1], ids[5], ids[0]]);
      expect(await s.transaction((tx) => tx.openIncidentIdsOf('payments', 'carol'))).toEqual([]);
    });

    it('reads many incidents\' timelines at once, each in order, in the order asked', async () => {
      const s = await store();
      const [a, b, c] = await s.transaction(async (tx) => {
        const ids = [(await tx.insertIncident(newIncident())).id, (await tx.insertIncident(newIncident())).id, (await tx.insertIncident(newIncident())).id];
        for (const [id, kind] of [[ids[1], 'reported'], [ids[0], 'reported'], [ids[1], 'acknowledged'], [ids[1], 'resolved']] as const) {
          await tx.appendTimeline({ incidentId: id as number, at: at(1), kind, actor: null, data: { k: kind } });
        }
        return ids;
      });
      const lists = await s.transaction((tx) => tx.timelines([b as number, c as number, a as number, 999]));
      expect(lists.map((l) => l.map((e) => `${e.incidentId}:${e.seq}:${e.kind}`))).toEqual([
        [`${b}:1:reported`, `${b}:2:acknowledged`, `${b}:3:resolved`], [], [`${a}:1:reported`], [],
      ]);
      expect(lists[0]?.[2]?.data).toEqual({ k: 'resolved' });
      expect(await s.transaction((tx) => tx.timelines([]))).toEqual([]);
    });

    it('lists the incidents active in a window: opened before its end, not resolved before its start', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.insertIncident(newIncident({ title: 'early, resolved early', openedAt: at(0), state: 'resolved', resolvedAt: at(5) }));
        await tx.insertIncident(newIncident({ title: 'early, resolved inside', openedAt: at(0), state: 'resolved', resolvedAt: at(15) }));
        await tx.insertIncident(newIncident({ title: 'early, still open', openedAt: at(1) }));
        await tx.insertIncident(newIncident({ title: 'inside', openedAt: at(12) }));
        await tx.insertIncident(newIncident({ title: 'after', openedAt: at(20) }));
      });
      const titles = await s.transaction(async (tx) => (await tx.listIncidents({ activeBetween: { from: at(10), to: at(20) } })).map((i) => i.title));
      expect(titles).toEqual(['inside', 'early, still open', 'early, resolved inside']);
      // By id: those that exist, newest first; with other filters too.
      const byId = async (filter: Parameters<StoreTx['listIncidents']>[0]) => s.transaction(async (tx) => (await tx.listIncidents(filter)).map((i) => i.title));
      expect(await byId({ ids: [1, 4, 99] })).toEqual(['inside', 'early, resolved early']);
      expect(await byId({ ids: [1, 3, 4], states: ['open'] })).toEqual(['inside', 'early, still open']);
      expect(await byId({ ids: [] })).toEqual([]);
    });

    it('lists the incidents moved out of a team in a window, by their reassigned events, also within the moving transaction', async () => {
      const s = await store();
      const move = (tx: StoreTx, id: number, when: number, fromTeam: string, team: string) =>
        tx.appendTimeline({ incidentId: id, at: at(when), kind: 'reassigned', actor: null, data: { member: 'erin', team, fromTeam } });
      await s.transaction(async (tx) => {
        const left = await tx.insertIncident(newIncident({ title: 'left for search', team: 'search', openedAt: at(0) }));
        await move(tx, left.id, 12, 'payments', 'search');
        const early = await tx.insertIncident(newIncident({ title: 'left before the window', team: 'search', openedAt: at(0) }));
        await move(tx, early.id, 5, 'payments', 'search');
        const back = await tx.insertIncident(newIncident({ title: 'left and came back', openedAt: at(0) }));
        await move(tx, back.id, 12, 'payments', 'search');
        await move(tx, back.id, 13, 'search', 'payments');
        const within = await tx.insertIncident(newIncident({ title: 'reassigned within payments', openedAt: at(0) }));
        await move(tx, within.id, 12, 'payments', 'payments');
        await tx.insertIncident(newIncident({ title: 'search all along', team: 'search', openedAt: at(0) }));
        // The transaction that moves one sees it (SQLite keeps timeline rows back until it reads).
        const late = await tx.insertIncident(newIncident({ title: 'left just now', team: 'search', openedAt: at(0) }));
        await move(tx, late.id, 18, 'payments', 'search');
        const seen = await tx.listIncidents({ movedFrom: { team: 'payments', from: at(10), to: at(20) } });
        expect(seen.map((i) => i.title)).toEqual(['left just now', 'left for search']);
      });
      const titles = await s.transaction(async (tx) => (await tx.listIncidents({ movedFrom: { team: 'payments', from: at(10), to: at(20) } })).map((i) => i.title));
      expect(titles).toEqual(['left just now', 'left for search']);
      expect(await s.transaction(async (tx) => (await tx.listIncidents({ movedFrom: { team: 'payments', from: at(10), to: at(12) } })).length)).toBe(0);
    });

    it('counts the pages that reached nobody since an instant, any incident, and gives the newest', async () => {
      const s = await store();
      const ids = await s.transaction(async (tx) => {
        const a = await tx.insertIncident(newIncident());
        const b = await tx.insertIncident(newIncident());
        expect(await tx.pagesUnreachedSince(at(0))).toEqual({ count: 0, last: null, late: 0 });
        await tx.appendTimeline({ incidentId: a.id, at: at(1), kind: 'page-unreached', actor: null, data: { member: 'dave', reason: 'first' } });
        await tx.appendTimeline({ incidentId: a.id, at: at(2), kind: 'notified', actor: null, data: {} });
        await tx.appendTimeline({ incidentId: b.id, at: at(3), kind: 'page-unreached', actor: null, data: { member: 'erin', reason: 'second' } });
        // Its own writes count (SQLite buffers timeline rows until a read needs them).
        expect((await tx.pagesUnreachedSince(at(0))).count).toBe(2);
        return { a: a.id, b: b.id };
      });
      const [all, late, none] = await s.transaction(async (tx) => [await tx.pagesUnreachedSince(at(0)), await tx.pagesUnreachedSince(at(2)), await tx.pagesUnreachedSince(at(4))]);
      expect(all.count).toBe(2);
      expect(all.last).toMatchObject({ incidentId: ids.b, kind: 'page-unreached', data: { member: 'erin', reason: 'second' } });
      expect(all.last?.at.toMillis()).toBe(at(3).toMillis());
      expect(late.count).toBe(1);
      expect(none).toEqual({ count: 0, last: null, late: 0 });
    });

    it('leaves out the unreached pages that went out later: a later page-reached-late event of the incident for the same member answers them', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        const a = await tx.insertIncident(newIncident());
        const b = await tx.insertIncident(newIncident());
        await tx.appendTimeline({ incidentId: a.id, at: at(1), kind: 'page-unreached', actor: null, data: { member: 'dave', reason: 'first' } });
        await tx.appendTimeline({ incidentId: a.id, at: at(1), kind: 'page-unreached', actor: null, data: { member: 'dave', reason: 'the reminder' } });
        await tx.appendTimeline({ incidentId: a.id, at: at(2), kind: 'page-unreached', actor: null, data: { member: 'alice', reason: 'the mentor' } });
        await tx.appendTimeline({ incidentId: b.id, at: at(2), kind: 'page-unreached', actor: null, data: { member: 'dave', reason: 'another incident' } });
        await tx.appendTimeline({ incidentId: a.id, at: at(3), kind: 'page-unreached', actor: null, data: { member: null, reason: 'a channel post for nobody' } });
        // Dave's page on #a went out: both of his on #a are answered, not Alice's, not his on #b.
        await tx.appendTimeline({ incidentId: a.id, at: at(4), kind: 'page-reached-late', actor: null, data: { member: 'dave' } });
        expect(await tx.pagesUnreachedSince(at(0))).toMatchObject({ count: 3, late: 2, last: { kind: 'page-unreached', data: { member: null } } });
        // A page-unreached after the late one is not answered by it; a null member is answered by a null one.
        await tx.appendTimeline({ incidentId: a.id, at: at(5), kind: 'page-unreached', actor: null, data: { member: 'dave', reason: 'again' } });
        await tx.appendTimeline({ incidentId: a.id, at: at(6), kind: 'page-reached-late', actor: null, data: { member: null } });
        expect(await tx.pagesUnreachedSince(at(0))).toMatchObject({ count: 3, late: 3, last: { data: { member: 'dave', reason: 'again' } } });
      });
      const [all, since] = await s.transaction(async (tx) => [await tx.pagesUnreachedSince(at(0)), await tx.pagesUnreachedSince(at(2))]);
      expect(all).toMatchObject({ count: 3, late: 3 });
      expect(since).toMatchObject({ count: 3, late: 1 });
      expect(since.last?.data).toMatchObject({ member: 'dave', reason: 'again' });
    });

    it('numbers timeline events 1, 2, 3 per incident', async () => {
      const s = await store();
      const events = await s.transaction(async (tx) => {
        const a = await tx.insertIncident(newIncident());
        const b = await tx.insertIncident(newIncident());
        const out = [];
        out.push(await tx.appendTimeline({ incidentId: a.id, at: at(0), kind: 'reported', actor: { kind: 'member', id: 'alice' }, data: { n: 1 } }));
        out.push(await tx.appendTimeline({ incidentId: a.id, at: at(1), kind: 'notified', actor: null, data: { to: ['alice'] } }));
        out.push(await tx.appendTimeline({ incidentId: b.id, at: at(2), kind: 'reported', actor: null, data: {} }));
        out.push(await tx.appendTimeline({ incidentId: a.id, at: at(3), kind: 'note', actor: null, data: { text: 'é ✓ <@everyone>' } }));
        return { a: a.id, b: b.id, seqs: out.map((e) => e.seq) };
      });
      expect(events.seqs).toEqual([1, 2, 1, 3]);
      const timeline = await s.transaction((tx) => tx.timeline(events.a));
      expect(timeline.map((e) => [e.seq, e.kind, e.at.toMillis()])).toEqual([
        [1, 'reported', at(0).toMillis()], [2, 'notified', at(1).toMillis()], [3, 'note', at(3).toMillis()],
      ]);
      expect(timeline[0]?.actor).toEqual({ kind: 'member', id: 'alice' });
      expect(timeline[1]?.actor).toBeNull();
      expect(timeline[1]?.data).toEqual({ to: ['alice'] });
      expect(timeline[2]?.data).toEqual({ text: 'é ✓ <@everyone>' });
      await expect(
        s.transaction((tx) => tx.appendTimeline({ incidentId: 4242, at: at(0), kind: 'note', actor: null, data: {} })),
      ).rejects.toThrow(/FOREIGN KEY|foreign key/);
      await expect(
        s.transaction((tx) => tx.appendTimeline({ incidentId: events.b, at: at(4), kind: 'note', actor: null, data: {} })),
      ).resolves.toMatchObject({ seq: 2 });
    });

    it('reads a timeline back within the transaction that writes it as a later read gives it: in order, UTC instants, JSON values; a rollback keeps none', async () => {
      const s = await store();
      const berlin = at(0).setZone('Europe/Berlin');
      const seen = await s.transaction(async (tx) => {
        const a = await tx.insertIncident(newIncident());
        await tx.appendTimeline({ incidentId: a.id, at: berlin, kind: 'reported', actor: { kind: 'member', id: 'alice' }, data: { when: at(1), list: [1, undefined], gone: undefined } });
        const first = await tx.timeline(a.id);
        await tx.appendTimeline({ incidentId: a.id, at: at(2), kind: 'note', actor: null, data: { text: 'second' } });
        const both = await tx.timeline(a.id);
        const many = await tx.timelines([a.id]);
        return { id: a.id, first, both, many };
      });
      const after = await s.transaction((tx) => tx.timeline(seen.id));
      const shape = (events: readonly { seq: number; kind: string; at: { toISO(): string | null }; actor: unknown; data: unknown }[]) =>
        events.map((e) => ({ seq: e.seq, kind: e.kind, at: e.at.toISO(), actor: e.actor, data: e.data }));
      expect(shape(after)).toEqual([
        { seq: 1, kind: 'reported', at: '2026-03-01T09:00:00.000Z', actor: { kind: 'member', id: 'alice' }, data: { when: '2026-03-01T09:01:00.000Z', list: [1, null] } },
        { seq: 2, kind: 'note', at: '2026-03-01T09:02:00.000Z', actor: null, data: { text: 'second' } },
      ]);
      expect(shape(seen.first)).toEqual(shape(after).slice(0, 1));
      expect(shape(seen.both)).toEqual(shape(after));
      expect(shape(seen.many[0] ?? [])).toEqual(shape(after));
      // Appended after a read in a later transaction: numbered on; thrown away on rollback.
      await expect(s.transaction(async (tx) => {
        await tx.timeline(seen.id);
        await tx.appendTimeline({ incidentId: seen.id, at: at(3), kind: 'note', actor: null, data: {} });
        throw new Error('boom');
      })).rejects.toThrow('boom');
      const third = await s.transaction(async (tx) => {
        await tx.timeline(seen.id);
        return tx.appendTimeline({ incidentId: seen.id, at: at(4), kind: 'note', actor: null, data: {} });
      });
      expect(third.seq).toBe(3);
      expect((await s.transaction((tx) => tx.timeline(seen.id))).map((e) => e.seq)).toEqual([1, 2, 3]);
    });

    it('numbers concurrent timeline events of one incident without gaps or duplicates', async () => {
      const s = await store();
      const b = await kit().another(s);
      const id = await s.transaction(async (tx) => (await tx.insertIncident(newIncident())).id);
      const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? s : b).transaction(async (tx) => (await tx.appendTimeline({ incidentId: id, at: at(i), kind: 'note', actor: null, data: { i } })).seq)));
      expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });
  });

  describe('transactions', () => {
    it('rolls everything back when the callback throws', async () => {
      const s = await store();
      await expect(
        s.transaction(async (tx) => {
          await tx.insertIncident(newIncident());
          await tx.kvSet('ns', 'k', 1);
          await tx.enqueue([outboxRow('k1', at(0))]);
          await tx.scheduleTimer({ key: 't', kind: 'k', dueAt: at(0), payload: {} });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await s.transaction(async (tx) => {
        expect(await tx.listIncidents({})).toEqual([]);
        expect(await tx.kvGet('ns', 'k')).toBeUndefined();
        expect(await tx.outboxDepth()).toBe(0);
        expect(await tx.nextTimerDue()).toBeNull();
      });
    });

    it('runs afterCommit callbacks once the transaction committed, in order, and never for one rolled back', async () => {
      const s = await store();
      const seen: string[] = [];
      await expect(s.transaction(async (tx) => {
        tx.afterCommit(() => seen.push('rolled back'));
        await tx.kvSet('ns', 'k', 1);
        throw new Error('boom');
      })).rejects.toThrow('boom');
      const result = await s.transaction(async (tx) => {
        tx.afterCommit(() => seen.push('first'));
        tx.afterCommit(() => {
          throw new Error('a callback that throws');
        });
        await tx.kvSet('ns', 'k', 2);
        tx.afterCommit(() => seen.push('second'));
        expect(seen).toEqual([]); // nothing before the commit
        return 'done';
      });
      // In order; one that throws stops neither the others nor the commit.
      expect(result).toBe('done');
      expect(seen).toEqual(['first', 'second']);
      await expect(s.transaction((tx) => tx.kvGet('ns', 'k'))).resolves.toBe(2);
      let leaked: StoreTx | undefined;
      await s.transaction(async (tx) => {
        leaked = tx;
      });
      expect(() => (leaked as StoreTx).afterCommit(() => undefined)).toThrow('StoreTx used after its transaction finished');
    });

    it('serializes read-modify-write of one kv key, across two handles', async () => {
      const s = await store();
      const b = await kit().another(s);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? s : b).transaction(async (tx) => {
            const n = ((await tx.kvGet('test', 'counter')) as number | undefined) ?? 0;
            await new Promise((resolve) => setImmediate(resolve));
            await tx.kvSet('test', 'counter', n + 1);
          }),
        ),
      );
      await expect(s.transaction((tx) => tx.kvGet('test', 'counter'))).resolves.toBe(50);
    });

    it('serializes read-modify-write of one incident, across two handles', async () => {
      const s = await store();
      const b = await kit().another(s);
      const id = await s.transaction(async (tx) => (await tx.insertIncident(newIncident({ escalationLevel: 0 }))).id);
      await Promise.all(Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? s : b).transaction(async (tx) => {
          const incident = await tx.getIncident(id);
          if (!incident) throw new Error('gone');
          await new Promise((resolve) => setImmediate(resolve));
          await tx.updateIncident({ ...incident, escalationLevel: incident.escalationLevel + 1 });
        })));
      await expect(s.transaction(async (tx) => (await tx.getIncident(id))?.escalationLevel)).resolves.toBe(30);
    });

    it('refuses a StoreTx used after its transaction, and nested transactions', async () => {
      const s = await store();
      let leaked: StoreTx | undefined;
      await s.transaction(async (tx) => {
        leaked = tx;
      });
      await expect((leaked as StoreTx).kvGet('a', 'b')).rejects.toThrow('StoreTx used after its transaction finished');
      await expect(s.transaction(() => s.transaction(async () => 1))).rejects.toThrow(/inside a transaction/);
      await expect(s.transaction(async () => 'ok')).resolves.toBe('ok');
    });

    it('keeps state across close and reopen', async () => {
      const s = await store();
      const id = await s.transaction(async (tx) => {
        const incident = await tx.insertIncident(newIncident());
        await tx.kvSet('plugin', 'state', { last: [1, 2, 3], ok: true, none: null });
        await tx.scheduleTimer({ key: 'esc:1', kind: 'escalate', dueAt: at(5), payload: { step: 1 } });
        return incident.id;
      });
      const reopened = await kit().another(s);
      await s.close();
      await s.close(); // idempotent
      await expect(s.transaction(async () => 1)).rejects.toThrow(/is closed/);
      await reopened.transaction(async (tx) => {
        expect((await tx.getIncident(id))?.title).toBe('Checkout returns 500');
        expect(await tx.kvGet('plugin', 'state')).toEqual({ last: [1, 2, 3], ok: true, none: null });
        expect((await tx.nextTimerDue())?.toMillis()).toBe(at(5).toMillis());
      });
    });
  });

  describe('overrides and absences', () => {
    it('lists overlapping overrides by creation order and deletes them', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        const late = await tx.addOverride({ team: 'payments', member: 'bob', start: at(60), end: at(120), createdBy: 'lead', reason: null });
        const early = await tx.addOverride({ team: 'payments', member: 'carol', start: at(0), end: at(60), createdBy: 'lead', reason: 'swap' });
        await tx.addOverride({ team: 'search', member: 'dan', start: at(0), end: at(120), createdBy: 'lead', reason: null });
        expect(early.seq).toBeGreaterThan(late.seq);
        expect(early.id).toMatch(/^[0-9a-f-]{36}$/);
        const all = await tx.listOverrides('payments', at(0), at(120));
        expect(all.map((o) => o.member)).toEqual(['bob', 'carol']);
        expect({ ...all[1], start: all[1]?.start.toMillis(), end: all[1]?.end.toMillis() }).toEqual({ ...early, start: early.start.toMillis(), end: early.end.toMillis() });
        expect((await tx.listOverrides('payments', at(60), at(61))).map((o) => o.member)).toEqual(['bob']);
        expect((await tx.listOverrides('payments', at(59), at(60))).map((o) => o.member)).toEqual(['carol']);
        expect(await tx.deleteOverride(late.id)).toBe(true);
        expect(await tx.deleteOverride(late.id)).toBe(false);
        const next = await tx.addOverride({ team: 'payments', member: 'eve', start: at(0), end: at(1), createdBy: 'lead', reason: null });
        expect(next.seq).toBeGreaterThan(early.seq);
        await expect(tx.addOverride({ team: 'payments', member: 'eve', start: at(1), end: at(1), createdBy: 'x', reason: null })).rejects.toThrow(RangeError);
      });
    });

    it('lists overlapping absences ordered by start', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.addAbsence({ member: 'bob', start: at(30), end: at(90) });
        await tx.addAbsence({ member: 'alice', start: at(0), end: at(60) });
        await tx.addAbsence({ member: 'carol', start: at(200), end: at(300) });
        const list = await tx.listAbsences(at(10), at(100));
        expect(list.map((a) => a.member)).toEqual(['alice', 'bob']);
        expect(list[0]?.start.toMillis()).toBe(at(0).toMillis());
        expect(await tx.listAbsences(at(90), at(200))).toEqual([]);
      });
    });

    it('deletes an absence by id, once', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        const gone = await tx.addAbsence({ member: 'bob', start: at(0), end: at(60) });
        await tx.addAbsence({ member: 'alice', start: at(0), end: at(60) });
        expect(await tx.deleteAbsence(gone.id)).toBe(true);
        expect(await tx.deleteAbsence(gone.id)).toBe(false);
        expect((await tx.listAbsences(at(0), at(60))).map((a) => a.member)).toEqual(['alice']);
      });
    });
  });

  describe('timers', () => {
    it('keeps the first of two timers with the same key, even after it completed', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        expect(await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(5), payload: { a: 1 } })).toBe(true);
        expect(await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(1), payload: { a: 2 } })).toBe(false);
        const [claimed] = await tx.claimDueTimers(at(10), 10, 'w1', at(11));
        expect(claimed).toMatchObject({ key: 'esc:1:1', kind: 'escalate', payload: { a: 1 } });
        expect(claimed?.dueAt.toMillis()).toBe(at(5).toMillis());
        expect(await tx.completeTimer(claimed?.id ?? -1, 'w1')).toBe(true);
        expect(await tx.completeTimer(claimed?.id ?? -1, 'w1')).toBe(false);
        expect(await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(20), payload: {} })).toBe(false);
        expect(await tx.nextTimerDue()).toBeNull();
      });
    });

    it('names the pending timer due first, leased or not; done and cancelled ones are not pending', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        expect(await tx.oldestDueTimer()).toBeNull();
        await tx.scheduleTimer({ key: 'esc:2:1', kind: 'escalate', dueAt: at(7), payload: {} });
        await tx.scheduleTimer({ key: 'shift:payments', kind: 'shift', dueAt: at(3), payload: {} });
        await tx.scheduleTimer({ key: 'esc:1:1', kind: 'escalate', dueAt: at(2), payload: {} });
        const [first] = await tx.claimDueTimers(at(2), 1, 'w1', at(60)); // leased: still the oldest due
        const oldest = await tx.oldestDueTimer();
        expect(oldest).toMatchObject({ kind: 'escalate', key: 'esc:1:1' });
        expect(oldest?.dueAt.toMillis()).toBe(at(2).toMillis());
        expect(await tx.completeTimer(first?.id ?? -1, 'w1')).toBe(true);
        expect(await tx.oldestDueTimer()).toMatchObject({ key: 'shift:payments' });
        await tx.cancelTimers('shift:');
        expect(await tx.oldestDueTimer()).toMatchObject({ key: 'esc:2:1' });
      });
    });

    it('claims due timers in due order and honours leases', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.scheduleTimer({ key: 't3', kind: 'k', dueAt: at(3), payload: {} });
        await tx.scheduleTimer({ key: 't1', kind: 'k', dueAt: at(1), payload: {} });
        await tx.scheduleTimer({ key: 't2', kind: 'k', dueAt: at(2), payload: {} });
        await tx.scheduleTimer({ key: 't9', kind: 'k', dueAt: at(9), payload: {} });
        expect((await tx.nextTimerDue())?.toMillis()).toBe(at(1).toMillis());
      });
      const first = await s.transaction((tx) => tx.claimDueTimers(at(3), 2, 'w1', at(10)));
      expect(first.map((t) => t.key)).toEqual(['t1', 't2']);
      const t1 = first[0]?.id ?? -1;
      await s.transaction(async (tx) => {
        expect((await tx.claimDueTimers(at(5), 10, 'w2', at(8))).map((t) => t.key)).toEqual(['t3']);
        expect(await tx.claimDueTimers(at(7), 10, 'w3', at(12))).toEqual([]);
        expect((await tx.nextTimerDue())?.toMillis()).toBe(at(8).toMillis() + 1);
        expect((await tx.claimDueTimers(at(10), 10, 'w3', at(20))).map((t) => t.key)).toEqual(['t3', 't9']);
        const taken = await tx.claimDueTimers(at(10).plus({ milliseconds: 1 }), 10, 'w3', at(20));
        expect(taken.map((t) => t.key)).toEqual(['t1', 't2']);
        expect(await tx.completeTimer(t1, 'w1')).toBe(false);
        expect(await tx.completeTimer(t1, 'w3')).toBe(true);
        expect(await tx.claimDueTimers(at(5), 0, 'w3', at(6))).toEqual([]);
        await expect(tx.claimDueTimers(at(5), 1, 'w3', at(5))).rejects.toThrow(RangeError);
      });
    });

    it('cancels pending timers by key prefix (code-point order, case-sensitive)', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        for (const key of ['esc:1:1', 'esc:1:2', 'esc:10:1', 'esc:2:1', 'ESC:1:3', 'remind:1', 'esc:1;x', 'esc:1:\u00e9']) {
          await tx.scheduleTimer({ key, kind: 'k', dueAt: at(1), payload: {} });
        }
        const [claimed] = await tx.claimDueTimers(at(1), 1, 'w1', at(2));
        expect(claimed?.key).toBe('esc:1:1');
        expect(await tx.cancelTimers('esc:1:')).toBe(3);
        expect(await tx.cancelTimers('esc:1:')).toBe(0);
        expect(await tx.completeTimer(claimed?.id ?? -1, 'w1')).toBe(false);
        expect((await tx.claimDueTimers(at(1), 10, 'w1', at(2))).map((t) => t.key)).toEqual(['esc:10:1', 'esc:2:1', 'ESC:1:3', 'remind:1', 'esc:1;x']);
        expect(await tx.scheduleTimer({ key: 'esc:1:2', kind: 'k', dueAt: at(1), payload: {} })).toBe(false);
        expect(await tx.cancelTimers('%')).toBe(0);
        expect(await tx.cancelTimers('')).toBe(5);
      });
    });

    it('hurries pending timers by key prefix: those due later become due now, those `only` accepts', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.scheduleTimer({ key: 'esc:1:0:1', kind: 'k', dueAt: at(10), payload: { index: 1 } });
        await tx.scheduleTimer({ key: 'esc:1:0:u1', kind: 'k', dueAt: at(10), payload: { unowned: 1 } });
        await tx.scheduleTimer({ key: 'esc:1:0:2', kind: 'k', dueAt: at(2), payload: { index: 2 } });
        await tx.scheduleTimer({ key: 'esc:10:0:1', kind: 'k', dueAt: at(10), payload: {} });
        await tx.scheduleTimer({ key: 'esc:1:0:3', kind: 'k', dueAt: at(10), payload: { index: 3 } });
        await tx.cancelTimers('esc:1:0:3');
      });
      // Not the unowned one, not one due earlier already, not another incident's, not a cancelled one.
      expect(await s.transaction((tx) => tx.hurryTimers('esc:1:', at(5), (t) => t.payload.unowned === undefined))).toBe(1);
      const due = await s.transaction((tx) => tx.claimDueTimers(at(5), 10, 'w', at(6)));
      expect(due.map((t) => [t.key, t.dueAt.toMillis()])).toEqual([['esc:1:0:2', at(2).toMillis()], ['esc:1:0:1', at(5).toMillis()]]);
      expect(await s.transaction((tx) => tx.hurryTimers('esc:1:', at(5)))).toBe(1); // the unowned one: no filter
      expect(await s.transaction((tx) => tx.hurryTimers('esc:7:', at(5)))).toBe(0);
    });

    it('lists the pending timers of a key prefix (not done, not cancelled, not another prefix), by key', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.scheduleTimer({ key: 'esc:1:0:u1', kind: 'k', dueAt: at(10), payload: { unowned: 1 } });
        await tx.scheduleTimer({ key: 'esc:1:0:1', kind: 'k', dueAt: at(3), payload: { index: 1, pass: 0 } });
        await tx.scheduleTimer({ key: 'esc:10:0:1', kind: 'k', dueAt: at(3), payload: {} });
        await tx.scheduleTimer({ key: 'esc:1:0:2', kind: 'k', dueAt: at(1), payload: {} });
        await tx.scheduleTimer({ key: 'esc:1:0:3', kind: 'k', dueAt: at(1), payload: {} });
        await tx.cancelTimers('esc:1:0:3');
      });
      const [done] = await s.transaction((tx) => tx.claimDueTimers(at(1), 1, 'w', at(2)));
      await s.transaction(async (tx) => expect(await tx.completeTimer(done?.id ?? -1, 'w')).toBe(true));
      const pending = await s.transaction((tx) => tx.pendingTimers('esc:1:'));
      expect(pending.map((t) => [t.key, t.dueAt.toMillis(), t.payload])).toEqual([
        ['esc:1:0:1', at(3).toMillis(), { index: 1, pass: 0 }], ['esc:1:0:u1', at(10).toMillis(), { unowned: 1 }],
      ]);
      expect(await s.transaction((tx) => tx.pendingTimers('esc:7:'))).toEqual([]);
    });

    it('gives each due timer to exactly one of many concurrent claimers', async () => {
      const s = await store();
      const b = await kit().another(s);
      await s.transaction(async (tx) => {
        for (let i = 0; i < 200; i++) await tx.scheduleTimer({ key: `t:${i}`, kind: 'k', dueAt: at(i % 5), payload: { i } });
      });
      const claimed: number[] = [];
      const fired: string[] = [];
      await Promise.all(Array.from({ length: 8 }, (_, w) => (async () => {
        const handle = w % 2 ? s : b;
        for (;;) {
          const rows = await handle.transaction((tx) => tx.claimDueTimers(at(10), 7, `w${w}`, at(11)));
          if (rows.length === 0) return;
          for (const r of rows) {
            claimed.push(r.id);
            await handle.transaction(async (tx) => {
              if (await tx.completeTimer(r.id, `w${w}`)) fired.push(r.key);
            });
          }
        }
      })()));
      expect(claimed).toHaveLength(200);
      expect(new Set(claimed).size).toBe(200);
      expect(new Set(fired).size).toBe(200);
      await expect(s.transaction((tx) => tx.nextTimerDue())).resolves.toBeNull();
    });

    it('lets another owner finish a timer whose lease expired, and only one of them complete it', async () => {
      const s = await store();
      const b = await kit().another(s);
      await s.transaction((tx) => tx.scheduleTimer({ key: 'x', kind: 'k', dueAt: at(0), payload: {} }));
      const [dead] = await s.transaction((tx) => tx.claimDueTimers(at(0), 1, 'dead', at(1)));
      expect(await b.transaction((tx) => tx.claimDueTimers(at(1), 1, 'live', at(2)))).toEqual([]);
      const [again] = await b.transaction((tx) => tx.claimDueTimers(at(1).plus({ milliseconds: 1 }), 1, 'live', at(2)));
      expect(again?.id).toBe(dead?.id);
      const results = await Promise.all([
        s.transaction((tx) => tx.completeTimer(dead?.id ?? -1, 'dead')),
        b.transaction((tx) => tx.completeTimer(dead?.id ?? -1, 'live')),
      ]);
      expect(results).toEqual([false, true]);
    });
  });

  describe('outbox', () => {
    it('deduplicates by key, claims oldest first and counts depth', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        const incident = await tx.insertIncident(newIncident());
        expect(await tx.enqueue([outboxRow('b', at(2), incident.id), outboxRow('a', at(1)), outboxRow('a', at(0)), outboxRow('c', at(5))])).toBe(3);
        expect(await tx.enqueue([outboxRow('a', at(0)), outboxRow('d', at(1))])).toBe(1);
        expect(await tx.enqueue([])).toBe(0);
        expect(await tx.outboxDepth()).toBe(4);
        const claimed = await tx.claimOutbox(at(2), 10, 'w1', at(3));
        expect(claimed.map((r) => r.key)).toEqual(['a', 'd', 'b']);
        expect(claimed[0]).toMatchObject({ adapter: 'console', recipient: { kind: 'member', id: 'alice' }, message: msg('a'), incidentId: null, attempts: 0 });
        expect(claimed[0]?.notBefore.toMillis()).toBe(at(1).toMillis());
        expect(claimed[2]?.incidentId).toBe(incident.id);
        expect(claimed[0]?.createdAt.isValid).toBe(true);
        expect(await tx.claimOutbox(at(2), 10, 'w2', at(4))).toEqual([]);
        expect(await tx.claimOutbox(at(3), 10, 'w2', at(4))).toEqual([]);
        expect((await tx.nextDeliveryDue())?.toMillis()).toBe(at(3).toMillis() + 1);
        expect((await tx.claimOutbox(at(5), 10, 'w2', at(6))).map((r) => r.key)).toEqual(['a', 'd', 'b', 'c']);
      });
    });

    it('retries failed deliveries and gives up when told to', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.enqueue([outboxRow('x', at(0)), outboxRow('y', at(0))]);
        const [x, y] = await tx.claimOutbox(at(0), 10, 'w1', at(1));
        await tx.markFailed(x?.id ?? -1, 'HTTP 502', at(10));
        await tx.markSent(y?.id ?? -1, at(0));
        await tx.markSent(y?.id ?? -1, at(1));
        expect(await tx.outboxDepth()).toBe(1);
        expect(await tx.claimOutbox(at(9), 10, 'w1', at(10))).toEqual([]);
        expect((await tx.nextDeliveryDue())?.toMillis()).toBe(at(10).toMillis());
        const [retry] = await tx.claimOutbox(at(10), 10, 'w1', at(11));
        expect(retry).toMatchObject({ key: 'x', attempts: 1 });
        expect(retry?.notBefore.toMillis()).toBe(at(10).toMillis());
        await tx.markFailed(retry?.id ?? -1, 'HTTP 403'.padEnd(5000, '!'), null);
        expect(await tx.outboxDepth()).toBe(0);
        expect(await tx.nextDeliveryDue()).toBeNull();
        expect(await tx.claimOutbox(at(100), 10, 'w1', at(101))).toEqual([]);
        await expect(tx.markSent(4242, at(0))).rejects.toThrow('outbox row 4242 does not exist');
        await expect(tx.markFailed(4242, 'x', null)).rejects.toThrow('outbox row 4242 does not exist');
      });
    });

    it('enqueues thousands of rows in one transaction', async () => {
      const s = await store();
      const rows = Array.from({ length: 2500 }, (_, i) => outboxRow(`bulk:${i}`, at(i % 7)));
      const added = await s.transaction((tx) => tx.enqueue([...rows, ...rows.slice(0, 10)]));
      expect(added).toBe(2500);
      await s.transaction(async (tx) => {
        expect(await tx.outboxDepth()).toBe(2500);
        const claimed = await tx.claimOutbox(at(0), 3, 'w1', at(1));
        expect(claimed.map((r) => r.key)).toEqual(['bulk:0', 'bulk:7', 'bulk:14']);
        expect(claimed[0]?.message).toEqual(msg('bulk:0'));
      });
    });

    it('enqueues one key once when two replicas enqueue it at the same time', async () => {
      const s = await store();
      const b = await kit().another(s);
      const added = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? s : b).transaction((tx) => tx.enqueue([outboxRow('same', at(0)), outboxRow(`own:${i}`, at(0))]))));
      expect(added.reduce((x, y) => x + y, 0)).toBe(11);
      await expect(s.transaction((tx) => tx.outboxDepth())).resolves.toBe(11);
    });

    it('gives each delivery to exactly one of many concurrent claimers', async () => {
      const s = await store();
      const b = await kit().another(s);
      await s.transaction((tx) => tx.enqueue(Array.from({ length: 300 }, (_, i) => outboxRow(`r:${i}`, at(i % 3)))));
      const claimed: string[] = [];
      await Promise.all(Array.from({ length: 8 }, (_, w) => (async () => {
        const handle = w % 2 ? s : b;
        for (;;) {
          const rows = await handle.transaction((tx) => tx.claimOutbox(at(5), 9, `w${w}`, at(6)));
          if (rows.length === 0) return;
          claimed.push(...rows.map((r) => r.key));
          await handle.transaction(async (tx) => {
            for (const r of rows) await tx.markSent(r.id, at(5));
          });
        }
      })()));
      expect(claimed).toHaveLength(300);
      expect(new Set(claimed).size).toBe(300);
    });
  });

  describe('delivery lanes', () => {
    const to = (key: string, member: string, notBefore: DateTime, adapter = 'console'): NewOutboxRow => ({ ...outboxRow(key, notBefore), adapter, recipient: { kind: 'member', id: member } });

    it('lets the latest quiet version of a message stand for the earlier ones still waiting, never for a page, never for one being sent', async () => {
      const s = await store();
      const version = (v: number, kind: 'page' | 'incident-update', extra: Partial<Message> = {}): NewOutboxRow => ({
        ...to(`storm:v${v}`, 'alice', at(0)),
        message: { kind, headline: [`storm, version ${v}`], lines: [], actions: [], mentions: kind === 'page' ? ['alice'] : [], updateKey: 'storm:1', ...extra },
      });
      // Each version in its own transaction, as a growing storm writes them.
      for (const row of [version(1, 'page'), version(2, 'incident-update'), version(3, 'incident-update', { news: true }), version(4, 'incident-update'), version(5, 'incident-update')]) {
        await s.transaction((tx) => tx.enqueue([row]));
      }
      await s.transaction((tx) => tx.enqueue([to('page-after', 'alice', at(0))]));
      await s.transaction(async (tx) => {
        // v2 and v4 are done (v5 says it all); the page (v1) and the news (v3) still go out.
        const claimed = await tx.claimOutbox(at(1), 10, 'w1', at(2));
        expect(claimed.map((r) => r.key)).toEqual(['storm:v1', 'storm:v3', 'storm:v5', 'page-after']);
        // A version being sent (leased) is not touched by a later one.
        await tx.enqueue([version(6, 'incident-update')]);
        await tx.markSent(claimed[2]?.id ?? -1, at(1));
      });
      await s.transaction(async (tx) => {
        expect((await tx.claimOutbox(at(3), 10, 'w1', at(4))).map((r) => r.key)).toEqual(['storm:v1', 'storm:v3', 'page-after', 'storm:v6']);
      });
    });

    it('claims per lane: the earliest rows of each, never a lane another owner is sending or one skipped', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.enqueue([to('a1', 'alice', at(0)), to('a2', 'alice', at(0)), to('a3', 'alice', at(1)), to('b1', 'bob', at(0)), to('b2', 'bob', at(0)), to('c1', 'carol', at(0), 'discord')]);
        const first = await tx.claimOutbox(at(2), 10, 'w1', at(5), { perLane: 2, skipLanes: ['discord:m:carol'] });
        expect(first.map((r) => r.key)).toEqual(['a1', 'a2', 'b1', 'b2']);
        expect(first[0]?.lane).toBe('console:m:alice');
        expect(first[0]?.waitingSince).toBeNull();
        // alice's and bob's lanes are w1's while its lease runs: w2 gets only carol's.
        expect((await tx.claimOutbox(at(2), 10, 'w2', at(5))).map((r) => r.key)).toEqual(['c1']);
        // Not even w1 claims more of a lane while a lease in it runs (its lanes are in skipLanes anyway).
        expect((await tx.claimOutbox(at(2), 10, 'w1', at(5))).map((r) => r.key)).toEqual([]);
        expect((await tx.claimOutbox(at(6), 10, 'w1', at(7))).map((r) => r.key)).toEqual(['a1', 'a2', 'b1', 'b2', 'c1', 'a3']);
      });
    });

    it('holds the rest of a lane behind a failed delivery until it is sent, or has failed too often', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.enqueue([to('a1', 'alice', at(0)), to('a2', 'alice', at(0)), to('a3', 'alice', at(30)), to('b1', 'bob', at(0))]);
        const [a1, a2] = await tx.claimOutbox(at(0), 10, 'w1', at(5), { perLane: 2 });
        expect(a2?.key).toBe('a2');
        await tx.markFailed(a1?.id ?? -1, 'timeout', at(10));
        // Only the owner's leases on pending rows are given up (a1's went with markFailed).
        expect(await tx.releaseLeases([a2?.id ?? -1], 'w2')).toBe(0);
        expect(await tx.releaseLeases([a2?.id ?? -1, a1?.id ?? -1], 'w1')).toBe(1);
        expect(await tx.releaseLeases([], 'w1')).toBe(0);
        // a2 is due and unleased, but waits behind a1; bob's lane is untouched.
        const [b1] = await tx.claimOutbox(at(9), 10, 'w2', at(11));
        expect(b1?.key).toBe('b1');
        expect(await tx.claimOutbox(at(9), 10, 'w2', at(11), { skipLanes: ['console:m:bob'] })).toEqual([]);
        // The failed row goes first, alone: what is behind it waits until it is sent.
        const [retried] = await tx.claimOutbox(at(10), 10, 'w2', at(11), { skipLanes: ['console:m:bob'] });
        expect(retried?.key).toBe('a1');
        await tx.markSent(retried?.id ?? -1, at(10));
        const [next] = await tx.claimOutbox(at(10), 10, 'w2', at(11), { skipLanes: ['console:m:bob'] });
        expect(next?.key).toBe('a2');
        for (const r of [b1, next]) await tx.markSent(r?.id ?? -1, at(10));
        expect((await tx.claimOutbox(at(29), 10, 'w3', at(31))).map((r) => r.key)).toEqual([]);
        const [a3] = await tx.claimOutbox(at(30), 10, 'w3', at(31));
        expect(a3?.key).toBe('a3');
        await tx.markSent(a3?.id ?? -1, at(30));
        // A row enqueued after a failure waits behind the failed row too, for up to 2 failures here.
        await tx.enqueue([to('c1', 'carol', at(40)), to('c2', 'carol', at(40))]);
        const [c1] = await tx.claimOutbox(at(40), 1, 'w3', at(41));
        expect(c1?.key).toBe('c1');
        await tx.markFailed(c1?.id ?? -1, 'poison', at(60));
        await tx.enqueue([to('c3', 'carol', at(40))]);
        expect(await tx.claimOutbox(at(42), 10, 'w3', at(43), { holdBehindFailures: 2 })).toEqual([]);
        const [c1again] = await tx.claimOutbox(at(60), 1, 'w3', at(61), { holdBehindFailures: 2 });
        expect(c1again?.key).toBe('c1');
        await tx.markFailed(c1again?.id ?? -1, 'poison', at(90));
        // Failed twice: the rest of the lane goes on without it.
        expect((await tx.claimOutbox(at(62), 10, 'w3', at(63), { holdBehindFailures: 2 })).map((r) => r.key)).toEqual(['c2', 'c3']);
      });
    });

    it('parks a delivery while its recipient is unreachable and re-arms the lane when they are', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.enqueue([to('p:1@teams', 'alice', at(0), 'teams'), to('p:1@discord', 'alice', at(0), 'discord'), to('p:2@teams', 'bob', at(0), 'teams')]);
        const rows = await tx.claimOutbox(at(0), 10, 'w1', at(1));
        const [teamsAlice, discordAlice, teamsBob] = ['p:1@teams', 'p:1@discord', 'p:2@teams'].map((k) => rows.find((r) => r.key === k));
        await tx.markWaiting(teamsAlice?.id ?? -1, 'not reachable yet', at(24 * 60));
        await tx.markWaiting(teamsBob?.id ?? -1, 'not reachable yet', at(24 * 60));
        await tx.markSent(discordAlice?.id ?? -1, at(0));
        expect((await tx.deliveryStates('p:1@')).map((d) => [d.key, d.adapter, d.state, d.attempts])).toEqual([['p:1@teams', 'teams', 'waiting', 1], ['p:1@discord', 'discord', 'sent', 0]]);
        expect(await tx.outboxStats(at(0))).toMatchObject({ pending: 2, waiting: 2, oldestDue: null, deadSince: 0 });
        expect(await tx.claimOutbox(at(60), 10, 'w1', at(61))).toEqual([]);
        expect(await tx.rearmLane('teams:m:alice', at(61))).toBe(1);
        const [again] = await tx.claimOutbox(at(61), 10, 'w1', at(62));
        expect(again).toMatchObject({ key: 'p:1@teams', attempts: 1, waitingSince: null });
        await tx.markFailed(again?.id ?? -1, 'gone', null);
        const stats = await tx.outboxStats(at(0));
        expect(stats).toMatchObject({ pending: 1, waiting: 1, deadSince: 1 });
        await expect(tx.markWaiting(4242, 'x', at(1))).rejects.toThrow('outbox row 4242 does not exist');
      });
    });

    it('extends only the leases an owner still holds', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.enqueue([to('e1', 'alice', at(0)), to('e2', 'alice', at(0)), to('e3', 'bob', at(0))]);
        const rows = await tx.claimOutbox(at(0), 10, 'w1', at(1));
        const [e1, e2, e3] = rows;
        await tx.markSent(e2?.id ?? -1, at(0));
        // e3's lease ran out and w2 took it.
        expect((await tx.claimOutbox(at(2), 10, 'w2', at(3))).map((r) => r.key)).toEqual(['e1', 'e3']);
        expect(await tx.extendLeases([e1?.id ?? -1, e2?.id ?? -1, e3?.id ?? -1], 'w2', at(9))).toEqual([e1?.id, e3?.id]);
        expect(await tx.extendLeases([e1?.id ?? -1], 'w1', at(9))).toEqual([]);
        expect(await tx.claimOutbox(at(8), 10, 'w3', at(9))).toEqual([]);
        expect(await tx.extendLeases([], 'w2', at(9))).toEqual([]);
      });
    });

    it('retries a platform\'s backed-off deliveries now, and nothing else', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.enqueue([to('d1', 'alice', at(0), 'discord'), to('d2', 'bob', at(0), 'discord'), to('t1', 'alice', at(0), 'teams'), to('d3', 'carol', at(20), 'discord')]);
        const rows = await tx.claimOutbox(at(0), 10, 'w1', at(1));
        for (const r of rows) await tx.markFailed(r.id, 'HTTP 503', at(10));
        expect(await tx.retryNow('discord', at(2))).toBe(2);
        expect((await tx.claimOutbox(at(2), 10, 'w1', at(3))).map((r) => r.key)).toEqual(['d1', 'd2']);
      });
    });

    it('enqueueAll (for callers that need no count) enqueues as enqueue does, and its commit tells listeners', async () => {
      const s = await store();
      let woken = 0;
      const off = s.onEnqueued(() => {
        woken++;
      });
      const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
      await s.transaction(async (tx) => {
        await tx.enqueue([outboxRow('a', at(0))]);
        await tx.enqueueAll([outboxRow('a', at(0)), outboxRow('b', at(1)), outboxRow('c', at(9))]);
        await tx.enqueueAll([]);
        expect(await tx.outboxDepth()).toBe(3);
      });
      await settle();
      expect(woken).toBeGreaterThanOrEqual(1);
      const before = woken;
      await s.transaction((tx) => tx.enqueueAll([outboxRow('a', at(0))])); // nothing new
      await expect(s.transaction(async (tx) => {
        await tx.enqueueAll([outboxRow('d', at(0))]);
        throw new Error('roll back');
      })).rejects.toThrow('roll back');
      await settle();
      expect(woken).toBe(before);
      await s.transaction(async (tx) => {
        const claimed = await tx.claimOutbox(at(1), 10, 'w1', at(2));
        expect(claimed.map((r) => r.key)).toEqual(['a', 'b']);
        expect(claimed[1]).toMatchObject({ adapter: 'console', recipient: { kind: 'member', id: 'alice' }, message: msg('b'), attempts: 0 });
      });
      off();
    });

    it('tells listeners after a commit that enqueued, not after one that did not or rolled back', async () => {
      const s = await store();
      let woken = 0;
      const off = s.onEnqueued(() => {
        woken++;
      });
      const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
      await s.transaction((tx) => tx.outboxDepth());
      await s.transaction((tx) => tx.enqueue([outboxRow('w1', at(0))]));
      await settle();
      expect(woken).toBeGreaterThanOrEqual(1);
      const before = woken;
      await expect(s.transaction(async (tx) => {
        await tx.enqueue([outboxRow('w2', at(0))]);
        throw new Error('roll back');
      })).rejects.toThrow('roll back');
      await s.transaction((tx) => tx.enqueue([outboxRow('w1', at(0))]));
      await settle();
      expect(woken).toBe(before);
      off();
    });
  });

  describe('alert intake', () => {
    it('observes groups: created without incident, counts firings, points at an incident', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        const first = await tx.observeIntakeGroup('grafana', 'fp', at(0), true);
        expect(first).toMatchObject({ incidentId: null, incidentState: null, resolvedAt: null, count: 1 });
        expect(first.firstSeen.toMillis()).toBe(at(0).toMillis());
        const incident = await tx.insertIncident(newIncident({ state: 'open' }));
        await tx.setIntakeGroupIncident('grafana', 'fp', incident.id, at(1));
        const second = await tx.observeIntakeGroup('grafana', 'fp', at(2), true);
        expect(second).toMatchObject({ incidentId: incident.id, incidentState: 'open', count: 2 });
        expect(second.firstSeen.toMillis()).toBe(at(1).toMillis());
        expect(second.lastSeen.toMillis()).toBe(at(2).toMillis());
        // A resolved notification does not count and keeps last seen.
        const third = await tx.observeIntakeGroup('grafana', 'fp', at(3), false);
        expect(third.count).toBe(2);
        expect(third.lastSeen.toMillis()).toBe(at(2).toMillis());
        await tx.updateIncident({ ...incident, state: 'resolved', resolvedAt: at(4) });
        const fourth = await tx.observeIntakeGroup('grafana', 'fp', at(5), true);
        expect(fourth).toMatchObject({ incidentState: 'resolved' });
        expect(fourth.resolvedAt?.toMillis()).toBe(at(4).toMillis());
        const group = await tx.intakeGroupOf(incident.id);
        expect(group).toMatchObject({ integration: 'grafana', fingerprint: 'fp', count: 3 });
        expect(await tx.intakeGroupOf(999)).toBeNull();
        await expect(tx.setIntakeGroupIncident('grafana', 'nope', incident.id, at(1))).rejects.toThrow(/does not exist/);
      });
    });

    it('observes alerts and tells what they were before; finds known alerts in bulk; applies repeats', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        expect(await tx.observeIntakeAlert(alert('fp', 'a1', 'firing'), at(0))).toEqual({ previousStatus: null, previousStartsAt: null });
        expect(await tx.observeIntakeAlert(alert('fp', 'a1', 'firing', 's2'), at(1))).toEqual({ previousStatus: 'firing', previousStartsAt: 's1' });
        expect(await tx.observeIntakeAlert(alert('fp', 'a2', 'resolved', null), at(1))).toEqual({ previousStatus: null, previousStartsAt: null });
        expect(await tx.firingIntakeAlerts('grafana', 'fp')).toBe(1);
        await tx.observeIntakeGroup('grafana', 'fp', at(1), true);
        const incident = await tx.insertIncident(newIncident());
        await tx.setIntakeGroupIncident('grafana', 'fp', incident.id, at(1));
        const known = await tx.knownIntakeAlerts([
          { integration: 'grafana', fingerprint: 'fp', alertKey: 'a1' },
          { integration: 'grafana', fingerprint: 'fp', alertKey: 'zz' },
          { integration: 'grafana', fingerprint: 'other', alertKey: 'a1' },
          { integration: 'grafana', fingerprint: 'fp', alertKey: 'a2' },
        ]);
        expect(known).toEqual([
          { status: 'firing', startsAt: 's2', incidentId: incident.id },
          { status: null, startsAt: null, incidentId: incident.id },
          { status: null, startsAt: null, incidentId: null },
          { status: 'resolved', startsAt: null, incidentId: incident.id },
        ]);
        expect(await tx.knownIntakeAlerts([])).toEqual([]);
        await tx.recordIntakeRepeats(
          [
            { integration: 'grafana', fingerprint: 'fp', alertKey: 'a1', n: 3, startsAt: 's2' },
            { integration: 'grafana', fingerprint: 'fp', alertKey: 'a2', n: 5, startsAt: null }, // resolved: untouched
          ],
          [{ integration: 'grafana', fingerprint: 'fp', n: 3 }],
          at(9),
        );
        const group = await tx.intakeGroupOf(incident.id);
        expect(group?.count).toBe(4);
        expect(group?.lastSeen.toMillis()).toBe(at(9).toMillis());
        // The repeat set prev_* to the current values: a same-startsAt firing is "no change".
        expect(await tx.observeIntakeAlert(alert('fp', 'a1', 'firing', 's2'), at(10))).toEqual({ previousStatus: 'firing', previousStartsAt: 's2' });
        expect(await tx.observeIntakeAlert(alert('fp', 'a2', 'firing', null), at(10))).toEqual({ previousStatus: 'resolved', previousStartsAt: null });
        expect(await tx.firingIntakeAlerts('grafana', 'fp')).toBe(2);
      });
    });

    it('counts repeats in later transactions, before a new incident restarts the count, and not after a rollback', async () => {
      const s = await store();
      const key = { integration: 'grafana', fingerprint: 'fp', alertKey: 'a1' };
      const first = await s.transaction(async (tx) => {
        await tx.observeIntakeAlert(alert('fp', 'a1', 'firing'), at(0));
        await tx.observeIntakeGroup('grafana', 'fp', at(0), true);
        const incident = await tx.insertIncident(newIncident({ fingerprint: 'fp' }));
        await tx.setIntakeGroupIncident('grafana', 'fp', incident.id, at(0));
        return incident;
      });
      for (let minute = 1; minute <= 3; minute++) {
        await s.transaction(async (tx) => {
          expect(await tx.knownIntakeAlerts([key])).toEqual([{ status: 'firing', startsAt: 's1', incidentId: first.id }]);
          await tx.recordIntakeRepeats([{ ...key, n: 2, startsAt: 's1' }], [{ integration: 'grafana', fingerprint: 'fp', n: 2 }], at(minute));
        });
      }
      // A transaction that fails leaves nothing behind: neither its repeats nor its view of the alert.
      await expect(s.transaction(async (tx) => {
        await tx.recordIntakeRepeats([{ ...key, n: 50, startsAt: 's1' }], [{ integration: 'grafana', fingerprint: 'fp', n: 50 }], at(4));
        await tx.observeIntakeAlert(alert('fp', 'a1', 'resolved', 's1'), at(4));
        throw new Error('boom');
      })).rejects.toThrow('boom');
      await s.transaction(async (tx) => {
        expect(await tx.knownIntakeAlerts([key])).toEqual([{ status: 'firing', startsAt: 's1', incidentId: first.id }]);
        const group = await tx.intakeGroupOf(first.id);
        expect(group?.count).toBe(7);
        expect(group?.lastSeen.toMillis()).toBe(at(3).toMillis());
      });
      // Repeats logged just before the group moves to a new incident belong to the old one.
      const second = await s.transaction(async (tx) => {
        await tx.recordIntakeRepeats([{ ...key, n: 5, startsAt: 's1' }], [{ integration: 'grafana', fingerprint: 'fp', n: 5 }], at(5));
        expect(await tx.observeIntakeAlert(alert('fp', 'a1', 'firing', 's2'), at(6))).toEqual({ previousStatus: 'firing', previousStartsAt: 's1' });
        const incident = await tx.insertIncident(newIncident({ fingerprint: 'fp-2' }));
        await tx.setIntakeGroupIncident('grafana', 'fp', incident.id, at(6));
        return incident;
      });
      await s.transaction(async (tx) => {
        expect(await tx.knownIntakeAlerts([key])).toEqual([{ status: 'firing', startsAt: 's2', incidentId: second.id }]);
        expect((await tx.intakeGroupOf(second.id))?.count).toBe(1);
        // Repeats of the old firing (startsAt s1) no longer count for the alert's new firing.
        await tx.recordIntakeRepeats([{ ...key, n: 4, startsAt: 's1' }], [], at(7));
        expect(await tx.observeIntakeAlert(alert('fp', 'a1', 'firing', 's2'), at(8))).toEqual({ previousStatus: 'firing', previousStartsAt: 's2' });
      });
    });

    it('sees what another handle on the database changed, and the repeats it counted', async () => {
      const s = await store();
      const key = { integration: 'grafana', fingerprint: 'fp', alertKey: 'a1' };
      const incident = await s.transaction(async (tx) => {
        await tx.observeIntakeAlert(alert('fp', 'a1', 'firing'), at(0));
        await tx.observeIntakeGroup('grafana', 'fp', at(0), true);
        const created = await tx.insertIncident(newIncident({ fingerprint: 'fp' }));
        await tx.setIntakeGroupIncident('grafana', 'fp', created.id, at(0));
        return created;
      });
      expect(await s.transaction((tx) => tx.knownIntakeAlerts([key]))).toEqual([{ status: 'firing', startsAt: 's1', incidentId: incident.id }]);
      const other = await kit().another(s);
      await other.transaction(async (tx) => {
        await tx.recordIntakeRepeats([{ ...key, n: 3, startsAt: 's1' }], [{ integration: 'grafana', fingerprint: 'fp', n: 3 }], at(1));
      });
      await other.transaction(async (tx) => {
        await tx.observeIntakeAlert(alert('fp', 'a1', 'resolved'), at(2));
      });
      await s.transaction(async (tx) => {
        expect(await tx.knownIntakeAlerts([key])).toEqual([{ status: 'resolved', startsAt: 's1', incidentId: incident.id }]);
        expect((await tx.intakeGroupOf(incident.id))?.count).toBe(4);
      });
    });

    it('opens incidents for new fingerprints in bulk: group, incident, first events, alert; an existing group is left alone', async () => {
      const s = await store();
      const actor = { kind: 'guest' as const, adapter: 'integration', address: 'grafana', name: 'Grafana' };
      const row = (fp: string) => ({
        alert: alert(fp, `k-${fp}`, 'firing'),
        incident: newIncident({ fingerprint: fp, title: `Down ${fp}`, acknowledgedAt: null, updatedAt: at(0) }),
        events: [{ kind: 'reported', actor, data: { title: `Down ${fp}` } }, { kind: 'alert-firing', actor, data: { alert: `k-${fp}` } }, { kind: 'storm', actor: null, data: { storm: 1 } }],
      });
      // 'taken' has a group already (another writer opened it): that row changes nothing.
      const taken = await s.transaction(async (tx) => {
        await tx.observeIntakeGroup('grafana', 'taken', at(0), true);
        const incident = await tx.insertIncident(newIncident({ fingerprint: 'taken' }));
        await tx.setIntakeGroupIncident('grafana', 'taken', incident.id, at(0));
        return incident;
      });
      const opened = await s.transaction((tx) => tx.openIntakeIncidents([row('fp-a'), row('taken'), row('fp-b')], at(2)));
      expect(opened[1]).toBeNull();
      expect(opened[0]).toMatchObject({ fingerprint: 'fp-a', title: 'Down fp-a', state: 'open' });
      expect(opened[2]).toMatchObject({ fingerprint: 'fp-b', title: 'Down fp-b' });
      expect(opened[0]?.id).not.toBe(opened[2]?.id);
      expect(await s.transaction((tx) => tx.openIntakeIncidents([], at(2)))).toEqual([]);
      await s.transaction(async (tx) => {
        for (const incident of [opened[0], opened[2]]) {
          const id = incident?.id as number;
          expect(await tx.getIncident(id)).toMatchObject({ fingerprint: incident?.fingerprint, reporter: newIncident().reporter, policy: newIncident().policy });
          const events = await tx.timeline(id);
          expect(events.map((e) => [e.seq, e.kind, e.actor, e.data])).toEqual([
            [1, 'reported', actor, { title: incident?.title }],
            [2, 'alert-firing', actor, { alert: `k-${incident?.fingerprint}` }],
            [3, 'storm', null, { storm: 1 }],
          ]);
          expect(events[0]?.at.toMillis()).toBe(at(2).toMillis());
          expect((await tx.appendTimeline({ incidentId: id, at: at(3), kind: 'note', actor: null, data: {} })).seq).toBe(4);
          expect(await tx.intakeGroupOf(id)).toMatchObject({ integration: 'grafana', fingerprint: incident?.fingerprint, count: 1 });
        }
        expect(await tx.knownIntakeAlerts([{ integration: 'grafana', fingerprint: 'fp-a', alertKey: 'k-fp-a' }, { integration: 'grafana', fingerprint: 'taken', alertKey: 'k-taken' }]))
          .toEqual([{ status: 'firing', startsAt: 's1', incidentId: opened[0]?.id }, { status: null, startsAt: null, incidentId: taken.id }]);
        // The group counts on as observeIntakeGroup does; the alert row is the one observeIntakeAlert would have written.
        expect(await tx.observeIntakeGroup('grafana', 'fp-b', at(3), true)).toMatchObject({ incidentId: opened[2]?.id, incidentState: 'open', count: 2 });
        expect(await tx.observeIntakeAlert(alert('fp-b', 'k-fp-b', 'firing', 's2'), at(3))).toEqual({ previousStatus: 'firing', previousStartsAt: 's1' });
        expect(await tx.intakeGroupOf(taken.id)).toMatchObject({ fingerprint: 'taken', count: 1 });
        expect(await tx.listIncidents({})).toHaveLength(3);
      });
    });

    it('a bulk open whose rows cannot be stored fails whole: no group, incident or alert is left, and the store goes on', async () => {
      const s = await store();
      const actor = { kind: 'guest' as const, adapter: 'integration', address: 'grafana', name: 'Grafana' };
      const row = (fp: string, openedAt = at(0)) => ({
        alert: alert(fp, `k-${fp}`, 'firing'),
        incident: newIncident({ fingerprint: fp, openedAt }),
        events: [{ kind: 'reported', actor, data: {} }],
      });
      // The second row's instant is invalid: encoding the rows throws while the first statement of
      // the open is still running, and the transaction must roll back all of it.
      await expect(s.transaction((tx) => tx.openIntakeIncidents([row('fp-x'), row('fp-y', DateTime.invalid('broken clock'))], at(2))))
        .rejects.toThrow(RangeError);
      const keys = ['fp-x', 'fp-y'].map((fp) => ({ integration: 'grafana', fingerprint: fp, alertKey: `k-${fp}` }));
      expect(await s.transaction((tx) => tx.knownIntakeAlerts(keys))).toEqual([
        { status: null, startsAt: null, incidentId: null }, { status: null, startsAt: null, incidentId: null },
      ]);
      expect(await s.transaction((tx) => tx.listIncidents({}))).toEqual([]);
      const opened = await s.transaction((tx) => tx.openIntakeIncidents([row('fp-x'), row('fp-y')], at(3)));
      expect(opened.map((i) => i?.fingerprint)).toEqual(['fp-x', 'fp-y']);
    });

    it('counts incidents by source prefix since an instant', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.insertIncident(newIncident({ source: 'integration:grafana', openedAt: at(0) }));
        await tx.insertIncident(newIncident({ source: 'integration:am', openedAt: at(5) }));
        await tx.insertIncident(newIncident({ source: 'chat', openedAt: at(5) }));
        await tx.insertIncident(newIncident({ source: 'integration:x', openedAt: at(5), team: 'search' }));
        await tx.insertIncident(newIncident({ source: 'integration%', openedAt: at(5) }));
        expect(await tx.countIncidentsSince('payments', 'integration:', at(0))).toBe(2);
        expect(await tx.countIncidentsSince('payments', 'integration:', at(1))).toBe(1);
        expect(await tx.countIncidentsSince('payments', '', at(0))).toBe(4);
      });
    });

    it('keeps at most one active storm per team', async () => {
      const s = await store();
      const storm = { team: 'payments', member: 'alice', integration: 'grafana', startedAt: at(0), lastAt: at(0), incidents: 5, version: 1, endedAt: null, severity: 'sev3' as const };
      const first = await s.transaction(async (tx) => {
        expect(await tx.activeStorm('payments')).toBeNull();
        return tx.insertStorm(storm);
      });
      await expect(s.transaction((tx) => tx.insertStorm(storm))).rejects.toThrow(/UNIQUE|unique/);
      await s.transaction(async (tx) => {
        const active = await tx.activeStorm('payments');
        expect(active?.id).toBe(first.id);
        expect(active?.startedAt.toMillis()).toBe(at(0).toMillis());
        expect(active?.severity).toBe('sev3');
        await tx.updateStorm({ ...first, incidents: 6, version: 2, lastAt: at(1), endedAt: at(2), severity: 'sev1' });
        expect(await tx.activeStorm('payments')).toBeNull();
        expect(await tx.getStorm(first.id)).toMatchObject({ incidents: 6, version: 2, severity: 'sev1' });
        expect((await tx.getStorm(first.id))?.endedAt?.toMillis()).toBe(at(2).toMillis());
        expect(await tx.getStorm(999)).toBeNull();
        await expect(tx.updateStorm({ ...first, id: 999 })).rejects.toThrow('storm 999 does not exist');
        const next = await tx.insertStorm({ ...storm, startedAt: at(3), severity: null });
        expect(next.id).toBeGreaterThan(first.id);
        expect((await tx.getStorm(next.id))?.severity).toBeNull();
      });
    });

    it('opens one incident per fingerprint when many replicas see it first at once', async () => {
      const s = await store();
      const b = await kit().another(s);
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? s : b).transaction(async (tx) => {
        const group = await tx.observeIntakeGroup('grafana', 'race', at(0), true);
        if (group.incidentId !== null) return group.incidentId;
        const incident = await tx.insertIncident(newIncident({ fingerprint: 'race' }));
        await tx.setIntakeGroupIncident('grafana', 'race', incident.id, at(0));
        return incident.id;
      })));
      expect(new Set(ids).size).toBe(1);
      await expect(s.transaction((tx) => tx.listIncidents({}))).resolves.toHaveLength(1);
    });
  });

  describe('inbound events', () => {
    const reply = (text: string): Message => ({ kind: 'reply', headline: [text], lines: [[{ t: 'user', v: '<b>' }]], actions: [], mentions: [] });

    it('remembers the first reply of an event id, gives it back to a replay, and prunes old ids', async () => {
      const s = await store();
      expect(await s.transaction((tx) => tx.inboundReply('teams:1'))).toBeNull();
      expect(await s.transaction((tx) => tx.rememberInbound('teams:1', reply('Reported #1'), at(0)))).toBeNull();
      expect(await s.transaction((tx) => tx.rememberInbound('discord:1', reply('other platform'), at(30)))).toBeNull();
      expect(await s.transaction((tx) => tx.inboundReply('teams:1'))).toEqual(reply('Reported #1'));
      // A second handling of the same id learns the first reply (and must roll back its own work).
      expect(await s.transaction((tx) => tx.rememberInbound('teams:1', reply('Reported #2'), at(1)))).toEqual(reply('Reported #1'));
      expect(await s.transaction((tx) => tx.inboundReply('TEAMS:1'))).toBeNull();
      expect(await s.transaction((tx) => tx.pruneInbound(at(10)))).toBe(1);
      expect(await s.transaction((tx) => tx.inboundReply('teams:1'))).toBeNull();
      expect(await s.transaction((tx) => tx.inboundReply('discord:1'))).toEqual(reply('other platform'));
    });

    it('lets exactly one of many replicas handling the same event at once commit its work', async () => {
      const s = await store();
      const b = await kit().another(s);
      class Replay extends Error {}
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? s : b).transaction(async (tx) => {
        if (await tx.inboundReply('teams:race')) return 'replay';
        const incident = await tx.insertIncident(newIncident({ fingerprint: null, title: `try ${i}` }));
        const first = await tx.rememberInbound('teams:race', reply(`Reported #${incident.id}`), at(0));
        if (first) throw new Replay();
        return 'handled';
      }).catch((err: unknown) => {
        if (err instanceof Replay) return 'rolled back';
        throw err;
      })));
      expect(outcomes.filter((o) => o === 'handled')).toHaveLength(1);
      const incidents = await s.transaction((tx) => tx.listIncidents({}));
      expect(incidents).toHaveLength(1);
      expect(await s.transaction((tx) => tx.inboundReply('teams:race'))).toEqual(reply(`Reported #${incidents[0]!.id}`));
    });
  });

  describe('kv', () => {
    it('stores JSON values per namespace and deletes on undefined', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.kvSet('a', 'k', { v: 1 });
        await tx.kvSet('b', 'k', 'text');
        await tx.kvSet('a', 'k', { v: 2 });
        await tx.kvSet('a', 'nil', null);
        await tx.kvSet('a', 'list', [1, 'two', { three: 3.5 }]);
        expect(await tx.kvGet('a', 'k')).toEqual({ v: 2 });
        expect(await tx.kvGet('b', 'k')).toBe('text');
        expect(await tx.kvGet('a', 'nil')).toBeNull();
        expect(await tx.kvGet('a', 'list')).toEqual([1, 'two', { three: 3.5 }]);
        expect(await tx.kvGet('a', 'missing')).toBeUndefined();
        await tx.kvSet('a', 'k', undefined);
        expect(await tx.kvGet('a', 'k')).toBeUndefined();
        await expect(tx.kvSet('a', 'f', () => 1)).rejects.toThrow(TypeError);
      });
    });

    it('peeks the same values as it gets: a JSON null is null, an absent key (even one a get read before) undefined', async () => {
      const s = await store();
      await s.transaction(async (tx) => {
        await tx.kvSet('a', 'k', { v: 2 });
        await tx.kvSet('a', 'nil', null);
        expect(await tx.kvGet('a', 'read-before')).toBeUndefined();
      });
      await s.transaction(async (tx) => {
        expect(await tx.kvPeek('a', 'k')).toEqual({ v: 2 });
        expect(await tx.kvPeek('a', 'nil')).toBeNull();
        expect(await tx.kvPeek('a', 'read-before')).toBeUndefined();
        expect(await tx.kvPeek('a', 'missing')).toBeUndefined();
      });
    });
  });

  describe('leader leases', () => {
    it('gives a lease to one owner until it expires or is released', async () => {
      const s = await store();
      const b = await kit().another(s);
      expect(await s.transaction((tx) => tx.tryLease('gw', 'r1', at(0), at(1)))).toBe(true);
      expect(await b.transaction((tx) => tx.tryLease('gw', 'r2', at(0), at(1)))).toBe(false);
      expect(await s.transaction((tx) => tx.tryLease('gw', 'r1', at(0.5), at(1.5)))).toBe(true); // renewal
      expect(await b.transaction((tx) => tx.tryLease('gw', 'r2', at(1.5), at(2)))).toBe(false); // not expired yet at its end
      expect(await b.transaction((tx) => tx.tryLease('other', 'r2', at(0), at(1)))).toBe(true);
      expect(await b.transaction((tx) => tx.tryLease('gw', 'r2', at(1.5).plus({ milliseconds: 1 }), at(3)))).toBe(true);
      expect(await s.transaction((tx) => tx.tryLease('gw', 'r1', at(2), at(3)))).toBe(false);
      expect(await s.transaction((tx) => tx.releaseLease('gw', 'r1'))).toBe(false);
      expect(await b.transaction((tx) => tx.releaseLease('gw', 'r2'))).toBe(true);
      expect(await s.transaction((tx) => tx.tryLease('gw', 'r1', at(2), at(3)))).toBe(true);
      await expect(s.transaction((tx) => tx.tryLease('gw', 'r1', at(2), at(2)))).rejects.toThrow(RangeError);
    });

    it('gives a free lease to exactly one of many concurrent takers', async () => {
      const s = await store();
      const b = await kit().another(s);
      const got = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? s : b).transaction((tx) => tx.tryLease('gw', `r${i}`, at(0), at(1)))));
      expect(got.filter(Boolean)).toHaveLength(1);
    });
  });
}
