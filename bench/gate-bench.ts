/**
 * `platepay bench gate`: trigger -> barrier-open latency of linked cars
 * through the real path: replayed camera frames (rendered scenes), real
 * recognition, the signed WebSocket uplink, the cloud's settlement and
 * ledger record, and a simulated barrier's acknowledgement. Cars enter and
 * then leave (the exit is charged); the figures are over the exits, the
 * path that settles money.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCloudConfig } from '../cloud/cloud-config.js';
import { startCloud } from '../cloud/cloud-service.js';
import { parseEdgeConfig } from '../edge/edge-config.js';
import { startGateUnit } from '../edge/gate-unit.js';
import type { LaneOutcome } from '../edge/lane/lane.js';
import { PlateReader } from '../edge/vision/plate-reader.js';
import { GateKey } from '../proto/v1/gate-key.js';
import { provinces } from '../proto/plate-syntax.js';
import { randomSceneSpec, renderScene } from './scenes/scene-renderer.js';

export interface GateBenchResult {
  cars: number;
  lanes: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  opened: number;
  charged: number;
  /** mean time of each step over the exits */
  steps: { triggerToReadMs: number; readToDecisionMs: number; decisionToBarrierMs: number };
}

const ADMIN = 'ppkey_bench-admin-key-0123456789abcdef';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runGateBench(
  cars: number,
  progress: (m: string) => void = () => undefined,
): Promise<GateBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'platepay-gate-bench-'));
  const cloud = await startCloud(
    parseCloudConfig(
      { database: join(dir, 'cloud.db'), port: 0, adminKey: ADMIN, logLevel: 'silent', ledgerBatchMs: 100 },
      {},
    ),
    { logger: false },
  );
  const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(cloud.url + path, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown> & { id: string };
    if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const signup = (await api(
      'POST',
      '/v1/drivers',
      { email: 'bench@example.com', password: 'long enough', name: 'B' },
      '',
    )) as unknown as {
      token: string;
    };
    const me = (await api('GET', '/v1/me', undefined, signup.token)) as unknown as { accounts: Array<{ id: string }> };
    const account = me.accounts[0]!.id;
    await api('POST', `/v1/me/accounts/${account}/top-ups`, { amount: 100_000_000, reference: 'bench' }, signup.token);
    const tariff = {
      currency: 'CNY',
      freeMinutes: 0,
      unitMinutes: 60,
      unitPrice: 500,
      dailyCap: 3000,
      bands: [],
      graceMinutes: 15,
      utcOffsetMinutes: 480,
    };
    const lot = await api('POST', '/v1/lots', { name: 'bench', tariff });
    const entry = await api('POST', `/v1/lots/${lot.id}/lanes`, { name: 'in', direction: 'entry' });
    const exit = await api('POST', `/v1/lots/${lot.id}/lanes`, { name: 'out', direction: 'exit' });
    const key = GateKey.generate();
    await writeFile(join(dir, 'gate.key'), key.format());
    const gate = await api('POST', `/v1/lots/${lot.id}/gates`, { name: 'bench', publicKey: key.publicKey });

    progress(`rendering ${cars} cars`);
    const plates: string[] = [];
    for (let i = 0; i < cars; i++) {
      const plate = `${provinces[i % provinces.length]}A${String(10000 + i).slice(-5)}`;
      plates.push(plate);
      await api('POST', '/v1/me/links', { plate, accountId: account }, signup.token);
      const scene = await renderScene({
        ...randomSceneSpec('cn-blue', 7000 + i, 'easy'),
        plate: { text: plate, style: 'cn-blue' },
      });
      for (const cam of ['in', 'out']) {
        const carDir = join(dir, cam, `car-${String(i).padStart(4, '0')}`);
        await mkdir(carDir, { recursive: true });
        await writeFile(join(carDir, 'frame-0.jpg'), scene.jpeg);
      }
    }
    const lane = (laneId: string, direction: string, cam: string) => ({
      laneId,
      direction,
      camera: { type: 'replay', dir: join(dir, cam) },
      barrier: { type: 'simulated' },
      budgetMs: 1500,
      maxFrames: 1,
      holdMs: 0,
    });
    const unit = await startGateUnit(
      parseEdgeConfig(
        {
          gateId: gate.id,
          cloudUrl: cloud.url!.replace('http', 'ws') + '/v1/gates/ws',
          keyFile: join(dir, 'gate.key'),
          journal: join(dir, 'edge.db'),
          http: { host: '127.0.0.1', port: 0 },
          lanes: [lane(entry.id, 'entry', 'in'), lane(exit.id, 'exit', 'out')],
        },
        dir,
      ),
      { reader: await PlateReader.create({ threads: 2 }) },
    );
    for (let i = 0; i < 50 && !unit.uplink.online; i++) await new Promise((r) => setTimeout(r, 100));
    // warm-up: the first inference allocates
    const entryLane = unit.lanes.get(entry.id)!;
    const exitLane = unit.lanes.get(exit.id)!;
    const exits: LaneOutcome[] = [];
    for (let i = 0; i < cars; i++) {
      await entryLane.trigger();
      const o = await exitLane.trigger();
      if (o) exits.push(o);
      if ((i + 1) % 20 === 0) progress(`${i + 1}/${cars} cars`);
    }
    await unit.close();
    const opened = exits.filter((o) => o.action === 'open' && o.barrierAcked);
    const times = opened.map((o) => o.timings.totalMs).sort((a, b) => a - b);
    const mean = (f: (o: LaneOutcome) => number) => opened.reduce((s, o) => s + f(o), 0) / Math.max(1, opened.length);
    return {
      cars,
      lanes: 2,
      p50Ms: percentile(times, 50),
      p95Ms: percentile(times, 95),
      p99Ms: percentile(times, 99),
      opened: opened.length,
      charged: exits.filter((o) => o.reason === 'charged').length,
      steps: {
        triggerToReadMs: mean((o) => o.timings.triggerToReadMs),
        readToDecisionMs: mean((o) => o.timings.readToDecisionMs),
        decisionToBarrierMs: mean((o) => o.timings.decisionToBarrierMs ?? 0),
      },
    };
  } finally {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
}
