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
 * (transactions committed, run again after a serialization failure, a
 * deadlock or a duplicate, failed; statements sent), and the server's WAL
 * and CPU per exit come from pg-costs.ts. SQLite with group commit at 100
 * gates runs first in the same invocation, for the ratio.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { PgStore, PgStoreStats } from '../../cloud/storage/postgres/pg-store.js';
import type { CommitStats, SqliteStore } from '../../cloud/storage/sqlite/sqlite-store.js';
import { plateOf } from './gate-fleet.js';
import { postgresCpuMs, walPosition } from './pg-costs.js';
import { BenchSite, CARS_PER_LOT, PgBench, linkPlates, startSite } from './bench-site.js';
import {
  LEDGER_DRAIN_TIMEOUT_MS,
  checkDatabase,
  checkPostgres,
  exitFigures,
  exitProblems,
  round,
  waitForLedger,
} from './bench-checks.js';

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
  /** PostgreSQL only: transaction attempts aborted (serialization failure, deadlock, duplicate) and run again, and failures */
  retries?: number;
  failed?: number;
  /** PostgreSQL only, per exit: statements sent (round trips, BEGIN and COMMIT included), WAL bytes, server CPU ms */
  roundTripsPerExit?: number;
  walBytesPerExit?: number;
  databaseCpuMsPerExit?: number | null;
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
        roundTrips: a.roundTrips + b.roundTrips,
      }));
  const before = stats();
  const walBefore = await walPosition(site.database);
  const dbCpuBefore = postgresCpuMs();
  const cpuBefore = mainThreadCpuMs();
  const exits = await site.fleet.ask({ cmd: 'run', kind: 'exit', plates, tag, spacingMs: exitSpacingMs });
  const cpuAfter = mainThreadCpuMs();
  const dbCpuAfter = postgresCpuMs();
  const walAfter = await walPosition(site.database);
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
    roundTripsPerExit: round((after.roundTrips - before.roundTrips) / expected, 1),
    walBytesPerExit: Math.round((walAfter - walBefore) / expected),
    databaseCpuMsPerExit:
      dbCpuAfter === null || dbCpuBefore === null ? null : round((dbCpuAfter - dbCpuBefore) / expected, 3),
    cloudCpuMsPerExit: cpuAfter === null || cpuBefore === null ? null : round((cpuAfter - cpuBefore) / expected, 3),
    cloudCpuShare:
      cpuAfter === null || cpuBefore === null ? null : round((cpuAfter - cpuBefore) / 1000 / figures.seconds, 2),
    policyPushes: exits.policies,
  };
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
  // SQLite with group commit in the same run: the machine is as busy for both, so the ratio carries
  const sqlite = await runOnce(100, exitsPerGate, true, progress);
  progress(`SQLite, 100 gates: ${sqlite.exitsPerSecond} exits/s, decision p99 ${sqlite.decisionP99Ms} ms`);
  const byInstances: CloudBenchRun[] = [];
  for (const n of counts) {
    const r = await runOnce(100, exitsPerGate, false, progress, 0, { server, instances: n });
    progress(
      `PostgreSQL, ${n} instance${n > 1 ? 's' : ''}, 100 gates: ${r.exitsPerSecond} exits/s ` +
        `(${round(r.exitsPerSecond / sqlite.exitsPerSecond, 2)}x SQLite), ` +
        `decision p50 ${r.decisionP50Ms} ms, p99 ${r.decisionP99Ms} ms, ${r.retries} retries, ` +
        `${r.roundTripsPerExit} round trips, ${r.walBytesPerExit} WAL bytes and ${r.databaseCpuMsPerExit} ms server CPU per exit`,
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
            ratioToSqlite: round(r.exitsPerSecond / sqlite.exitsPerSecond, 2),
            decisionP50Ms: r.decisionP50Ms,
            decisionP99Ms: r.decisionP99Ms,
            retries: r.retries,
            run: r,
          })),
        }
      : { run: head }),
    ratioToSqlite: round(head.exitsPerSecond / sqlite.exitsPerSecond, 2),
    /** SQLite with group commit, 100 gates, in the same run (the comparison the targets are stated against) */
    sqlite: {
      exitsPerSecond: sqlite.exitsPerSecond,
      decisionP50Ms: sqlite.decisionP50Ms,
      decisionP99Ms: sqlite.decisionP99Ms,
      cloudCpuMsPerExit: sqlite.cloudCpuMsPerExit,
      run: sqlite,
    },
    loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
  };
}
