/**
 * The operator dashboard with two `platepay cloud` processes on one
 * PostgreSQL database: a gate connected to instance A reports its status
 * and sends lane events with plate crops; instance B's dashboard (the JSON
 * the page reads) shows the gate online with its report, the reads with
 * their crops and the review item's crop, B serves the crop, and B's
 * server-sent events tell a watching page of them (B learns of A's writes
 * by polling). The gate going away shows on B; a restarted B still shows
 * the reads and serves the crop; the gates of a SIGKILLed instance go
 * offline on B once its heartbeat is stale.
 *
 * Needs PLATEPAY_TEST_DATABASE (see cloud-harness.ts); skipped without it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LaneEventBody } from '../../proto/v1/messages.js';
import { laneEventSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { GateLink, call, startInstance, stopInstance, until, writeInstanceConfig } from './cloud-instances.js';
import type { Instance } from './cloud-instances.js';
import { ADMIN_KEY, TEST_POSTGRES, hourlyTariff, createTestDatabase, dropTestDatabase } from './cloud-harness.js';

/** Counts the `change` events of an operator's server-sent event stream. */
async function watchStream(base: string, key: string) {
  const abort = new AbortController();
  const res = await fetch(`${base}/web/api/operator/stream`, {
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const seen = { changes: [] as string[] };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block);
          if (/^event: change$/m.test(block) && data) seen.changes.push(JSON.parse(data[1]!).change);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { seen, stop: () => abort.abort() };
}

/** A stand-in plate crop: what the cloud checks of a JPEG (its start), then random bytes. */
const fakeJpeg = () =>
  Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3000), Buffer.from([0xff, 0xd9])]);

describe(
  'the operator dashboard across two cloud instances on one PostgreSQL',
  { skip: TEST_POSTGRES ? false : 'PLATEPAY_TEST_DATABASE is not set', timeout: 300_000 },
  () => {
    let dir: string;
    let url: string;
    let configFile: string;
    const running = new Set<Instance>();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'platepay-pgdash-'));
      url = await createTestDatabase();
      configFile = await writeInstanceConfig(dir, url);
    });
    after(async () => {
      for (const i of running) i.child.kill('SIGKILL');
      await Promise.all([...running].map((i) => i.exited));
      if (url) await dropTestDatabase(url);
      await rm(dir, { recursive: true, force: true });
    });

    const start = async (name: string) => {
      const i = await startInstance(name, configFile);
      running.add(i);
      void i.exited.then(() => running.delete(i));
      return i;
    };

    it("shows a gate's reads, crops and state on the instance it is not connected to, also after a restart", async () => {
      // one after the other, so the first one migrates
      const a = await start('A');
      let b = await start('B');

      const lot = await call(a.url, 'POST', '/v1/lots', ADMIN_KEY, { name: 'Two dashboards', tariff: hourlyTariff });
      assert.equal(lot.status, 201, JSON.stringify(lot.body));
      const lane = async (name: string, direction: string) =>
        (await call(a.url, 'POST', `/v1/lots/${lot.body.id}/lanes`, ADMIN_KEY, { name, direction })).body.id as string;
      const entryLane = await lane('in', 'entry');
      const exitLane = await lane('out', 'exit');
      const key = GateKey.generate();
      const gate = await call(a.url, 'POST', `/v1/lots/${lot.body.id}/gates`, ADMIN_KEY, {
        name: 'gate-on-a',
        publicKey: key.publicKey,
      });
      assert.equal(gate.status, 201, JSON.stringify(gate.body));
      const gateId = gate.body.id as string;
      const operator = (await call(b.url, 'POST', '/v1/keys', ADMIN_KEY, { role: 'operator', label: 'desk' })).body
        .secret as string;

      type Dashboard = {
        lots: Array<{
          id: string;
          lanes: Array<{
            id: string;
            barrier: { action: string; plate: string } | null;
            reported: { gateId: string; barrier: string } | null;
            reads: Array<{ eventId: string; plate: string; hasCrop: boolean; gateId: string }>;
          }>;
          gates: Array<{ id: string; online: boolean; status: { outboxDepth: number } | null }>;
        }>;
        reviews: Array<{ eventId: string; hasCrop: boolean }>;
      };
      const dashboard = async (base: string): Promise<Dashboard> => {
        const r = await call(base, 'GET', '/web/api/operator/dashboard', operator);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body as Dashboard;
      };
      const lotOf = (d: Dashboard) => d.lots.find((l) => l.id === lot.body.id)!;
      const laneOf = (d: Dashboard, id: string) => lotOf(d).lanes.find((l) => l.id === id)!;
      const gateOf = (d: Dashboard) => lotOf(d).gates.find((g) => g.id === gateId)!;

      // B's page is open and watching before anything happens on A
      let stream = await watchStream(b.url, operator);
      await until('B to be offline for the gate', async () => !gateOf(await dashboard(b.url)).online);

      // the gate connects to A only and reports itself
      const link = await GateLink.connect(a.url, gateId, key);
      link.status(3, [
        { laneId: entryLane, state: 'idle', barrier: 'closed' },
        { laneId: exitLane, state: 'idle', barrier: 'closed' },
      ]);
      await until('B to show the gate online with its report', async () => {
        const d = await dashboard(b.url);
        const g = gateOf(d);
        return g.online && g.status?.outboxDepth === 3 && laneOf(d, entryLane).reported?.barrier === 'closed';
      });
      await until('a change pushed by B for the gate', async () => stream.seen.changes.includes('gate'));

      // an entry, and an exit that fits no stay (a review item), each with its crop
      let counter = 0;
      const crops = new Map<string, Buffer>();
      const send = async (kind: 'entry' | 'exit', plate: string) => {
        const crop = fakeJpeg();
        const body: LaneEventBody = {
          gateId,
          counter: ++counter,
          eventId: `${kind}-${plate}-${counter}`,
          laneId: kind === 'entry' ? entryLane : exitLane,
          kind,
          plate,
          confidence: 0.97,
          evidenceDigest: 'ab'.repeat(32),
          triggeredAt: Date.now(),
          at: Date.now(),
          crop: crop.toString('base64'),
        };
        crops.set(body.eventId, crop);
        return { eventId: body.eventId, decision: await link.event(body, key.sign(laneEventSigningBytes(body))) };
      };
      const pushedBefore = stream.seen.changes.length;
      const entry = await send('entry', 'PGD1234');
      assert.equal(entry.decision.action, 'open');
      const exit = await send('exit', 'PGD9999');
      assert.deepEqual([exit.decision.action, exit.decision.reason], ['hold', 'review']);

      const d = await until('B to show both reads with their crops', async () => {
        const d = await dashboard(b.url);
        const inRead = laneOf(d, entryLane).reads.find((r) => r.eventId === entry.eventId);
        const outRead = laneOf(d, exitLane).reads.find((r) => r.eventId === exit.eventId);
        const review = d.reviews.find((r) => r.eventId === exit.eventId);
        return inRead?.hasCrop && outRead?.hasCrop && review?.hasCrop ? d : null;
      });
      assert.equal(laneOf(d, entryLane).reads[0]!.plate, 'PGD1234');
      assert.equal(laneOf(d, entryLane).reads[0]!.gateId, gateId);
      assert.deepEqual(laneOf(d, entryLane).barrier?.action, 'open');
      assert.deepEqual(laneOf(d, exitLane).barrier?.action, 'hold');
      // (labelled by the first part of B's fingerprint that changed: the review queue or the reads)
      await until('a change pushed by B for the reads', async () => stream.seen.changes.length > pushedBefore);
      stream.stop();

      const crop = async (base: string, eventId: string) => {
        const res = await fetch(`${base}/web/api/operator/reads/${eventId}/crop`, {
          headers: { authorization: `Bearer ${operator}` },
        });
        return {
          status: res.status,
          type: res.headers.get('content-type'),
          body: Buffer.from(await res.arrayBuffer()),
        };
      };
      for (const [eventId, bytes] of crops) {
        const c = await crop(b.url, eventId);
        assert.equal(c.status, 200);
        assert.equal(c.type, 'image/jpeg');
        assert.ok(c.body.equals(bytes), `B serves the crop of ${eventId} as the gate sent it`);
      }
      assert.equal((await crop(b.url, 'no-such-event')).status, 404);

      // the gate goes away from A: B shows it offline
      await link.close();
      await until('B to show the gate offline', async () => !gateOf(await dashboard(b.url)).online);

      // both instances restart: the reads and crops are still there
      await stopInstance(a);
      await stopInstance(b);
      b = await start('B again');
      const again = await dashboard(b.url);
      assert.deepEqual(
        laneOf(again, entryLane).reads.map((r) => [r.eventId, r.hasCrop]),
        [[entry.eventId, true]],
      );
      assert.equal(again.reviews.find((r) => r.eventId === exit.eventId)?.hasCrop, true);
      assert.ok((await crop(b.url, entry.eventId)).body.equals(crops.get(entry.eventId)!));
      assert.equal(gateOf(again).online, false);

      // a gate on an instance that is killed: offline on B once that instance's heartbeat is stale
      const a2 = await start('A again');
      stream = await watchStream(b.url, operator);
      const link2 = await GateLink.connect(a2.url, gateId, key);
      await until('B to show the gate online on the new A', async () => gateOf(await dashboard(b.url)).online);
      await until('a change pushed by B for the gate coming', async () => stream.seen.changes.includes('gate'));
      const pushed = stream.seen.changes.length;
      a2.child.kill('SIGKILL');
      await a2.exited;
      await until(
        'B to show the gate of the killed instance offline',
        async () => !gateOf(await dashboard(b.url)).online,
      );
      await until('a change pushed by B for the gate going', async () => stream.seen.changes.length > pushed);
      stream.stop();
      await link2.close();
      await stopInstance(b);
    });
  },
);
