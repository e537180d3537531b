/**
 * Running one network-fault scenario: the cloud and a gate unit process
 * joined through the fault proxy, rendered cars on replay cameras, and what
 * is compared afterwards (the cloud's state, the gate's deliveries).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import { parseCloudConfig } from '../../cloud/cloud-config.js';
import type { Cloud } from '../../cloud/cloud-service.js';
import { startCloud } from '../../cloud/cloud-service.js';
import { GATE_WS_PATH } from '../../cloud/gates/gate-hub.js';
import { parseEdgeConfig } from '../../edge/edge-config.js';
import type { GateUnit } from '../../edge/gate-unit.js';
import { startGateUnit } from '../../edge/gate-unit.js';
import type { JournalEntry } from '../../edge/journal/journal.js';
import type { LaneOutcome } from '../../edge/lane/lane.js';
import { PlateReader } from '../../edge/vision/plate-reader.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import { topUpAndWait } from '../cloud/top-up.js';
import { copyCloudDatabase, newCloudDatabase, queryCloudDatabase } from '../cloud/cloud-harness.js';
import type { SeenMessage } from './fault-proxy.js';
import { FaultProxy } from './fault-proxy.js';
import {
  ADMIN,
  BUDGET_MS,
  Car,
  EVENTS,
  FEE,
  Fault,
  L1,
  L2,
  L3,
  LaneName,
  MARGIN_MS,
  PLATE_KEY,
  STEPS,
  counterOf,
} from './network-fault-cases.js';

export interface Setup {
  dir: string;
  template: CloudDatabase;
  /** every cloud database made for the runs (the template's copies), dropped at the end */
  databases: CloudDatabase[];
  gateId: string;
  keyFile: string;
  lanes: Record<LaneName, string>;
  reader: PlateReader;
}

interface FaultRecord {
  step: number;
  name: string;
  fired: SeenMessage | null;
  /** journaled events without the cloud's decision when the fault fired (the faulted one included) */
  inFlightAtFire: number;
  /** lane events the proxy was holding when the fault fired (queued, held or as a copy) */
  heldByProxyAtFire: number;
  /** most journaled events without a decision at any moment from the fault until the outbox drained */
  maxInFlight: number;
}

export interface RunResult {
  outcomes: Array<{ step: number; lane: LaneName; car: Car; outcome: LaneOutcome }>;
  journal: JournalEntry[];
  state: unknown;
  faults: FaultRecord[];
  proxyLog: SeenMessage[];
  connections: number;
  ms: number;
}

async function call(base: string, method: string, path: string, body?: unknown, token = ADMIN) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      authorization: `Bearer ${token}`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function cloudConfig(db: CloudDatabase) {
  return parseCloudConfig(
    {
      database: db.database,
      ...db.config,
      port: 0,
      adminKey: ADMIN,
      plateKey: PLATE_KEY,
      logLevel: 'silent',
      ledgerBatchMs: 50,
    },
    {},
  );
}

/** Renders two frames of one car into dir/car-NNN/. */
async function renderCar(dir: string, index: number, plate: string): Promise<void> {
  const carDir = join(dir, `car-${String(index).padStart(3, '0')}`);
  await mkdir(carDir, { recursive: true });
  for (let f = 0; f < 2; f++) {
    const spec = randomSceneSpec('cn-blue', 100 * index + f, 'easy');
    const scene = await renderScene({ ...spec, plate: { text: plate, style: 'cn-blue' } });
    await writeFile(join(carDir, `frame-${f}.jpg`), scene.jpeg);
  }
}

/**
 * The cloud's template database in `dir`: drivers, wallets, links, the lot, its lanes and the gate
 * (added to `databases` as soon as it exists, so that it is dropped even if this fails).
 */
export async function prepare(dir: string, databases: CloudDatabase[]): Promise<Setup> {
  const template = await newCloudDatabase(dir, 'template.db');
  databases.push(template);
  const cloud = await startCloud(cloudConfig(template), { logger: false });
  const c = cloud.url!;
  try {
    for (const [i, car] of [L1, L2, L3].entries()) {
      const signup = await call(c, 'POST', '/v1/drivers', {
        email: `d${i}@example.com`,
        password: 'long enough',
        name: `D${i}`,
      });
      const token = signup.body.token as string;
      const accountId = (await call(c, 'GET', '/v1/me', undefined, token)).body.accounts[0].id as string;
      await topUpAndWait((m, p, b) => call(c, m, p, b, token), accountId, 10_000, `r${i}`);
      const link = await call(c, 'POST', '/v1/me/links', { plate: car.plate, accountId }, token);
      assert.equal(link.status, 201, JSON.stringify(link.body));
    }
    const tariff = {
      currency: 'CNY',
      freeMinutes: 0,
      unitMinutes: 60,
      unitPrice: FEE,
      dailyCap: 3000,
      bands: [],
      graceMinutes: 15,
      utcOffsetMinutes: 480,
    };
    const lot = await call(c, 'POST', '/v1/lots', { name: 'Faults', tariff });
    const entry = await call(c, 'POST', `/v1/lots/${lot.body.id}/lanes`, { name: 'in', direction: 'entry' });
    const exit = await call(c, 'POST', `/v1/lots/${lot.body.id}/lanes`, { name: 'out', direction: 'exit' });
    // the linked cars are regulars here: each parked once before, so they are on the lot's offline allowlist
    // (a linked car new to the lot is held at an offline entry: test/cloud/offline-allowlist.test.ts)
    const now = Date.now();
    for (const [i, car] of [L1, L2, L3].entries()) {
      for (const [laneId, at, kind] of [
        [entry.body.id, now - 2 * 3_600_000, 'in'],
        [exit.body.id, now - 3_600_000, 'out'],
      ] as const) {
        const r = await call(c, 'POST', '/v1/events', {
          eventId: `before-${kind}-${i}`,
          laneId,
          plate: car.plate,
          confidence: 0.99,
          at,
        });
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
    }
    const key = GateKey.generate();
    const keyFile = join(dir, 'gate.key');
    await writeFile(keyFile, key.format());
    const gate = await call(c, 'POST', `/v1/lots/${lot.body.id}/gates`, { name: 'g1', publicKey: key.publicKey });
    assert.equal(gate.status, 201, JSON.stringify(gate.body));

    const cams: Record<LaneName, Car[]> = { entry: [], exit: [] };
    for (const step of STEPS) for (const t of step) cams[t.lane].push(t.car);
    for (const lane of ['entry', 'exit'] as const) {
      for (const [i, car] of cams[lane].entries()) await renderCar(join(dir, `${lane}-cam`), i + 1, car.plate);
    }
    const reader = await PlateReader.create({ threads: 2 });
    return {
      dir,
      template,
      databases,
      gateId: gate.body.id,
      keyFile,
      lanes: { entry: entry.body.id, exit: exit.body.id },
      reader,
    };
  } finally {
    await cloud.close();
  }
}

/** The cloud's state with generated ids and times taken out; event ids named by lane and per-lane number. */
async function cloudState(database: string, eventName: (id: string) => string): Promise<unknown> {
  const all = (sql: string) => queryCloudDatabase(database, sql);
  const accounts = await all(
    `SELECT a.id, a.kind, a.label, a.currency, a.driver_id, COALESCE(SUM(p.amount), 0) AS balance
       FROM payment_accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id`,
  );
  const accountName = new Map(
    accounts.map((a) => [a.id as string, a.kind === 'system' ? `system:${a.label}:${a.currency}` : (a.id as string)]),
  );
  const acc = (id: unknown) => (id === null ? null : (accountName.get(id as string) ?? `unknown:${String(id)}`));
  const ev = (id: unknown) => (id === null ? null : eventName(id as string));
  const sortBy = <T>(rows: T[], key: (r: T) => string) => rows.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const sessions = await all('SELECT * FROM parking_sessions');
  const sessionEntry = new Map(sessions.map((s) => [s.id as string, ev(s.entry_event_id)]));
  return {
    balances: sortBy(
      accounts.map((a) => ({ account: acc(a.id), driver: a.driver_id, balance: a.balance })),
      (a) => String(a.account),
    ),
    journalEntries: sortBy(
      (await all('SELECT kind, reference, currency, amount FROM journal_entries')).map((e) => ({
        kind: e.kind,
        currency: e.currency,
        amount: e.amount,
        reference: String(e.reference).replace(/^exit:(.*)$/, (_m, id: string) => `exit:${eventName(id)}`),
      })),
      (e) => `${e.kind}:${e.reference}`,
    ),
    sessions: sortBy(
      sessions.map((s) => ({
        plate: s.plate,
        entry: ev(s.entry_event_id),
        exit: ev(s.exit_event_id),
        status: s.status,
        fee: s.fee,
        passback: s.passback_flag,
      })),
      (s) => String(s.entry),
    ),
    laneEvents: sortBy(
      (await all('SELECT id, lane_id, kind, plate, decision FROM lane_events')).map((e) => {
        const d = JSON.parse(e.decision as string) as Record<string, unknown>;
        return {
          event: ev(e.id),
          lane: e.lane_id,
          kind: e.kind,
          plate: e.plate,
          action: d.action,
          reason: d.reason,
          fee: d.fee,
          currency: d.currency,
          settled: d.settlementId !== null,
          pendingPayment: d.pendingPaymentId !== null && d.pendingPaymentId !== undefined,
          review: d.reviewId !== null && d.reviewId !== undefined,
        };
      }),
      (e) => String(e.event),
    ),
    settlements: sortBy(
      (await all('SELECT * FROM settlements')).map((s) => ({
        exit: ev(s.exit_event_id),
        entry: sessionEntry.get(s.session_id as string),
        account: acc(s.account_id),
        driver: s.driver_id,
        amount: s.amount,
        currency: s.currency,
        method: s.method,
      })),
      (s) => String(s.exit),
    ),
    pendingPayments: sortBy(
      (await all('SELECT * FROM pending_payments')).map((p) => ({
        entry: sessionEntry.get(p.session_id as string),
        plate: p.plate,
        amount: p.amount,
        currency: p.currency,
        status: p.status,
      })),
      (p) => String(p.entry),
    ),
    reviews: sortBy(
      (await all('SELECT event_id, reason, status FROM review_items')).map((r) => ({
        ...r,
        event_id: ev(r.event_id),
      })),
      (r) => String(r.event_id),
    ),
    ledgerRecords: (await all('SELECT idx, record FROM ledger_records ORDER BY idx')).map((r) => {
      const rec = JSON.parse(r.record as string) as Record<string, unknown>;
      return {
        idx: r.idx,
        exit: ev(rec.exitEventId),
        lot: rec.lotId,
        plateHash: rec.plateHash,
        account: acc(rec.accountId),
        amount: rec.amount,
        currency: rec.currency,
        method: rec.method,
      };
    }),
    gates: await all('SELECT id, last_counter, revoked_at FROM gates ORDER BY id'),
  };
}

function expectedCloudReason(lane: LaneName, car: Car): string {
  if (lane === 'entry') return 'entry';
  return car.linked ? 'charged' : 'payment_required';
}

/** One run of the scenario: with `faults`, through a FaultProxy; without, straight to the cloud. */
export async function runScenario(setup: Setup, name: string, faults: Map<number, Fault> | null): Promise<RunResult> {
  const started = Date.now();
  const runDir = join(setup.dir, name);
  await mkdir(runDir, { recursive: true });
  const database = await copyCloudDatabase(setup.template, runDir);
  setup.databases.push(database);
  let cloud: Cloud | null = null;
  let proxy: FaultProxy | null = null;
  let gate: GateUnit | null = null;
  let sampler: NodeJS.Timeout | null = null;
  try {
    cloud = await startCloud(cloudConfig(database), { logger: false });
    const cloudWs = cloud.url!.replace('http', 'ws');
    proxy = faults ? await FaultProxy.start(cloudWs) : null;
    const lane = (laneId: string, direction: LaneName) => ({
      laneId,
      direction,
      camera: { type: 'replay', dir: join(setup.dir, `${direction}-cam`) },
      barrier: { type: 'simulated' },
      budgetMs: BUDGET_MS,
      maxFrames: 2,
      holdMs: 0,
      offlinePolicy: 'allowlist',
    });
    const config = parseEdgeConfig(
      {
        gateId: setup.gateId,
        cloudUrl: proxy ? proxy.url(GATE_WS_PATH) : cloudWs + GATE_WS_PATH,
        keyFile: setup.keyFile,
        journal: join(runDir, 'edge.db'),
        http: { host: '127.0.0.1', port: 0 },
        lanes: [lane(setup.lanes.entry, 'entry'), lane(setup.lanes.exit, 'exit')],
      },
      runDir,
    );
    gate = await startGateUnit(config, { reader: setup.reader, logger: false });
    const g = gate;
    await waitFor('the gate to connect', () => g.uplink.online && g.uplink.latestPolicy !== null, 10_000);

    const outcomes: RunResult['outcomes'] = [];
    const records: FaultRecord[] = [];
    const watching: FaultRecord[] = [];
    sampler = setInterval(() => {
      const depth = g.journal.outboxSize;
      for (const r of watching) r.maxInFlight = Math.max(r.maxInFlight, depth);
      if (depth === 0) watching.length = 0;
    }, 20);
    for (const [i, step] of STEPS.entries()) {
      const fault = faults?.get(i);
      let fired: Promise<void> | null = null;
      if (fault && proxy) {
        const p = proxy;
        const record: FaultRecord = {
          step: i,
          name: fault.name,
          fired: null,
          inFlightAtFire: 0,
          heldByProxyAtFire: 0,
          maxInFlight: 0,
        };
        records.push(record);
        const floor = g.journal.recent(1)[0]?.event.counter ?? 0;
        fired = fault
          .arm(p, (m) => counterOf(m) > floor)
          .then((seen) => {
            record.fired = seen ?? null;
            record.inFlightAtFire = g.journal.outboxSize;
            record.heldByProxyAtFire = p.laneEventsHeld;
            record.maxInFlight = record.inFlightAtFire;
            watching.push(record);
          });
      }
      const results = await Promise.all(
        step.map(async (t) => {
          const r = await call(g.url, 'POST', `/lanes/${setup.lanes[t.lane]}/trigger`);
          assert.equal(r.status, 200, `${name} step ${i} ${t.lane}: ${JSON.stringify(r.body)}`);
          return { step: i, lane: t.lane, car: t.car, outcome: r.body as LaneOutcome };
        }),
      );
      outcomes.push(...results);
      if (fired) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          fired,
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${name}: fault "${fault!.name}" at step ${i} never fired`)),
              15_000,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      }
    }
    // the faults are over: everything journaled reaches the cloud
    proxy?.disarm();
    await waitFor('the outbox to drain', () => g.journal.outboxSize === 0, 30_000);
    await cloud.checkpointNow();
    const journal = g.journal.recent(1000).reverse();
    const eventNames = new Map(
      journal.map((e) => [e.event.eventId, `${e.event.kind}#${e.event.eventId.split('-').at(-1)}`]),
    );
    const state = await cloudState(database.database, (id) => eventNames.get(id) ?? `unknown:${id}`);
    return {
      outcomes,
      journal,
      state,
      faults: records,
      proxyLog: proxy ? [...proxy.log] : [],
      connections: proxy?.connections ?? 1,
      ms: Date.now() - started,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await gate?.close();
    await proxy?.close();
    await cloud?.close();
  }
}

/** What holds for every run, faults or not. */
export function checkRun(name: string, run: RunResult): void {
  assert.equal(run.outcomes.length, EVENTS);
  for (const { step, lane, car, outcome: o } of run.outcomes) {
    const where = `${name} step ${step} ${lane} ${car.plate}`;
    assert.equal(o.plate, car.plate, `${where}: read ${o.plate}`);
    assert.notEqual(o.decidedBy, 'no-read', where);
    if (o.decidedBy === 'cloud') {
      assert.equal(o.reason, expectedCloudReason(lane, car), where);
      if (lane === 'exit' && car.linked) assert.equal(o.fee, FEE, where);
    } else {
      assert.equal(o.decidedBy, 'offline-policy', where);
      assert.deepEqual(
        [o.action, o.reason],
        car.linked ? ['open', 'offline-allowlist'] : ['hold', 'offline-hold'],
        `${where}: the offline policy`,
      );
    }
    // the network never keeps a lane past its budget (a read already over it is not the network's doing)
    const bound = Math.max(BUDGET_MS, o.timings.triggerToReadMs + 100) + MARGIN_MS;
    assert.ok(o.timings.totalMs <= bound, `${where}: decided after ${o.timings.totalMs} ms (bound ${bound})`);
  }
  // every journaled event was decided by the cloud, once, and none refused
  assert.equal(run.journal.length, EVENTS, `${name}: journaled events`);
  const counters = run.journal.map((e) => e.event.counter);
  assert.deepEqual(
    counters,
    counters.map((_, i) => i + 1),
    `${name}: counters 1..${EVENTS}`,
  );
  for (const e of run.journal) {
    assert.ok(e.cloudDecision, `${name}: ${e.event.eventId} has the cloud's decision`);
    assert.ok(!e.cloudDecision.reason.startsWith('refused'), `${name}: ${e.event.eventId} ${e.cloudDecision.reason}`);
    const car = STEPS.flat().find((t) => t.lane === e.event.kind && t.car.plate === e.event.plate)!.car;
    assert.equal(e.cloudDecision.reason, expectedCloudReason(e.event.kind, car), `${name}: ${e.event.eventId}`);
  }
}

/** Lane events the cloud received per event id, and decisions it sent back flagged as duplicates. */
export function deliveries(run: RunResult) {
  const delivered = new Map<string, number>();
  const up = run.proxyLog.filter((m) => m.dir === 'up' && m.type === 'laneEvent');
  for (const m of up)
    if (m.fate !== 'dropped' && m.fate !== 'held') delivered.set(m.eventId!, (delivered.get(m.eventId!) ?? 0) + 1);
  const duplicateAnswers = run.proxyLog.filter((m) => m.dir === 'down' && m.type === 'decision' && m.duplicate).length;
  return { delivered, duplicateAnswers, sentMoreThanOnce: [...delivered.values()].filter((n) => n > 1).length };
}

export function report(name: string, run: RunResult, reference: RunResult): string {
  const state = run.state as {
    settlements: unknown[];
    ledgerRecords: unknown[];
    journalEntries: Array<{ kind: string }>;
  };
  const d = deliveries(run);
  const byCloud = run.outcomes.filter((o) => o.outcome.decidedBy === 'cloud').length;
  const lines = [
    `${name}: ${EVENTS} events, ${run.connections} connection(s), ${(run.ms / 1000).toFixed(1)} s ` +
      `(reference ${(reference.ms / 1000).toFixed(1)} s); lanes decided by the cloud ${byCloud}, offline ${EVENTS - byCloud}; ` +
      `max lane time ${Math.max(...run.outcomes.map((o) => o.outcome.timings.totalMs))} ms`,
    `  lane-event frames reaching the cloud ${[...d.delivered.values()].reduce((a, b) => a + b, 0)} for ${d.delivered.size} events ` +
      `(${d.sentMoreThanOnce} events arrived more than once), answered as duplicates ${d.duplicateAnswers}; ` +
      `applied: ${(state.journalEntries.filter((e) => e.kind === 'charge') as unknown[]).length} charges, ` +
      `${state.settlements.length} settlements, ${state.ledgerRecords.length} ledger records (reference: same)`,
    ...run.faults.map(
      (f) =>
        `  step ${f.step} ${f.name}: fired on ${f.fired?.type ?? '-'} ${f.fired?.eventId ?? ''} ` +
        `(counter ${f.fired?.counter ?? '-'}); in flight: ${f.inFlightAtFire} at the fault ` +
        `(${f.heldByProxyAtFire} held in the proxy), at most ${f.maxInFlight} until drained`,
    ),
  ];
  return lines.join('\n');
}
