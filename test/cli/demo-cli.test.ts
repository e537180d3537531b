/**
 * `platepay demo` as a newcomer runs it, as a real process: a nested new
 * `--dir` is made; the folder keeps what is needed to check the ledger
 * afterwards (`ledger export` then `ledger verify`), and exporting adds or
 * changes nothing in it; a `platepay cloud` started on the kept database
 * takes the kept keys. A demo that cannot start says why and exits at once,
 * never hanging on what it had started.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TEST_BACKEND, TEST_POSTGRES, createTestDatabase, dropTestDatabase } from '../cloud/cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'platepay.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** still running at the deadline (then killed) */
  hung: boolean;
}

/** Runs `platepay args...`; a process still running after `deadlineMs` is killed and reported as hung. */
function platepay(args: string[], deadlineMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const deadline = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.once('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

/** Every file under `dir` (relative path) with the SHA-256 of its content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return files;
}

describe('platepay demo, from the command line', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'platepay-demo-cli-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it(`makes a nested new --dir and leaves a ledger that exports without touching it and verifies (${TEST_BACKEND})`, async () => {
    const dir = join(tmp, 'runs', 'first', 'demo');
    const postgres = TEST_POSTGRES ? await createTestDatabase() : null;
    after(() => (postgres ? dropTestDatabase(postgres) : undefined));
    const demo = await platepay(['demo', '--dir', dir, ...(postgres ? ['--db', postgres] : [])], 300_000);
    assert.equal(demo.hung, false, `the demo did not end: ${demo.stdout}${demo.stderr}`);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /ledger +verified: 9 records/);
    // the way back to the database and its keys, as the demo prints it: the database, or (PostgreSQL) a config file
    const hint = /npx platepay ledger export (--db|--config) (\S+) --out/.exec(demo.stdout);
    assert.ok(hint, `the demo says how to export its ledger: ${demo.stdout}`);
    const from = [hint[1]!, hint[2]!];
    assert.deepEqual(from, postgres ? ['--config', join(dir, 'cloud.json')] : ['--db', join(dir, 'cloud.db')]);

    const before = await snapshot(dir);
    const out = join(tmp, 'exported');
    const exported = await platepay(['ledger', 'export', ...from, '--out', out], 120_000);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /wrote 9 records/);
    const reconciled = await platepay(['ledger', 'reconcile', ...from, '--dir', out], 120_000);
    assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
    assert.deepEqual(await snapshot(dir), before, 'export and reconcile added or changed nothing in the demo folder');

    const verified = await platepay(['ledger', 'verify', '--dir', out], 120_000);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^ok: 9 records/);

    // a cloud started later on the kept database signs with the kept key: it starts, and the ledger still verifies
    const cloud = spawn(process.execPath, [BIN, 'cloud', '--port', '0', ...from], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const started = await new Promise<boolean>((resolve) => {
      cloud.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/listening on/.test(stderr)) resolve(true);
      });
      cloud.once('exit', () => resolve(false));
    });
    assert.ok(started, `platepay cloud on the demo's database: ${stderr}`);
    const stopped = await new Promise<[number | null, string | null]>((resolve) => {
      cloud.once('exit', (code, signal) => resolve([code, signal]));
      cloud.kill('SIGTERM');
    });
    assert.deepEqual(stopped, [0, null], `platepay cloud on SIGTERM: ${stderr}`);
    const again = join(tmp, 'exported-again');
    assert.equal((await platepay(['ledger', 'export', ...from, '--out', again], 120_000)).code, 0);
    assert.equal((await platepay(['ledger', 'verify', '--dir', again], 120_000)).code, 0);
  });

  it('refuses a --dir under a regular file, naming it, and exits at once', async () => {
    const file = join(tmp, 'a-file');
    await writeFile(file, 'not a folder\n');
    const r = await platepay(['demo', '--dir', join(file, 'demo')], 60_000);
    assert.equal(r.hung, false, 'the demo hung');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--dir: cannot make the folder .*a-file\/demo: a part of that path is a file/);
  });

  it('exits 1 saying why when its cloud cannot start, closing the witness it had started', async () => {
    // nothing listens on port 1: the cloud's database is unreachable once the partner's witness is up
    const r = await platepay(
      ['demo', '--dir', join(tmp, 'unreachable'), '--db', 'postgres://nobody:none@127.0.0.1:1/none'],
      60_000,
    );
    assert.equal(r.hung, false, `the demo hung after: ${r.stdout}${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /PostgreSQL is unavailable: connect ECONNREFUSED/);
  });
});
