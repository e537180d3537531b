/** SQLite repositories of money: payment accounts, journal entries and postings (double-entry), settlements and their ledger records. */
import { SqliteLedgerStore } from '../../ledger/ledger-store.js';
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
import type { Row } from '../rows.js';
import { str, num, toAccount, toEntry, toRefund, toSettlement } from '../rows.js';
import { Statements } from './sqlite-statements.js';

export class SqliteAccounts implements AccountRepository {
  constructor(private readonly db: Statements) {}
  async insert(a: PaymentAccount) {
    this.db
      .prepare(
        'INSERT INTO payment_accounts (id, driver_id, kind, currency, credit_limit, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(a.id, a.driverId, a.kind, a.currency, a.creditLimit, a.label, a.createdAt);
  }
  async byId(id: string) {
    return toAccount(this.db.prepare('SELECT * FROM payment_accounts WHERE id = ?').get(id) as Row | undefined);
  }
  async ofDriver(driverId: string) {
    const rows = this.db
      .prepare('SELECT * FROM payment_accounts WHERE driver_id = ? ORDER BY created_at, id')
      .all(driverId) as Row[];
    return rows.map((r) => toAccount(r)!);
  }
  async systemAccount(label: string, currency: string) {
    return toAccount(
      this.db
        .prepare("SELECT * FROM payment_accounts WHERE kind = 'system' AND label = ? AND currency = ?")
        .get(label, currency) as Row | undefined,
    );
  }
  async balance(accountId: string) {
    const r = this.db
      .prepare('SELECT COALESCE(SUM(amount), 0) AS b FROM postings WHERE account_id = ?')
      .get(accountId) as Row;
    return num(r.b);
  }
  /** one writer at a time: nothing else can spend the driver's money meanwhile */
  async holdDriverMoney() {}
  async entryByReference(reference: string) {
    const r = this.db.prepare('SELECT * FROM journal_entries WHERE reference = ?').get(reference) as Row | undefined;
    return r ? toEntry(r) : null;
  }
  async insertEntry(e: JournalEntry, postings: Posting[]) {
    const sum = postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0 || postings.length < 2) throw new StorageError(`journal entry ${e.id} does not balance`);
    this.db
      .prepare(
        'INSERT INTO journal_entries (id, kind, reference, currency, amount, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(e.id, e.kind, e.reference, e.currency, e.amount, e.createdAt);
    const insert = this.db.prepare('INSERT INTO postings (entry_id, account_id, amount) VALUES (?, ?, ?)');
    for (const p of postings) insert.run(p.entryId, p.accountId, p.amount);
  }
  async postingsOfEntry(entryId: string) {
    const rows = this.db.prepare('SELECT * FROM postings WHERE entry_id = ? ORDER BY account_id').all(entryId) as Row[];
    return rows.map((r) => ({ entryId: str(r.entry_id), accountId: str(r.account_id), amount: num(r.amount) }));
  }
  async postingsOf(accountId: string) {
    const rows = this.db
      .prepare(
        `SELECT p.entry_id, p.account_id, p.amount, e.kind, e.reference, e.created_at
         FROM postings p JOIN journal_entries e ON e.id = p.entry_id
         WHERE p.account_id = ? ORDER BY e.created_at, e.id`,
      )
      .all(accountId) as Row[];
    return rows.map((r) => ({
      entryId: str(r.entry_id),
      accountId: str(r.account_id),
      amount: num(r.amount),
      kind: str(r.kind) as JournalEntry['kind'],
      reference: str(r.reference),
      createdAt: num(r.created_at),
    }));
  }
  async totalOfAllPostings() {
    return num((this.db.prepare('SELECT COALESCE(SUM(amount), 0) AS s FROM postings').get() as Row).s);
  }
}

export class SqliteSettlements implements SettlementRepository {
  constructor(
    private readonly db: Statements,
    private readonly ledger: SqliteLedgerStore,
  ) {}
  async insert(s: Settlement) {
    this.db
      .prepare(
        `INSERT INTO settlements (id, exit_event_id, session_id, lot_id, account_id, driver_id, amount, currency, entry_at, exit_at,
           method, journal_entry_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
  }
  async byId(id: string) {
    return toSettlement(this.db.prepare('SELECT * FROM settlements WHERE id = ?').get(id) as Row | undefined);
  }
  async holdForRefund(id: string) {
    return this.byId(id);
  }
  async byExitEvent(exitEventId: string) {
    return toSettlement(
      this.db.prepare('SELECT * FROM settlements WHERE exit_event_id = ?').get(exitEventId) as Row | undefined,
    );
  }
  async ofDriver(driverId: string) {
    return (
      this.db.prepare('SELECT * FROM settlements WHERE driver_id = ? ORDER BY created_at, id').all(driverId) as Row[]
    ).map((r) => toSettlement(r)!);
  }
  async appendLedgerRecord(settlementId: string, record: string, at: number) {
    return this.ledger.appendRecords([{ ref: settlementId, record }], at);
  }
  async ledgerRecordOf(settlementId: string) {
    const r = this.ledger.recordByRef(settlementId);
    return r ? { index: r.index, settlementId, record: r.record, createdAt: r.createdAt } : null;
  }
  async ledgerSize() {
    return this.ledger.recordCount();
  }
  async insertRefund(r: Refund) {
    this.db
      .prepare(
        `INSERT INTO refunds (id, settlement_id, request_id, amount, currency, reason, operator_key_id, journal_entry_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.settlementId,
        r.requestId,
        r.amount,
        r.currency,
        r.reason,
        r.operatorKeyId,
        r.journalEntryId,
        r.createdAt,
      );
  }
  async refundByRequest(requestId: string) {
    return toRefund(this.db.prepare('SELECT * FROM refunds WHERE request_id = ?').get(requestId) as Row | undefined);
  }
  async refundsOf(settlementId: string) {
    const rows = this.db
      .prepare('SELECT * FROM refunds WHERE settlement_id = ? ORDER BY created_at, id')
      .all(settlementId) as Row[];
    return rows.map((r) => toRefund(r)!);
  }
}
