/**
 * A car park simulated exit by exit, to count how often the cloud's matcher
 * charges the right session, sends the exit to a human, or charges the
 * wrong session (the one outcome a driver must never see). Pure apart from
 * the seeded random source: the same inputs and seed give the same counts.
 *
 * The lot holds `sessions` open sessions at every exit: the dataset's true
 * plates (its cars enter, and leave by one of their real images' reads),
 * real plates from other datasets, plausible synthetic plates, and near
 * neighbours of all of these (a look-alike swapped; one character dropped
 * or added), which is where a misread becomes somebody else's plate.
 *
 * Each exit: pick an image; if its car has no open session it enters first;
 * the lot is topped up or thinned (never the exiting car) to `sessions`; the
 * read is matched against the sessions its candidate keys find, with the
 * cloud's own `matchExit`; the car then leaves (its session closes whatever
 * the outcome, and a wrongly charged session closes too).
 */
import { defaultMatchOptions, matchExit, plateDistanceKind } from '../../cloud/sessions/plate-matching.js';
import type { ExitRead, MatchResult, OpenSessionRef } from '../../cloud/sessions/plate-matching.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import type { ExitObservation } from './exit-reads.js';
import { PlatePopulation } from './plate-population.js';
import { SimulatedLot, type LotChange } from './simulated-lot.js';

export type Matcher = (read: ExitRead, open: readonly OpenSessionRef[]) => MatchResult;

/** The cloud's matcher as the parking service calls it (default options). */
export const cloudMatcher: Matcher = (read, open) => matchExit(read, open, defaultMatchOptions);

/**
 * The baseline: the cloud's rule before the settlement bench, as it was
 * (cloud/sessions/plate-matching.ts at 494b86a): a confident read (>= 0.9)
 * that equals one plate won over its look-alike and one-character-off
 * twins, an exact read that was the only fit was charged at any
 * confidence, and sessions one character away did not count.
 */
export const formerMatcher: Matcher = (read, open) => {
  const exact: string[] = [];
  const tolerant: Array<{ id: string; difference: 'look-alike' | 'missing' | 'extra' }> = [];
  for (const s of open) {
    const kind = plateDistanceKind(read.plate, s.plate);
    if (kind === 'exact') exact.push(s.id);
    else if (kind !== null && kind !== 'different') tolerant.push({ id: s.id, difference: kind });
  }
  const confident = read.confidence >= 0.9;
  const all = () => [...exact, ...tolerant.map((t) => t.id)].sort();
  if (exact.length >= 2) return { kind: 'ambiguous', candidates: all() };
  if (exact.length === 1)
    return tolerant.length === 0 || confident
      ? { kind: 'exact', sessionId: exact[0]! }
      : { kind: 'ambiguous', candidates: all() };
  if (tolerant.length === 0) return { kind: 'none' };
  if (tolerant.length === 1)
    return confident
      ? { kind: 'tolerant', sessionId: tolerant[0]!.id, difference: tolerant[0]!.difference }
      : { kind: 'low-confidence', candidates: [tolerant[0]!.id] };
  return { kind: 'ambiguous', candidates: all() };
};

export interface SimulationOptions {
  observations: readonly ExitObservation[];
  /** real plates of other datasets, mixed into the lot */
  otherPlates: readonly string[];
  sessions: number;
  exits: number;
  seed: number;
  match?: Matcher;
  /** told of every step, in order: the lot's sessions opening and closing, and each exit with its outcome */
  trace?: (step: SimulationStep) => void;
  /**
   * chance that a car has a near twin parking here too, a plate one look-alike
   * or one character away (default 0.16: about 11% of the lot then has a
   * look-alike twin in it, the dataset's cars as often as the others)
   */
  neighbourChance?: number;
}

export type ExitOutcome = 'right' | 'wrong' | 'review' | 'held' | 'no-read';

/** One step of a simulation, for the end-to-end pass to replay. */
export type SimulationStep =
  | LotChange
  | {
      op: 'exit';
      read: { plate: string; confidence: number } | null;
      /** the exiting car's session */
      own: string;
      outcome: ExitOutcome;
      /** the session charged (right or wrong) */
      charged: string | null;
    };

export interface WrongCharge {
  truth: string;
  read: string;
  confidence: number;
  charged: string;
}

export interface SimulationCounts {
  exits: number;
  /** charged the car's own session */
  right: number;
  /** charged another car's session */
  wrong: number;
  /** ambiguous or low-confidence: a human chooses among candidates */
  review: number;
  /** no open session fits the read: held, to a human as 'no-session' */
  held: number;
  /** the lane read no plate */
  noRead: number;
  /** shares of the lot, at the end, with a look-alike / one-character-off neighbour */
  lookAlikeShare: number;
  oneOffShare: number;
  /** the first few wrong charges, for the report */
  wrongExamples: WrongCharge[];
}

export function simulateExits(o: SimulationOptions): SimulationCounts {
  if (!Number.isInteger(o.sessions) || o.sessions < 1) throw new RangeError(`sessions must be >= 1, got ${o.sessions}`);
  if (!Number.isInteger(o.exits) || o.exits < 0) throw new RangeError(`exits must be >= 0, got ${o.exits}`);
  if (o.observations.length === 0) throw new RangeError('no observations to simulate exits from');
  const match = o.match ?? cloudMatcher;
  const neighbourChance = o.neighbourChance ?? 0.16;
  const rng = new SeededRandom(o.seed);
  const truths = [...new Set(o.observations.map((x) => x.truth))];
  const population = new PlatePopulation([...truths, ...o.otherPlates], rng);
  const lot = new SimulatedLot(o.trace);

  const openIfFree = (plate: string): void => {
    if (plate.length > 0 && !lot.sessionOf(plate)) lot.open(plate);
  };
  const neighbourOf = (plate: string): string =>
    rng.chance(0.75) ? population.lookAlikeNeighbour(plate) : population.oneOffNeighbour(plate);
  // some of the dataset's cars have a near twin that parks here too (a plate one look-alike or one character away)
  const truthSet = new Set(truths);
  const twins = truths.flatMap((t) => (rng.chance(neighbourChance) ? [neighbourOf(t)] : []));
  /** One car arrives: a dataset car, a twin, or a stranger (real or synthetic, sometimes with its own twin). */
  const arrive = (): void => {
    const r = rng.next();
    if (r < 0.3) openIfFree(rng.pick(truths));
    else if (r < 0.45 && twins.length > 0) openIfFree(rng.pick(twins));
    else {
      const plate = r < 0.65 ? population.realPlate() : population.synthetic();
      if (lot.sessionOf(plate) || truthSet.has(plate)) return;
      lot.open(plate);
      if (rng.chance(neighbourChance)) openIfFree(neighbourOf(plate));
    }
  };
  const fill = (): void => {
    for (let misses = 0; lot.size < o.sessions && misses < 1000;) {
      const before = lot.size;
      arrive();
      misses = lot.size === before ? misses + 1 : 0;
    }
  };
  fill();

  const counts: SimulationCounts = {
    exits: 0,
    right: 0,
    wrong: 0,
    review: 0,
    held: 0,
    noRead: 0,
    lookAlikeShare: 0,
    oneOffShare: 0,
    wrongExamples: [],
  };
  for (let n = 0; n < o.exits; n++) {
    const car = rng.pick(o.observations);
    if (!lot.sessionOf(car.truth)) lot.open(car.truth);
    fill();
    const own = lot.sessionOf(car.truth)!;
    while (lot.size > o.sessions) lot.close(lot.randomSession(rng, own));

    counts.exits++;
    let outcome: ExitOutcome = 'no-read';
    let charged: string | null = null;
    if (car.read) {
      const result = match(car.read, lot.candidates(car.read.plate));
      if (result.kind === 'exact' || result.kind === 'tolerant') {
        charged = result.sessionId;
        outcome = charged === own ? 'right' : 'wrong';
      } else outcome = result.kind === 'none' ? 'held' : 'review';
    }
    counts[outcome === 'no-read' ? 'noRead' : outcome]++;
    o.trace?.({ op: 'exit', read: car.read, own, outcome, charged });
    if (outcome === 'wrong') {
      if (counts.wrongExamples.length < 20)
        counts.wrongExamples.push({
          truth: car.truth,
          read: car.read!.plate,
          confidence: car.read!.confidence,
          charged: lot.plateOf(charged!),
        });
      lot.close(charged!);
    }
    if (lot.sessionOf(car.truth)) lot.close(own);
    // another car leaves unseen, so the lot keeps changing
    if (lot.size > 1) lot.close(lot.randomSession(rng));
  }
  fill();
  const shares = lot.neighbourShares();
  counts.lookAlikeShare = shares.lookAlike;
  counts.oneOffShare = shares.oneOff;
  return counts;
}
