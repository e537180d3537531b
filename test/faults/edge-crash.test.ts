/**
 * Crash safety of the gate unit: a `platepay edge` process is killed with
 * SIGKILL in the middle of a car's exit (at a random moment after the
 * trigger: while reading, after the event is journaled, while waiting for
 * the cloud, or while the barrier opens), then restarted; the car is still
 * at the barrier, so the loop detector triggers it again.
 *
 * Whatever the moment: every linked car is charged exactly once (its
 * balance, its receipts), every car leaves (the second read opens as
 * `already_paid` when the first event was applied), and the journal's
 * outbox drains.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SeededRandom } from '../../scenes/seeded-random.js';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import type { Proc } from '../edge/processes.js';
import { call, renderCar, start, startCarPark, stop } from '../edge/processes.js';

const ADMIN = 'ppkey_edge-crash-admin-0123456789abcdef';
const FULL = Boolean(process.env.PLATEPAY_FAULTS_FULL);
const PLATES = FULL
  ? ['皖A10001', '皖A10002', '皖A10003', '皖A10004', '皖A10005', '皖A10006']
  : ['皖A10001', '皖A10002'];
const FEE = 1000; // 2 started hours at 500

describe('gate unit killed with SIGKILL mid-event', { timeout: 300_000 }, () => {
  let dir: string;
  let database: CloudDatabase | undefined;
  let cloud: Proc;
  let edge: Proc | null = null;
  let edgeConfig: string;
  let exitLane: string;
  let driver: { token: string; accountId: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-edge-crash-'));
    const park = await startCarPark(dir, ADMIN, { email: 'k@example.com', topUp: 100_000, graceMinutes: 0 });
    database = park.database;
    ({ cloud, driver } = park);
    exitLane = park.lanes.exit;
    const c = cloud.url;
    for (const [i, plate] of PLATES.entries()) {
      await call(c, 'POST', '/v1/me/links', { plate, accountId: driver.accountId }, driver.token);
      // parked 90 minutes ago: 2 started hours (1000) until the test has run 30 minutes
      await call(
        c,
        'POST',
        '/v1/events',
        { eventId: `k-in-${i}`, laneId: park.lanes.entry, plate, confidence: 0.99, at: Date.now() - 90 * 60_000 },
        ADMIN,
      );
      await renderCar(join(dir, 'cars'), i, plate, 1);
    }
    edgeConfig = join(dir, 'edge.json');
    await writeFile(
      edgeConfig,
      JSON.stringify({
        gateId: park.gateId,
        cloudUrl: c.replace('http', 'ws') + '/v1/gates/ws',
        keyFile: park.keyFile,
        journal: join(dir, 'edge.db'),
        http: { host: '127.0.0.1', port: 0 },
        lanes: [
          {
            laneId: exitLane,
            direction: 'exit',
            camera: { type: 'replay', dir: join(dir, 'camera') },
            barrier: { type: 'simulated' },
            budgetMs: 6000,
            maxFrames: 1,
            holdMs: 0,
          },
        ],
      }),
    );
  });

  after(async () => {
    if (edge) await stop(edge);
    if (cloud) await stop(cloud);
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** (re)starts the edge with the camera showing car `i` (the car at the barrier) */
  const startEdgeAt = async (i: number) => {
    await rm(join(dir, 'camera'), { recursive: true, force: true });
    await cp(join(dir, 'cars', `car-${String(i).padStart(3, '0')}`), join(dir, 'camera', 'car-000'), {
      recursive: true,
    });
    edge = await start(['edge', '--config', edgeConfig], /listening on (http:\/\/\S+)/);
    for (let k = 0; k < 100 && !(await call(edge.url, 'GET', '/health')).body.online; k++)
      await new Promise((r) => setTimeout(r, 100));
  };

  it('charges each car once and lets it out, wherever in the exit the gate unit died', async (t) => {
    const random = new SeededRandom(3);
    const moments: number[] = [];
    for (const [i, plate] of PLATES.entries()) {
      await startEdgeAt(i);
      // the car arrives; the unit dies somewhere inside its exit
      const pending = call(edge!.url, 'POST', `/lanes/${exitLane}/trigger`).catch(() => null);
      const moment = random.int(0, 2500);
      moments.push(moment);
      await new Promise((r) => setTimeout(r, moment));
      await stop(edge!, 'SIGKILL');
      const first = await pending;
      // restarted; the car is still there and is triggered again
      await startEdgeAt(i);
      const again = await call(edge!.url, 'POST', `/lanes/${exitLane}/trigger`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.plate, plate);
      assert.equal(again.body.action, 'open', `${plate} leaves: ${JSON.stringify(again.body)}`);
      assert.ok(['charged', 'already_paid'].includes(again.body.reason), again.body.reason);
      t.diagnostic(
        `${plate}: killed ${moment} ms after the trigger (${first ? 'it had answered' : 'mid-exit'}); ` +
          `after restart: ${again.body.reason}`,
      );
      let depth = -1;
      for (let k = 0; k < 100; k++) {
        depth = (await call(edge!.url, 'GET', '/health')).body.outboxDepth;
        if (depth === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(depth, 0, 'the outbox drained');
      await stop(edge!);
      edge = null;
    }
    const accounts = await call(cloud.url, 'GET', '/v1/me/accounts', undefined, driver.token);
    assert.equal(accounts.body.accounts[0].balance, 100_000 - FEE * PLATES.length, 'each car charged exactly once');
    const receipts = await call(cloud.url, 'GET', '/v1/me/receipts', undefined, driver.token);
    assert.equal(receipts.body.receipts.length, PLATES.length);
  });
});
