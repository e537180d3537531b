/**
 * The whole path with real parts: a cloud process and a gate-unit process
 * (`platepay cloud`, `platepay edge`) talking over a real WebSocket on
 * 127.0.0.1, file-replay cameras with scenes the project renders, real
 * recognition, simulated barriers.
 *
 * 1. A linked car enters and leaves: the barrier opens both times, the fee
 *    is charged, the settlement is in the ledger; an unlinked car is held
 *    at the exit with a reason.
 * 2. The cloud stops: a linked (allowlisted) car's exit still opens, an
 *    unlinked one holds; the edge is killed with SIGKILL while offline;
 *    both restart; every queued event is settled exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import type { Proc } from './processes.js';
import { call, renderCar, start, startCarPark, stop } from './processes.js';

const ADMIN = 'ppkey_e2e-admin-key-0123456789abcdef';

describe('gate unit end to end', { timeout: 240_000 }, () => {
  let dir: string;
  let database: CloudDatabase | undefined;
  let cloud: Proc;
  let edge: Proc;
  let cloudConfig: string;
  let edgeConfig: string;
  let driver: { token: string; accountId: string };
  let lanes: { entry: string; exit: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-e2e-'));
    const park = await startCarPark(dir, ADMIN, { email: 'e2e@example.com', topUp: 10_000, graceMinutes: 15 });
    database = park.database;
    ({ cloud, cloudConfig, driver, lanes } = park);
    const c = cloud.url;
    for (const plate of ['皖A12345', '皖B67890']) {
      const l = await call(c, 'POST', '/v1/me/links', { plate, accountId: driver.accountId }, driver.token);
      assert.equal(l.status, 201, JSON.stringify(l.body));
    }

    // cars in order of arrival at each lane
    const entries = ['皖A12345', '皖C24680', '皖B67890', '皖D13579'];
    const exits = ['皖A12345', '皖C24680', '皖B67890', '皖D13579'];
    for (const [i, p] of entries.entries()) await renderCar(join(dir, 'entry-cam'), i + 1, p);
    for (const [i, p] of exits.entries()) await renderCar(join(dir, 'exit-cam'), i + 1, p);
    edgeConfig = join(dir, 'edge.json');
    const lane = (laneId: string, direction: string, cam: string) => ({
      laneId,
      direction,
      camera: { type: 'replay', dir: join(dir, cam) },
      barrier: { type: 'simulated' },
      budgetMs: 6000,
      maxFrames: 2,
      holdMs: 0,
      offlinePolicy: 'allowlist',
    });
    await writeFile(
      edgeConfig,
      JSON.stringify({
        gateId: park.gateId,
        cloudUrl: c.replace('http', 'ws') + '/v1/gates/ws',
        keyFile: park.keyFile,
        journal: join(dir, 'edge.db'),
        http: { host: '127.0.0.1', port: 0 },
        lanes: [lane(lanes.entry, 'entry', 'entry-cam'), lane(lanes.exit, 'exit', 'exit-cam')],
      }),
    );
    edge = await start(['edge', '--config', edgeConfig], /listening on (http:\/\/\S+)/);
    // wait until the edge is connected
    for (let i = 0; i < 100 && !(await call(edge.url, 'GET', '/health')).body.online; i++)
      await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    if (edge) await stop(edge);
    if (cloud) await stop(cloud);
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const trigger = async (laneId: string) => {
    const r = await call(edge.url, 'POST', `/lanes/${laneId}/trigger`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  it('opens for a linked car at entry and exit, charges it, and holds an unlinked car with a reason', async () => {
    const in1 = await trigger(lanes.entry);
    assert.deepEqual([in1.plate, in1.action, in1.reason, in1.barrierAcked], ['皖A12345', 'open', 'entry', true]);
    const in2 = await trigger(lanes.entry);
    assert.deepEqual([in2.plate, in2.action], ['皖C24680', 'open']);
    const out1 = await trigger(lanes.exit);
    assert.deepEqual(
      [out1.plate, out1.action, out1.reason, out1.fee, out1.decidedBy],
      ['皖A12345', 'open', 'charged', 500, 'cloud'],
    );
    const out2 = await trigger(lanes.exit);
    assert.deepEqual([out2.plate, out2.action, out2.reason], ['皖C24680', 'hold', 'payment_required']);

    const status = await call(edge.url, 'GET', '/lanes');
    assert.equal(status.body.outboxDepth, 0);
    const accounts = await call(cloud.url, 'GET', '/v1/me/accounts', undefined, driver.token);
    assert.equal(accounts.body.accounts[0].balance, 9500);
    await new Promise((r) => setTimeout(r, 200)); // a checkpoint (every 50 ms)
    const receipts = await call(cloud.url, 'GET', '/v1/me/receipts', undefined, driver.token);
    assert.equal(receipts.body.receipts.length, 1);
    assert.equal(receipts.body.receipts[0].settlement.amount, 500);
    assert.ok(receipts.body.receipts[0].checkpoint, 'the settlement is in a signed checkpoint');
  });

  it('decides by the offline policy while the cloud is down, survives SIGKILL, and settles everything once afterwards', async () => {
    // both remaining cars enter while online
    assert.equal((await trigger(lanes.entry)).action, 'open');
    assert.equal((await trigger(lanes.entry)).action, 'open');
    await stop(cloud, 'SIGKILL');
    for (let i = 0; i < 100 && (await call(edge.url, 'GET', '/health')).body.online; i++)
      await new Promise((r) => setTimeout(r, 50));
    const linked = await trigger(lanes.exit);
    assert.deepEqual([linked.plate, linked.action, linked.reason], ['皖B67890', 'open', 'offline-allowlist']);
    const unlinked = await trigger(lanes.exit);
    assert.deepEqual([unlinked.plate, unlinked.action, unlinked.reason], ['皖D13579', 'hold', 'offline-hold']);
    assert.equal((await call(edge.url, 'GET', '/health')).body.outboxDepth, 2);

    await stop(edge, 'SIGKILL');
    cloud = await start(['cloud', '--config', cloudConfig], /listening on (http:\/\/\S+)/);
    // the cloud's port changed: point the edge at it
    const config = JSON.parse(await (await import('node:fs/promises')).readFile(edgeConfig, 'utf8'));
    config.cloudUrl = cloud.url.replace('http', 'ws') + '/v1/gates/ws';
    await writeFile(edgeConfig, JSON.stringify(config));
    edge = await start(['edge', '--config', edgeConfig], /listening on (http:\/\/\S+)/);
    let depth = -1;
    for (let i = 0; i < 100; i++) {
      depth = (await call(edge.url, 'GET', '/health')).body.outboxDepth;
      if (depth === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(depth, 0, 'the outbox drained');
    const accounts = await call(cloud.url, 'GET', '/v1/me/accounts', undefined, driver.token);
    assert.equal(accounts.body.accounts[0].balance, 9000, 'the offline exit was charged once');
    const receipts = await call(cloud.url, 'GET', '/v1/me/receipts', undefined, driver.token);
    assert.equal(receipts.body.receipts.length, 2);
    const pending = await call(
      cloud.url,
      'GET',
      `/v1/pending-payments?plate=${encodeURIComponent('皖D13579')}`,
      undefined,
      driver.token,
    );
    assert.equal(pending.body.pendingPayments.length, 1, 'the unlinked car owes its fee');
  });
});
