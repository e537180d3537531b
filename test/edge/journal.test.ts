/**
 * The gate's journal on real SQLite: counters increase above the cloud's
 * last applied one, the outbox is every undecided event in counter order,
 * everything survives closing and reopening the file (the offline policy
 * snapshot included), and every commit is synced to disk (WAL, synchronous FULL).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Journal } from '../../edge/journal/journal.js';
import { ALLOWLIST_KDF, allowlistEntry } from '../../proto/v1/allowlist-entry.js';
import type { DecisionBody, LaneEventBody, Policy } from '../../proto/v1/messages.js';

const event = (counter: number, id: string): LaneEventBody => ({
  gateId: `gat_${'1'.repeat(32)}`,
  counter,
  eventId: id,
  laneId: `lan_${'2'.repeat(32)}`,
  kind: 'exit',
  plate: '皖A12345',
  confidence: 0.95,
  evidenceDigest: '00'.repeat(32),
  triggeredAt: 1,
  at: 2,
});

const decision = (eventId: string): DecisionBody => ({
  eventId,
  action: 'open',
  reason: 'charged',
  fee: 500,
  currency: 'CNY',
  settlementId: null,
  reviewId: null,
  duplicate: false,
});

describe('Journal', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-journal-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('numbers events above the floor, keeps the outbox in order, and survives a reopen', () => {
    const path = join(dir, 'j.db');
    const j = new Journal(path);
    const a = j.record((c) => event(c, 'a'), 0, 10);
    const b = j.record((c) => event(c, 'b'), 0, 11);
    const c = j.record((n) => event(n, 'c'), 40, 12);
    assert.deepEqual([a.counter, b.counter, c.counter], [1, 2, 41], 'above the last counter and the floor');
    j.setCloudDecision('b', decision('b'));
    j.setOutcome('a', { action: 'open', reason: 'offline-allowlist', barrierAcked: true });
    assert.deepEqual(
      j.outbox().map((e) => e.eventId),
      ['a', 'c'],
    );
    j.close();
    const again = new Journal(path);
    assert.equal(again.outboxSize, 2);
    assert.deepEqual(again.entry('a')?.outcome, { action: 'open', reason: 'offline-allowlist', barrierAcked: true });
    assert.equal(again.entry('b')?.cloudDecision?.reason, 'charged');
    assert.equal(again.record((n) => event(n, 'd'), 0, 13).counter, 42);
    assert.throws(() => again.record((n) => event(n, 'a'), 0, 14), /UNIQUE/, 'an event id is journaled once');
    again.close();
  });

  it('writes with WAL and synchronous FULL, so a recorded event survives power loss', () => {
    const path = join(dir, 'durable.db');
    const j = new Journal(path);
    assert.deepEqual(j.durability(), { journalMode: 'wal', synchronous: 'FULL' });
    j.close();
    // synchronous is per connection: a reopened journal sets it again
    const again = new Journal(path);
    assert.deepEqual(again.durability(), { journalMode: 'wal', synchronous: 'FULL' });
    again.close();
  });

  it('keeps the policy snapshot across a reopen, and ignores one of an older format', async () => {
    const path = join(dir, 'policy.db');
    const j = new Journal(path);
    assert.equal(j.loadPolicy(), null);
    // what a gate of the previous version kept: SHA-256 entries of every linked plate, no lot, no KDF
    const older = {
      v: 1,
      type: 'policy',
      id: 'c1',
      issuedAt: 1,
      salt: 'A'.repeat(22) + '==',
      allow: ['ab'.repeat(32)],
    };
    j.savePolicy(older as unknown as Policy);
    assert.equal(j.loadPolicy(), null, 'an older snapshot is no policy: the lane holds until the cloud sends one');
    const salt = Buffer.alloc(16, 3);
    const policy: Policy = {
      v: 1,
      type: 'policy',
      id: 'c2',
      issuedAt: 2,
      lotId: 'lot_1',
      salt: salt.toString('base64'),
      kdf: ALLOWLIST_KDF,
      allow: [await allowlistEntry('皖A12345', salt, ALLOWLIST_KDF)],
    };
    j.savePolicy(policy);
    j.close();
    const again = new Journal(path);
    assert.deepEqual(again.loadPolicy(), policy);
    again.close();
  });
});
