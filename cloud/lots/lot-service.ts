/**
 * What operators set up: lots with their tariff, lanes (entry or exit) and
 * gate units (their Ed25519 public keys). Validation of the tariff is
 * `parseTariff`'s; everything else is checked by the API's schemas.
 */
import type { Clock } from '../../time/clock.js';
import { badRequest, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkedName } from '../names.js';
import { gatePublicKeyProblem } from '../../proto/v1/gate-key.js';
import type { Gate, Lane, LaneDirection, Lot, Store } from '../storage/repositories.js';
import { feeFor, MAX_STAY_MS, parseTariff, TariffError } from '../tariffs/tariff.js';
import type { Tariff } from '../tariffs/tariff.js';

export interface LotView extends Lot {
  lanes: Lane[];
  gates: Gate[];
}

export class LotService {
  private readonly revokedListeners: Array<(gateId: string) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** `listener` hears of every gate revoked here, once committed (the gate hub closes its connections). */
  onGateRevoked(listener: (gateId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  async createLot(input: { name: string; tariff: unknown }): Promise<Lot> {
    const name = checkedName(input.name, 'name');
    const tariff = checkedTariff(input.tariff);
    return this.store.transaction(async (repos) => {
      const lot: Lot = { id: newId('lot'), name, tariff, createdAt: this.clock.now() };
      await repos.lots.insertLot(lot);
      return lot;
    });
  }

  async lots(): Promise<LotView[]> {
    return this.store.transaction(async (repos) => {
      const lots = await repos.lots.lots();
      return Promise.all(
        lots.map(async (l) => ({ ...l, lanes: await repos.lots.lanesOf(l.id), gates: await repos.lots.gatesOf(l.id) })),
      );
    });
  }

  async lot(id: string): Promise<LotView> {
    return this.store.transaction(async (repos) => {
      const lot = await repos.lots.lotById(id);
      if (!lot) throw notFound('lot', id);
      return { ...lot, lanes: await repos.lots.lanesOf(id), gates: await repos.lots.gatesOf(id) };
    });
  }

  /** A new tariff applies to exits from now on (fees are computed at exit). */
  async setTariff(lotId: string, input: unknown): Promise<Lot> {
    const tariff = checkedTariff(input);
    return this.store.transaction(async (repos) => {
      const lot = await repos.lots.lotById(lotId);
      if (!lot) throw notFound('lot', lotId);
      await repos.lots.updateTariff(lotId, tariff);
      return { ...lot, tariff };
    });
  }

  async addLane(lotId: string, input: { name: string; direction: LaneDirection }): Promise<Lane> {
    const name = checkedName(input.name, 'name');
    return this.store.transaction(async (repos) => {
      if (!(await repos.lots.lotById(lotId))) throw notFound('lot', lotId);
      const lane: Lane = {
        id: newId('lan'),
        lotId,
        name,
        direction: input.direction,
        createdAt: this.clock.now(),
      };
      await repos.lots.insertLane(lane);
      return lane;
    });
  }

  async addGate(lotId: string, input: { name: string; publicKey: string }): Promise<Gate> {
    const name = checkedName(input.name, 'name');
    const problem = gatePublicKeyProblem(input.publicKey);
    if (problem) throw badRequest('INVALID_PUBLIC_KEY', `publicKey: ${problem}`, 'publicKey');
    return this.store.transaction(async (repos) => {
      if (!(await repos.lots.lotById(lotId))) throw notFound('lot', lotId);
      const gate: Gate = {
        id: newId('gat'),
        lotId,
        name,
        publicKey: input.publicKey,
        createdAt: this.clock.now(),
        revokedAt: null,
        lastCounter: 0,
      };
      await repos.lots.insertGate(gate);
      return gate;
    });
  }

  async revokeGate(gateId: string): Promise<Gate> {
    const revoked = await this.store.transaction(async (repos) => {
      const gate = await repos.lots.gateById(gateId);
      if (!gate) throw notFound('gate', gateId);
      const at = gate.revokedAt ?? this.clock.now();
      await repos.lots.revokeGate(gateId, at);
      return { ...gate, revokedAt: at };
    });
    for (const listener of this.revokedListeners) listener(gateId);
    return revoked;
  }
}

/**
 * What `tariff` (untrusted: validated here) charges for a stay from `entryAt` to `exitAt`, by the
 * same `feeFor` the settlement uses; 400 naming the field for a bad tariff or stay.
 */
export function previewFee(input: unknown, entryAt: number, exitAt: number): { fee: number; currency: string } {
  const tariff = checkedTariff(input);
  if (exitAt < entryAt) throw badRequest('INVALID_STAY', 'exitAt: the exit is before the entry', 'exitAt');
  if (exitAt - entryAt > MAX_STAY_MS) {
    throw badRequest('INVALID_STAY', `exitAt: a stay is at most ${MAX_STAY_MS / 86_400_000} days`, 'exitAt');
  }
  return { fee: feeFor(tariff, entryAt, exitAt), currency: tariff.currency };
}

/** `input` as a Tariff, or 400 INVALID_TARIFF naming the field (e.g. "tariff.bands[1].from") */
function checkedTariff(input: unknown): Tariff {
  try {
    return parseTariff(input);
  } catch (err) {
    if (err instanceof TariffError) throw badRequest('INVALID_TARIFF', err.message, err.field);
    throw err;
  }
}
