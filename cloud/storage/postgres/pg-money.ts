/** PostgreSQL repositories of money: payment accounts, journal entries and postings (double-entry), settlements and their ledger records. */
import type {
  AccountRepository,
  JournalEntry,
  PaymentAccount,
  Posting,
  Refund,
  Settlement,
  SettlementRepository,
} from '../repositories.js';
import { StorageError } from '../storage-errors.js';
import { toAccount, toEntry, toRefund, toSettlement } from '../rows.js';
import type { Query, Write } from './pg-connection.js';
import { one } from './pg-connection.js';

export class PgAccounts implements AccountRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insert(a: PaymentAccount) {
    await this.w(
      'INSERT INTO payment_accounts (id, driver_id, kind, currency, credit_limit, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [a.id, a.driverId, a.kind, a.currency, a.creditLimit, a.label, a.createdAt],
    );
  }
  async byId(id: string) {
    return toAccount(await one(this.q('SELECT * FROM payment_accounts WHERE id = $1', [id])));
  }
  async ofDriver(driverId: string) {
    const rows = await this.q('SELECT * FROM payment_accounts WHERE driver_id = $1 ORDER BY created_at, id', [
      driverId,
    ]);
    return rows.map((r) => toAccount(r)!);
  }
  async systemAccount(label: string, currency: string) {
    return toAccount(
      await one(
        this.q("SELECT * FROM payment_accounts WHERE kind = 'system' AND label = $1 AND currency = $2", [
          label,
          currency,
        ]),
      ),
    );
  }
  async balance(accountId: string) {
    const r = await one(
      this.q('SELECT COALESCE(SUM(amount), 0) AS b FROM postings WHERE account_id = $1', [accountId]),
    );
    return r!.b as number;
  }
  /** the driver's row, locked (NO KEY UPDATE: rows that refer to the driver may still be inserted) */
  async holdDriverMoney(driverId: string) {
    await this.q('SELECT 1 FROM drivers WHERE id = $1 FOR NO KEY UPDATE', [driverId]);
  }
  async entryByReference(reference: string) {
    const r = await one(this.q('SELECT * FROM journal_entries WHERE reference = $1', [reference]));
    return r ? toEntry(r) : null;
  }
  async insertEntry(e: JournalEntry, postings: Posting[]) {
    const sum = postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0 || postings.length < 2) throw new StorageError(`journal entry ${e.id} does not balance`);
    await this.w(
      'INSERT INTO journal_entries (id, kind, reference, currency, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.id, e.kind, e.reference, e.currency, e.amount, e.createdAt],
    );
    for (const p of postings) {
      await this.w('INSERT INTO postings (entry_id, account_id, amount) VALUES ($1, $2, $3)', [
        p.entryId,
        p.accountId,
        p.amount,
      ]);
    }
  }
  async postingsOfEntry(entryId: string) {
    const rows = await this.q('SELECT * FROM postings WHERE entry_id = $1 ORDER BY account_id', [entryId]);
    return rows.map((r) => ({
      entryId: r.entry_id as string,
      accountId: r.account_id as string,
      amount: r.amount as number,
    }));
  }
  async postingsOf(accountId: string) {
    const rows = await this.q(
      `SELECT p.entry_id, p.account_id, p.amount, e.kind, e.reference, e.created_at
       FROM postings p JOIN journal_entries e ON e.id = p.entry_id
       WHERE p.account_id = $1 ORDER BY e.created_at, e.id`,
      [accountId],
    );
    return rows.map((r) => ({
      entryId: r.entry_id as string,
      accountId: r.account_id as string,
      amount: r.amount as number,
      kind: r.kind as JournalEntry['kind'],
      reference: r.reference as string,
      createdAt: r.created_at as number,
    }));
  }
  async totalOfAllPostings() {
    return (await one(this.q('SELECT COALESCE(SUM(amount), 0) AS s FROM postings')))!.s as number;
  }
}

export class PgSettlements implements SettlementRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insert(s: Settlement) {
    await this.w(
      `INSERT INTO settlements (id, exit_event_id, session_id, lot_id, account_id, driver_id, amount, currency, entry_at, exit_at,
         method, journal_entry_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        s.id,
        s.exitEventId,
        s.sessionId,
        s.lotId,
        s.accountId,
        s.driverId,
        s.amount,
        s.currency,
        s.entryAt,
        s.exitAt,
        s.method,
        s.journalEntryId,
        s.createdAt,
      ],
    );
  }
  async byId(id: string) {
    return toSettlement(await one(this.q('SELECT * FROM settlements WHERE id = $1', [id])));
  }
  async holdForRefund(id: string) {
    return toSettlement(await one(this.q('SELECT * FROM settlements WHERE id = $1 FOR NO KEY UPDATE', [id])));
  }
  async byExitEvent(exitEventId: string) {
    return toSettlement(await one(this.q('SELECT * FROM settlements WHERE exit_event_id = $1', [exitEventId])));
  }
  async ofDriver(driverId: string) {
    return (await this.q('SELECT * FROM settlements WHERE driver_id = $1 ORDER BY created_at, id', [driverId])).map(
      (r) => toSettlement(r)!,
    );
  }
  /** queued with the settlement; the sequencer gives it its index (see pg-ledger-store.ts) */
  async appendLedgerRecord(settlementId: string, record: string, at: number): Promise<number | null> {
    if (record.includes('\n')) throw new StorageError('a ledger record must be one line');
    await this.w('INSERT INTO ledger_queue (ref, record, created_at) VALUES ($1, $2, $3)', [settlementId, record, at]);
    return null;
  }
  async ledgerRecordOf(settlementId: string) {
    const r = await one(this.q('SELECT * FROM ledger_records WHERE ref = $1', [settlementId]));
    return r
      ? { index: r.idx as number, settlementId, record: r.record as string, createdAt: r.created_at as number }
      : null;
  }
  async ledgerSize() {
    return (await one(this.q('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM ledger_records')))!.n as number;
  }
  async insertRefund(r: Refund) {
    await this.q(
      `INSERT INTO refunds (id, settlement_id, request_id, amount, currency, reason, operator_key_id, journal_entry_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        r.id,
        r.settlementId,
        r.requestId,
        r.amount,
        r.currency,
        r.reason,
        r.operatorKeyId,
        r.journalEntryId,
        r.createdAt,
      ],
    );
  }
  async refundByRequest(requestId: string) {
    return toRefund(await one(this.q('SELECT * FROM refunds WHERE request_id = $1', [requestId])));
  }
  async refundsOf(settlementId: string) {
    const rows = await this.q('SELECT * FROM refunds WHERE settlement_id = $1 ORDER BY created_at, id COLLATE "C"', [
      settlementId,
    ]);
    return rows.map((r) => toRefund(r)!);
  }
}
