/**
 * Network faults between a gate unit and the cloud. A real cloud
 * (`startCloud`, SQLite, or with PLATEPAY_TEST_DATABASE PostgreSQL) and a real gate unit (`startGateUnit`: replay
 * cameras of rendered scenes, the real PlateReader with the ONNX models,
 * simulated barriers, journal, ordered outbox, ws uplink), both in this
 * process on 127.0.0.1, with a FaultProxy (./fault-proxy.ts) between the
 * gate's uplink and the cloud's gate hub.
 *
 * The same ten lane events (linked and unlinked cars entering and leaving,
 * some on both lanes at once; the linked cars parked there once before, so
 * they are on the lot's offline allowlist) run once without the proxy as the reference,
 * then once per fault case with faults injected while events are in flight:
 * - drops: a lane event lost in transit, a decision lost after the cloud
 *   applied the event (both close the connection);
 * - duplicates: a lane event delivered twice, a decision delivered twice;
 * - stalls longer than the lane budget (both ways; cloud -> gate only), and
 *   one longer than the heartbeat, so the gate gives the connection up;
 * - reordering: a lane event held behind the next message, a decision held
 *   behind the next message, and a stale copy of a lane event delivered
 *   after the next (higher counter) one.
 *
 * Checked for every run:
 * - each lane decides, by the cloud or by the offline policy, with the
 *   reason that source gives for that car; the network never keeps a lane
 *   past its budget (plus a fixed 1 s margin for a loaded machine: a
 *   correctness bound, not a latency figure);
 * - after the faults stop, the outbox drains, the cloud decided every
 *   journaled event once and refused none;
 * - the cloud's end state (balances, journal entries, sessions, lane events
 *   and decisions, settlements, pending payments, reviews, ledger records,
 *   the gate's counter) equals the reference run's exactly;
 * - a duplicated or late lane event is answered with its first decision
 *   (`duplicate: true`): nothing is charged twice.
 *
 * Each run starts from a copy of one template database (SQLite: the file;
 * PostgreSQL: CREATE DATABASE ... TEMPLATE), so every run has the same ids.
 *
 * `npm test` runs the reference and the drops/duplicates case; the other
 * cases are slow (seconds of stalls and holds each): `npm run test:faults`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import { RunResult, Setup, checkRun, deliveries, prepare, report, runScenario } from './network-fault-run.js';
import { CASES, FEE, SLOW } from './network-fault-cases.js';

describe('network faults between the gate unit and the cloud', { timeout: 300_000 }, () => {
  let dir: string | undefined;
  const databases: CloudDatabase[] = [];
  let setup: Setup;
  let reference: RunResult;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-netfaults-'));
    setup = await prepare(dir, databases);
    reference = await runScenario(setup, 'reference', null);
  });

  after(async () => {
    await setup?.reader.close();
    for (const db of databases) await db.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reference run without faults: every car decided by the cloud state it should', () => {
    checkRun('reference', reference);
    const state = reference.state as {
      settlements: Array<{ amount: number }>;
      pendingPayments: unknown[];
      sessions: Array<{ status: string }>;
      ledgerRecords: unknown[];
    };
    // (the three linked cars' earlier stays, from the set-up, included)
    assert.equal(state.settlements.length, 6, 'three linked exits settled, after the three earlier stays');
    assert.ok(state.settlements.every((s) => s.amount === FEE));
    assert.equal(state.ledgerRecords.length, 6);
    assert.equal(state.pendingPayments.length, 2, 'two unlinked exits owe their fee');
    assert.deepEqual(state.sessions.map((s) => s.status).sort(), [
      'awaiting_payment',
      'awaiting_payment',
      ...Array<string>(6).fill('closed'),
    ]);
  });

  const runCase = (key: keyof typeof CASES) => async () => {
    const c = CASES[key]!;
    const run = await runScenario(setup, key, c.faults);
    console.log(report(c.name, run, reference));
    checkRun(c.name, run);
    for (const f of run.faults) assert.ok(f.fired, `${c.name}: ${f.name} fired`);
    assert.deepEqual(run.state, reference.state, `${c.name}: the cloud ends as without faults`);
    return run;
  };

  it('drops and duplicates: nothing lost, nothing charged twice, same end state', async () => {
    const run = await runCase('dropsAndDuplicates')();
    const d = deliveries(run);
    assert.ok(run.connections >= 4, 'each drop made the gate reconnect');
    assert.ok(d.sentMoreThanOnce >= 2, 'resent and duplicated lane events reached the cloud more than once');
    assert.ok(d.duplicateAnswers >= 2, 'the cloud answered the copies with their first decision');
  });

  it('stalls longer than the budget: lanes decide offline, events are applied once afterwards', SLOW, async () => {
    const run = await runCase('stalls')();
    assert.ok(
      run.outcomes.some((o) => o.outcome.decidedBy === 'offline-policy'),
      'a stall over the budget made a lane decide by the offline policy',
    );
    assert.ok(run.faults[0]!.maxInFlight >= 2, 'more events joined the outbox during the stall');
  });

  it('a stall longer than the request timeout: the event is resent and applied once', SLOW, async () => {
    const run = await runCase('longStall')();
    const d = deliveries(run);
    // the request timed out and the outbox sent the event again (on the same connection, or on a
    // new one if the heartbeat gave the stalled one up first): both copies reached the cloud
    assert.ok(d.sentMoreThanOnce >= 1, 'the stalled event was resent');
    assert.ok(d.duplicateAnswers >= 1, 'the cloud answered the resend with its first decision');
  });

  it('reordering: held messages and a late lower-counter copy are applied once', SLOW, async () => {
    const run = await runCase('reorder')();
    const late = run.faults.find((f) => f.name.startsWith('late copy'))!.fired!;
    const log = run.proxyLog;
    const copyAt = log.findIndex((m) => m.fate === 'late-copy' && m.eventId === late.eventId);
    assert.ok(copyAt >= 0, 'the late copy was delivered');
    const higherBefore = log
      .slice(0, copyAt)
      .some((m) => m.dir === 'up' && m.type === 'laneEvent' && m.counter !== null && m.counter > late.counter!);
    assert.ok(higherBefore, 'the copy reached the cloud after a lane event with a higher counter');
    const answers = log.filter((m) => m.dir === 'down' && m.type === 'decision' && m.eventId === late.eventId);
    assert.ok(
      answers.some((m) => m.duplicate === true),
      'the cloud answered the stale copy with its first decision',
    );
  });
});
