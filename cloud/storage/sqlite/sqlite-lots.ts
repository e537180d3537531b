/** SQLite repository of car parks: lots with their tariffs, lanes, and the gates registered for them. */
import type { Tariff } from '../../tariffs/tariff.js';
import type { Gate, Lane, Lot, LotRepository } from '../repositories.js';
import type { Row } from '../rows.js';
import { toLot, toLane, toGate } from '../rows.js';
import { Statements } from './sqlite-statements.js';

export class SqliteLots implements LotRepository {
  constructor(private readonly db: Statements) {}
  async insertLot(l: Lot) {
    this.db
      .prepare('INSERT INTO lots (id, name, tariff, created_at) VALUES (?, ?, ?, ?)')
      .run(l.id, l.name, JSON.stringify(l.tariff), l.createdAt);
  }
  async lotById(id: string) {
    return toLot(this.db.prepare('SELECT * FROM lots WHERE id = ?').get(id) as Row | undefined);
  }
  async lots() {
    return (this.db.prepare('SELECT * FROM lots ORDER BY created_at, id').all() as Row[]).map((r) => toLot(r)!);
  }
  async updateTariff(lotId: string, tariff: Tariff) {
    this.db.prepare('UPDATE lots SET tariff = ? WHERE id = ?').run(JSON.stringify(tariff), lotId);
  }
  async insertLane(l: Lane) {
    this.db
      .prepare('INSERT INTO lanes (id, lot_id, name, direction, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(l.id, l.lotId, l.name, l.direction, l.createdAt);
  }
  async laneById(id: string) {
    return toLane(this.db.prepare('SELECT * FROM lanes WHERE id = ?').get(id) as Row | undefined);
  }
  async lanesOf(lotId: string) {
    return (this.db.prepare('SELECT * FROM lanes WHERE lot_id = ? ORDER BY created_at, id').all(lotId) as Row[]).map(
      (r) => toLane(r)!,
    );
  }
  async insertGate(g: Gate) {
    this.db
      .prepare('INSERT INTO gates (id, lot_id, name, public_key, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(g.id, g.lotId, g.name, g.publicKey, g.createdAt, g.revokedAt);
  }
  async gateById(id: string) {
    return toGate(this.db.prepare('SELECT * FROM gates WHERE id = ?').get(id) as Row | undefined);
  }
  async gatesOf(lotId: string) {
    return (this.db.prepare('SELECT * FROM gates WHERE lot_id = ? ORDER BY created_at, id').all(lotId) as Row[]).map(
      (r) => toGate(r)!,
    );
  }
  async revokeGate(id: string, at: number) {
    this.db.prepare('UPDATE gates SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }
  async raiseGateCounter(id: string, counter: number) {
    this.db.prepare('UPDATE gates SET last_counter = MAX(last_counter, ?) WHERE id = ?').run(counter, id);
  }
}
