/**
 * The cloud's ledger with a partner's witness, over real HTTP: settlements
 * become records, checkpoints are cosigned by the witness (quorum 1), the
 * driver's receipt carries the cosigned checkpoint, and the ledger exported
 * with `platepay ledger export` or read from the service verifies with
 * `platepay ledger verify`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { formatVerifierKey, generateSigningKey, verifyCheckpointNote } from '../../cloud/ledger/signed-note.js';
import { Witness } from '../../cloud/ledger/witness.js';
import { buildWitnessServer } from '../../cloud/ledger/witness-server.js';
import { ADMIN_KEY, TEST_BACKEND, TestCloud, eventId, setUpLot, signUp } from './cloud-harness.js';

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
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const wdir = await mkdtemp(join(tmpdir(), 'platepay-witness-'));
    const witness = new Witness(witnessKey, logKey, ORIGIN, join(wdir, 'state.json'), { now: () => Date.now() });
    witnessApp = await buildWitnessServer(witness);
    await witnessApp.listen({ host: '127.0.0.1', port: 0 });
    const address = witnessApp.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { formatSigningKey } = await import('../../cloud/ledger/signed-note.js');
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
    await t.call('POST', `/v1/me/accounts/${driver.accountId}/top-ups`, {
      token: driver.token,
      body: { amount: 9000, reference: 'r' },
    });
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

    // `ledger export` and `ledger reconcile` open the database file: SQLite only
    const byFile = TEST_BACKEND === 'sqlite';
    const configFile = join(t.dir, 'cloud.json');
    await writeFile(configFile, JSON.stringify(t.configJson));
    const out = join(t.dir, 'export');
    const exported = byFile ? await runCli(['ledger', 'export', '--config', configFile, '--out', out]) : null;
    if (exported) assert.equal(exported.code, 0, exported.stderr);
    const ok = !byFile
      ? null
      : await runCli([
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
    if (ok) {
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /ok: 3 records/);
    }

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
    if (!byFile) return;
    const reconciled = await runCli(['ledger', 'reconcile', '--config', configFile, '--dir', out, '--json']);
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
    assert.deepEqual(JSON.parse(reconciled.stdout), { matched: 3, oursOnly: [], theirsOnly: [] });
  });
});
