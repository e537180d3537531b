/** PostgreSQL repository of car parks: lots with their tariffs, lanes, and the gates registered for them. */
import type { Tariff } from '../../tariffs/tariff.js';
import type { Gate, Lane, Lot, LotRepository } from '../repositories.js';
import { toGate, toLane, toLot } from '../rows.js';
import type { Query, Write } from './pg-connection.js';
import { one } from './pg-connection.js';

export class PgLots implements LotRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insertLot(l: Lot) {
    await this.w('INSERT INTO lots (id, name, tariff, created_at) VALUES ($1, $2, $3, $4)', [
      l.id,
      l.name,
      JSON.stringify(l.tariff),
      l.createdAt,
    ]);
  }
  async lotById(id: string) {
    return toLot(await one(this.q('SELECT * FROM lots WHERE id = $1', [id])));
  }
  async lots() {
    return (await this.q('SELECT * FROM lots ORDER BY created_at, id')).map((r) => toLot(r)!);
  }
  async updateTariff(lotId: string, tariff: Tariff) {
    await this.w('UPDATE lots SET tariff = $1 WHERE id = $2', [JSON.stringify(tariff), lotId]);
  }
  async insertLane(l: Lane) {
    await this.w('INSERT INTO lanes (id, lot_id, name, direction, created_at) VALUES ($1, $2, $3, $4, $5)', [
      l.id,
      l.lotId,
      l.name,
      l.direction,
      l.createdAt,
    ]);
  }
  async laneById(id: string) {
    return toLane(await one(this.q('SELECT * FROM lanes WHERE id = $1', [id])));
  }
  async lanesOf(lotId: string) {
    return (await this.q('SELECT * FROM lanes WHERE lot_id = $1 ORDER BY created_at, id', [lotId])).map((r) =>
      toLane(r)!,
    );
  }
  async insertGate(g: Gate) {
    await this.w(
      'INSERT INTO gates (id, lot_id, name, public_key, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [g.id, g.lotId, g.name, g.publicKey, g.createdAt, g.revokedAt],
    );
  }
  async gateById(id: string) {
    return toGate(await one(this.q('SELECT * FROM gates WHERE id = $1', [id])));
  }
  async gatesOf(lotId: string) {
    return (await this.q('SELECT * FROM gates WHERE lot_id = $1 ORDER BY created_at, id', [lotId])).map((r) =>
      toGate(r)!,
    );
  }
  async revokeGate(id: string, at: number) {
    await this.w('UPDATE gates SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
  }
  async raiseGateCounter(id: string, counter: number) {
    await this.w('UPDATE gates SET last_counter = GREATEST(last_counter, $1) WHERE id = $2', [counter, id]);
  }
}
