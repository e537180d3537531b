/**
 * Writes sent together (cloud/storage/postgres/pg-statements.ts): how held
 * writes are joined into one statement, and, through a store of the
 * backend under test, that a transaction reads its own writes and that a
 * write refused by the database fails its transaction with nothing kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { TransactionStatements, joinWrites } from '../../cloud/storage/postgres/pg-statements.js';
import {
  T0,
  TEST_BACKEND,
  TEST_POSTGRES,
  createTestDatabase,
  dropTestDatabase,
  openTestStore,
  tariff,
} from './cloud-harness.js';

describe('joining held writes', () => {
  it('leaves one write as it is', () => {
    const w = { sql: 'UPDATE gates SET last_counter = $1 WHERE id = $2', params: [3, 'g'] };
    assert.deepEqual(joinWrites([w]), w);
  });

  it('makes each write a CTE and numbers its placeholders on from the ones before', () => {
    const joined = joinWrites([
      { sql: 'INSERT INTO a (x, y) VALUES ($1, $2)', params: [1, 2] },
      { sql: 'UPDATE b SET x = $1 WHERE id = $2', params: ['u', 'v'] },
      { sql: 'DELETE FROM c WHERE id = $1 AND k = ANY($2::text[])', params: ['d', ['k']] },
    ]);
    assert.equal(
      joined.sql,
      'WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2)), w1 AS (UPDATE b SET x = $3 WHERE id = $4), ' +
        'w2 AS (DELETE FROM c WHERE id = $5 AND k = ANY($6::text[])) SELECT 1',
    );
    assert.deepEqual(joined.params, [1, 2, 'u', 'v', 'd', ['k']]);
  });

  it('numbers $10 and above whole', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `$${i + 1}`).join(', ');
    const joined = joinWrites([
      { sql: `INSERT INTO a VALUES (${ten})`, params: Array.from({ length: 10 }, (_, i) => i) },
      { sql: 'INSERT INTO b VALUES ($1)', params: ['x'] },
    ]);
    assert.match(joined.sql, /\$10\)\), w1 AS \(INSERT INTO b VALUES \(\$11\)\)/);
  });
});

describe(`a transaction's held writes (${TEST_BACKEND})`, () => {
  it('are seen by its own reads, and a refused one fails the transaction with nothing kept', async () => {
    const store = await openTestStore();
    try {
      const lot = { id: 'lot-w', name: 'Writes P1', tariff, createdAt: T0 };
      const seen = await store.transaction(async (r) => {
        await r.lots.insertLot(lot);
        await r.lots.insertLane({ id: 'lane-w', lotId: 'lot-w', name: 'in', direction: 'entry', createdAt: T0 });
        return { lot: await r.lots.lotById('lot-w'), lanes: await r.lots.lanesOf('lot-w') };
      });
      assert.equal(seen.lot?.name, 'Writes P1');
      assert.deepEqual(
        seen.lanes.map((l) => l.id),
        ['lane-w'],
      );
      // a second lot with the same id is refused by the database; the lane written before it goes too
      await assert.rejects(
        store.transaction(async (r) => {
          await r.lots.insertLane({ id: 'lane-x', lotId: 'lot-w', name: 'out', direction: 'exit', createdAt: T0 });
          await r.lots.insertLot({ ...lot, name: 'Again' });
        }),
      );
      const after = await store.transaction(async (r) => ({
        lot: await r.lots.lotById('lot-w'),
        lanes: await r.lots.lanesOf('lot-w'),
      }));
      assert.equal(after.lot?.name, 'Writes P1');
      assert.deepEqual(
        after.lanes.map((l) => l.id),
        ['lane-w'],
      );
    } finally {
      await store.close();
    }
  });
});

describe(
  'which held writes go together (PostgreSQL)',
  { skip: TEST_POSTGRES ? false : 'needs PLATEPAY_TEST_DATABASE' },
  () => {
    it('joins inserts, sends a write to a table an update of it came before apart, and one that reads a table after the rest', async () => {
      const url = await createTestDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY, v INT)');
        await client.query('BEGIN');
        const s = new TransactionStatements(client as unknown as pg.PoolClient);
        await s.write('INSERT INTO a (id, v) VALUES ($1, $2)', [1, 10]);
        await s.write('INSERT INTO a (id, v) VALUES ($1, $2)', [2, 20]);
        await s.write('INSERT INTO b (id, v) VALUES ($1, $2)', [1, 0]);
        assert.equal(s.roundTrips, 0, 'nothing sent before a read');
        await s.write('UPDATE a SET v = v + 1 WHERE id = $1', [1]); // a has held inserts: they go first
        assert.equal(s.roundTrips, 1);
        await s.write('INSERT INTO b (id, v) SELECT 2, SUM(v)::int FROM a', []); // reads a: the update goes first
        assert.equal(s.roundTrips, 2);
        const rows = await s.read('SELECT id, v FROM b ORDER BY id');
        assert.equal(s.roundTrips, 4, 'the held INSERT ... SELECT, then the read');
        assert.deepEqual(rows, [
          { id: 1, v: 0 },
          { id: 2, v: 31 },
        ]);
        await s.settle();
        await s.end();
        await client.query('COMMIT');
      } finally {
        await client.end();
        await dropTestDatabase(url);
      }
    });
  },
);
