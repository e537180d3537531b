/**
 * Storage faults on PostgreSQL (the SQLite counterpart is
 * storage-faults.test.ts). One cloud, one lot, cars with linked plates:
 * - Disk full: the cloud's database is moved to a tablespace on a small
 *   tmpfs that the test fills up. Exits fail with a clear 503
 *   `STORAGE_FULL` and change nothing; reads still work; once space
 *   returns, the same exits, resent with the same event ids, are applied
 *   exactly once, with no restart.
 * - Read-only: the database is switched to read-only transactions (as a
 *   failover to a standby or an operator's freeze would) and its
 *   connections are ended. Exits fail with 503 `STORAGE_READ_ONLY`; reads
 *   work; writable again, the resent exits are applied once.
 * - Connections lost: every connection of the cloud (its pool and the
 *   ledger sequencer's lock) is ended again and again while exits arrive
 *   in parallel. Each answer is the decision or a 503, never a 500;
 *   resent until decided, every exit is settled exactly once, and the
 *   ledger (its sequencer back) holds one record per settlement.
 *
 * Runs with PLATEPAY_TEST_DATABASE on the cluster of
 * scripts/postgres-for-tests.sh (its superuser makes the tablespace), as
 * root (mounting the tmpfs); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  ADMIN_KEY,
  ManualClock,
  T0,
  TEST_POSTGRES,
  TestCloud,
  parkCars,
  queryCloudDatabase,
} from '../cloud/cloud-harness.js';
import { fillDisk } from './fill-disk.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FEE = 500; // 500 per started hour after the free minutes; each car stays 40 min
const CARS = 160;
const TABLESPACE = `platepay_small_${process.pid}`;

/** SQL as the test cluster's superuser */
const superuser = (sql: string): string =>
  execFileSync('bash', [join(ROOT, 'scripts', 'postgres-for-tests.sh'), 'sql', sql], { encoding: 'utf8' }).trim();

/** SQL on one database as the test role */
async function onDatabase(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Ends every connection to the database but the caller's; returns how many. */
async function endConnections(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  const rows = await queryCloudDatabase<{ ended: boolean }>(
    url,
    'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = ? AND usename = current_user AND pid <> pg_backend_pid()',
    [name],
  );
  return rows.filter((r) => r.ended).length;
}

function whyNot(): string | null {
  if (!TEST_POSTGRES) return 'PostgreSQL only (set PLATEPAY_TEST_DATABASE); SQLite has storage-faults.test.ts';
  if (process.getuid?.() !== 0) return 'not root: cannot mount a tmpfs';
  try {
    superuser('SELECT 1');
  } catch (err) {
    return `no superuser on the test cluster (scripts/postgres-for-tests.sh sql): ${(err as Error).message.split('\n')[0]}`;
  }
  return null;
}

describe('storage faults on PostgreSQL: disk full, read-only, connections lost', { timeout: 240_000 }, () => {
  let skip: string | null = null;
  let base = '';
  let disk = '';
  let mounted = false;
  let t: TestCloud | null = null;

  before(async () => {
    skip = whyNot();
    if (skip) return;
    base = await mkdtemp(join(tmpdir(), 'platepay-pg-storage-'));
    await chmod(base, 0o755); // the server (user postgres) must reach the tablespace below it
    disk = join(base, 'disk');
    await mkdir(disk);
    // a fresh database's catalogs take about 8 MB; the rest is what the test fills
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', disk], { stdio: 'pipe' });
    mounted = true;
    const space = join(disk, 'pg');
    await mkdir(space);
    const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    await chown(space, Number(ids), Number(gid));
    superuser(`CREATE TABLESPACE ${TABLESPACE} LOCATION '${space}'`);
    superuser(`GRANT CREATE ON TABLESPACE ${TABLESPACE} TO platepay`);
  });

  after(async () => {
    if (t) await t.stop().catch(() => undefined);
    if (skip) return;
    try {
      superuser(`DROP TABLESPACE IF EXISTS ${TABLESPACE}`);
    } finally {
      if (mounted) execFileSync('umount', [disk], { stdio: 'pipe' });
      await rm(base, { recursive: true, force: true });
    }
  });

  it('refuses exits with a clear 503 while storage fails, reads on, and settles each exit once after', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const clock = new ManualClock(T0);
    t = await TestCloud.start(clock, { ledgerBatchMs: 50 });
    const url = t.postgresUrl!;
    // move the database onto the small disk (nobody may be connected meanwhile)
    await t.cloud.close();
    await onDatabase(TEST_POSTGRES!, `ALTER DATABASE ${new URL(url).pathname.slice(1)} SET TABLESPACE ${TABLESPACE}`);
    await t.restart();

    const { driver, exitEvent, balance } = await parkCars(t, {
      email: 'pg-disk@example.com',
      topUp: 1_000_000,
      lotName: 'PG Disk P1',
      platePrefix: 'PGD',
      cars: CARS,
      stayMinutes: 40,
    });
    let charged = 0;
    /** sends exits i in `which`; returns those refused with 503 `code` (the others must be charged) */
    const sendExits = async (which: number[], code: string): Promise<number[]> => {
      const refused: number[] = [];
      for (const i of which) {
        const r = await exitEvent(i);
        if (r.status === 200) {
          assert.equal(r.body.reason, 'charged', JSON.stringify(r.body));
          charged++;
        } else {
          assert.equal(r.status, 503, JSON.stringify(r.body));
          assert.equal(r.body.error.code, code, JSON.stringify(r.body));
          refused.push(i);
        }
      }
      return refused;
    };
    const resend = async (which: number[]) => {
      for (const i of which) {
        const r = await exitEvent(i);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.reason, 'charged');
        charged++;
      }
      for (const i of which) assert.equal((await exitEvent(i)).body.reason, 'charged', 'a resend: first decision');
    };
    /** the ledger's checkpointed size once it reaches `expected` (or gives up after about 10 s) */
    const ledgerSize = async (expected: number): Promise<number> => {
      let size = 0;
      for (let i = 0; i < 100 && size < expected; i++) {
        await t!.cloud.checkpointNow().catch(() => undefined); // the sequencer may be taking its lock back
        size = (await t!.call('GET', '/v1/ledger/checkpoint', { token: ADMIN_KEY })).body.size as number;
        if (size < expected) await new Promise((r) => setTimeout(r, 100));
      }
      return size;
    };
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

    // before any fault: five cars leave and pay
    assert.deepEqual(await sendExits(range(0, 5), 'none'), []);
    assert.equal(await balance(), 1_000_000 - FEE * charged);

    // disk full: exits are sent until three are refused (the first ones may fit in pages PostgreSQL
    // already holds)
    const filler = await fillDisk(disk);
    let next = 5;
    const full: number[] = [];
    while (full.length < 3 && next < 100) full.push(...(await sendExits([next++], 'STORAGE_FULL')));
    ctx.diagnostic(`disk full: ${full.length} of ${next - 5} exits refused`);
    assert.equal(full.length, 3, 'a full disk refuses exits');
    assert.equal(await balance(), 1_000_000 - FEE * charged, 'reads work; refused exits changed nothing');
    await rm(filler);
    await resend(full);
    assert.equal(await balance(), 1_000_000 - FEE * charged);
    assert.equal(await ledgerSize(charged), charged, 'the ledger caught up once space returned');

    // read-only: every exit is refused, reads work
    const name = new URL(url).pathname.slice(1);
    await onDatabase(TEST_POSTGRES!, `ALTER DATABASE ${name} SET default_transaction_read_only = on`);
    await endConnections(url);
    const readOnly = await sendExits(range(next, next + 5), 'STORAGE_READ_ONLY');
    assert.deepEqual(readOnly, range(next, next + 5), 'a read-only database refuses every exit');
    next += 5;
    assert.equal(await balance(), 1_000_000 - FEE * charged, 'reads work on a read-only database');
    await onDatabase(TEST_POSTGRES!, `ALTER DATABASE ${name} RESET default_transaction_read_only`);
    await endConnections(url);
    await resend(readOnly);
    assert.equal(await ledgerSize(charged), charged, 'the ledger caught up once writable again');

    // connections lost again and again while exits arrive, eight at a time
    let ending = true;
    let endedConnections = 0;
    const killer = (async () => {
      while (ending) {
        endedConnections += await endConnections(url);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const pending = new Set(range(next, CARS));
    const statuses = new Map<number, number>();
    const decided = new Set<number>();
    const worker = async (mine: number[]) => {
      for (const i of mine) {
        const r = await exitEvent(i);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(r.status === 200 || r.status === 503, `exit ${i}: ${r.status} ${JSON.stringify(r.body)}`);
        if (r.status === 200) {
          assert.equal(r.body.reason, 'charged', JSON.stringify(r.body));
          decided.add(i);
        } else {
          assert.match(r.body.error.code, /^STORAGE_(UNAVAILABLE|BUSY)$/, JSON.stringify(r.body));
        }
      }
    };
    const lanes = Array.from({ length: 8 }, (_, k) => [...pending].filter((i) => i % 8 === k));
    await Promise.all(lanes.map(worker));
    ending = false;
    await killer;
    ctx.diagnostic(
      `connections lost: ${endedConnections} connections ended; answers ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    assert.ok(endedConnections > 0, 'connections were ended');
    // the gates resend what was not decided (each exit may be resent several times until it is)
    for (const i of pending) {
      for (let tries = 0; !decided.has(i); tries++) {
        const r = await exitEvent(i);
        if (r.status === 200) {
          assert.equal(r.body.reason, 'charged');
          decided.add(i);
        } else assert.ok(tries < 20, `exit ${i} still refused: ${JSON.stringify(r.body)}`);
      }
    }
    charged += pending.size;
    assert.equal(charged, CARS);

    // exactly once: money, receipts, settlements and ledger records agree
    assert.equal(await balance(), 1_000_000 - FEE * CARS, 'each car charged exactly once');
    const receipts = await t.call('GET', '/v1/me/receipts', { token: driver.token });
    assert.equal(receipts.body.receipts.length, CARS);
    const [settlements] = await queryCloudDatabase<{ n: number }>(url, 'SELECT COUNT(*) AS n FROM settlements');
    assert.equal(settlements!.n, CARS);
    assert.equal(await ledgerSize(CARS), CARS, 'the ledger holds one record per settlement');
    const [records] = await queryCloudDatabase<{ n: number }>(url, 'SELECT COUNT(*) AS n FROM ledger_records');
    assert.equal(records!.n, CARS);
  });
});
