/**
 * Storage faults, on a real filesystem: the cloud's database lives on a
 * small tmpfs that the test fills up (disk full) and remounts read-only.
 * - Disk full while running: money-moving requests fail with a clear 503
 *   `STORAGE_FULL` and change nothing; reads still work; once space
 *   returns, the same requests, resent with the same event ids, are
 *   applied exactly once, with no restart.
 * - Read-only disk: the cloud refuses to start on it with an error that
 *   says so (a tmpfs cannot be remounted read-only while files are open for
 *   writing); writable again, it starts with nothing lost.
 *
 * Mounting needs root (CI runs as root); elsewhere the test is skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ADMIN_KEY, ManualClock, T0, TestCloud, parkCars } from '../cloud/cloud-harness.js';
import { fillDisk } from './fill-disk.js';

const CARS = 20;
const FEE = 500; // tariff: 500 per started hour after the free minutes; each car stays 40 min

function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`;
  }
}

const remount = (dir: string, mode: 'ro' | 'rw') =>
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });

describe('storage faults: disk full and read-only', { timeout: 120_000 }, () => {
  let base: string;
  let disk: string;
  let skip: string | null = null;
  let t: TestCloud | null = null;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'platepay-storage-'));
    disk = join(base, 'disk');
    await mkdir(disk);
    skip = process.env.PLATEPAY_TEST_DATABASE
      ? 'SQLite files only (on PostgreSQL: pg-storage-faults.test.ts)'
      : process.getuid?.() === 0
        ? tryMount(disk)
        : 'not root: cannot mount a tmpfs';
  });

  after(async () => {
    if (t) await t.stop().catch(() => undefined);
    if (!skip) {
      try {
        remount(disk, 'rw');
      } catch {
        // already writable
      }
      execFileSync('umount', [disk], { stdio: 'pipe' });
    }
    await rm(base, { recursive: true, force: true });
  });

  it('refuses money-moving work with a clear error, keeps what was committed, and resumes', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const clock = new ManualClock(T0);
    const database = join(disk, 'cloud.db');
    // the ledger ticks every 50 ms throughout: its checkpoints fail while the disk is full, and reads that
    // share a batch with a refused write are run again alone (and answered)
    t = await TestCloud.start(clock, { database, ledgerBatchMs: 50 });
    const { driver, exitEvent, balance } = await parkCars(t, {
      email: 'disk@example.com',
      topUp: 100_000,
      lotName: 'Disk P1',
      platePrefix: 'DSK',
      cars: CARS,
      stayMinutes: 40,
    });

    // before the fault: five cars leave and pay
    for (let i = 0; i < 5; i++) assert.equal((await exitEvent(i)).body.reason, 'charged');
    let charged = 5;
    assert.equal(await balance(), 100_000 - FEE * charged);

    // disk full: exits fail with STORAGE_FULL (a few may still fit in space SQLite already holds)
    const filler = await fillDisk(disk);
    const refused: number[] = [];
    for (let i = 5; i < 12; i++) {
      const r = await exitEvent(i);
      if (r.status === 200) {
        assert.equal(r.body.reason, 'charged');
        charged++;
      } else {
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'STORAGE_FULL', JSON.stringify(r.body));
        assert.match(r.body.error.message, /disk is full/);
        refused.push(i);
      }
    }
    ctx.diagnostic(`disk full: ${refused.length} of 7 exits refused, ${7 - refused.length} fitted`);
    assert.ok(refused.length > 0, 'a full disk refuses exits');
    assert.equal(await balance(), 100_000 - FEE * charged, 'reads work; refused exits changed nothing');

    // space returns: the refused exits, sent again, are applied once
    await rm(filler);
    for (const i of refused) {
      const r = await exitEvent(i);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.reason, 'charged');
      charged++;
    }
    for (const i of refused) assert.equal((await exitEvent(i)).body.reason, 'charged', 'a resend: first decision');
    assert.equal(await balance(), 100_000 - FEE * charged);

    // read-only disk: the cloud does not start on it, with a clear error; writable again: it starts, nothing lost
    await t.cloud.close();
    remount(disk, 'ro');
    await assert.rejects(t.restart(), (err: Error) => {
      assert.match(err.message, /read-only/, err.message);
      return true;
    });
    remount(disk, 'rw');
    await t.restart();
    assert.equal(await balance(), 100_000 - FEE * charged, 'nothing lost');
    for (let i = 12; i < 16; i++) {
      const r = await exitEvent(i);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.reason, 'charged');
      charged++;
    }
    assert.equal(charged, 16);
    assert.equal(await balance(), 100_000 - FEE * charged, 'each car charged exactly once');
    const receipts = await t.call('GET', '/v1/me/receipts', { token: driver.token });
    assert.equal(receipts.body.receipts.length, charged);

    // the ledger holds one record per settlement; the database file is sound
    await t.cloud.checkpointNow();
    const checkpoint = await t.call('GET', '/v1/ledger/checkpoint', { token: ADMIN_KEY });
    assert.equal(checkpoint.body.size, charged);
    await t.cloud.close();
    const db = new Database(database, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM settlements').get() as { n: number }).n, charged);
    } finally {
      db.close();
    }
  });
});
