/**
 * The database itself refuses a second settlement of one parking session or
 * of one exit event (the UNIQUE constraints of `settlements`, both
 * backends): the last guard against charging a stay twice, whatever the
 * code above it does. The refused insert changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParkingSession, Repositories, Settlement } from '../../cloud/storage/repositories.js';
import { T0, TEST_BACKEND, openTestStore, tariff } from './cloud-harness.js';

/** what each backend says when a UNIQUE constraint refuses a row */
const UNIQUE_VIOLATION = TEST_BACKEND === 'sqlite' ? 'SQLITE_CONSTRAINT_UNIQUE' : '23505';

async function lotWithTwoSessions(r: Repositories): Promise<void> {
  await r.lots.insertLot({ id: 'lot-u', name: 'lot-u', tariff, createdAt: T0 });
  await r.lots.insertLane({ id: 'lane-u', lotId: 'lot-u', name: 'in', direction: 'entry', createdAt: T0 });
  for (const [id, plate] of [
    ['ses-1', 'UNQ1111'],
    ['ses-2', 'UNQ2222'],
  ]) {
    const session: ParkingSession = {
      id,
      lotId: 'lot-u',
      plate,
      entryEventId: `in-${id}`,
      entryLaneId: 'lane-u',
      entryAt: T0,
      entryConfidence: 0.95,
      status: 'open',
      exitEventId: null,
      exitAt: null,
      fee: null,
      paidAt: null,
      passbackFlag: false,
    };
    await r.sessions.insert(session);
  }
}

const settlement = (id: string, sessionId: string, exitEventId: string): Settlement => ({
  id,
  exitEventId,
  sessionId,
  lotId: 'lot-u',
  accountId: null,
  driverId: null,
  amount: 0,
  currency: 'CNY',
  entryAt: T0,
  exitAt: T0 + 60_000,
  method: 'waived',
  journalEntryId: null,
  createdAt: T0 + 60_000,
});

describe(`settlements in the database (${TEST_BACKEND})`, () => {
  it('refuses a second settlement of the same session, or of the same exit event, and keeps the first', async () => {
    const store = await openTestStore();
    try {
      await store.transaction(async (r) => {
        await lotWithTwoSessions(r);
        await r.settlements.insert(settlement('stl-1', 'ses-1', 'out-1'));
      });
      const refused = (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, UNIQUE_VIOLATION, String(err));
        return true;
      };
      await assert.rejects(
        store.transaction((r) => r.settlements.insert(settlement('stl-2', 'ses-1', 'out-2'))),
        refused,
        'a second settlement of session ses-1 (another exit event)',
      );
      await assert.rejects(
        store.transaction((r) => r.settlements.insert(settlement('stl-3', 'ses-2', 'out-1'))),
        refused,
        'a second settlement of exit event out-1 (another session)',
      );
      await store.transaction(async (r) => {
        assert.equal((await r.settlements.byExitEvent('out-1'))?.id, 'stl-1');
        assert.equal(await r.settlements.byExitEvent('out-2'), null);
        assert.equal(await r.settlements.byId('stl-2'), null);
        assert.equal(await r.settlements.byId('stl-3'), null);
      });
      // the constraints refuse only the duplicate: another session with another exit event settles
      await store.transaction((r) => r.settlements.insert(settlement('stl-4', 'ses-2', 'out-4')));
      assert.equal((await store.transaction((r) => r.settlements.byExitEvent('out-4')))?.sessionId, 'ses-2');
    } finally {
      await store.close();
    }
  });
});
