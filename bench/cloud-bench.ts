/**
 * `platepay bench cloud`: exits settled per second by the cloud, and the
 * decision latency a gate sees, with G gate units connected at once over
 * the real WebSocket uplink on 127.0.0.1.
 *
 * Each run starts a cloud in-process on a fresh SQLite file (WAL,
 * `synchronous = FULL`, the ledger records committed with each settlement,
 * checkpoints signed as configured by default), creates lots (car parks
 * of CARS_PER_LOT cars), an entry and an exit lane per lot and G gates
 * spread over them, each with its own Ed25519 key registered over the HTTP
 * API; drivers with funded wallets link the plates (after the gates are
 * admitted). The gates run in a worker thread (the cloud keeps the main
 * thread): each opens its own socket, is admitted by signing the
 * challenge, sends signed entry events for its cars, then signed exit
 * events, one at a time like a lane (the next car after the decision), all
 * gates concurrently. Only the exits are measured: exits/s is the number
 * of exits charged over the wall time from the first exit sent to the last
 * exit decision received; latency is send -> decision of each exit.
 *
 * After each run the database is checked: every exit charged exactly once
 * (one settlement per exit event and per session, one charge entry each),
 * one ledger record per settlement, every record in a signed checkpoint,
 * the books balancing. Anything else fails the bench.
 *
 * The headline is at 100 gates with group commit (the default); `baseline`
 * is the same run with `groupCommit: false` (one transaction, one fsync,
 * per unit of work). Each run also reports the SQLite commits of its exit
 * phase, units of work per commit, the share of wall time spent in COMMIT,
 * and how many allow-list pushes reached the gates meanwhile (the hub
 * pushes the whole list to every gate every 30 s).
 *
 * With `--db postgres://...` (`runCloudBench(quick, progress, { postgres })`)
 * each run is on PostgreSQL instead, in a fresh database created for it on
 * that server (and dropped after), with 1 or 2 cloud instances in this
 * process on that database (sharing plateKey and ledgerKey), the gates
 * alternating between them: 100 gates, group commit not applying. The
 * checks are the same, through `pg` queries, once `ledger_queue` has
 * drained into the signed log; the commit figures are PgStore's
 * (transactions committed, retried after a serialization failure, failed).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import pg from 'pg';
import WebSocket from 'ws';
import { parseCloudConfig } from '../cloud/cloud-config.js';
import { startCloud } from '../cloud/cloud-service.js';
import type { Cloud } from '../cloud/cloud-service.js';
import { formatSigningKey, generateSigningKey } from '../cloud/ledger/signed-note.js';
import type { PgStore, PgStoreStats } from '../cloud/storage/pg-store.js';
import { createScratchDatabase, dropScratchDatabase } from '../cloud/storage/scratch-databases.js';
import type { Driver } from '../cloud/storage/repositories.js';
import type { CommitStats, SqliteStore } from '../cloud/storage/sqlite-store.js';
import { authSigningBytes, laneEventSigningBytes } from '../proto/v1/codec.js';
import { GateKey } from '../proto/v1/gate-key.js';
import type { CloudToGate, LaneEventBody } from '../proto/v1/messages.js';
import { provinces } from '../proto/plate-syntax.js';
import { percentile } from '../edge/vision/percentile.js';

export interface CloudBenchRun {
  gates: number;
  lots: number;
  /** cars parked in each lot when the exits start */
  carsPerLot: number;
  groupCommit: boolean;
  /** PostgreSQL runs only: the backend and the number of cloud instances */
  backend?: 'postgres';
  instances?: number;
  exits: number;
  charged: number;
  seconds: number;
  exitsPerSecond: number;
  decisionP50Ms: number;
  decisionP99Ms: number;
  decisionMaxMs: number;
  /** SQLite commits during the exit phase, and units of work per commit (PostgreSQL: transactions, 1 each) */
  commits: number;
  unitsPerCommit: number;
  /** share of the exit phase's wall time spent in COMMIT (fsync) on the cloud's thread (null on PostgreSQL) */
  commitShare: number | null;
  /** PostgreSQL only: transaction attempts aborted (serialization failure) and run again, and failures */
  retries?: number;
  failed?: number;
  /**
   * CPU time of the cloud's thread per exit (Linux: from /proc; null elsewhere), and its share of
   * the exit phase's wall time: on a machine shared with other work the cloud gets less than a
   * core, and 1000 / cloudCpuMsPerExit is what one free core would settle
   */
  cloudCpuMsPerExit: number | null;
  cloudCpuShare: number | null;
  /** allow-list pushes the gates received during the exit phase (the hub pushes every 30 s) */
  policyPushes: number;
}

const ADMIN = 'ppkey_bench-admin-key-0123456789abcdef';
const WORKER_ROLE = 'platepay-cloud-bench-gates';
/**
 * Cars per car park: every lane event reads all the unclosed sessions of its lot (exits are matched
 * against them), so the cars are spread over lots of this size whatever the number of gates; the
 * gates are spread evenly over the lots.
 */
const CARS_PER_LOT = 200;
const DRIVERS = 20;
const HOUR = 3_600_000;

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

/** CPU time (ms) of this process's main thread so far, from /proc on Linux; null elsewhere. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (USER_HZ, 100 on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Chinese plates use no I and no O. */
const CN_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Plate number i: a province, a letter, five digits; distinct for i < provinces * 24 * 100000. */
function plateOf(i: number): string {
  const p = [...provinces];
  const province = p[i % p.length]!;
  const rest = Math.floor(i / p.length);
  const letter = CN_LETTERS[rest % CN_LETTERS.length]!;
  return `${province}${letter}${String(Math.floor(rest / CN_LETTERS.length) % 100000).padStart(5, '0')}`;
}

// ---------------------------------------------------------------- the gates (worker thread)

interface GateSpec {
  /** the cloud this gate connects to (else the `connect` command's url) */
  url?: string;
  gateId: string;
  seed: string;
  entryLane: string;
  exitLane: string;
}

type ToWorker =
  | { cmd: 'connect'; url: string; gates: GateSpec[] }
  | { cmd: 'run'; kind: 'entry' | 'exit'; plates: string[][]; tag: string; spacingMs?: number }
  | { cmd: 'close' };

type FromWorker =
  | { ev: 'connected' }
  | {
      ev: 'done';
      kind: 'entry' | 'exit';
      firstSentMs: number;
      lastDecisionMs: number;
      latencies: number[];
      reasons: Record<string, number>;
      settlementIds: string[];
      errors: string[];
      policies: number;
    }
  | { ev: 'failed'; message: string };

class SimGate {
  private readonly waiting = new Map<string, (m: CloudToGate) => void>();
  private next: ((m: CloudToGate) => void) | null = null;
  counter = 0;
  policies = 0;
  private n = 0;

  private constructor(
    readonly ws: WebSocket,
    readonly spec: GateSpec,
    readonly key: GateKey,
  ) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as CloudToGate;
      if (m.type === 'policy') {
        this.policies++;
        return;
      }
      const re = 're' in m ? m.re : null;
      const w = re !== null ? this.waiting.get(re) : undefined;
      if (w && re !== null) {
        this.waiting.delete(re);
        w(m);
      } else if (this.next) {
        const n = this.next;
        this.next = null;
        n(m);
      }
    });
  }

  static async connect(url: string, spec: GateSpec): Promise<SimGate> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const gate = new SimGate(ws, spec, GateKey.fromSeed(Buffer.from(spec.seed, 'base64')));
    const challenge = await gate.request({
      v: 1,
      type: 'hello',
      id: gate.id(),
      gateId: spec.gateId,
      software: 'bench',
    });
    if (challenge.type !== 'challenge')
      throw new Error(`gate ${spec.gateId}: expected a challenge, got ${challenge.type}`);
    const signature = gate.key.sign(authSigningBytes(spec.gateId, challenge.nonce));
    const welcome = await gate.request({
      v: 1,
      type: 'auth',
      id: gate.id(),
      gateId: spec.gateId,
      nonce: challenge.nonce,
      signature,
    });
    if (welcome.type !== 'welcome') throw new Error(`gate ${spec.gateId} not admitted: ${JSON.stringify(welcome)}`);
    gate.counter = welcome.lastCounter;
    return gate;
  }

  id(): string {
    return `b${++this.n}`;
  }

  request(message: { id: string } & Record<string, unknown>): Promise<CloudToGate> {
    return this.send(JSON.stringify(message), message.id);
  }

  send(text: string, id: string): Promise<CloudToGate> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(text);
    });
  }

  /** a signed lane event, ready to send */
  laneEvent(kind: 'entry' | 'exit', plate: string, eventId: string, at: number): { id: string; text: string } {
    const body: LaneEventBody = {
      gateId: this.spec.gateId,
      counter: ++this.counter,
      eventId,
      laneId: kind === 'entry' ? this.spec.entryLane : this.spec.exitLane,
      kind,
      plate,
      confidence: 0.99,
      evidenceDigest: 'ab'.repeat(32),
      triggeredAt: at,
      at,
    };
    const id = this.id();
    const signature = this.key.sign(laneEventSigningBytes(body));
    return { id, text: JSON.stringify({ v: 1, type: 'laneEvent', id, event: body, signature }) };
  }
}

async function gateWorker(): Promise<void> {
  const port = parentPort!;
  let gates: SimGate[] = [];
  const post = (m: FromWorker) => port.postMessage(m);
  port.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        if (m.cmd === 'connect') {
          gates = new Array<SimGate>(m.gates.length);
          // a few hundred handshakes at a time: the listen backlog is finite
          const width = 200;
          for (let i = 0; i < m.gates.length; i += width) {
            await Promise.all(
              m.gates.slice(i, i + width).map(async (spec, j) => {
                gates[i + j] = await SimGate.connect(spec.url ?? m.url, spec);
              }),
            );
          }
          post({ ev: 'connected' });
        } else if (m.cmd === 'run') {
          post(await runPhase(gates, m.kind, m.plates, m.tag, m.spacingMs ?? 0));
        } else {
          for (const g of gates) g.ws.close();
          port.close();
        }
      } catch (err) {
        post({ ev: 'failed', message: (err as Error).stack ?? String(err) });
      }
    })();
  });
}

async function runPhase(
  gates: SimGate[],
  kind: 'entry' | 'exit',
  plates: string[][],
  tag: string,
  spacingMs: number,
): Promise<FromWorker> {
  // sign everything first: the clock measures the cloud, not the gates' signing
  const at = kind === 'entry' ? Date.now() - 3 * HOUR : Date.now();
  const events = gates.map((g, gi) =>
    plates[gi]!.map((plate, k) => g.laneEvent(kind, plate, `${tag}-${kind}-${gi}-${k}`, at)),
  );
  const policiesBefore = gates.reduce((s, g) => s + g.policies, 0);
  const latencies: number[] = [];
  const reasons: Record<string, number> = {};
  const settlementIds: string[] = [];
  const errors: string[] = [];
  const firstSentMs = performance.now();
  let lastDecisionMs = firstSentMs;
  await Promise.all(
    gates.map(async (g, gi) => {
      for (const e of events[gi]!) {
        // paced: a gate sends about one event per spacingMs (a car needs that long at a lane)
        if (spacingMs > 0) await new Promise((r) => setTimeout(r, spacingMs * (0.5 + Math.random())));
        const sent = performance.now();
        const answer = await g.send(e.text, e.id);
        const now = performance.now();
        lastDecisionMs = Math.max(lastDecisionMs, now);
        if (answer.type !== 'decision') {
          errors.push(JSON.stringify(answer).slice(0, 300));
          continue;
        }
        latencies.push(now - sent);
        const reason = answer.decision.duplicate ? `duplicate-${answer.decision.reason}` : answer.decision.reason;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        if (answer.decision.settlementId) settlementIds.push(answer.decision.settlementId);
      }
    }),
  );
  return {
    ev: 'done',
    kind,
    firstSentMs,
    lastDecisionMs,
    latencies,
    reasons,
    settlementIds,
    errors: errors.slice(0, 20),
    policies: gates.reduce((s, g) => s + g.policies, 0) - policiesBefore,
  };
}

class GateFleet {
  private readonly worker: Worker;
  private readonly replies: FromWorker[] = [];
  private waiter: ((m: FromWorker) => void) | null = null;
  private exited: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE } });
    this.worker.on('message', (m: FromWorker) => this.deliver(m));
    this.worker.on('error', (err) => {
      this.exited = err;
      this.deliver({ ev: 'failed', message: err.stack ?? err.message });
    });
  }

  private deliver(m: FromWorker): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w(m);
    else this.replies.push(m);
  }

  private reply(): Promise<FromWorker> {
    const m = this.replies.shift();
    if (m) return Promise.resolve(m);
    if (this.exited) return Promise.resolve({ ev: 'failed', message: this.exited.message });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  async ask(m: ToWorker): Promise<Extract<FromWorker, { ev: 'connected' | 'done' }>> {
    this.worker.postMessage(m);
    const r = await this.reply();
    if (r.ev === 'failed') throw new Error(`the gates failed: ${r.message}`);
    return r;
  }

  async close(): Promise<void> {
    this.worker.postMessage({ cmd: 'close' } satisfies ToWorker);
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------- the cloud side (main thread)

type PhaseDone = Extract<FromWorker, { ev: 'done' }>;

/** What the gates saw of an exit phase that is wrong: refusals, exits not charged, shared settlements. */
function exitProblems(exits: PhaseDone, expected: number): string[] {
  const problems: string[] = [];
  const charged = exits.reasons.charged ?? 0;
  if (exits.errors.length) problems.push(`refusals: ${exits.errors.join(' | ')}`);
  if (charged !== expected) problems.push(`${charged} of ${expected} exits charged: ${JSON.stringify(exits.reasons)}`);
  if (new Set(exits.settlementIds).size !== expected) problems.push('the exits did not get distinct settlements');
  return problems;
}

/** Throughput and decision latency of an exit phase (first exit sent to last decision received). */
function exitFigures(exits: PhaseDone, charged: number) {
  const seconds = (exits.lastDecisionMs - exits.firstSentMs) / 1000;
  const latencies = Float64Array.from(exits.latencies).sort();
  return {
    seconds: round(seconds, 3),
    exitsPerSecond: Math.round(charged / seconds),
    decisionP50Ms: round(percentile(latencies, 50, NaN), 2),
    decisionP99Ms: round(percentile(latencies, 99, NaN), 2),
    decisionMaxMs: round(latencies[latencies.length - 1] ?? NaN, 2),
  };
}

/** PostgreSQL runs: the server (a URL whose role may create databases) and the cloud instances per run. */
export interface PgBench {
  server: string;
  instances: 1 | 2;
}

/**
 * A cloud on a temp SQLite file (or on a fresh PostgreSQL database, with 1 or 2 instances) with
 * lots, lanes, G admitted gates (in the worker) and funded drivers.
 */
interface BenchSite {
  dir: string;
  /** the SQLite file, or the PostgreSQL database's URL */
  database: string;
  /** the instance the API calls go to */
  cloud: Cloud;
  /** every instance (one on SQLite) */
  clouds: Cloud[];
  postgres: boolean;
  fleet: GateFleet;
  specs: GateSpec[];
  drivers: Array<{ driver: Driver; account: string }>;
  /** closes the gates, then the cloud (once; the database is complete after it) */
  stop(): Promise<void>;
  /** stops what is still running (ignoring errors) and removes the temp folder */
  dispose(): Promise<void>;
}

async function startSite(
  gateCount: number,
  lotCount: number,
  groupCommit: boolean,
  label: string,
  progress: (m: string) => void,
  postgres?: PgBench,
): Promise<BenchSite> {
  const dir = await mkdtemp(join(tmpdir(), 'platepay-cloud-bench-'));
  let database = join(dir, 'cloud.db');
  let created: string | null = null;
  const clouds: Cloud[] = [];
  let fleet: GateFleet | null = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await fleet?.close();
    } finally {
      await Promise.all(clouds.map((c) => c.close()));
    }
  };
  const dispose = async () => {
    await stop().catch(() => undefined);
    if (postgres && created)
      await dropScratchDatabase(postgres.server, created, BENCH_DATABASE_PREFIX).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (postgres) {
      created = await createScratchDatabase(postgres.server, BENCH_DATABASE_PREFIX);
      database = created;
      // every instance must share these
      const keys = {
        plateKey: randomBytes(32).toString('hex'),
        ledgerKey: formatSigningKey(generateSigningKey('platepay.local/ledger')),
      };
      for (let i = 0; i < postgres.instances; i++) {
        clouds.push(
          await startCloud(parseCloudConfig({ database, port: 0, adminKey: ADMIN, logLevel: 'silent', ...keys }, {}), {
            logger: false,
          }),
        );
      }
    } else {
      clouds.push(
        await startCloud(
          parseCloudConfig({ database, port: 0, adminKey: ADMIN, logLevel: 'silent', groupCommit }, {}),
          { logger: false },
        ),
      );
    }
    const c = clouds[0]!;
    fleet = new GateFleet();
    const url = c.url!;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as { id: string };
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    // lots and lanes, then the gates, each with its own key (registered over the API)
    const lots: Array<{ id: string; entry: string; exit: string }> = [];
    for (let l = 0; l < lotCount; l++) {
      const lot = await api('POST', '/v1/lots', { name: `bench lot ${l}`, tariff });
      const entry = await api('POST', `/v1/lots/${lot.id}/lanes`, { name: 'in', direction: 'entry' });
      const exit = await api('POST', `/v1/lots/${lot.id}/lanes`, { name: 'out', direction: 'exit' });
      lots.push({ id: lot.id, entry: entry.id, exit: exit.id });
    }
    const specs: GateSpec[] = new Array<GateSpec>(gateCount);
    for (let i = 0; i < gateCount; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, gateCount - i) }, async (_, j) => {
          const g = i + j;
          const key = GateKey.generate();
          const lot = lots[g % lotCount]!;
          const gate = await api('POST', `/v1/lots/${lot.id}/gates`, { name: `gate ${g}`, publicKey: key.publicKey });
          specs[g] = {
            // on several instances the gates alternate between them
            ...(clouds.length > 1
              ? { url: clouds[g % clouds.length]!.url!.replace(/^http/, 'ws') + '/v1/gates/ws' }
              : {}),
            gateId: gate.id,
            seed: /platepay-gate-key-v1 (\S+)/.exec(key.format())![1]!,
            entryLane: lot.entry,
            exitLane: lot.exit,
          };
        }),
      );
    }
    progress(`${label}: connecting the gates`);
    await fleet.ask({ cmd: 'connect', url: url.replace(/^http/, 'ws') + '/v1/gates/ws', gates: specs });
    const admitted = clouds.reduce((s, x) => s + x.gates.connectedGates, 0);
    if (admitted !== gateCount) throw new Error(`${admitted} gates admitted, expected ${gateCount}`);
    // drivers with funded wallets (they link the plates after the gates are admitted: a gate's
    // first allow-list is built at admission from every link)
    const drivers = await Promise.all(
      Array.from({ length: DRIVERS }, async (_, d) => {
        const { driver } = await c.drivers.signUp({
          email: `bench${d}@example.com`,
          password: 'long enough password',
          name: `bench ${d}`,
        });
        const account = (await c.drivers.accounts(driver))[0]!.id;
        await c.drivers.topUp(driver, account, 1_000_000_000, 'bench');
        return { driver, account };
      }),
    );
    return { dir, database, cloud: c, clouds, postgres: Boolean(postgres), fleet, specs, drivers, stop, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Links the plates to the drivers' wallets (round robin); returns the links, for unlinkPlates. */
async function linkPlates(site: BenchSite, plates: string[]): Promise<Array<{ driver: Driver; linkId: string }>> {
  return Promise.all(
    plates.map(async (plate, i) => {
      const d = site.drivers[i % site.drivers.length]!;
      const link = await site.cloud.drivers.linkPlate(d.driver, { plate, accountId: d.account });
      return { driver: d.driver, linkId: link.id };
    }),
  );
}

async function unlinkPlates(site: BenchSite, links: Array<{ driver: Driver; linkId: string }>): Promise<void> {
  await Promise.all(links.map((l) => site.cloud.drivers.unlinkPlate(l.driver, l.linkId)));
}

/** One run: G gates, `exitsPerGate` cars each (entered, then measured leaving). */
export async function runOnce(
  gateCount: number,
  exitsPerGate: number,
  groupCommit: boolean,
  progress: (m: string) => void,
  /** 0: each gate sends its next exit as soon as it has a decision; else about one exit per spacingMs */
  exitSpacingMs = 0,
  /** on PostgreSQL (a fresh database on this server) with 1 or 2 instances, instead of SQLite */
  postgres?: PgBench,
): Promise<CloudBenchRun> {
  const label = postgres
    ? `${gateCount} gates, PostgreSQL, ${postgres.instances} instance${postgres.instances > 1 ? 's' : ''}`
    : `${gateCount} gates, group commit ${groupCommit ? 'on' : 'off'}`;
  const lotCount = Math.min(gateCount, Math.max(1, Math.round((gateCount * exitsPerGate) / CARS_PER_LOT)));
  const site = await startSite(gateCount, lotCount, groupCommit, label, progress, postgres);
  try {
    const { cloud, fleet, database } = site;
    const plates = site.specs.map((_, g) =>
      Array.from({ length: exitsPerGate }, (_, k) => plateOf(g * exitsPerGate + k)),
    );
    await linkPlates(site, plates.flat());
    const tag = `r${Date.now().toString(36)}`;
    progress(`${label}: ${gateCount * exitsPerGate} entries`);
    const entries = await fleet.ask({ cmd: 'run', kind: 'entry', plates, tag });
    if (entries.ev !== 'done' || entries.reasons.entry !== gateCount * exitsPerGate) {
      throw new Error(
        `entries: ${JSON.stringify(entries.ev === 'done' ? [entries.reasons, entries.errors] : entries)}`,
      );
    }
    progress(`${label}: ${gateCount * exitsPerGate} exits`);
    if (postgres) return await postgresRun(site, label, lotCount, exitsPerGate, plates, tag, exitSpacingMs, progress);
    const store = cloud.store as SqliteStore;
    const before: CommitStats = store.commitStats();
    const cpuBefore = mainThreadCpuMs();
    const exits = await fleet.ask({ cmd: 'run', kind: 'exit', plates, tag, spacingMs: exitSpacingMs });
    const cpuAfter = mainThreadCpuMs();
    const after: CommitStats = store.commitStats();
    if (exits.ev !== 'done') throw new Error('no exit results');
    await site.stop();

    const expected = gateCount * exitsPerGate;
    const charged = exits.reasons.charged ?? 0;
    const problems = exitProblems(exits, expected);
    problems.push(...checkDatabase(database, expected, exits.settlementIds));
    if (problems.length) throw new Error(`cloud bench (${label}) FAILED its checks:\n  ${problems.join('\n  ')}`);

    const figures = exitFigures(exits, charged);
    const commits = after.commits - before.commits;
    return {
      gates: gateCount,
      lots: lotCount,
      carsPerLot: Math.round((gateCount * exitsPerGate) / lotCount),
      groupCommit,
      exits: expected,
      charged,
      ...figures,
      commits,
      unitsPerCommit: round(
        (after.units + after.failedUnits - before.units - before.failedUnits) / Math.max(1, commits),
      ),
      commitShare: round((after.commitMs - before.commitMs) / 1000 / figures.seconds, 2),
      cloudCpuMsPerExit: cpuAfter === null || cpuBefore === null ? null : round((cpuAfter - cpuBefore) / expected, 3),
      cloudCpuShare:
        cpuAfter === null || cpuBefore === null ? null : round((cpuAfter - cpuBefore) / 1000 / figures.seconds, 2),
      policyPushes: exits.policies,
    };
  } finally {
    await site.dispose();
  }
}

/** The exit phase of a PostgreSQL run, its checks and its figures (the cloud's CPU is every instance's). */
async function postgresRun(
  site: BenchSite,
  label: string,
  lotCount: number,
  exitsPerGate: number,
  plates: string[][],
  tag: string,
  exitSpacingMs: number,
  progress: (m: string) => void,
): Promise<CloudBenchRun> {
  const gateCount = site.specs.length;
  const stores = site.clouds.map((c) => c.store as PgStore);
  const stats = (): PgStoreStats =>
    stores
      .map((x) => x.commitStats())
      .reduce((a, b) => ({
        commits: a.commits + b.commits,
        retries: a.retries + b.retries,
        failed: a.failed + b.failed,
      }));
  const before = stats();
  const cpuBefore = mainThreadCpuMs();
  const exits = await site.fleet.ask({ cmd: 'run', kind: 'exit', plates, tag, spacingMs: exitSpacingMs });
  const cpuAfter = mainThreadCpuMs();
  const after = stats();
  if (exits.ev !== 'done') throw new Error('no exit results');
  const expected = gateCount * exitsPerGate;
  // the sequencer moves the queued records into the log every ledgerBatchMs: wait for it (running)
  progress(`${label}: waiting for ledger_queue to drain`);
  const drained = await waitForLedger(site.database, expected, LEDGER_DRAIN_TIMEOUT_MS);
  await site.stop();

  const charged = exits.reasons.charged ?? 0;
  const problems: string[] = [];
  if (!drained) problems.push(`the ledger did not catch up within ${LEDGER_DRAIN_TIMEOUT_MS / 1000} s`);
  problems.push(...exitProblems(exits, expected));
  problems.push(...(await checkPostgres(site.database, expected, exits.settlementIds)));
  if (problems.length) throw new Error(`cloud bench (${label}) FAILED its checks:\n  ${problems.join('\n  ')}`);

  const figures = exitFigures(exits, charged);
  return {
    gates: gateCount,
    lots: lotCount,
    carsPerLot: Math.round(expected / lotCount),
    groupCommit: false,
    backend: 'postgres',
    instances: site.clouds.length,
    exits: expected,
    charged,
    ...figures,
    commits: after.commits - before.commits,
    unitsPerCommit: 1,
    commitShare: null,
    retries: after.retries - before.retries,
    failed: after.failed - before.failed,
    cloudCpuMsPerExit: cpuAfter === null || cpuBefore === null ? null : round((cpuAfter - cpuBefore) / expected, 3),
    cloudCpuShare:
      cpuAfter === null || cpuBefore === null ? null : round((cpuAfter - cpuBefore) / 1000 / figures.seconds, 2),
    policyPushes: exits.policies,
  };
}

const LEDGER_DRAIN_TIMEOUT_MS = 120_000;

const BENCH_DATABASE_PREFIX = 'platepay_bench_';

/** Waits until `ledger_queue` is empty and a signed checkpoint covers `records`; false on timeout. */
async function waitForLedger(url: string, records: number, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ queued: string; signed: string }>(
        'SELECT (SELECT COUNT(*) FROM ledger_queue) AS queued, ' +
          '(SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints) AS signed',
      );
      if (Number(rows[0]!.queued) === 0 && Number(rows[0]!.signed) >= records) return true;
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end();
  }
}

/** checkDatabase's checks on a PostgreSQL database (after the ledger queue drained). */
async function checkPostgres(url: string, exits: number, settlementIds: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const one = async (sql: string, params: unknown[] = []) =>
      Number(Object.values((await client.query(sql, params)).rows[0] as Record<string, unknown>)[0]);
    const problems: string[] = [];
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) problems.push(`${what}: ${got}, expected ${want}`);
    };
    expect('settlements', await one('SELECT COUNT(*) FROM settlements'), exits);
    expect('settled exit events', await one('SELECT COUNT(DISTINCT exit_event_id) FROM settlements'), exits);
    expect('settled sessions', await one('SELECT COUNT(DISTINCT session_id) FROM settlements'), exits);
    expect('wallet settlements', await one("SELECT COUNT(*) FROM settlements WHERE method = 'wallet'"), exits);
    expect('charge entries', await one("SELECT COUNT(*) FROM journal_entries WHERE kind = 'charge'"), exits);
    expect(
      'charges matching a settlement',
      await one('SELECT COUNT(*) FROM settlements s JOIN journal_entries j ON j.id = s.journal_entry_id'),
      exits,
    );
    expect('sessions not closed', await one("SELECT COUNT(*) FROM parking_sessions WHERE status != 'closed'"), 0);
    expect('records still queued', await one('SELECT COUNT(*) FROM ledger_queue'), 0);
    expect('ledger records', await one('SELECT COUNT(*) FROM ledger_records'), exits);
    expect(
      'settlements with their ledger record',
      await one('SELECT COUNT(*) FROM settlements s JOIN ledger_records r ON r.ref = s.id'),
      exits,
    );
    expect('records in the tree', await one('SELECT COUNT(*) FROM ledger_nodes WHERE level = 0'), exits);
    expect('largest signed checkpoint', await one('SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints'), exits);
    expect('sum of all postings', await one('SELECT COALESCE(SUM(amount), 0) FROM postings'), 0);
    expect(
      'decided settlements missing from the database',
      settlementIds.length -
        (await one('SELECT COUNT(*) FROM settlements WHERE id = ANY($1::text[])', [settlementIds])),
      0,
    );
    return problems;
  } finally {
    await client.end();
  }
}

/** Exactly-once and ledger checks on the database after a run; returns what is wrong. */
function checkDatabase(path: string, exits: number, settlementIds: string[]): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, number>)[0]!;
    const problems: string[] = [];
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) problems.push(`${what}: ${got}, expected ${want}`);
    };
    expect('settlements', one('SELECT COUNT(*) FROM settlements'), exits);
    expect('settled exit events', one('SELECT COUNT(DISTINCT exit_event_id) FROM settlements'), exits);
    expect('settled sessions', one('SELECT COUNT(DISTINCT session_id) FROM settlements'), exits);
    expect('wallet settlements', one("SELECT COUNT(*) FROM settlements WHERE method = 'wallet'"), exits);
    expect('charge entries', one("SELECT COUNT(*) FROM journal_entries WHERE kind = 'charge'"), exits);
    expect(
      'charges matching a settlement',
      one('SELECT COUNT(*) FROM settlements s JOIN journal_entries j ON j.id = s.journal_entry_id'),
      exits,
    );
    expect('sessions not closed', one("SELECT COUNT(*) FROM parking_sessions WHERE status != 'closed'"), 0);
    expect('ledger records', one('SELECT COUNT(*) FROM ledger_records'), exits);
    expect(
      'settlements with their ledger record',
      one('SELECT COUNT(*) FROM settlements s JOIN ledger_records r ON r.ref = s.id'),
      exits,
    );
    expect('records in the tree', one('SELECT COUNT(*) FROM ledger_nodes WHERE level = 0'), exits);
    expect('largest signed checkpoint', one('SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints'), exits);
    expect('sum of all postings', one('SELECT COALESCE(SUM(amount), 0) FROM postings'), 0);
    const known = db.prepare('SELECT 1 FROM settlements WHERE id = ?');
    const missing = settlementIds.filter((id) => known.get(id) === undefined).length;
    expect('decided settlements missing from the database', missing, 0);
    return problems;
  } finally {
    db.close();
  }
}

export async function runCloudBench(
  quick: boolean,
  progress: (m: string) => void = () => undefined,
  options: { postgres?: { server: string; instances?: 1 | 2 } } = {},
): Promise<Record<string, unknown>> {
  if (options.postgres)
    return runCloudPostgresBench(quick, progress, options.postgres.server, options.postgres.instances);
  const plan = quick
    ? [
        { gates: 10, exitsPerGate: 20 },
        { gates: 100, exitsPerGate: 6 },
      ]
    : [
        { gates: 10, exitsPerGate: 60 },
        { gates: 100, exitsPerGate: 20 },
        { gates: 1000, exitsPerGate: 5 },
      ];
  const loadBefore = loadavg()[0]!;
  const byGates: CloudBenchRun[] = [];
  for (const p of plan) {
    const r = await runOnce(p.gates, p.exitsPerGate, true, progress);
    progress(`${p.gates} gates: ${r.exitsPerSecond} exits/s, decision p99 ${r.decisionP99Ms} ms`);
    byGates.push(r);
  }
  const at100 = plan.find((p) => p.gates === 100)!;
  const base = await runOnce(100, at100.exitsPerGate, false, progress);
  progress(`baseline (group commit off), 100 gates: ${base.exitsPerSecond} exits/s, p99 ${base.decisionP99Ms} ms`);
  const head = byGates.find((r) => r.gates === 100)!;
  return {
    exitsPerSecond: head.exitsPerSecond,
    decisionP50Ms: head.decisionP50Ms,
    decisionP99Ms: head.decisionP99Ms,
    gates: 100,
    groupCommit: true,
    carsPerLot: CARS_PER_LOT,
    byGates,
    baseline: {
      exitsPerSecond: base.exitsPerSecond,
      decisionP50Ms: base.decisionP50Ms,
      decisionP99Ms: base.decisionP99Ms,
      gates: 100,
      groupCommit: false,
      run: base,
    },
    ratio: round(head.exitsPerSecond / base.exitsPerSecond, 2),
    /** 1-minute load average before and after: the figures are for this machine as busy as it was */
    loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
  };
}

/**
 * `bench cloud --db postgres://...`: 100 gates on PostgreSQL with 1 or 2 cloud instances (both when
 * `instances` is not given), each run on a fresh database; the headline is the last instance count.
 */
async function runCloudPostgresBench(
  quick: boolean,
  progress: (m: string) => void,
  server: string,
  instances?: 1 | 2,
): Promise<Record<string, unknown>> {
  const exitsPerGate = quick ? 6 : 20;
  const counts: Array<1 | 2> = instances ? [instances] : [1, 2];
  const loadBefore = loadavg()[0]!;
  const byInstances: CloudBenchRun[] = [];
  for (const n of counts) {
    const r = await runOnce(100, exitsPerGate, false, progress, 0, { server, instances: n });
    progress(
      `PostgreSQL, ${n} instance${n > 1 ? 's' : ''}, 100 gates: ${r.exitsPerSecond} exits/s, ` +
        `decision p50 ${r.decisionP50Ms} ms, p99 ${r.decisionP99Ms} ms, ${r.retries} retries`,
    );
    byInstances.push(r);
  }
  const head = byInstances[byInstances.length - 1]!;
  const server_ = new URL(server);
  return {
    backend: 'postgres',
    /** the server, without its password */
    server: `${server_.hostname}:${server_.port || '5432'}`,
    exitsPerSecond: head.exitsPerSecond,
    decisionP50Ms: head.decisionP50Ms,
    decisionP99Ms: head.decisionP99Ms,
    gates: 100,
    instances: head.instances,
    carsPerLot: CARS_PER_LOT,
    ...(counts.length > 1
      ? {
          byInstances: byInstances.map((r) => ({
            instances: r.instances,
            exitsPerSecond: r.exitsPerSecond,
            decisionP50Ms: r.decisionP50Ms,
            decisionP99Ms: r.decisionP99Ms,
            retries: r.retries,
            run: r,
          })),
        }
      : { run: head }),
    loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
  };
}

// ---------------------------------------------------------------- the soak (`bench cloud --soak`)

export interface CloudSoakSample {
  /** seconds since the soak traffic started */
  atS: number;
  /** the cloud's (main thread's) heap after a forced full GC, and the whole process's RSS */
  heapUsedMiB: number;
  rssMiB: number;
  /** exits charged per second, and the exits' decision p99, over the interval since the last sample */
  exitsPerSecond: number;
  decisionP99Ms: number;
}

export interface CloudSoakResult {
  minutes: number;
  gates: number;
  samples: CloudSoakSample[];
  /** mean heapUsed of the last third of the samples minus that of the first third (after the warm-up) */
  heapGrowthMiB: number;
  /** the growth allowed: max(10% of the first third, 16 MiB) */
  heapLimitMiB: number;
  flat: boolean;
  exits: number;
  /** exits answered `charged` */
  charged: number;
  /** every exit charged exactly once, one ledger record each, all in a signed checkpoint */
  chargedOnce: boolean;
  problems: string[];
  /** 1-minute load average before and after */
  loadAverage: [number, number];
}

const SOAK_GATES = 100;
/** cars per gate per round: a round is their entries, then their exits */
const SOAK_CARS_PER_ROUND = 3;
/** each gate sends about one event per second */
const SOAK_SPACING_MS = 1000;
const SOAK_SAMPLE_MS = 15_000;
const SOAK_WARMUP_SAMPLES = 2;
const MiB = 2 ** 20;

/** A full, forced GC: `gc` when node runs with --expose-gc, else exposed at run time. */
function forcedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Did the heap stay flat? Compares the mean of the last third of the samples with the first third. */
function heapVerdict(samples: CloudSoakSample[]): { growthMiB: number; limitMiB: number; flat: boolean } {
  const steady = samples.length > SOAK_WARMUP_SAMPLES + 1 ? samples.slice(SOAK_WARMUP_SAMPLES) : samples;
  if (steady.length < 2) return { growthMiB: NaN, limitMiB: NaN, flat: false };
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (xs: CloudSoakSample[]) => xs.reduce((s, x) => s + x.heapUsedMiB, 0) / xs.length;
  const first = mean(steady.slice(0, third));
  const growthMiB = mean(steady.slice(-third)) - first;
  const limitMiB = Math.max(0.1 * first, 16);
  return { growthMiB: round(growthMiB), limitMiB: round(limitMiB), flat: growthMiB <= limitMiB };
}

/**
 * The soak: one cloud, 100 gates connected the whole time, cars entering and leaving in rounds at
 * about one event per gate per second for `minutes`. Each round links fresh plates (so every exit
 * closes a session and is charged), and unlinks them after their exits (the allow-list stays the
 * same size). About every 15 s, between rounds, and after the last round, the cloud's heap is
 * measured after a forced GC.
 */
export async function runCloudSoak(
  minutes: number,
  progress: (m: string) => void = () => undefined,
): Promise<CloudSoakResult> {
  const loadBefore = loadavg()[0]!;
  const perRound = SOAK_GATES * SOAK_CARS_PER_ROUND;
  const lotCount = Math.max(1, Math.round(perRound / CARS_PER_LOT));
  const label = `soak, ${SOAK_GATES} gates`;
  const site = await startSite(SOAK_GATES, lotCount, true, label, progress);
  const gc = forcedGc();
  // a read-only connection of our own: each round's settlements must be in the database
  const monitor = new Database(site.database, { readonly: true });
  try {
    const known = monitor.prepare('SELECT 1 FROM settlements WHERE id = ?');
    const problems: string[] = [];
    const problem = (m: string) => {
      if (problems.length < 20) problems.push(m);
    };
    const samples: CloudSoakSample[] = [];
    const base = `s${Date.now().toString(36)}`;
    let plateNo = 0;
    let exits = 0;
    let charged = 0;
    let intervalCharged = 0;
    let intervalLatencies: number[] = [];
    progress(`${label}: ${minutes} min of traffic, ~${SOAK_GATES} events/s, a sample every ${SOAK_SAMPLE_MS / 1000} s`);
    const start = performance.now();
    const end = start + minutes * 60_000;
    let intervalStart = start;
    let nextSample = start + SOAK_SAMPLE_MS;
    for (let r = 0; performance.now() < end; r++) {
      const roundStart = performance.now();
      const plates = site.specs.map(() => Array.from({ length: SOAK_CARS_PER_ROUND }, () => plateOf(plateNo++)));
      const links = await linkPlates(site, plates.flat());
      const tag = `${base}r${r}`;
      const entries = await site.fleet.ask({ cmd: 'run', kind: 'entry', plates, tag, spacingMs: SOAK_SPACING_MS });
      if (entries.ev !== 'done' || entries.reasons.entry !== perRound) {
        problem(
          `round ${r} entries: ${JSON.stringify(entries.ev === 'done' ? [entries.reasons, entries.errors] : entries)}`,
        );
      }
      const out = await site.fleet.ask({ cmd: 'run', kind: 'exit', plates, tag, spacingMs: SOAK_SPACING_MS });
      if (out.ev !== 'done') throw new Error('no exit results');
      const roundCharged = out.reasons.charged ?? 0;
      exits += perRound;
      charged += roundCharged;
      if (roundCharged !== perRound || out.errors.length) {
        problem(
          `round ${r}: ${roundCharged} of ${perRound} exits charged: ${JSON.stringify([out.reasons, out.errors])}`,
        );
      }
      if (new Set(out.settlementIds).size !== out.settlementIds.length) problem(`round ${r}: a settlement id twice`);
      const missing = out.settlementIds.filter((id) => known.get(id) === undefined).length;
      if (missing) problem(`round ${r}: ${missing} decided settlements missing from the database`);
      await unlinkPlates(site, links);
      intervalCharged += roundCharged;
      for (const l of out.latencies) intervalLatencies.push(l);

      // sample at the round boundary nearest to 15 s after the last sample (between rounds: no
      // event is in flight while the GC runs)
      const now = performance.now();
      if (now + (now - roundStart) / 2 >= nextSample || now >= end) {
        gc();
        const mem = process.memoryUsage();
        const latencies = Float64Array.from(intervalLatencies).sort();
        const sample: CloudSoakSample = {
          atS: round((now - start) / 1000),
          heapUsedMiB: round(mem.heapUsed / MiB),
          rssMiB: round(mem.rss / MiB),
          exitsPerSecond: round(intervalCharged / ((now - intervalStart) / 1000)),
          decisionP99Ms: round(percentile(latencies, 99, NaN), 2),
        };
        samples.push(sample);
        progress(
          `${sample.atS} s: heap ${sample.heapUsedMiB} MiB, rss ${sample.rssMiB} MiB, ` +
            `${sample.exitsPerSecond} exits/s, p99 ${sample.decisionP99Ms} ms (${exits} exits so far)`,
        );
        intervalCharged = 0;
        intervalLatencies = [];
        intervalStart = performance.now(); // the GC is not the cloud's time
        nextSample = now + SOAK_SAMPLE_MS;
      }
    }
    progress(`${label}: ${exits} exits; closing and checking the database`);
    await site.stop();
    const dbProblems = checkDatabase(site.database, exits, []);
    if (charged !== exits) problem(`${charged} of ${exits} exits charged`);
    for (const p of dbProblems) problem(p);
    const verdict = heapVerdict(samples);
    return {
      minutes,
      gates: SOAK_GATES,
      samples,
      heapGrowthMiB: verdict.growthMiB,
      heapLimitMiB: verdict.limitMiB,
      flat: verdict.flat,
      exits,
      charged,
      chargedOnce: problems.length === 0,
      problems,
      loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
    };
  } finally {
    monitor.close();
    await site.dispose();
  }
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) void gateWorker();
