/**
 * `platepay demo`: the whole product on one machine. A cloud (SQLite, or an
 * empty PostgreSQL database with --db; generated keys, a partner's witness), a lot with a tariff, drivers with
 * linked plates (and some cars nobody linked), and a gate unit with an entry
 * and an exit lane whose replay cameras show rendered cars (Chinese blue and
 * green, US and European plates; straight and tilted, dim and bright,
 * sharp and blurred). Each car is triggered through the gate unit's local
 * HTTP port as a loop detector would; every decision is printed as it
 * happens. Parking time passes on a demo clock (the cars stay for hours in
 * seconds). At the end the ledger is checked over HTTP as a partner would
 * check it, and a summary is printed. Exits 1 if the ledger does not verify.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseCommandArgs, UsageError } from './args.js';
import { DEMO_POSTGRES_CONFIG, DemoSite, writeCarScenes } from '../demo/demo-site.js';
import { isPostgresUrl } from '../cloud/storage/postgres/pg-connection.js';
import type { SceneSpec } from '../scenes/scene-renderer.js';
import { plainText } from '../scenes/scene-renderer.js';
import { randomSceneSpec } from '../scenes/random-scene.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import type { Clock } from '../time/clock.js';
import { parseEdgeConfig } from '../edge/edge-config.js';
import { startGateUnit } from '../edge/gate-unit.js';
import type { LaneOutcome } from '../edge/lane/lane.js';
import { PlateReader } from '../edge/vision/plate-reader.js';
import { percentile } from '../edge/vision/percentile.js';

const help = `usage: platepay demo [--dir DIR] [--db DATABASE]

Runs a cloud and a gate unit (entry and exit lane) on this machine, drives
rendered cars through real plate recognition, prints each decision, then
verifies the signed ledger and prints a summary.

  --dir DIR   keep the demo's files (database, keys, journal, scenes) in DIR,
              made if missing (default: a temporary folder, removed at the end);
              its ledger can be exported and verified afterwards
  --db DATABASE
              the cloud's database: a SQLite file that does not exist yet,
              or postgres://user:password@host:port/db with no lots in it
              (default: DIR/cloud.db)
`;

/** Wall time plus an offset that the demo moves forward, so cars can stay for hours. */
class DemoClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  /** moves the clock so that it reads `hour`:00 at UTC+8 today */
  startAt(hour: number): void {
    const day = 86_400_000;
    const local = Date.now() + 8 * 3_600_000;
    this.offset = Math.floor(local / day) * day + hour * 3_600_000 - local;
  }
  advance(minutes: number): void {
    this.offset += minutes * 60_000;
  }
}

interface DemoCar {
  style: PlateStyle;
  seed: number;
  difficulty: 'easy' | 'varied';
  /** who linked it (null: nobody; the exit is held for payment) */
  owner: 'alice' | 'bob' | null;
}

/** The cast: seeds fix each car's plate and look (a few of the newer families among them: a lorry's two-row plate, a British, a Brazilian and a Hong Kong cross-boundary car). */
const CARS: DemoCar[] = [
  { style: 'cn-blue', seed: 11, difficulty: 'easy', owner: 'alice' },
  { style: 'us', seed: 12, difficulty: 'easy', owner: 'bob' },
  { style: 'cn-hk', seed: 13, difficulty: 'easy', owner: 'bob' },
  { style: 'cn-green', seed: 14, difficulty: 'easy', owner: 'alice' },
  { style: 'cn-blue', seed: 15, difficulty: 'varied', owner: 'alice' },
  { style: 'us', seed: 16, difficulty: 'varied', owner: null },
  { style: 'eu', seed: 17, difficulty: 'varied', owner: 'bob' },
  { style: 'cn-yellow-two-row', seed: 18, difficulty: 'easy', owner: null },
  { style: 'cn-green', seed: 19, difficulty: 'varied', owner: 'bob' },
  { style: 'br-mercosur', seed: 20, difficulty: 'easy', owner: 'alice' },
  { style: 'uk', seed: 21, difficulty: 'easy', owner: null },
  { style: 'cn-blue', seed: 22, difficulty: 'varied', owner: 'bob' },
];

/** The order in which the cars leave (not the order they came in). */
const EXIT_ORDER = [3, 0, 7, 5, 10, 1, 9, 2, 6, 11, 4, 8];

/** pads to a terminal width: CJK characters take two columns */
function padColumns(text: string, columns: number): string {
  const width = [...text].reduce(
    (w, c) => w + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(c) ? 2 : 1),
    0,
  );
  return text + ' '.repeat(Math.max(0, columns - width));
}

const yuan = (minor: number): string => `¥${(minor / 100).toFixed(2)}`;
const hhmm = (ms: number): string => new Date(ms + 8 * 3_600_000).toISOString().slice(11, 16);

export const demoCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      dir: { type: 'string' },
      db: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (values.dir === '') throw new UsageError('--dir needs a folder');
    if (values.db === '') throw new UsageError('--db needs a SQLite file or a postgres:// URL');
    if (values.db !== undefined && !isPostgresUrl(values.db) && existsSync(values.db)) {
      throw new UsageError(`--db: ${values.db} exists; the demo needs a new database`);
    }
    const database = values.db === undefined || isPostgresUrl(values.db) ? values.db : resolve(values.db);
    const dir = values.dir ? await makeFolder(resolve(values.dir)) : await mkdtemp(join(tmpdir(), 'platepay-demo-'));
    try {
      if (database !== undefined && !isPostgresUrl(database) && !existsSync(dirname(database))) {
        throw new UsageError(`--db: the folder of ${database} does not exist`);
      }
      const result = await runDemo(dir, (line) => process.stdout.write(line + '\n'), { database });
      if (values.dir) process.stdout.write(keptFilesNote(dir, database) + '\n');
      return result.ledgerVerified ? 0 : 1;
    } finally {
      if (!values.dir) await rm(dir, { recursive: true, force: true });
    }
  },
};

/** `--dir`: made with its parents if missing; a usage error naming it when it cannot be. */
async function makeFolder(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'a part of that path is a file' : e.message;
    throw new UsageError(`--dir: cannot make the folder ${dir}: ${why}`);
  }
  return dir;
}

/** What a kept folder holds and how to check its ledger after the demo. */
function keptFilesNote(dir: string, database: string | undefined): string {
  const from =
    database !== undefined && isPostgresUrl(database)
      ? `--config ${join(dir, DEMO_POSTGRES_CONFIG)}`
      : `--db ${database ?? join(dir, 'cloud.db')}`;
  return (
    `\nkept in ${dir}: the cloud's database and keys, the gate's journal and key, the scenes.\n` +
    `check its ledger again: npx platepay ledger export ${from} --out ledger && npx platepay ledger verify --dir ledger`
  );
}

export interface DemoResult {
  /** every entry and exit, in order, with the plate that was really there */
  outcomes: Array<{ kind: 'entry' | 'exit'; truth: string; outcome: LaneOutcome }>;
  ledgerVerified: boolean;
  ledgerRecords: number;
}

export interface DemoOptions {
  /** the cloud's database (default: dir/cloud.db); it must hold no lots */
  database?: string;
}

export async function runDemo(
  dir: string,
  say: (line: string) => void,
  options: DemoOptions = {},
): Promise<DemoResult> {
  const started = Date.now();
  const clock = new DemoClock();
  clock.startAt(8);
  const specs: SceneSpec[] = CARS.map((c) => randomSceneSpec(c.style, c.seed, c.difficulty));
  const plates = specs.map((s) => plainText(s.plate.text));

  say(`platepay demo: files in ${dir}`);
  const backend = options.database && isPostgresUrl(options.database) ? 'PostgreSQL' : 'SQLite';
  say(`starting the cloud (${backend}, signed ledger, a partner bank as witness) ...`);
  const site = await DemoSite.start({ dir, database: options.database, clock, witness: true });
  let unit: Awaited<ReturnType<typeof startGateUnit>> | null = null;
  try {
    const existing = await site.api<{ lots: unknown[] }>('GET', '/v1/lots');
    if (existing.lots.length > 0) {
      throw new UsageError(
        `the database already has ${existing.lots.length} lot(s); the demo needs an empty one (a new --dir or --db)`,
      );
    }
    const { lotId, laneIds } = await site.addLot('Airport P1', [
      { name: 'P1 in', direction: 'entry' },
      { name: 'P1 out', direction: 'exit' },
    ]);
    const [entryLane, exitLane] = laneIds as [string, string];
    const gate = await site.addGate(lotId, 'p1-gate');
    const owned = (who: string) => plates.filter((_, i) => CARS[i]!.owner === who);
    const alice = await site.addDriver('alice@example.com', 20_000, owned('alice'));
    const bob = await site.addDriver('bob@example.com', 0, owned('bob'), { savedCard: true });
    say(
      `lot "Airport P1": ${yuan(500)} per hour after 15 free minutes, at most ${yuan(6000)} a day; ` +
        `alice and bob linked ${owned('alice').length + owned('bob').length} plates, ` +
        `${plates.length - owned('alice').length - owned('bob').length} cars are unlinked`,
    );
    say(
      `payments: alice topped up ${yuan(20_000)} with the test provider's card (credited when its signed webhook ` +
        `arrived); bob keeps the test card on file, so his exits are charged on it through the provider`,
    );

    process.stdout.write(`rendering ${CARS.length} cars for the entry and exit cameras `);
    const exitSpecs = EXIT_ORDER.map((i) => ({
      ...randomSceneSpec(CARS[i]!.style, 500 + i, CARS[i]!.difficulty),
      plate: specs[i]!.plate,
    }));
    await writeCarScenes(join(dir, 'camera-in'), specs, () => process.stdout.write('.'));
    await writeCarScenes(join(dir, 'camera-out'), exitSpecs, () => process.stdout.write('.'));
    process.stdout.write('\n');

    say('starting the gate unit (loading the ONNX models) ...');
    const lane = (laneId: string, direction: string, camera: string) => ({
      laneId,
      direction,
      camera: { type: 'replay', dir: camera },
      barrier: { type: 'simulated' },
      presence: 'trigger',
      holdMs: 0,
    });
    const config = parseEdgeConfig(
      {
        gateId: gate.gateId,
        cloudUrl: site.url.replace('http', 'ws') + '/v1/gates/ws',
        keyFile: gate.keyFile,
        journal: join(dir, 'edge-journal.db'),
        http: { host: '127.0.0.1', port: 0 },
        threads: 2,
        lanes: [lane(entryLane, 'entry', 'camera-in'), lane(exitLane, 'exit', 'camera-out')],
      },
      dir,
    );
    const reader = await PlateReader.create({ threads: 2 });
    await reader.read(join(dir, 'camera-in', 'car-0000', 'frame-0.jpg')); // the first inference allocates
    unit = await startGateUnit(config, { clock, reader });
    for (let i = 0; i < 100 && !unit.uplink.online; i++) await new Promise((r) => setTimeout(r, 50));
    if (!unit.uplink.online) throw new Error('the gate unit could not connect to the cloud');

    const trigger = async (laneId: string): Promise<LaneOutcome> => {
      const res = await fetch(`${unit!.url}/lanes/${laneId}/trigger`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`trigger ${laneId}: ${res.status} ${await res.text()}`);
      const outcome = (await res.json()) as LaneOutcome;
      await fetch(`${unit!.url}/lanes/${laneId}/gone`, { method: 'POST' });
      return outcome;
    };
    const show = (kind: string, truth: string, o: LaneOutcome) => {
      const read = o.plate || '(no read)';
      const misread = o.plate && o.plate !== truth ? `  [misread; plate is ${truth}]` : '';
      const fee = o.fee !== null && o.fee > 0 ? yuan(o.fee) : '';
      say(
        `  ${hhmm(clock.now())}  ${kind.padEnd(5)} ${padColumns(read, 10)} ${o.action.toUpperCase().padEnd(4)} ` +
          `${o.reason.padEnd(16)} ${fee.padStart(8)} ${String(o.timings.totalMs).padStart(5)} ms${misread}`,
      );
    };

    say('\n  time   lane  plate      gate reason                fee  trigger->barrier');
    const outcomes: Array<{ kind: 'entry' | 'exit'; truth: string; o: LaneOutcome }> = [];
    for (const [i, plate] of plates.entries()) {
      const o = await trigger(entryLane);
      outcomes.push({ kind: 'entry', truth: plate, o });
      show('entry', plate, o);
      clock.advance(4 + (i % 3) * 7);
    }
    clock.advance(35);
    for (const i of EXIT_ORDER) {
      clock.advance(9 + ((i * 37) % 50));
      const o = await trigger(exitLane);
      outcomes.push({ kind: 'exit', truth: plates[i]!, o });
      show('exit', plates[i]!, o);
    }

    for (let i = 0; i < 100 && unit.journal.outboxSize > 0; i++) await new Promise((r) => setTimeout(r, 50));
    say('\nverifying the ledger over HTTP as a partner would (every record, checkpoint signature and cosignature) ...');
    const ledger = await site.verifyLedger();

    const exits = outcomes.filter((x) => x.kind === 'exit').map((x) => x.o);
    const charged = exits.filter((o) => o.reason === 'charged');
    const opened = outcomes.filter((x) => x.o.action === 'open' && x.o.barrierAcked).map((x) => x.o.timings.totalMs);
    opened.sort((a, b) => a - b);
    const rightReads = outcomes.filter((x) => x.o.plate === x.truth).length;
    const held = exits.filter((o) => o.action === 'hold');
    const reasons = [...new Set(held.map((o) => o.reason))]
      .map((r) => `${held.filter((o) => o.reason === r).length} ${r}`)
      .join(', ');
    say('\nsummary');
    say(`  cars            ${CARS.length} in, ${exits.length} out; plates read right ${rightReads}/${outcomes.length}`);
    say(
      `  exits           ${charged.length} charged (${yuan(charged.reduce((s, o) => s + (o.fee ?? 0), 0))}), ` +
        `${held.length} held${reasons ? ` (${reasons})` : ''}`,
    );
    say(
      `  barrier opened  ${opened.length} times; trigger -> open p50 ${percentile(opened, 50, NaN)} ms, ` +
        `max ${opened[opened.length - 1] ?? NaN} ms`,
    );
    if (ledger.ok) {
      say(
        `  ledger          verified: ${ledger.records} records, ${ledger.checkpoints} checkpoints, ` +
          `cosigned by ${ledger.cosignedBy.join(', ') || 'nobody'}`,
      );
    } else {
      say(`  ledger          NOT verified: ${ledger.problem}`);
    }
    const methods: string[] = [];
    for (const driver of [alice, bob]) {
      const { receipts } = await site.api<{ receipts: Array<{ settlement: { method: string } }> }>(
        'GET',
        '/v1/me/receipts',
        undefined,
        driver.token,
      );
      methods.push(...receipts.map((r) => r.settlement.method));
    }
    say(
      `  payments        ${methods.filter((m) => m === 'wallet').length} exits paid from alice's wallet, ` +
        `${methods.filter((m) => m === 'card').length} charged on bob's card through the test provider`,
    );
    say(`  took            ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      outcomes: outcomes.map((x) => ({ kind: x.kind, truth: x.truth, outcome: x.o })),
      ledgerVerified: ledger.ok,
      ledgerRecords: ledger.records,
    };
  } finally {
    await unit?.close();
    await site.close();
  }
}
