/**
 * `platepay bench gate`: trigger -> barrier-open latency of linked cars
 * leaving a car park, through the real path: replayed camera frames
 * (1280x720 rendered scenes), real recognition with 2 threads, the signed
 * WebSocket uplink, the cloud's settlement with its ledger record committed
 * before the decision, and a simulated barrier's acknowledgement.
 *
 * Each car's entry is posted to the cloud beforehand (not timed); then the
 * gate unit's exit lanes work at the same time, each through its own queue
 * of cars. One lane takes its cars back to back. With several lanes, each
 * lane's k-th car arrives at a random moment within its k-th slot of
 * `SLOT_MS` (a barrier cycle is at least that long), so cars at different
 * lanes sometimes arrive together and share the CPU, as at a real gate; a
 * car that arrives while its lane is still busy waits and is triggered when
 * the lane frees. Configurations:
 * - 1, 2 and 4 exit lanes on one gate unit, each lane reading its region of
 *   interest (where a car stopped at the barrier shows its plate);
 * - baseline: 1 lane reading the whole frame, as a system without lane
 *   regions would.
 * Headline figures (`p50Ms`, `p95Ms`, `p99Ms`) are the 1-lane ROI run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../time/clock.js';
import { parseEdgeConfig } from '../edge/edge-config.js';
import { startGateUnit } from '../edge/gate-unit.js';
import type { LaneOutcome } from '../edge/lane/lane.js';
import { PlateReader } from '../edge/vision/plate-reader.js';
import { provinces } from '../proto/plate-syntax.js';
import { DemoSite, writeCarScenes } from '../demo/demo-site.js';
import type { SceneSpec } from '../scenes/scene-renderer.js';
import { randomSceneSpec } from '../scenes/random-scene.js';
import { SeededRandom } from '../scenes/seeded-random.js';
import { percentile } from '../edge/vision/percentile.js';

/** where 'easy' scenes put the plate: centre x 440..840, y 360..500, up to 260 px wide */
const LANE_ROI = { x: 280, y: 280, width: 720, height: 320 };
/** with several lanes, each lane gets one car per slot of this length, at a random moment in it */
const SLOT_MS = 1500;

export interface LatencyFigures {
  lanes: number;
  roi: boolean;
  cars: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** cars whose barrier opened after a charge */
  charged: number;
  /** mean of each step over the cars */
  steps: { triggerToReadMs: number; readToDecisionMs: number; decisionToBarrierMs: number };
}

function summarise(lanes: number, roi: boolean, exits: LaneOutcome[]): LatencyFigures {
  const opened = exits.filter((o) => o.action === 'open' && o.barrierAcked);
  const times = opened.map((o) => o.timings.totalMs).sort((a, b) => a - b);
  const mean = (f: (o: LaneOutcome) => number) =>
    Math.round((opened.reduce((s, o) => s + f(o), 0) / Math.max(1, opened.length)) * 10) / 10;
  return {
    lanes,
    roi,
    cars: exits.length,
    p50Ms: percentile(times, 50, NaN),
    p95Ms: percentile(times, 95, NaN),
    p99Ms: percentile(times, 99, NaN),
    charged: opened.filter((o) => o.reason === 'charged').length,
    steps: {
      triggerToReadMs: mean((o) => o.timings.triggerToReadMs),
      readToDecisionMs: mean((o) => o.timings.readToDecisionMs),
      decisionToBarrierMs: mean((o) => o.timings.decisionToBarrierMs ?? 0),
    },
  };
}

export async function runGateBench(quick: boolean, progress: (m: string) => void = () => undefined) {
  const carsPerRun = quick ? 24 : 120;
  const dir = await mkdtemp(join(tmpdir(), 'platepay-gate-bench-'));
  const site = await DemoSite.start({ dir, clock: systemClock, witness: false, ledgerBatchMs: 100 });
  try {
    const { lotId, laneIds } = await site.addLot('bench', [
      { name: 'in', direction: 'entry' },
      ...[1, 2, 3, 4].map((n) => ({ name: `out ${n}`, direction: 'exit' as const })),
    ]);
    const [entryLane, ...exitLanes] = laneIds as [string, ...string[]];
    const gate = await site.addGate(lotId, 'bench-gate');

    progress(`rendering and linking ${carsPerRun} cars`);
    const specs: SceneSpec[] = [];
    for (let i = 0; i < carsPerRun; i++) {
      const plate = `${provinces[i % provinces.length]}A${String(10000 + i).slice(-5)}`;
      specs.push({ ...randomSceneSpec('cn-blue', 7000 + i, 'easy'), plate: { text: plate, style: 'cn-blue' } });
    }
    await site.addDriver(
      'bench@example.com',
      100_000_000,
      specs.map((s) => s.plate.text),
    );
    const reader = await PlateReader.create({ threads: 2 });

    let run = 0;
    const measure = async (lanes: number, roi: boolean): Promise<LatencyFigures> => {
      run++;
      // each car parked: its entry, straight to the cloud (not timed)
      for (const [i, s] of specs.entries()) {
        await site.api('POST', '/v1/events', {
          eventId: `bench-${run}-in-${i}`,
          laneId: entryLane,
          plate: s.plate.text,
          confidence: 0.99,
          at: Date.now() - 3_600_000,
        });
      }
      // lane j takes cars j, j + lanes, ...
      const cameras = Array.from({ length: lanes }, (_, j) => join(dir, `run-${run}`, `lane-${j}`));
      for (const [j, camera] of cameras.entries())
        await writeCarScenes(
          camera,
          specs.filter((_, i) => i % lanes === j),
        );
      const unit = await startGateUnit(
        parseEdgeConfig(
          {
            gateId: gate.gateId,
            cloudUrl: site.url.replace('http', 'ws') + '/v1/gates/ws',
            keyFile: gate.keyFile,
            journal: join(dir, `run-${run}`, 'edge.db'),
            http: { host: '127.0.0.1', port: 0 },
            lanes: cameras.map((camera, j) => ({
              laneId: exitLanes[j],
              direction: 'exit',
              camera: { type: 'replay', dir: camera },
              barrier: { type: 'simulated' },
              ...(roi ? { roi: LANE_ROI } : {}),
              budgetMs: 1500,
              maxFrames: 1,
              holdMs: 0,
            })),
          },
          dir,
        ),
        { reader },
      );
      try {
        for (let i = 0; i < 100 && !unit.uplink.online; i++) await new Promise((r) => setTimeout(r, 50));
        await reader.read(join(cameras[0]!, 'car-0000', 'frame-0.jpg')); // the first inference allocates
        const exits: LaneOutcome[] = [];
        const random = new SeededRandom(run);
        const start = Date.now();
        await Promise.all(
          cameras.map(async (_, j) => {
            const lane = unit.lanes.get(exitLanes[j]!)!;
            const cars = specs.filter((__, i) => i % lanes === j).length;
            for (let k = 0; k < cars; k++) {
              if (lanes > 1) {
                const due = start + (k + random.between(0, 1)) * SLOT_MS;
                await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
              }
              const outcome = await lane.trigger();
              if (outcome) exits.push(outcome);
              lane.vehicleLeft();
            }
          }),
        );
        const figures = summarise(lanes, roi, exits);
        progress(
          `${lanes} lane(s), ${roi ? 'lane ROI' : 'full frame'}: p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, ` +
            `${figures.charged}/${figures.cars} charged`,
        );
        if (figures.charged !== carsPerRun)
          throw new Error(`only ${figures.charged} of ${carsPerRun} cars were charged and let out`);
        return figures;
      } finally {
        await unit.close();
      }
    };

    const byLanes = [await measure(1, true), await measure(2, true), await measure(4, true)];
    const fullFrame = await measure(1, false);
    const headline = byLanes[0]!;
    return {
      p50Ms: headline.p50Ms,
      p95Ms: headline.p95Ms,
      p99Ms: headline.p99Ms,
      cars: headline.cars,
      steps: headline.steps,
      byLanes,
      baseline: { p50Ms: fullFrame.p50Ms, p95Ms: fullFrame.p95Ms, p99Ms: fullFrame.p99Ms, steps: fullFrame.steps },
      ratio: { p99: Math.round((fullFrame.p99Ms / headline.p99Ms) * 100) / 100 },
      frame: '1280x720 rendered scene, 2 threads, lane ROI 720x320',
    };
  } finally {
    await site.close();
    await rm(dir, { recursive: true, force: true });
  }
}
