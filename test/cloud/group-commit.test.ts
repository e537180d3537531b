/**
 * Group commit in SqliteStore, on a real SQLite file: the transactions
 * queued together commit in one SQLite transaction, each in its own
 * savepoint. A failing unit rolls back only itself; a failing BEGIN
 * rejects every unit of its batch; after a failing COMMIT the batch's units
 * run again alone and only the refused one fails; a unit's
 * writes are visible to other connections only once its promise resolves;
 * a unit's awaits never let another unit's statements in. No timing
 * assertions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { SqliteStore } from '../../cloud/storage/sqlite/sqlite-store.js';
import type { SqliteStoreOptions } from '../../cloud/storage/sqlite/sqlite-store.js';
import type { Driver, Lot, ParkingSession, Repositories } from '../../cloud/storage/repositories.js';
import { hourlyTariff, sqliteOnly } from './cloud-harness.js';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'platepay-group-commit-'));
  dirs.push(dir);
  return join(dir, 'store.db');
}

const driver = (i: number | string): Driver => ({
  id: `drv_${String(i)}`,
  email: `d${String(i)}@example.com`,
  name: `driver ${String(i)}`,
  passwordHash: 'x',
  createdAt: 1,
});

const lot = (id: string, name: string): Lot => ({ id, name, tariff: hourlyTariff, createdAt: 1 });

/** Another connection's view: only committed rows. */
class Reader {
  private readonly db: Database.Database;
  constructor(path: string) {
    this.db = new Database(path, { readonly: true });
  }
  drivers(): string[] {
    return (this.db.prepare('SELECT id FROM drivers ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  }
  has(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM drivers WHERE id = ?').get(id) !== undefined;
  }
  lotNames(): string[] {
    return (this.db.prepare('SELECT name FROM lots ORDER BY rowid').all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
  }
  close(): void {
    this.db.close();
  }
}

const open = (path: string, options: SqliteStoreOptions = {}) => SqliteStore.open(path, options);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('group commit', { skip: sqliteOnly("SqliteStore's group commit") }, () => {
  it('commits many concurrent units, in batches of at most maxBatch, one COMMIT per batch', async () => {
    const path = tempDb();
    const store = open(path);
    const results = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        store.transaction(async (repos) => {
          await repos.drivers.insert(driver(i));
          return i;
        }),
      ),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 600 }, (_, i) => i),
    );
    const stats = store.commitStats();
    assert.equal(stats.units, 600);
    assert.equal(stats.failedUnits, 0);
    assert.equal(stats.largestBatch, 256);
    assert.equal(stats.commits, 3); // 256 + 256 + 88, all queued in the same tick
    await store.close();
    // durable: a fresh connection on the file sees them all
    const reader = new Reader(path);
    assert.equal(reader.drivers().length, 600);
    reader.close();
  });

  it('with groupCommit off, gives each unit its own transaction', async () => {
    const path = tempDb();
    const store = open(path, { groupCommit: false });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.transaction((r) => r.drivers.insert(driver(i)))));
    assert.deepEqual(
      [store.commitStats().commits, store.commitStats().largestBatch, store.commitStats().units],
      [20, 1, 20],
    );
    await store.close();
  });

  it('rolls back only the unit that fails; the rest of its batch commits', async () => {
    const path = tempDb();
    const store = open(path);
    const boom = new Error('unit failed on purpose');
    const outcomes = await Promise.allSettled([
      store.transaction((r) => r.drivers.insert(driver('a'))),
      store.transaction(async (r) => {
        await r.drivers.insert(driver('b'));
        throw boom;
      }),
      store.transaction((r) => r.drivers.insert(driver('c'))),
      // same primary key as 'a': a constraint error from SQLite itself
      store.transaction(async (r) => {
        await r.drivers.insert(driver('d'));
        await r.drivers.insert({ ...driver('a'), email: 'other@example.com' });
      }),
      store.transaction((r) => r.drivers.insert(driver('e'))),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((outcomes[1] as PromiseRejectedResult).reason, boom);
    assert.match(String((outcomes[3] as PromiseRejectedResult).reason), /UNIQUE|PRIMARY KEY|constraint/i);
    assert.equal(store.commitStats().commits, 1);
    const reader = new Reader(path);
    assert.deepEqual(reader.drivers(), ['drv_a', 'drv_c', 'drv_e']);
    reader.close();
    await store.close();
  });

  it("makes a unit's writes visible to other connections only once its promise resolves", async () => {
    const path = tempDb();
    const store = open(path);
    const reader = new Reader(path);
    const seenInside: number[] = [];
    const checks: Array<Promise<void>> = [];
    for (let i = 0; i < 50; i++) {
      const p = store.transaction(async (r) => {
        // units before this one in the batch have run, but nothing is committed yet
        seenInside.push(reader.drivers().length);
        await r.drivers.insert(driver(i));
        await tick(); // a real await inside the unit
        seenInside.push(reader.drivers().length);
      });
      checks.push(p.then(() => assert.ok(reader.has(`drv_${i}`), `driver ${i} visible after resolve`)));
    }
    await Promise.all(checks);
    assert.deepEqual(new Set(seenInside), new Set([0]));
    assert.equal(reader.drivers().length, 50);
    reader.close();
    await store.close();
  });

  it('runs the units of a batch whose COMMIT fails again one by one: only the unit the database refuses fails', async () => {
    const path = tempDb();
    const store = open(path);
    await store.transaction((r) => r.drivers.insert(driver('before')));
    // a deferred foreign key that a "poison" driver violates: the statement succeeds, COMMIT fails
    const other = new Database(path);
    other.exec(`CREATE TABLE poison (driver_id TEXT REFERENCES drivers(id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER poison_driver AFTER INSERT ON drivers WHEN NEW.name = 'poison'
      BEGIN INSERT INTO poison VALUES ('drv_nobody'); END;`);
    other.close();
    const outcomes = await Promise.allSettled([
      store.transaction((r) => r.drivers.insert(driver(1))),
      store.transaction((r) => r.drivers.insert({ ...driver(2), name: 'poison' })),
      store.transaction(async (r) => {
        await r.drivers.insert(driver(3));
        return 'three';
      }),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /FOREIGN KEY/i);
    assert.equal((outcomes[2] as PromiseFulfilledResult<string>).value, 'three');
    const reader = new Reader(path);
    assert.deepEqual(reader.drivers(), ['drv_1', 'drv_3', 'drv_before'], 'each kept once, the poison not at all');
    // the store goes on: the next batch commits
    await store.transaction((r) => r.drivers.insert(driver(4)));
    assert.deepEqual(reader.drivers(), ['drv_1', 'drv_3', 'drv_4', 'drv_before']);
    const stats = store.commitStats();
    assert.equal(stats.failedBatches, 2, 'the batch of three, then the poison alone');
    assert.equal(stats.failedUnits, 1);
    reader.close();
    await store.close();
  });

  it('rejects every unit of a batch whose BEGIN fails (the write lock is held elsewhere)', async () => {
    const path = tempDb();
    const store = open(path, { busyTimeoutMs: 20 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const outcomes = await Promise.allSettled([
      store.transaction((r) => r.drivers.insert(driver(1))),
      store.transaction((r) => r.drivers.insert(driver(2))),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
    for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /locked|busy/i);
    other.exec('ROLLBACK');
    other.close();
    await store.transaction((r) => r.drivers.insert(driver(3)));
    const reader = new Reader(path);
    assert.deepEqual(reader.drivers(), ['drv_3']);
    reader.close();
    await store.close();
  });

  it('runs exclusive() work as a unit of a batch', async () => {
    const path = tempDb();
    const store = open(path);
    const order: string[] = [];
    await Promise.all([
      store.transaction(async (r) => {
        await r.drivers.insert(driver(1));
        order.push('t1');
      }),
      store.exclusive(() => order.push('x')),
      store.transaction(async () => {
        order.push('t2');
      }),
    ]);
    assert.deepEqual(order, ['t1', 'x', 't2']);
    assert.equal(store.commitStats().commits, 1);
    await store.close();
  });

  it('rejects transactions after close', async () => {
    const store = open(tempDb());
    await store.close();
    await assert.rejects(
      store.transaction(async () => 1),
      /closed/,
    );
  });

  it("property: a lot's unclosed sessions read through the store always match the database", async () => {
    // the store keeps a copy of them; units that roll back and another connection's writes must show
    type SessionOp =
      | { kind: 'enter'; lot: number; entryAt: number; fails: boolean }
      | { kind: 'set'; pick: number; status: ParkingSession['status']; fails: boolean }
      | { kind: 'outside'; pick: number }
      | { kind: 'read'; lot: number };
    const sessionOp: fc.Arbitrary<SessionOp> = fc.oneof(
      fc.record({
        kind: fc.constant('enter' as const),
        lot: fc.integer({ min: 0, max: 1 }),
        entryAt: fc.integer({ min: 0, max: 3 }),
        fails: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('set' as const),
        pick: fc.nat(),
        status: fc.constantFrom<ParkingSession['status']>('open', 'awaiting_payment', 'paid', 'closed'),
        fails: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('outside' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('read' as const), lot: fc.integer({ min: 0, max: 1 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(sessionOp, { minLength: 1, maxLength: 30 }), fc.boolean(), async (ops, groupCommit) => {
        const path = tempDb();
        const store = open(path, { groupCommit });
        const lots = ['lot_a', 'lot_b'];
        await store.transaction(async (r) => {
          for (const id of lots) {
            await r.lots.insertLot(lot(id, id));
            await r.lots.insertLane({ id: `lan_${id}`, lotId: id, name: 'in', direction: 'entry', createdAt: 1 });
          }
        });
        const outside = new Database(path);
        const fromDb = (lotId: string) =>
          (
            outside
              .prepare(
                "SELECT id, status FROM parking_sessions WHERE lot_id = ? AND status != 'closed' ORDER BY entry_at, id",
              )
              .all(lotId) as Array<{ id: string; status: string }>
          ).map((r) => `${r.id}:${r.status}`);
        const viaStore = (lotId: string) =>
          store.transaction(async (r) => (await r.sessions.unclosedInLot(lotId)).map((x) => `${x.id}:${x.status}`));
        const ids: string[] = [];
        let n = 0;
        // the units of each op are queued together, so several share a batch
        const pending: Array<Promise<unknown>> = [];
        for (const o of ops) {
          if (o.kind === 'enter') {
            const id = `ses_${String(++n).padStart(3, '0')}`;
            const lotId = lots[o.lot]!;
            pending.push(
              store
                .transaction(async (r) => {
                  await r.sessions.unclosedInLot(lotId); // hold the lot's sessions before the write
                  await r.sessions.insert({
                    id,
                    lotId,
                    plate: `P${n}`,
                    entryEventId: `ev-${id}`,
                    entryLaneId: `lan_${lotId}`,
                    entryAt: o.entryAt,
                    entryConfidence: 0.99,
                    status: 'open',
                    exitEventId: null,
                    exitAt: null,
                    fee: null,
                    paidAt: null,
                    passbackFlag: false,
                  });
                  if (o.fails) throw new Error('rolled back');
                })
                .then(() => ids.push(id))
                .catch(() => undefined),
            );
          } else if (o.kind === 'set' && ids.length > 0) {
            const id = ids[o.pick % ids.length]!;
            pending.push(
              store
                .transaction(async (r) => {
                  const s = await r.sessions.byId(id);
                  await r.sessions.unclosedInLot(s!.lotId);
                  await r.sessions.update({ ...s!, status: o.status });
                  if (o.fails) throw new Error('rolled back');
                })
                .catch(() => undefined),
            );
          } else if (o.kind === 'outside' && ids.length > 0) {
            await Promise.all(pending.splice(0));
            // another connection closes or reopens a session behind the store's back
            outside
              .prepare(
                "UPDATE parking_sessions SET status = CASE status WHEN 'closed' THEN 'open' ELSE 'closed' END WHERE id = ?",
              )
              .run(ids[o.pick % ids.length]!);
          } else if (o.kind === 'read') {
            await Promise.all(pending.splice(0));
            const lotId = lots[o.lot]!;
            assert.deepEqual(await viaStore(lotId), fromDb(lotId));
          }
        }
        await Promise.all(pending);
        for (const lotId of lots) assert.deepEqual(await viaStore(lotId), fromDb(lotId));
        outside.close();
        await store.close();
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('property: same outcomes with and without group commit; units never interleave', async () => {
    type Op = { kind: 'ok' | 'throw' | 'dup'; awaits: number };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('ok', 'ok', 'ok', 'throw', 'dup'),
      awaits: fc.integer({ min: 0, max: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        async (ops, groupCommit, maxBatch, waves) => {
          const path = tempDb();
          const store = open(path, { groupCommit, maxBatch });
          await store.transaction((r) => r.lots.insertLot(lot('lot_seed', 'seed')));
          // each unit reads how many lots there are, awaits, then writes the next number: a lost
          // update or an interleaving would show as a repeated or missing number
          const unit = (o: Op, i: number) => async (r: Repositories) => {
            const n = (await r.lots.lots()).length;
            for (let k = 0; k < o.awaits; k++) await tick();
            await r.lots.insertLot(lot(o.kind === 'dup' ? 'lot_seed' : `lot_${i}`, `n${n}`));
            if (o.kind === 'throw') throw new Error(`unit ${i} throws`);
            return n;
          };
          // queue the units in a few waves, so that some batches start while others are queued
          const promises: Array<Promise<PromiseSettledResult<number>>> = [];
          const settle = (p: Promise<number>) =>
            p.then(
              (value): PromiseSettledResult<number> => ({ status: 'fulfilled', value }),
              (reason: unknown): PromiseSettledResult<number> => ({ status: 'rejected', reason }),
            );
          const perWave = Math.ceil(ops.length / waves);
          for (let w = 0; w * perWave < ops.length; w++) {
            ops.slice(w * perWave, (w + 1) * perWave).forEach((o, j) => {
              promises.push(settle(store.transaction(unit(o, w * perWave + j))));
            });
            await tick();
          }
          const outcomes = await Promise.all(promises);
          const committed = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
          assert.deepEqual(
            committed,
            ops.flatMap((o, i) => (o.kind === 'ok' ? [i] : [])),
          );
          // queue order: the k-th committed unit saw the seed plus k earlier ones
          assert.deepEqual(
            committed.map((i) => (outcomes[i] as PromiseFulfilledResult<number>).value),
            committed.map((_, k) => k + 1),
          );
          const stats = store.commitStats();
          assert.ok(stats.largestBatch <= (groupCommit ? maxBatch : 1));
          await store.close();
          const reader = new Reader(path);
          assert.deepEqual(reader.lotNames(), ['seed', ...committed.map((_, k) => `n${k + 1}`)]);
          reader.close();
        },
      ),
      { numRuns: 40, seed: 20261129 },
    );
  });
});
