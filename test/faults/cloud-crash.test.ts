/**
 * Crash safety of the cloud: a `platepay cloud` process is killed with
 * SIGKILL at random moments while 100 simulated gates send exits over real
 * WebSockets, and restarted on the same port each time. Each simulated gate
 * is the gate unit's own journal, uplink and ordered outbox (no cameras):
 * every exit is journaled before it is sent and resent until the cloud
 * answers.
 *
 * Afterwards, from the database and over HTTP:
 * - every gate's outbox drained; every exit got a decision;
 * - every exit the gates saw charged (an acknowledged settlement) is in the
 *   database, each session was charged at most once, and every linked
 *   car's exit was charged exactly once;
 * - each account's balance is its top-up minus exactly its fees;
 * - the ledger has one record per settlement and verifies.
 *
 * The cloud's database is a SQLite file in the test's folder, or with
 * PLATEPAY_TEST_DATABASE a PostgreSQL database of its own (newCloudDatabase):
 * on PostgreSQL a SIGKILL ends the cloud's connections, and the server rolls
 * back what they had not committed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatVerifierKey, generateSigningKey, formatSigningKey } from '../../cloud/ledger/signed-note.js';
import { Journal } from '../../edge/journal/journal.js';
import { OutboxSender } from '../../edge/uplink/outbox-sender.js';
import { Uplink } from '../../edge/uplink/uplink.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import { topUpAndWait } from '../cloud/top-up.js';
import { newCloudDatabase, queryCloudDatabase } from '../cloud/cloud-harness.js';
import type { Proc } from '../edge/processes.js';
import { BIN, call, start, stop } from '../edge/processes.js';

const ADMIN = 'ppkey_crash-admin-key-0123456789abcdef';
/** the plate hashing key (PostgreSQL requires one in the config; SQLite would keep a generated one next to its file) */
const PLATE_KEY = '33'.repeat(32);
const FULL = Boolean(process.env.PLATEPAY_FAULTS_FULL);
const GATES = FULL ? 100 : 20;
const EXITS_PER_GATE = 3;
const KILLS = FULL ? 4 : 2;
const TOP_UP = 1_000_000;
/** every car stayed 2 h; the tariff below charges 500 per started hour */
const STAY_MS = 2 * 3_600_000;
const FEE = 1000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const startCloud = (configFile: string): Promise<Proc> =>
  start(['cloud', '--config', configFile], /listening on (http:\/\/\S+)/, { PLATEPAY_LOG_LEVEL: 'error' });

/** an admin (or driver) API call that must succeed; returns the body */
async function api(base: string, method: string, path: string, body?: unknown, token = ADMIN) {
  const r = await call(base, method, path, body, token);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

interface SimulatedGate {
  gateId: string;
  journal: Journal;
  uplink: Uplink;
  outbox: OutboxSender;
  refusals: string[];
}

describe('cloud killed with SIGKILL under load', { timeout: 300_000 }, () => {
  let dir: string;
  let configFile: string;
  let base: string;
  let cloud: Proc;
  let database: CloudDatabase | undefined;
  const logKey = generateSigningKey('crash.example/ledger');
  const gates: SimulatedGate[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-crash-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    configFile = join(dir, 'cloud.json');
    database = await newCloudDatabase(dir);
    await writeFile(
      configFile,
      JSON.stringify({
        database: database.database,
        ...database.config, // PostgreSQL: a ledger key; this test's own (below) is the one the partner verifies
        host: '127.0.0.1',
        port,
        adminKey: ADMIN,
        plateKey: PLATE_KEY,
        ledgerOrigin: 'crash.example/ledger',
        ledgerKey: formatSigningKey(logKey),
        ledgerBatchMs: 50,
        logLevel: 'error',
      }),
    );
    cloud = await startCloud(configFile);
  });

  after(async () => {
    for (const g of gates) {
      await g.uplink.stop();
      g.journal.close();
    }
    if (cloud) await stop(cloud);
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged settlement, charges no exit twice, and the ledger verifies', async (t) => {
    // the car park: one lot, its lanes, drivers with linked plates; each car parked 2 h ago
    const tariff = {
      currency: 'CNY',
      freeMinutes: 0,
      unitMinutes: 60,
      unitPrice: 500,
      dailyCap: 10_000,
      bands: [],
      graceMinutes: 0,
      utcOffsetMinutes: 480,
    };
    const lot = await api(base, 'POST', '/v1/lots', { name: 'crash', tariff });
    const entry = await api(base, 'POST', `/v1/lots/${lot.id}/lanes`, { name: 'in', direction: 'entry' });
    const exit = await api(base, 'POST', `/v1/lots/${lot.id}/lanes`, { name: 'out', direction: 'exit' });
    const drivers: Array<{ token: string; accountId: string; plates: string[] }> = [];
    for (let d = 0; d < 10; d++) {
      const { token } = await api(
        base,
        'POST',
        '/v1/drivers',
        { email: `d${d}@example.com`, password: 'long enough', name: `D${d}` },
        '',
      );
      const me = await api(base, 'GET', '/v1/me', undefined, token);
      const accountId = me.accounts[0].id;
      await topUpAndWait((m, p, b) => call(base, m, p, b, token), accountId, TOP_UP);
      drivers.push({ token, accountId, plates: [] });
    }
    const parkedAt = Date.now() - STAY_MS;
    const cars: Array<{ plate: string; driver: number }> = [];
    for (let i = 0; i < GATES * EXITS_PER_GATE; i++) {
      const plate = `CR${String(100000 + i).slice(-5)}`;
      const d = i % drivers.length;
      // one car in ten is nobody's: held for payment, never charged
      if (i % 10 !== 9) {
        await api(base, 'POST', '/v1/me/links', { plate, accountId: drivers[d]!.accountId }, drivers[d]!.token);
        drivers[d]!.plates.push(plate);
      }
      await api(base, 'POST', '/v1/events', {
        eventId: `crash-in-${i}`,
        laneId: entry.id,
        plate,
        confidence: 0.99,
        at: parkedAt,
      });
      cars.push({ plate, driver: i % 10 !== 9 ? d : -1 });
    }

    // 100 gates, each with its own key, journal, uplink and outbox
    for (let g = 0; g < GATES; g++) {
      const key = GateKey.generate();
      const gate = await api(base, 'POST', `/v1/lots/${lot.id}/gates`, { name: `g${g}`, publicKey: key.publicKey });
      const journal = new Journal(join(dir, `gate-${g}.db`));
      // the gate unit's heartbeat and request timeout (edge/gate-unit.ts, 5 s each); a killed cloud's
      // sockets close at once, so neither delays noticing a kill. Shorter ones are not stricter: the cloud
      // answers a ping only after the lane events queued before it on that connection, so a heartbeat
      // below its latency under load (100 gates on PostgreSQL: over a second) drops live connections and
      // their answers, and the reconnecting gates add more load (1 s: nothing acknowledged in 120 s)
      const uplink = new Uplink({
        url: base.replace('http', 'ws') + '/v1/gates/ws',
        gateId: gate.id,
        key,
        heartbeatMs: 5000,
        backoffMinMs: 50, // reconnect soon after each restart
        backoffMaxMs: 500,
      });
      const refusals: string[] = [];
      const outbox = new OutboxSender(journal, uplink, { refused: (id, code) => refusals.push(`${id}:${code}`) }, 5000);
      uplink.start();
      gates.push({ gateId: gate.id, journal, uplink, outbox, refusals });
    }

    // exits at random moments over a few seconds, while the cloud is killed and restarted;
    // each kill waits for the next exit a gate sends and strikes right after it, so it is in flight
    const random = new SeededRandom(7);
    let killNow: (() => void) | null = null;
    const sendExits = Promise.all(
      gates.map(async (gate, g) => {
        for (let k = 0; k < EXITS_PER_GATE; k++) {
          await new Promise((r) => setTimeout(r, random.int(0, 3000)));
          const car = cars[g * EXITS_PER_GATE + k]!;
          const at = parkedAt + STAY_MS;
          gate.journal.record(
            (counter) => ({
              gateId: gate.gateId,
              counter,
              eventId: `crash-out-${g}-${k}`,
              laneId: exit.id,
              kind: 'exit',
              plate: car.plate,
              confidence: 0.99,
              evidenceDigest: '0'.repeat(64),
              triggeredAt: at,
              at,
            }),
            gate.uplink.lastAppliedCounter,
            at,
          );
          gate.outbox.kick();
          if (killNow) {
            killNow();
            killNow = null;
          }
        }
      }),
    );
    const inFlight: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, random.int(200, 900)));
      const victim = cloud;
      await Promise.race([
        new Promise<void>((resolve) => {
          killNow = () => {
            victim.child.kill('SIGKILL');
            resolve();
          };
        }),
        sendExits, // all sent already: kill now
      ]);
      killNow = null;
      inFlight.push(gates.reduce((n, g) => n + g.journal.outboxSize, 0));
      await stop(cloud, 'SIGKILL');
      await new Promise((r) => setTimeout(r, random.int(0, 300)));
      cloud = await startCloud(configFile);
    }
    await sendExits;
    t.diagnostic(`exits journaled but not yet acknowledged at each SIGKILL: ${inFlight.join(', ')}`);
    assert.ok(
      inFlight.some((n) => n > 0),
      'the cloud was killed with exits in flight',
    );

    // every outbox drains (the gates reconnect on their own and resend)
    const deadline = Date.now() + 120_000;
    while (gates.some((g) => g.journal.outboxSize > 0) && Date.now() < deadline) {
      for (const g of gates) g.outbox.kick();
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(
      gates.map((g) => g.journal.outboxSize).filter((n) => n > 0),
      [],
      'every outbox drained',
    );
    assert.deepEqual(
      gates.flatMap((g) => g.refusals),
      [],
      'no event was refused',
    );

    // what the gates were told
    const decisions = gates.flatMap((g, gi) =>
      Array.from({ length: EXITS_PER_GATE }, (_, k) => {
        const entryRow = g.journal.entry(`crash-out-${gi}-${k}`)!;
        return { car: cars[gi * EXITS_PER_GATE + k]!, decision: entryRow.cloudDecision! };
      }),
    );
    for (const { car, decision } of decisions) {
      if (car.driver >= 0) {
        assert.equal(decision.reason, 'charged', `${car.plate}: ${JSON.stringify(decision)}`);
        assert.equal(decision.fee, FEE);
      } else {
        assert.equal(decision.action, 'hold', `${car.plate} is nobody's`);
      }
    }

    // the ledger, checked by a partner over HTTP
    await new Promise((r) => setTimeout(r, 300)); // a checkpoint over every record (issued every 50 ms)
    const verify = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'ledger', 'verify', '--url', base, '--api-key', ADMIN, '--log-key', formatVerifierKey(logKey)],
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }),
      ),
    );
    assert.equal(verify.code, 0, verify.out);

    // balances: top-up minus exactly the fees of each driver's cars
    for (const d of drivers) {
      const me = await api(base, 'GET', '/v1/me/accounts', undefined, d.token);
      assert.equal(me.accounts[0].balance, TOP_UP - FEE * d.plates.length);
    }

    // the database, read directly once the cloud is stopped
    await stop(cloud);
    const settlements = await queryCloudDatabase<{ id: string; session_id: string }>(
      database!.database,
      'SELECT id, session_id FROM settlements',
    );
    const linkedCars = cars.filter((c) => c.driver >= 0).length;
    assert.equal(settlements.length, linkedCars, 'one settlement per linked exit');
    assert.equal(new Set(settlements.map((s) => s.session_id)).size, settlements.length, 'no session charged twice');
    const ids = new Set(settlements.map((s) => s.id));
    for (const { decision } of decisions)
      if (decision.settlementId) assert.ok(ids.has(decision.settlementId), `acknowledged ${decision.settlementId}`);
    const records = (
      await queryCloudDatabase<{ n: number }>(database!.database, 'SELECT COUNT(*) AS n FROM ledger_records')
    )[0]!.n;
    assert.equal(records, settlements.length, 'one ledger record per settlement');
  });
});
