/**
 * A ledger is signed by one key for its whole life. As real processes:
 * `platepay cloud` refuses to start on a database whose checkpoints another
 * key signed (or that name another origin), naming both keys, and makes no
 * key for a database that exists; `ledger export` reads the key and never
 * makes one, refuses a key that did not sign the checkpoints, and neither it
 * nor `ledger reconcile` writes anything beside the database.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { NoteKey, NoteSigningKey } from '../../cloud/ledger/signed-note.js';
import { formatSigningKey, generateSigningKey, parseSigningKey } from '../../cloud/ledger/signed-note.js';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import { TEST_BACKEND, newCloudDatabase, sqliteOnly } from '../cloud/cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'platepay.js');

/** Runs `platepay args...`; one still running after a minute (a cloud that started) is stopped: code null. */
function platepay(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const failed = err as { code?: number; killed?: boolean } | null;
        resolve({ code: !failed ? 0 : failed.killed ? null : (failed.code ?? 1), stdout, stderr });
      },
    );
  });
}

/** Runs `platepay cloud` on the database until it listens, then stops it: its ledger then has a signed checkpoint. */
async function runCloudOnce(database: CloudDatabase): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'cloud', '--port', '0', '--db', database.database], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...database.env },
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (/listening on/.test(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`platepay cloud exited ${code}: ${stderr}`)));
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  assert.equal(code, 0, stderr);
}

/** how a key is named in messages: name+key ID */
const named = (key: NoteKey) => `${key.name}+${Buffer.from(key.keyId).toString('hex')}`;
const escape = (s: string) => s.replace(/[.+*?^$()[\]{}|\\]/g, '\\$&');

describe('the key that signed a ledger', () => {
  let dir: string;
  let database: CloudDatabase;
  /** the key the cloud signed with: given on PostgreSQL, kept beside the SQLite file */
  let signer: NoteSigningKey;
  const other = generateSigningKey('platepay.local/ledger');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-ledger-keys-'));
    database = await newCloudDatabase(dir);
    await runCloudOnce(database);
    signer = parseSigningKey(
      database.env.PLATEPAY_LEDGER_KEY ?? (await readFile(`${database.database}.ledgerkey`, 'utf8')).trim(),
    );
  });
  after(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`platepay cloud refuses a ledger that another key signed, naming both keys (${TEST_BACKEND})`, async () => {
    const r = await platepay(['cloud', '--port', '0', '--db', database.database], {
      ...database.env,
      PLATEPAY_LEDGER_KEY: formatSigningKey(other),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /LEDGER_KEY_MISMATCH/);
    assert.match(
      r.stderr,
      new RegExp(`signed by key ${escape(named(signer))}, but the key given is ${escape(named(other))}`),
    );
  });

  it(`platepay cloud refuses a ledger whose checkpoints name another origin (${TEST_BACKEND})`, async () => {
    const config = join(dir, 'elsewhere.json');
    await writeFile(config, JSON.stringify({ ledgerOrigin: 'elsewhere.example/ledger' }));
    const r = await platepay(['cloud', '--port', '0', '--config', config, '--db', database.database], database.env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /named "platepay\.local\/ledger" in its checkpoints, but config\.ledgerOrigin is "elsewhere/,
    );
  });

  it(`ledger export refuses a key that did not sign the checkpoints, naming both (${TEST_BACKEND})`, async () => {
    const r = await platepay(['ledger', 'export', '--db', database.database, '--out', join(dir, 'refused')], {
      ...database.env,
      PLATEPAY_LEDGER_KEY: formatSigningKey(other),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`signed by key ${escape(named(signer))}, but the key given is ${escape(named(other))}`),
    );
  });

  it(
    'a copy of the database without its key file: no key is made up, nothing is written beside it',
    {
      skip: sqliteOnly('the key files kept beside a SQLite database'),
    },
    async () => {
      const copyDir = join(dir, 'copy');
      const copy = join(copyDir, 'cloud.db');
      await rm(copyDir, { recursive: true, force: true });
      await mkdir(copyDir);
      await copyFile(database.database, copy);
      const files = async () => (await readdir(copyDir)).sort();
      const before = await files();

      const cloud = await platepay(['cloud', '--port', '0', '--db', copy]);
      assert.equal(cloud.code, 1, cloud.stderr);
      assert.match(cloud.stderr, /cloud\.db\.ledgerkey is missing, and a key is made only for a new database/);
      assert.deepEqual(await files(), before, 'platepay cloud made no key file');

      const exported = await platepay(['ledger', 'export', '--db', copy, '--out', join(dir, 'no-key')]);
      assert.equal(exported.code, 2, exported.stderr);
      assert.match(
        exported.stderr,
        /no ledger key for .*cloud\.db: give it \(config\.ledgerKey or env PLATEPAY_LEDGER_KEY\)/,
      );
      assert.deepEqual(await files(), before, 'ledger export wrote nothing beside the database');

      // given the key that signed it, export and reconcile read it, and still write nothing there
      const env = { PLATEPAY_LEDGER_KEY: formatSigningKey(signer) };
      const out = join(dir, 'with-key');
      const withKey = await platepay(['ledger', 'export', '--db', copy, '--out', out], env);
      assert.equal(withKey.code, 0, withKey.stderr);
      const reconciled = await platepay(['ledger', 'reconcile', '--db', copy, '--dir', out, '--json']);
      assert.equal(reconciled.code, 0, reconciled.stderr);
      assert.deepEqual(JSON.parse(reconciled.stdout), { matched: 0, oursOnly: [], theirsOnly: [] });
      assert.deepEqual(await files(), before, 'export and reconcile wrote nothing beside the database');
    },
  );
});
