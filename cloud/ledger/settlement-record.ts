/**
 * The settlement record as the ledger holds it, in canonical bytes: JSON
 * with a fixed key order, integers only, and the plate replaced by a keyed
 * hash (HMAC-SHA256 under the operator's plate key), so partners can match
 * records without seeing plates.
 */
import { createHmac } from 'node:crypto';
import type { Settlement } from '../storage/repositories.js';

export interface SettlementRecord {
  v: 1;
  settlementId: string;
  exitEventId: string;
  lotId: string;
  plateHash: string;
  accountId: string | null;
  amount: number;
  currency: string;
  entryAt: number;
  exitAt: number;
  method: Settlement['method'];
  settledAt: number;
}

export function plateHash(plateKey: Buffer, plate: string): string {
  return createHmac('sha256', plateKey).update(plate, 'utf8').digest('hex');
}

export function settlementRecord(s: Settlement, plate: string, plateKey: Buffer): SettlementRecord {
  return {
    v: 1,
    settlementId: s.id,
    exitEventId: s.exitEventId,
    lotId: s.lotId,
    plateHash: plateHash(plateKey, plate),
    accountId: s.accountId,
    amount: s.amount,
    currency: s.currency,
    entryAt: s.entryAt,
    exitAt: s.exitAt,
    method: s.method,
    settledAt: s.createdAt,
  };
}

/** Canonical text of a record: keys in the order of the interface above, no spaces. */
export function canonicalRecord(r: SettlementRecord): string {
  return JSON.stringify({
    v: r.v,
    settlementId: r.settlementId,
    exitEventId: r.exitEventId,
    lotId: r.lotId,
    plateHash: r.plateHash,
    accountId: r.accountId,
    amount: r.amount,
    currency: r.currency,
    entryAt: r.entryAt,
    exitAt: r.exitAt,
    method: r.method,
    settledAt: r.settledAt,
  });
}
