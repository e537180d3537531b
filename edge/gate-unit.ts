/**
 * One gate unit put together: the shared plate reader, the journal, the
 * uplink and its ordered outbox, one lane per configured lane (camera,
 * barrier, presence), and a local HTTP port for triggers, status, /health
 * and Prometheus /metrics.
 *
 * Local HTTP: `POST /lanes/:laneId/trigger` (a vehicle arrived: from a loop
 * detector or an external system; answers with the lane's outcome),
 * `POST /lanes/:laneId/gone` (the vehicle left), `GET /lanes` (state, last
 * outcomes, barrier state and, for simulated barriers, the commands sent).
 *
 * Status: while connected, the unit tells the cloud (`gateStatus`, one way)
 * its outbox depth and each lane's state and confirmed barrier state, with
 * the last car it opened for and its trigger -> barrier-open time: on
 * connecting, after every lane outcome and barrier change, and every 5 s.
 */
import { readFile } from 'node:fs/promises';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/clock.js';
import { GateKey } from '../proto/v1/gate-key.js';
import { MAX_TRIGGER_TO_BARRIER_MS } from '../proto/v1/messages.js';
import { ConfirmingBarrier } from './barrier/barrier-driver.js';
import { createBarrierDriver } from './barrier/barrier-config.js';
import { createCamera } from './camera/camera-config.js';
import type { FrameSource } from './camera/frame-source.js';
import { MotionDetector } from './camera/motion-detector.js';
import type { EdgeConfig } from './edge-config.js';
import { EdgeConfigError } from './edge-config.js';
import { Journal } from './journal/journal.js';
import type { LaneOutcome } from './lane/lane.js';
import { Lane } from './lane/lane.js';
import { OutboxSender } from './uplink/outbox-sender.js';
import { Uplink } from './uplink/uplink.js';
import { PlateReader } from './vision/plate-reader.js';

/** how often the unit reports its status to the cloud while connected, besides on every change */
export const STATUS_INTERVAL_MS = 5000;

export interface GateUnit {
  http: FastifyInstance;
  url: string;
  lanes: Map<string, Lane>;
  uplink: Uplink;
  journal: Journal;
  close(): Promise<void>;
}

export async function startGateUnit(
  config: EdgeConfig,
  options: { clock?: Clock; logger?: boolean | Record<string, unknown>; reader?: PlateReader } = {},
): Promise<GateUnit> {
  const clock = options.clock ?? systemClock;
  const key = await readGateKey(config.keyFile);
  const reader =
    options.reader ??
    (await PlateReader.create({
      threads: config.threads,
      regions: config.regions,
      recognizerKind: config.recognizer,
      plateOrNotWeight: config.plateOrNot,
    }));
  const journal = new Journal(config.journal);
  const uplink = new Uplink({
    url: config.cloudUrl,
    gateId: config.gateId,
    key,
    heartbeatMs: 5000,
    backoffMinMs: 200,
    backoffMaxMs: 5000,
  });
  const http = Fastify({ logger: options.logger ?? false });
  const log = http.log.child({ component: 'gate-unit', gateId: config.gateId });

  const registry = new Registry();
  const latency = (name: string, help: string) =>
    new Histogram({
      name,
      help,
      labelNames: ['lane'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3],
      registers: [registry],
    });
  const triggerToRead = latency('platepay_edge_trigger_to_read_seconds', 'Trigger to voted read');
  const readToDecision = latency(
    'platepay_edge_read_to_decision_seconds',
    'Voted read to decision (cloud or offline policy)',
  );
  const decisionToBarrier = latency(
    'platepay_edge_decision_to_barrier_ack_seconds',
    'Decision to barrier acknowledged',
  );
  const triggerToOpen = latency('platepay_edge_trigger_to_open_seconds', 'Trigger to barrier open (opened cars)');
  const reads = new Counter({
    name: 'platepay_edge_reads_total',
    help: 'Lane outcomes by decision source and action',
    labelNames: ['lane', 'by', 'action'],
    registers: [registry],
  });
  const confidence = new Histogram({
    name: 'platepay_edge_read_confidence',
    help: 'Voted read confidence',
    labelNames: ['lane'],
    buckets: [0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'platepay_edge_outbox_depth',
    help: 'Lane events waiting for the cloud',
    registers: [registry],
    collect() {
      this.set(journal.outboxSize);
    },
  });
  new Gauge({
    name: 'platepay_edge_online',
    help: '1 when connected to the cloud',
    registers: [registry],
    collect() {
      this.set(uplink.online ? 1 : 0);
    },
  });

  const outbox = new OutboxSender(journal, uplink, {
    refused: (eventId, code, message) =>
      log.error({ eventId, code, message }, 'the cloud refused a lane event; taken out of the outbox'),
  });
  uplink.on('policy', (p) => journal.savePolicy(p));
  uplink.on('connected', () => log.info('connected to the cloud'));
  uplink.on('disconnected', () => log.warn('lost the cloud; deciding by the offline policy'));
  uplink.on('protocolError', (err: Error) => log.error({ err: err.message }, 'uplink protocol error'));
  const drainTimer = setInterval(() => outbox.kick(), 2000);
  drainTimer.unref();

  // the status report: changes in one turn of the event loop (a barrier opening, then the lane's
  // outcome) go out as one message, taken once the lane has settled into its next state
  let statusPending: NodeJS.Immediate | null = null;
  let closing = false;
  const sendStatus = () => {
    statusPending = null;
    try {
      uplink.notify({
        type: 'gateStatus',
        at: clock.now(),
        outboxDepth: journal.outboxSize,
        lanes: [...lanes.values()].map((l, i) => {
          const opened = lastOpened.get(l.settings.laneId);
          return {
            laneId: l.settings.laneId,
            state: l.state,
            barrier: barriers[i]!.state,
            ...(opened ? { lastOpened: opened } : {}),
          };
        }),
      });
    } catch (err) {
      log.error({ err }, 'gate status report failed');
    }
  };
  const reportStatus = () => {
    if (!closing) statusPending ??= setImmediate(sendStatus);
  };
  const statusTimer = setInterval(reportStatus, STATUS_INTERVAL_MS);
  statusTimer.unref();
  uplink.on('connected', reportStatus);

  const lanes = new Map<string, Lane>();
  const cameras: FrameSource[] = [];
  const barriers: ConfirmingBarrier[] = [];
  const history = new Map<string, LaneOutcome[]>();
  /** each lane's last car the barrier confirmed open for, with its trigger -> open time (in the status) */
  const lastOpened = new Map<string, { eventId: string; triggeredAt: number; triggerToBarrierMs: number }>();
  const motionLoops: Array<{ stop: boolean }> = [];
  for (const lc of config.lanes) {
    const camera = createCamera(lc.camera, clock);
    const barrier = new ConfirmingBarrier(createBarrierDriver(lc.barrier), lc.laneId);
    barrier.on('alarm', (a: unknown) => log.error({ alarm: a }, 'barrier alarm'));
    barrier.on('state', reportStatus);
    cameras.push(camera);
    barriers.push(barrier);
    const lane = new Lane(
      {
        laneId: lc.laneId,
        direction: lc.direction,
        budgetMs: lc.budgetMs,
        readShare: 0.6,
        barrierReserveMs: 100,
        maxFrames: lc.maxFrames,
        roi: lc.roi,
        offlinePolicy: lc.offlinePolicy,
        holdMs: lc.holdMs,
      },
      { gateId: config.gateId, reader, camera, barrier, journal, uplink, outbox, clock },
    );
    lane.on('outcome', (o: LaneOutcome) => {
      const l = { lane: lc.laneId };
      triggerToRead.observe(l, o.timings.triggerToReadMs / 1000);
      readToDecision.observe(l, o.timings.readToDecisionMs / 1000);
      if (o.timings.decisionToBarrierMs !== null) decisionToBarrier.observe(l, o.timings.decisionToBarrierMs / 1000);
      if (o.action === 'open' && o.barrierAcked) {
        triggerToOpen.observe(l, o.timings.totalMs / 1000);
        if (o.eventId && o.timings.totalMs <= MAX_TRIGGER_TO_BARRIER_MS)
          lastOpened.set(lc.laneId, {
            eventId: o.eventId,
            triggeredAt: o.triggeredAt,
            triggerToBarrierMs: Math.max(0, Math.round(o.timings.totalMs)),
          });
      }
      reads.inc({ ...l, by: o.decidedBy, action: o.action });
      if (o.plate) confidence.observe(l, o.confidence);
      history.set(lc.laneId, [o, ...(history.get(lc.laneId) ?? [])].slice(0, 20));
      log.info(
        { lane: lc.laneId, action: o.action, reason: o.reason, by: o.decidedBy, ms: o.timings.totalMs },
        'lane decided',
      );
      reportStatus();
    });
    lanes.set(lc.laneId, lane);
    if (lc.presence === 'motion' && lc.roi) {
      const loop = { stop: false };
      motionLoops.push(loop);
      const detector = new MotionDetector({ roi: lc.roi });
      void (async () => {
        while (!loop.stop) {
          try {
            if (lane.state !== 'idle' && lane.state !== 'occupied') {
              await new Promise((r) => setTimeout(r, 50));
              continue;
            }
            const frame = await camera.next();
            if (!frame) {
              await new Promise((r) => setTimeout(r, 100));
              continue;
            }
            const change = detector.update(frame);
            if (change === 'arrived') void lane.trigger().catch((err: unknown) => log.error({ err }, 'lane failed'));
            if (change === 'left') {
              lane.vehicleLeft();
              reportStatus();
            }
          } catch (err) {
            log.error({ err }, 'motion loop failed');
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      })();
    }
  }

  http.post<{ Params: { laneId: string } }>('/lanes/:laneId/trigger', async (request, reply) => {
    const lane = lanes.get(request.params.laneId);
    if (!lane) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such lane on this gate' } });
    const outcome = await lane.trigger();
    if (!outcome)
      return reply.status(409).send({ error: { code: 'LANE_BUSY', message: `the lane is ${lane.state} with a car` } });
    return outcome;
  });
  http.post<{ Params: { laneId: string } }>('/lanes/:laneId/gone', async (request, reply) => {
    const lane = lanes.get(request.params.laneId);
    if (!lane) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such lane on this gate' } });
    lane.vehicleLeft();
    reportStatus();
    return reply.status(204).send();
  });
  http.get('/lanes', async () => ({
    online: uplink.online,
    outboxDepth: journal.outboxSize,
    lanes: [...lanes.values()].map((l, i) => ({
      laneId: l.settings.laneId,
      direction: l.settings.direction,
      state: l.state,
      barrier: barriers[i]!.state,
      recent: history.get(l.settings.laneId) ?? [],
    })),
  }));
  http.get('/health', async () => ({ status: 'ok', online: uplink.online, outboxDepth: journal.outboxSize }));
  http.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  await http.listen({ host: config.http.host, port: config.http.port });
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  uplink.start();

  return {
    http,
    url: `http://${config.http.host}:${port}`,
    lanes,
    uplink,
    journal,
    async close() {
      clearInterval(drainTimer);
      closing = true;
      clearInterval(statusTimer);
      if (statusPending) clearImmediate(statusPending);
      statusPending = null;
      for (const l of motionLoops) l.stop = true;
      await http.close();
      await uplink.stop();
      await Promise.all(cameras.map((c) => c.close()));
      await Promise.all(barriers.map((b) => b.shutdown()));
      journal.close();
    },
  };
}

/** The gate's key from `file`; an error names config.keyFile and the file (a bare ENOENT said neither). */
async function readGateKey(file: string): Promise<GateKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(`config.keyFile: cannot read ${file} (${(err as Error).message})`);
  }
  try {
    return GateKey.parse(text);
  } catch (err) {
    throw new EdgeConfigError(`config.keyFile: ${file}: ${(err as Error).message}`);
  }
}
