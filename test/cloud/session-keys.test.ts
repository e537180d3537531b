/**
 * The candidate keys in the database (migration 6, both backends): an exit
 * finds the sessions that can fit its read by key, the keys go when a
 * session closes, and matching over what the keys find equals matching over
 * the whole lot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readKeys } from '../../cloud/sessions/plate-keys.js';
import { matchExit, plateDistanceKind } from '../../cloud/sessions/plate-matching.js';
import type { ParkingSession, Repositories } from '../../cloud/storage/repositories.js';
import { T0, TEST_BACKEND, openTestStore, sqliteOnly, tariff } from './cloud-harness.js';
import { SqliteStore } from '../../cloud/storage/sqlite/sqlite-store.js';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function lotWithLane(r: Repositories, lotId: string): Promise<string> {
  await r.lots.insertLot({ id: lotId, name: lotId, tariff, createdAt: T0 });
  const laneId = `${lotId}-in`;
  await r.lots.insertLane({ id: laneId, lotId, name: 'in', direction: 'entry', createdAt: T0 });
  return laneId;
}

function session(id: string, lotId: string, laneId: string, plate: string, at: number): ParkingSession {
  return {
    id,
    lotId,
    plate,
    entryEventId: `ev-${id}`,
    entryLaneId: laneId,
    entryAt: at,
    entryConfidence: 0.95,
    status: 'open',
    exitEventId: null,
    exitAt: null,
    fee: null,
    paidAt: null,
    passbackFlag: false,
  };
}

describe(`candidate keys in the database (${TEST_BACKEND})`, () => {
  it('finds the sessions that fit a read, in its own lot only, and forgets a session when it closes', async () => {
    const store = await openTestStore();
    try {
      await store.transaction(async (r) => {
        const a = await lotWithLane(r, 'lot-a');
        const b = await lotWithLane(r, 'lot-b');
        await r.sessions.insert(session('s1', 'lot-a', a, '4BO4979', T0));
        await r.sessions.insert(session('s2', 'lot-a', a, '4B04979', T0 + 1));
        await r.sessions.insert(session('s3', 'lot-a', a, 'XYZ123', T0 + 2));
        await r.sessions.insert(session('s4', 'lot-b', b, '4BO4979', T0 + 3));
        await r.sessions.insert(session('s5', 'lot-a', a, 'P6028149', T0 + 4));
      });
      const found = (lot: string, read: string) =>
        store.transaction(async (r) => (await r.sessions.unclosedByKeys(lot, readKeys(read))).map((s) => s.id));
      assert.deepEqual(await found('lot-a', '4B04979'), ['s1', 's2']);
      assert.deepEqual(await found('lot-b', '4B04979'), ['s4']);
      assert.deepEqual(await found('lot-a', 'P602849'), ['s5']); // one character missing
      assert.deepEqual(await found('lot-a', 'QQQ999'), []);
      assert.deepEqual(
        await store.transaction(async (r) => (await r.sessions.unclosedOfPlate('lot-a', '4BO4979')).map((s) => s.id)),
        ['s1'],
      );
      await store.transaction(async (r) => {
        const s1 = (await r.sessions.byId('s1'))!;
        await r.sessions.update({ ...s1, status: 'awaiting_payment' });
      });
      assert.deepEqual(await found('lot-a', '4B04979'), ['s1', 's2'], 'awaiting payment is still unclosed');
      await store.transaction(async (r) => {
        const s1 = (await r.sessions.byId('s1'))!;
        await r.sessions.update({ ...s1, status: 'closed', exitAt: T0 + 10 });
      });
      assert.deepEqual(await found('lot-a', '4B04979'), ['s2']);
      assert.deepEqual(await store.transaction(async (r) => r.sessions.unclosedOfPlate('lot-a', '4BO4979')), []);
    } finally {
      await store.close();
    }
  });

  it('matching over the sessions the keys find equals matching over the whole lot (property)', async () => {
    const store = await openTestStore();
    try {
      const lane = await store.transaction((r) => lotWithLane(r, 'lot-p'));
      // a lot dense in look-alikes and near plates
      const plates = fc.sample(
        fc.uniqueArray(
          fc.array(fc.constantFrom(...'0O8B1I5SA7'), { minLength: 3, maxLength: 5 }).map((c) => c.join('')),
          { minLength: 60, maxLength: 60 },
        ),
        { numRuns: 1, seed: 11 },
      )[0]!;
      await store.transaction(async (r) => {
        for (const [i, plate] of plates.entries())
          await r.sessions.insert(session(`p${i}`, 'lot-p', lane, plate, T0 + i));
      });
      const reads = fc.sample(
        fc.array(fc.constantFrom(...'0O8B1I5SA7'), { minLength: 2, maxLength: 6 }).map((c) => c.join('')),
        { numRuns: 150, seed: 12 },
      );
      const all = await store.transaction((r) => r.sessions.unclosedInLot('lot-p'));
      for (const read of reads) {
        const found = await store.transaction((r) => r.sessions.unclosedByKeys('lot-p', readKeys(read)));
        const fitting = all.filter((s) => plateDistanceKind(read, s.plate) !== null).map((s) => s.id);
        for (const id of fitting)
          assert.ok(
            found.some((s) => s.id === id),
            `${read}: ${id} not found by key`,
          );
        for (const confidence of [0.3, 0.95]) {
          const ref = (list: ParkingSession[]) => list.map((s) => ({ id: s.id, plate: s.plate }));
          assert.deepEqual(
            matchExit({ plate: read, confidence }, ref(found)),
            matchExit({ plate: read, confidence }, ref(all)),
          );
        }
      }
    } finally {
      await store.close();
    }
  });
});

describe(
  'candidate keys of sessions left open by an older version',
  { skip: sqliteOnly('reopening one SQLite file') },
  () => {
    it('are filed when the store opens, so those cars still match at the exit', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'platepay-keys-'));
      const file = join(dir, 'cloud.db');
      try {
        let store = SqliteStore.open(file);
        await store.transaction(async (r) => {
          const lane = await lotWithLane(r, 'lot-o');
          await r.sessions.insert(session('o1', 'lot-o', lane, '皖A12345', T0));
        });
        await store.close();
        // as a database migrated before version 6 holds it: the session, and no keys
        const raw = new Database(file);
        raw.prepare('DELETE FROM session_keys').run();
        raw.close();
        store = SqliteStore.open(file);
        try {
          const found = await store.transaction((r) => r.sessions.unclosedByKeys('lot-o', readKeys('A12345')));
          assert.deepEqual(
            found.map((s) => s.id),
            ['o1'],
          );
        } finally {
          await store.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
