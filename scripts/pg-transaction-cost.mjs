// What a transaction of its own per item costs PostgreSQL and the `pg` client, against items batched ten
// to a transaction, with and without a savepoint per item (BENCHMARKS.md, "PostgreSQL": whether batching
// the exits of an instance into one transaction would pay). 8 connections; an item is 5 prepared point
// reads and 1 insert, one round trip each. Server CPU from /proc (the server on this machine; every
// `postgres` process counts, so run it on a quiet server).
//   node scripts/pg-transaction-cost.mjs postgres://user:password@127.0.0.1:5433/db
import pg from 'pg';
import { postgresCpuMs } from '../dist/bench/cloud/pg-costs.js';

const url = process.argv[2];
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  console.error('usage: node scripts/pg-transaction-cost.mjs postgres://user:password@host:port/db');
  process.exit(2);
}

/** CPU ms of every `postgres` process so far (the bench's reader, built into dist/ by `npm ci`) */
function serverCpuMs() {
  const ms = postgresCpuMs();
  if (ms === null) throw new Error('no postgres process on this machine: run it against a local server');
  return ms;
}

const table = `transaction_cost_${process.pid}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE TABLE ${table} (id BIGINT PRIMARY KEY, v TEXT)`);
await admin.query(`INSERT INTO ${table} SELECT g, 'x' FROM generate_series(1, 1000) g`);
const clients = [];
for (let i = 0; i < 8; i++) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
}
let nextId = 1_000_000;
const read = (c, i) =>
  c.query({ name: 'read', text: `SELECT * FROM ${table} WHERE id = $1`, values: [(i % 1000) + 1] });
const insert = (c) =>
  c.query({
    name: 'insert',
    text: `INSERT INTO ${table} (id, v) VALUES ($1, $2)`,
    values: [nextId++, 'y'.repeat(200)],
  });

/** `items` items over the connections: each in a transaction of its own, or `batch` to one (with savepoints) */
async function run(mode, items, batch) {
  const perClient = items / clients.length;
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuMs();
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let done = 0; done < perClient;) {
        await c.query('BEGIN');
        for (let j = 0; j < (mode === 'alone' ? 1 : batch); j++, done++) {
          if (mode === 'savepoints') await c.query('SAVEPOINT item');
          for (let k = 0; k < 5; k++) await read(c, done + k);
          await insert(c);
          if (mode === 'savepoints') await c.query('RELEASE SAVEPOINT item');
        }
        await c.query('COMMIT');
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server = serverCpuMs() - server0;
  console.log(
    `${mode.padEnd(10)} ${mode === 'alone' ? 1 : batch} per transaction: ${Math.round(items / seconds)} items/s, ` +
      `client CPU ${((cpu.user + cpu.system) / 1000 / items).toFixed(3)} ms, server CPU ${(server / items).toFixed(3)} ms per item`,
  );
}

try {
  for (let rep = 0; rep < 2; rep++) {
    await run('alone', 8000, 1);
    await run('batched', 8000, 10);
    await run('savepoints', 8000, 10);
  }
} finally {
  await admin.query(`DROP TABLE ${table}`);
  await admin.end();
  await Promise.all(clients.map((c) => c.end()));
}
