/**
 * The ledger seam the settlement path writes to, inside the settlement's
 * own transaction, so a settlement and its ledger record commit together or
 * not at all. This implementation keeps the records in log order in the
 * service database; the signed Merkle log (checkpoints, proofs, witnesses)
 * builds on the same records.
 */
import type { Repositories, Settlement } from '../storage/repositories.js';
import { canonicalRecord, settlementRecord } from './settlement-record.js';

export interface SettlementLedger {
  /** appends the settlement's record; returns its index in the log (null: placed after the commit) */
  append(repos: Repositories, settlement: Settlement, plate: string): Promise<number | null>;
}

export class RecordTableLedger implements SettlementLedger {
  constructor(private readonly plateKey: Buffer) {}

  async append(repos: Repositories, settlement: Settlement, plate: string): Promise<number | null> {
    const record = canonicalRecord(settlementRecord(settlement, plate, this.plateKey));
    return repos.settlements.appendLedgerRecord(settlement.id, record, settlement.createdAt);
  }
}
