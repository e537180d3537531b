/**
 * The end-to-end pass: the simulated car park replayed through the cloud's
 * own services on a real SQLite database: every car that enters is an
 * entry event (`ParkingService.submitEvent`, its plate linked to a funded
 * wallet), every simulated exit an exit event, matched by the cloud's
 * candidate keys and matcher, settled, charged and recorded in the ledger.
 * The cloud must reach the simulation's decision at every exit: the same
 * session charged, or a review, or held with no session fitting.
 *
 * Cars that leave without a simulated exit (the lot's turnover) and cars
 * whose exit went to review are closed in the database directly, as an
 * operator would resolve them; only the simulated exits are compared.
 * Simulated time runs 11 minutes per exit, so that no exit falls within the
 * cloud's 10-minute "the same car seen again" window of another.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCloudConfig } from '../../cloud/cloud-config.js';
import { startCloud } from '../../cloud/cloud-service.js';
import type { Driver } from '../../cloud/storage/repositories.js';
import type { ExitOutcome, SimulationStep } from './settlement-simulation.js';

export interface EndToEndResult {
  exits: number;
  /** exits where the cloud reached the simulation's decision */
  agreed: number;
  /** the first few exits where it did not */
  disagreements: Array<{ exit: number; read: string; simulated: string; cloud: string }>;
  /** settlements the cloud committed, and its ledger's records */
  settlements: number;
  ledgerRecords: number;
  /** cars whose plate fits no plate format, so no driver could link it */
  unlinkedCars: number;
  seconds: number;
}

const ADMIN = 'ppkey_settlement-bench-admin-0123456789ab';
const DRIVERS = 20;
const EXIT_GAP_MS = 11 * 60_000;
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

export async function replayEndToEnd(
  steps: readonly SimulationStep[],
  progress: (m: string) => void,
): Promise<EndToEndResult> {
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'platepay-settlement-e2e-'));
  let now = Date.now();
  const clock = { now: () => now };
  const cloud = await startCloud(
    parseCloudConfig({ database: join(dir, 'cloud.db'), port: 0, adminKey: ADMIN, logLevel: 'silent' }, {}),
    { logger: false, clock },
  );
  try {
    const lot = await cloud.lots.createLot({ name: 'settlement bench', tariff });
    const entry = await cloud.lots.addLane(lot.id, { name: 'in', direction: 'entry' });
    const exit = await cloud.lots.addLane(lot.id, { name: 'out', direction: 'exit' });
    const drivers = await fundedDrivers(cloud);

    const cloudIdOf = new Map<string, string>(); // simulated session -> the cloud's
    const simulatedIdOf = new Map<string, string>();
    const linked = new Set<string>();
    let events = 0;
    let unlinked = 0;
    let exits = 0;
    let agreed = 0;
    const disagreements: EndToEndResult['disagreements'] = [];
    const closeInDatabase = async (cloudId: string) =>
      cloud.store.transaction(async (r) => {
        const s = await r.sessions.byId(cloudId);
        if (s && s.status !== 'closed') await r.sessions.update({ ...s, status: 'closed', exitAt: now });
      });

    for (const step of steps) {
      if (step.op === 'open') {
        if (!linked.has(step.plate)) {
          linked.add(step.plate);
          const d = drivers[linked.size % drivers.length]!;
          try {
            await cloud.drivers.linkPlate(d.driver, { plate: step.plate, accountId: d.account });
          } catch (err) {
            // a twin one character off may fit no plate format: that car parks unlinked (its exit is held, unpaid)
            if ((err as { code?: string }).code !== 'INVALID_PLATE') throw err;
            unlinked++;
          }
        }
        now += 1000;
        const decision = await cloud.parking.submitEvent({
          eventId: `in-${++events}`,
          laneId: entry.id,
          plate: step.plate,
          confidence: 1,
          at: now,
        });
        if (decision.action !== 'open' || !decision.sessionId)
          throw new Error(`entry of ${step.plate}: the cloud answered ${decision.action} ${decision.reason}`);
        cloudIdOf.set(step.id, decision.sessionId);
        simulatedIdOf.set(decision.sessionId, step.id);
      } else if (step.op === 'close') {
        await closeInDatabase(cloudIdOf.get(step.id)!);
      } else {
        exits++;
        const simulated = describe(step.outcome, step.charged);
        if (!step.read) {
          agreed++; // the lane sends nothing: no decision to compare
          continue;
        }
        now += EXIT_GAP_MS;
        const decision = await cloud.parking.submitEvent({
          eventId: `out-${++events}`,
          laneId: exit.id,
          plate: step.read.plate,
          confidence: step.read.confidence,
          at: now,
        });
        let outcome: string;
        if (decision.reason === 'review') {
          const review = await cloud.store.transaction((r) => r.sessions.reviewById(decision.reviewId!));
          outcome = review?.reason === 'no-session' ? describe('held', null) : describe('review', null);
        } else if (decision.sessionId) {
          const charged = simulatedIdOf.get(decision.sessionId) ?? `cloud:${decision.sessionId}`;
          outcome = describe(charged === step.own ? 'right' : 'wrong', charged);
        } else outcome = `${decision.action} ${decision.reason}`;
        if (outcome === simulated) agreed++;
        else if (disagreements.length < 20)
          disagreements.push({ exit: exits, read: step.read.plate, simulated, cloud: outcome });
      }
      if (events % 5000 === 0 && events > 0) progress(`end to end: ${events} lane events`);
    }
    let settlements = 0;
    for (const d of drivers)
      settlements += (await cloud.store.transaction((r) => r.settlements.ofDriver(d.driver.id))).length;
    await cloud.checkpointNow(); // the records the settlements wrote, hashed into the tree
    return {
      exits,
      agreed,
      disagreements,
      settlements,
      ledgerRecords: cloud.ledger.size,
      unlinkedCars: unlinked,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
  } finally {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const describe = (outcome: ExitOutcome, charged: string | null) => (charged ? `${outcome} ${charged}` : outcome);

/** Drivers whose wallets are paid in through the built-in test provider (credited when its webhook arrives). */
async function fundedDrivers(cloud: Awaited<ReturnType<typeof startCloud>>) {
  const out: Array<{ driver: Driver; account: string }> = [];
  for (let d = 0; d < DRIVERS; d++) {
    const { driver } = await cloud.drivers.signUp({
      email: `settlement${d}@example.com`,
      password: 'long enough password',
      name: `settlement ${d}`,
    });
    const account = (await cloud.drivers.accounts(driver))[0]!.id;
    await cloud.drivers.topUp(driver, account, 1_000_000_000, 'settlement bench', 'test_card_ok');
    for (let tries = 0; (await cloud.drivers.accounts(driver))[0]!.pendingTopUps.length > 0; tries++) {
      if (tries > 1000) throw new Error(`the test provider did not confirm driver ${d}'s top-up`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    out.push({ driver, account });
  }
  return out;
}
