/**
 * How fast the cloud finds the session of an exit as the lot grows: lots of
 * 100 to 100,000 open sessions in a real SQLite database (the cloud's own
 * store and repository), each exit looked up by its read's candidate keys
 * (`unclosedByKeys`, as the parking service does) and matched; the baseline
 * reads every unclosed session of the lot (`unclosedInLot`, served from the
 * repository's in-memory copy) and matches against all of them, as the
 * cloud did before the keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeys } from '../../cloud/sessions/plate-keys.js';
import type { ParkingSession } from '../../cloud/storage/repositories.js';
import { SqliteStore } from '../../cloud/storage/sqlite/sqlite-store.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import type { ExitObservation } from './exit-reads.js';
import { PlatePopulation } from './plate-population.js';
import { cloudMatcher } from './settlement-simulation.js';
import { SimulatedLot } from './simulated-lot.js';

export interface MatchingSpeed {
  sessions: number;
  /** exits looked up and matched per second, by candidate keys */
  matchesPerSecond: number;
  /** sessions the keys found per exit (compared by the matcher) */
  candidatesPerExit: number;
  baseline: { matchesPerSecond: number; candidatesPerExit: number };
}

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

export async function matchingSpeeds(
  observations: readonly ExitObservation[],
  sizes: readonly number[],
  seed: number,
  budgetMs = 1000,
): Promise<MatchingSpeed[]> {
  const dir = await mkdtemp(join(tmpdir(), 'platepay-matching-'));
  const store = SqliteStore.open(join(dir, 'cloud.db'));
  try {
    const reads = observations.flatMap((x) => (x.read ? [x.read] : []));
    const out: MatchingSpeed[] = [];
    for (const [l, size] of sizes.entries()) {
      const lotId = `lot-${l}`;
      await fillLot(store, lotId, lotPlates(observations, size, seed + l));
      const time = async (one: (i: number) => Promise<number>) => {
        let n = 0;
        let compared = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < budgetMs) for (let k = 0; k < 8; k++, n++) compared += await one(n);
        return { matchesPerSecond: Math.round(n / ((performance.now() - t0) / 1000)), candidatesPerExit: compared / n };
      };
      const keyed = await time(async (i) => {
        const read = reads[i % reads.length]!;
        const found = await store.transaction((r) => r.sessions.unclosedByKeys(lotId, readKeys(read.plate)));
        cloudMatcher(read, found);
        return found.length;
      });
      const baseline = await time(async (i) => {
        const read = reads[i % reads.length]!;
        const all = await store.transaction((r) => r.sessions.unclosedInLot(lotId));
        cloudMatcher(read, all);
        return all.length;
      });
      out.push({
        sessions: size,
        matchesPerSecond: keyed.matchesPerSecond,
        candidatesPerExit: Math.round(keyed.candidatesPerExit * 100) / 100,
        baseline: { matchesPerSecond: baseline.matchesPerSecond, candidatesPerExit: size },
      });
    }
    return out;
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The dataset's cars (whose reads are matched) among strangers and look-alike neighbours, `size` in all. */
function lotPlates(observations: readonly ExitObservation[], size: number, seed: number): string[] {
  const rng = new SeededRandom(seed);
  const population = new PlatePopulation(
    observations.map((x) => x.truth),
    rng,
  );
  const lot = new SimulatedLot();
  for (const x of observations) if (lot.size < size && !lot.sessionOf(x.truth)) lot.open(x.truth);
  for (let misses = 0; lot.size < size && misses < 10_000;) {
    const before = lot.size;
    const plate =
      rng.chance(0.15) && lot.size > 0
        ? population.lookAlikeNeighbour(lot.plateOf(lot.randomSession(rng)))
        : population.synthetic();
    if (!lot.sessionOf(plate)) lot.open(plate);
    misses = lot.size === before ? misses + 1 : 0;
  }
  return lot.all().map((s) => s.plate);
}

async function fillLot(store: SqliteStore, lotId: string, plates: readonly string[]): Promise<void> {
  const laneId = `${lotId}-in`;
  await store.transaction(async (r) => {
    await r.lots.insertLot({ id: lotId, name: lotId, tariff, createdAt: 0 });
    await r.lots.insertLane({ id: laneId, lotId, name: 'in', direction: 'entry', createdAt: 0 });
  });
  for (let i = 0; i < plates.length; i += 5000) {
    await store.transaction(async (r) => {
      for (const [j, plate] of plates.slice(i, i + 5000).entries()) {
        const n = i + j;
        const session: ParkingSession = {
          id: `${lotId}-s${n}`,
          lotId,
          plate,
          entryEventId: `${lotId}-e${n}`,
          entryLaneId: laneId,
          entryAt: n,
          entryConfidence: 1,
          status: 'open',
          exitEventId: null,
          exitAt: null,
          fee: null,
          paidAt: null,
          passbackFlag: false,
        };
        await r.sessions.insert(session);
      }
    });
  }
}
