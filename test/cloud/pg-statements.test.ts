/**
 * Statements sent together (cloud/storage/postgres/pg-statements.ts): how
 * held writes are joined into one statement, and, through a store of the
 * backend under test, that a transaction reads its own writes and that a
 * write refused by the database fails its transaction with nothing kept;
 * how reads started together (`together`) are joined into one statement,
 * and that they read what they read apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { pgTypes } from '../../cloud/storage/postgres/pg-connection.js';
import type { Repositories } from '../../cloud/storage/repositories.js';
import { TransactionStatements, joinReads, joinWrites } from '../../cloud/storage/postgres/pg-statements.js';
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

describe('joining reads started together', () => {
  it('makes each read a JSON array of its rows, in a column of its own, numbering placeholders on', () => {
    const joined = joinReads([
      { sql: 'SELECT * FROM a WHERE id = $1', params: ['x'] },
      { sql: 'SELECT v FROM b WHERE k = ANY($1::text[]) AND n > $2 ORDER BY v', params: [['k'], 3] },
    ]);
    assert.equal(
      joined.sql,
      'SELECT array_to_json(ARRAY(SELECT row_to_json(t) FROM (SELECT * FROM a WHERE id = $1) t)) AS r0, ' +
        'array_to_json(ARRAY(SELECT row_to_json(t) FROM (SELECT v FROM b WHERE k = ANY($2::text[]) AND n > $3 ORDER BY v) t)) AS r1',
    );
    assert.deepEqual(joined.params, ['x', ['k'], 3]);
  });
});

describe(`reads started together (${TEST_BACKEND})`, () => {
  it('read what they read one by one, none found included', async () => {
    const store = await openTestStore();
    try {
      await store.transaction(async (r) => {
        await r.lots.insertLot({ id: 'lot-t', name: 'Together P1', tariff, createdAt: T0 });
        await r.lots.insertLane({ id: 'lane-t2', lotId: 'lot-t', name: 'b', direction: 'exit', createdAt: T0 + 1 });
        await r.lots.insertLane({ id: 'lane-t1', lotId: 'lot-t', name: 'a', direction: 'entry', createdAt: T0 });
        await r.lots.insertGate({
          id: 'gate-t',
          lotId: 'lot-t',
          name: 'g',
          publicKey: 'k',
          createdAt: T0,
          revokedAt: null,
          lastCounter: 0,
        });
        await r.lots.raiseGateCounter('gate-t', 2 ** 40);
      });
      const reads = (r: Repositories) =>
        Promise.all([
          r.lots.lotById('lot-t'),
          r.lots.lanesOf('lot-t'),
          r.lots.gateById('gate-t'),
          r.lots.gateById('no-such-gate'),
          r.sessions.eventById('no-such-event'),
          r.accounts.balance('no-such-account'),
        ]);
      const apart = await store.transaction(reads);
      const together = await store.transaction((r) => r.together(() => reads(r)));
      assert.deepEqual(together, apart);
      assert.deepEqual(
        apart[1].map((l) => l.id),
        ['lane-t1', 'lane-t2'],
      );
      assert.equal(apart[2]?.lastCounter, 2 ** 40);
      assert.equal(apart[5], 0);
    } finally {
      await store.close();
    }
  });
});

describe(
  'which reads go together (PostgreSQL)',
  { skip: TEST_POSTGRES ? false : 'needs PLATEPAY_TEST_DATABASE' },
  () => {
    it('sends the reads started together as one statement, keeping order and types; a write among them splits them', async () => {
      const url = await createTestDatabase();
      const client = new pg.Client({ connectionString: url, types: pgTypes });
      await client.connect();
      try {
        await client.query(
          'CREATE TABLE a (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, s TEXT); CREATE TABLE b (id INT PRIMARY KEY)',
        );
        await client.query("INSERT INTO a VALUES ('p', 1099511627776, 0.1, NULL), ('q', -3, 0.30000000000000004, 'é')");
        await client.query('BEGIN');
        const s = new TransactionStatements(client as unknown as pg.PoolClient);
        const desc = 'SELECT * FROM a ORDER BY n DESC';
        const one = 'SELECT id, n * 2 AS twice, COUNT(*) OVER () AS count FROM a WHERE id = $1';
        const apart = [await s.read(desc), await s.read(one, ['q']), await s.read(one, ['none'])];
        const before = s.roundTrips;
        const together = await s.together(() => Promise.all([s.read(desc), s.read(one, ['q']), s.read(one, ['none'])]));
        assert.equal(s.roundTrips - before, 1, 'one statement');
        assert.deepEqual(together, apart);
        assert.deepEqual(
          apart[0].map((r) => r.id),
          ['p', 'q'],
        );
        // a write started among them: the reads before it are sent before it and do not see it, the rest do
        const split = s.roundTrips;
        const count = 'SELECT COUNT(*) AS n FROM b';
        const [seenBefore, , seenAfter] = await s.together(() =>
          Promise.all([s.read(count), s.write('INSERT INTO b (id) VALUES ($1)', [1]), s.read(count)]),
        );
        assert.deepEqual([seenBefore, seenAfter], [[{ n: 0 }], [{ n: 1 }]]);
        assert.equal(s.roundTrips - split, 3, 'the read before, the write, the read after');
        // a read that fails fails every read sent with it
        const failed = await Promise.allSettled(
          await s.together(async () => [s.read('SELECT 1 AS one'), s.read('SELECT * FROM no_such_table')]),
        );
        assert.deepEqual(
          failed.map((f) => f.status),
          ['rejected', 'rejected'],
        );
        assert.notEqual(s.firstError, null);
        await s.end();
        await client.query('ROLLBACK');
      } finally {
        await client.end();
        await dropTestDatabase(url);
      }
    });
  },
);
