/**
 * The cloud's ledger with a partner's witness, over real HTTP: settlements
 * become records, checkpoints are cosigned by the witness (quorum 1), the
 * driver's receipt carries the cosigned checkpoint, and the ledger exported
 * with `platepay ledger export` or read from the service verifies with
 * `platepay ledger verify`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import Database from 'better-sqlite3';
import {
  formatSigningKey,
  formatVerifierKey,
  generateSigningKey,
  verifyCheckpointNote,
} from '../../cloud/ledger/signed-note.js';
import { topUpAndWait } from './top-up.js';
import { Witness } from '../../cloud/ledger/witness.js';
import { buildWitnessServer } from '../../cloud/ledger/witness-server.js';
import {
  ADMIN_KEY,
  PLATE_KEY,
  TEST_POSTGRES,
  TestCloud,
  createTestDatabase,
  dropTestDatabase,
  eventId,
  setUpLot,
  signUp,
} from './cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'platepay.js');
const ORIGIN = 'airport.example/ledger';

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('cloud ledger with a witness', () => {
  let t: TestCloud;
  let witnessApp: FastifyInstance;
  const witnessKey = generateSigningKey('bank-a', 'cosignature');
  const logKey = generateSigningKey(ORIGIN);

  before(async () => {
    const wdir = await mkdtemp(join(tmpdir(), 'platepay-witness-'));
    const witness = new Witness(witnessKey, logKey, ORIGIN, join(wdir, 'state.json'), { now: () => Date.now() });
    witnessApp = await buildWitnessServer(witness);
    await witnessApp.listen({ host: '127.0.0.1', port: 0 });
    const address = witnessApp.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    t = await TestCloud.start(undefined, {
      ledgerOrigin: ORIGIN,
      ledgerKey: formatSigningKey(logKey),
      witnesses: [{ url: `http://127.0.0.1:${port}`, vkey: formatVerifierKey(witnessKey) }],
      witnessQuorum: 1,
    });
  });
  after(async () => {
    await t.stop();
    await witnessApp.close();
  });

  it('cosigns checkpoints, serves cosigned receipts, and verifies by export and by URL', async () => {
    const driver = await signUp(t, 'wit@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 9000, 'r');
    await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: 'WIT1234', accountId: driver.accountId },
    });
    const { entry, exit } = await setUpLot(t);
    for (let i = 0; i < 3; i++) {
      const at = t.clock.now();
      await t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId: entry, plate: 'WIT1234', confidence: 0.99, at },
      });
      t.clock.advance(120 * 60_000);
      const out = await t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId: exit, plate: 'WIT1234', confidence: 0.99, at: at + 120 * 60_000 },
      });
      assert.equal(out.body.reason, 'charged');
      await t.cloud.checkpointNow();
    }
    const latest = await t.call('GET', '/v1/ledger/checkpoint', { token: ADMIN_KEY });
    assert.equal(latest.status, 200);
    assert.equal(latest.body.size, 3);
    assert.equal(latest.body.final, true, 'quorum of one witness reached');
    const receipts = await t.call('GET', '/v1/me/receipts', { token: driver.token });
    const verified = verifyCheckpointNote(receipts.body.receipts[2].checkpoint, logKey, [witnessKey]);
    assert.deepEqual(verified.cosignedBy, ['bank-a']);

    // `ledger export` reads the cloud's database (SQLite file or PostgreSQL URL) while the cloud runs
    const configFile = join(t.dir, 'cloud.json');
    await writeFile(configFile, JSON.stringify(t.configJson));
    const out = join(t.dir, 'export');
    const exported = await runCli(['ledger', 'export', '--config', configFile, '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /wrote 3 records/);
    const ok = await runCli([
      'ledger',
      'verify',
      '--dir',
      out,
      '--log-key',
      formatVerifierKey(logKey),
      '--witness-key',
      formatVerifierKey(witnessKey),
      '--quorum',
      '1',
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /ok: 3 records/);

    const auditor = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'bank' } }))
      .body.secret;
    const byUrl = await runCli([
      'ledger',
      'verify',
      '--url',
      t.url,
      '--api-key',
      auditor,
      '--log-key',
      formatVerifierKey(logKey),
      '--witness-key',
      formatVerifierKey(witnessKey),
      '--json',
    ]);
    assert.equal(byUrl.code, 0, byUrl.stdout + byUrl.stderr);
    assert.equal(JSON.parse(byUrl.stdout).records, 3);
    const reconciled = await runCli(['ledger', 'reconcile', '--config', configFile, '--dir', out, '--json']);
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
    assert.deepEqual(JSON.parse(reconciled.stdout), { matched: 3, oursOnly: [], theirsOnly: [] });
  });

  it('export and reconcile name a database that holds no ledger (exit 2) and an unreachable server (exit 1)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'platepay-noledger-'));
    const databases: string[] = [];
    try {
      /** `ledger export` and `ledger reconcile` on `database`; both must fail alike */
      const both = async (database: string) => {
        const configFile = join(dir, 'cloud.json');
        await writeFile(
          configFile,
          JSON.stringify({ database, plateKey: PLATE_KEY, ledgerKey: formatSigningKey(logKey), ledgerOrigin: ORIGIN }),
        );
        const exported = await runCli(['ledger', 'export', '--config', configFile, '--out', join(dir, 'out')]);
        const reconciled = await runCli(['ledger', 'reconcile', '--config', configFile, '--dir', join(dir, 'out')]);
        assert.equal(reconciled.code, exported.code, reconciled.stderr);
        assert.equal(reconciled.stderr, exported.stderr);
        assert.equal(exported.stderr.trim().split('\n').length, 1, `one line: ${exported.stderr}`);
        return exported;
      };

      const missing = await both(join(dir, 'missing.db'));
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no database at .*missing\.db/);

      const other = join(dir, 'other.db');
      const db = new Database(other);
      db.exec('CREATE TABLE unrelated (x)');
      db.close();
      const noLedger = await both(other);
      assert.equal(noLedger.code, 2);
      assert.match(noLedger.stderr, /no platepay ledger in .*other\.db/);
      const reopened = new Database(other, { readonly: true });
      const tables = reopened.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      reopened.close();
      assert.deepEqual(tables, ['unrelated'], 'the file was not written');

      const unreachable = await both('postgres://platepay:not-shown@127.0.0.1:1/platepay');
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /cannot read the ledger from 127\.0\.0\.1:1\/platepay: .*ECONNREFUSED/);
      assert.doesNotMatch(unreachable.stderr, /not-shown/);

      const badUrl = await both('postgres://platepay:not-shown@[::1/platepay');
      assert.equal(badUrl.code, 2);
      assert.match(badUrl.stderr, /not a PostgreSQL URL/);
      assert.doesNotMatch(badUrl.stderr, /not-shown/);

      if (!TEST_POSTGRES) return;
      const noSuchDatabase = new URL(TEST_POSTGRES);
      noSuchDatabase.pathname = `/platepay_no_such_database_${process.pid}`;
      const absent = await both(noSuchDatabase.href);
      assert.equal(absent.code, 2);
      assert.match(absent.stderr, /no database at .*platepay_no_such_database_/);

      const empty = await createTestDatabase();
      databases.push(empty);
      const noSchema = await both(empty);
      assert.equal(noSchema.code, 2);
      assert.match(noSchema.stderr, /no platepay ledger in /);
    } finally {
      for (const url of databases) await dropTestDatabase(url);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
