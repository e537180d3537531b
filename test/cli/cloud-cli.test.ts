/**
 * `platepay cloud` as a real process: it listens on the test backend's
 * database, answers /health, refuses a bad config file naming the setting,
 * and exits 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { newCloudDatabase, TEST_BACKEND } from '../cloud/cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'platepay.js');

describe('platepay cloud', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-cloud-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`serves /health and stops cleanly on SIGTERM (${TEST_BACKEND})`, async () => {
    const database = await newCloudDatabase(dir, 'c.db');
    after(() => database.drop());
    const child = spawn(process.execPath, [BIN, 'cloud', '--port', '0', '--db', database.database], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...database.env },
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
  });

  it('names the bad setting of a config file and exits 1', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ port: 'eighty', database: join(dir, 'x.db') }));
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'cloud', '--config', file], (err, _stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.port: expected an integer/);
  });
});
