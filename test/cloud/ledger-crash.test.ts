/**
 * Crash safety of the ledger: a child process appends under load and is
 * killed with SIGKILL. After a restart the ledger holds every append that
 * was acknowledged, at the index it was acknowledged with, no partial
 * record or batch, and it verifies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openLedgerDatabase } from '../../cloud/ledger/ledger-database.js';
import { exportLedger } from '../../cloud/ledger/ledger-export.js';
import { directorySource, verifyLedger } from '../../cloud/ledger/ledger-verifier.js';
import { formatSigningKey, generateSigningKey } from '../../cloud/ledger/signed-note.js';
import { sqliteOnly } from './cloud-harness.js';

const CHILD = fileURLToPath(new URL('./fixtures/ledger-appender.js', import.meta.url));

describe('ledger crash safety', { skip: sqliteOnly('the standalone SQLite ledger file') }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-crash-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged append after SIGKILL, and nothing partial', async () => {
    const key = generateSigningKey('crash.test/ledger');
    const dbPath = join(dir, 'ledger.db');
    const child = spawn(process.execPath, [CHILD, '--append', dbPath, formatSigningKey(key)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked = new Map<number, string>();
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          const [, index, ref] = line.split(' ');
          acked.set(Number(index), ref!);
        }
        if (acked.size >= 3000 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`the appender exited by itself (${code})`));
      });
    });
    await new Promise((r) => child.once('close', r));

    const reopened = openLedgerDatabase(dbPath, key, { origin: 'crash.test/ledger', batchSize: 1, batchMs: 1 });
    try {
      const { store, ledger } = reopened;
      const size = store.treeSize();
      assert.equal(store.recordCount(), size, 'no record outside the tree: batches commit whole');
      assert.equal(ledger.latest()?.checkpoint.size, size, 'the last batch has its checkpoint');
      for (const [index, ref] of acked) {
        assert.ok(index < size, `acknowledged record ${index} is there`);
        assert.equal(store.records(index, index + 1)[0]!.ref, ref, `record ${index} is the one acknowledged`);
      }
      for (const r of store.records(0, size)) JSON.parse(r.record);
      const exportDir = join(dir, 'export');
      await exportLedger(ledger, exportDir, { log: key, witnesses: [], quorum: 0 });
      const result = await verifyLedger(directorySource(exportDir), { log: key, witnesses: [], quorum: 0 });
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.ok(size >= acked.size);
      // appends resume after the crash
      assert.equal(await ledger.append('{"after":"crash"}'), size);
    } finally {
      await reopened.close();
    }
  });
});
