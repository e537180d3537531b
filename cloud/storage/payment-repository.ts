/**
 * Money through the provider, stored (top-ups, saved payment methods, card
 * charges, webhook event ids): one implementation for both backends over a
 * small SQL seam (`?` placeholders; the PostgreSQL seam numbers them), so
 * the two cannot drift. Tables: migration 5 in migrations.ts.
 */
import type { CardCharge, PaymentRepository, SavedPaymentMethod, TopUp } from './repositories.js';
import type { Row } from './rows.js';
import { num, numOrNull, str, strOrNull, toMethod } from './rows.js';

/** What the repository needs of a connection inside the caller's transaction. */
export interface SqlSeam {
  all(sql: string, params: unknown[]): Promise<Row[]>;
  /** runs a write that returns no rows */
  run(sql: string, params: unknown[]): Promise<void>;
  /**
   * what ends a SELECT of a row the caller may change: on PostgreSQL `FOR NO KEY UPDATE` (the row, as it
   * is now, is held until the transaction ends, so a read-modify-write never loses a concurrent one's
   * change); on SQLite nothing (one writer at a time)
   */
  rowLock: string;
}

const TOP_UP = `id, driver_id, account_id, amount, currency, reference, provider, provider_payment_id, status,
  created_at, settled_at, journal_entry_id`;
const METHOD = 'id, driver_id, account_id, provider, customer_id, method_id, label, verified_at, removed_at';
const CHARGE = `id, exit_event_id, session_id, lot_id, account_id, driver_id, method_id, amount, currency, provider,
  status, gate_answer, provider_payment_id, failure, attempts, created_at, settled_at`;

export class SqlPaymentRepository implements PaymentRepository {
  constructor(private readonly db: SqlSeam) {}

  async insertTopUp(t: TopUp) {
    await this.db.run(`INSERT INTO top_ups (${TOP_UP}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      t.id,
      t.driverId,
      t.accountId,
      t.amount,
      t.currency,
      t.reference,
      t.provider,
      t.providerPaymentId,
      t.status,
      t.createdAt,
      t.settledAt,
      t.journalEntryId,
    ]);
  }
  async topUpById(id: string) {
    return toTopUp((await this.db.all(`SELECT * FROM top_ups WHERE id = ?${this.db.rowLock}`, [id]))[0]);
  }
  async topUpByReference(driverId: string, reference: string) {
    return toTopUp(
      (
        await this.db.all(`SELECT * FROM top_ups WHERE driver_id = ? AND reference = ?${this.db.rowLock}`, [
          driverId,
          reference,
        ])
      )[0],
    );
  }
  async topUpsOfAccount(accountId: string) {
    const rows = await this.db.all('SELECT * FROM top_ups WHERE account_id = ? ORDER BY created_at, id', [accountId]);
    return rows.map((r) => toTopUp(r)!);
  }
  async updateTopUp(t: TopUp) {
    await this.db.run(
      'UPDATE top_ups SET provider_payment_id = ?, status = ?, settled_at = ?, journal_entry_id = ? WHERE id = ?',
      [t.providerPaymentId, t.status, t.settledAt, t.journalEntryId, t.id],
    );
  }

  async insertMethod(m: SavedPaymentMethod) {
    await this.db.run(`INSERT INTO saved_payment_methods (${METHOD}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      m.id,
      m.driverId,
      m.accountId,
      m.provider,
      m.customerId,
      m.methodId,
      m.label,
      m.verifiedAt,
      m.removedAt,
    ]);
  }
  async methodOfAccount(accountId: string) {
    const rows = await this.db.all('SELECT * FROM saved_payment_methods WHERE account_id = ? AND removed_at IS NULL', [
      accountId,
    ]);
    return toMethod(rows[0]);
  }
  async methodsOfDriver(driverId: string) {
    const rows = await this.db.all('SELECT * FROM saved_payment_methods WHERE driver_id = ? ORDER BY verified_at, id', [
      driverId,
    ]);
    return rows.map((r) => toMethod(r)!);
  }
  async removeMethod(id: string, at: number) {
    await this.db.run('UPDATE saved_payment_methods SET removed_at = ? WHERE id = ? AND removed_at IS NULL', [at, id]);
  }

  async insertCharge(c: CardCharge) {
    await this.db.run(
      `INSERT INTO card_charges (${CHARGE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        c.id,
        c.exitEventId,
        c.sessionId,
        c.lotId,
        c.accountId,
        c.driverId,
        c.methodId,
        c.amount,
        c.currency,
        c.provider,
        c.status,
        c.gateAnswer,
        c.providerPaymentId,
        c.failure,
        c.attempts,
        c.createdAt,
        c.settledAt,
      ],
    );
  }
  async chargeById(id: string) {
    return toCharge((await this.db.all(`SELECT * FROM card_charges WHERE id = ?${this.db.rowLock}`, [id]))[0]);
  }
  async chargeByExitEvent(exitEventId: string) {
    return toCharge(
      (await this.db.all(`SELECT * FROM card_charges WHERE exit_event_id = ?${this.db.rowLock}`, [exitEventId]))[0],
    );
  }
  async startedCharges(limit: number) {
    const rows = await this.db.all(
      "SELECT * FROM card_charges WHERE status = 'started' ORDER BY created_at, id LIMIT ?",
      [limit],
    );
    return rows.map((r) => toCharge(r)!);
  }
  async startedChargesOfDriver(driverId: string) {
    const rows = await this.db.all(
      "SELECT * FROM card_charges WHERE status = 'started' AND driver_id = ? ORDER BY created_at, id",
      [driverId],
    );
    return rows.map((r) => toCharge(r)!);
  }
  async updateCharge(c: CardCharge) {
    await this.db.run(
      `UPDATE card_charges SET status = ?, gate_answer = ?, provider_payment_id = ?, failure = ?, attempts = ?,
        settled_at = ? WHERE id = ?`,
      [c.status, c.gateAnswer, c.providerPaymentId, c.failure, c.attempts, c.settledAt, c.id],
    );
  }

  async recordWebhookEvent(provider: string, eventId: string, at: number) {
    const inserted = await this.db.all(
      `INSERT INTO provider_events (provider, event_id, received_at) VALUES (?, ?, ?)
        ON CONFLICT DO NOTHING RETURNING event_id`,
      [provider, eventId, at],
    );
    return inserted.length === 1;
  }
}

function toTopUp(r: Row | undefined): TopUp | null {
  if (!r) return null;
  return {
    id: str(r.id),
    driverId: str(r.driver_id),
    accountId: str(r.account_id),
    amount: num(r.amount),
    currency: str(r.currency),
    reference: str(r.reference),
    provider: str(r.provider),
    providerPaymentId: strOrNull(r.provider_payment_id),
    status: str(r.status) as TopUp['status'],
    createdAt: num(r.created_at),
    settledAt: numOrNull(r.settled_at),
    journalEntryId: strOrNull(r.journal_entry_id),
  };
}

function toCharge(r: Row | undefined): CardCharge | null {
  if (!r) return null;
  return {
    id: str(r.id),
    exitEventId: str(r.exit_event_id),
    sessionId: str(r.session_id),
    lotId: str(r.lot_id),
    accountId: str(r.account_id),
    driverId: str(r.driver_id),
    methodId: str(r.method_id),
    amount: num(r.amount),
    currency: str(r.currency),
    provider: str(r.provider),
    status: str(r.status) as CardCharge['status'],
    gateAnswer: str(r.gate_answer) as CardCharge['gateAnswer'],
    providerPaymentId: strOrNull(r.provider_payment_id),
    failure: strOrNull(r.failure),
    attempts: num(r.attempts),
    createdAt: num(r.created_at),
    settledAt: numOrNull(r.settled_at),
  };
}
