/**
 * Rows as both backends return them (snake_case columns) and the domain
 * objects the repositories hand out: one mapper per table, shared by the
 * SQLite and the PostgreSQL repositories so that the two cannot disagree
 * on what a column means. Pure: no database here.
 */
import type {
  Driver,
  JournalEntry,
  Lane,
  Lot,
  Gate,
  OperatorKey,
  ParkingSession,
  PaymentAccount,
  PendingPayment,
  PlateDispute,
  PlateLink,
  Refund,
  ReviewItem,
  SavedPaymentMethod,
  Settlement,
} from './repositories.js';
import type { Tariff } from '../tariffs/tariff.js';

export type Row = Record<string, unknown>;

export const str = (v: unknown): string => v as string;

export const num = (v: unknown): number => v as number;

export const numOrNull = (v: unknown): number | null => (v === null ? null : (v as number));

export const strOrNull = (v: unknown): string | null => (v === null ? null : (v as string));

export function toDriver(r: Row | undefined): Driver | null {
  if (!r) return null;
  return {
    id: str(r.id),
    email: str(r.email),
    name: str(r.name),
    passwordHash: str(r.password_hash),
    createdAt: num(r.created_at),
  };
}

export function toAccount(r: Row | undefined): PaymentAccount | null {
  if (!r) return null;
  return {
    id: str(r.id),
    driverId: strOrNull(r.driver_id),
    kind: str(r.kind) as PaymentAccount['kind'],
    currency: str(r.currency),
    creditLimit: num(r.credit_limit),
    label: str(r.label),
    createdAt: num(r.created_at),
  };
}

export function toEntry(r: Row): JournalEntry {
  return {
    id: str(r.id),
    kind: str(r.kind) as JournalEntry['kind'],
    reference: str(r.reference),
    currency: str(r.currency),
    amount: num(r.amount),
    createdAt: num(r.created_at),
  };
}

export function toLink(r: Row | undefined): PlateLink | null {
  if (!r) return null;
  return {
    id: str(r.id),
    plate: str(r.plate),
    accountId: str(r.account_id),
    driverId: str(r.driver_id),
    createdAt: num(r.created_at),
    removedAt: numOrNull(r.removed_at),
  };
}

export function toDispute(r: Row | undefined): PlateDispute | null {
  if (!r) return null;
  return {
    id: str(r.id),
    plate: str(r.plate),
    claimantDriverId: str(r.claimant_driver_id),
    claimantAccountId: str(r.claimant_account_id),
    holderLinkId: str(r.holder_link_id),
    reason: str(r.reason),
    status: str(r.status) as PlateDispute['status'],
    createdAt: num(r.created_at),
    resolvedAt: numOrNull(r.resolved_at),
  };
}

export function toKey(r: Row | undefined): OperatorKey | null {
  if (!r) return null;
  return {
    id: str(r.id),
    keyHash: str(r.key_hash),
    role: str(r.role) as OperatorKey['role'],
    label: str(r.label),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

export function toLot(r: Row | undefined): Lot | null {
  if (!r) return null;
  return {
    id: str(r.id),
    name: str(r.name),
    tariff: JSON.parse(str(r.tariff)) as Tariff,
    createdAt: num(r.created_at),
  };
}

export function toLane(r: Row | undefined): Lane | null {
  if (!r) return null;
  return {
    id: str(r.id),
    lotId: str(r.lot_id),
    name: str(r.name),
    direction: str(r.direction) as Lane['direction'],
    createdAt: num(r.created_at),
  };
}

export function toGate(r: Row | undefined): Gate | null {
  if (!r) return null;
  return {
    id: str(r.id),
    lotId: str(r.lot_id),
    name: str(r.name),
    publicKey: str(r.public_key),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
    lastCounter: num(r.last_counter),
  };
}

export function toSession(r: Row | undefined): ParkingSession | null {
  if (!r) return null;
  return {
    id: str(r.id),
    lotId: str(r.lot_id),
    plate: str(r.plate),
    entryEventId: str(r.entry_event_id),
    entryLaneId: str(r.entry_lane_id),
    entryAt: num(r.entry_at),
    entryConfidence: num(r.entry_confidence),
    status: str(r.status) as ParkingSession['status'],
    exitEventId: strOrNull(r.exit_event_id),
    exitAt: numOrNull(r.exit_at),
    fee: numOrNull(r.fee),
    paidAt: numOrNull(r.paid_at),
    passbackFlag: num(r.passback_flag) === 1,
  };
}

export const SESSION_COLUMNS =
  'id, lot_id, plate, entry_event_id, entry_lane_id, entry_at, entry_confidence, status, exit_event_id, exit_at, fee, paid_at, passback_flag';

/** a session from its values in SESSION_COLUMNS order */
export function sessionOfValues(v: unknown[]): ParkingSession {
  return {
    id: str(v[0]),
    lotId: str(v[1]),
    plate: str(v[2]),
    entryEventId: str(v[3]),
    entryLaneId: str(v[4]),
    entryAt: num(v[5]),
    entryConfidence: num(v[6]),
    status: str(v[7]) as ParkingSession['status'],
    exitEventId: strOrNull(v[8]),
    exitAt: numOrNull(v[9]),
    fee: numOrNull(v[10]),
    paidAt: numOrNull(v[11]),
    passbackFlag: num(v[12]) === 1,
  };
}

export function toPending(r: Row | undefined): PendingPayment | null {
  if (!r) return null;
  return {
    id: str(r.id),
    sessionId: str(r.session_id),
    plate: str(r.plate),
    amount: num(r.amount),
    currency: str(r.currency),
    status: str(r.status) as PendingPayment['status'],
    createdAt: num(r.created_at),
    paidAt: numOrNull(r.paid_at),
    paidByAccountId: strOrNull(r.paid_by_account_id),
  };
}

export function toReview(r: Row | undefined): ReviewItem | null {
  if (!r) return null;
  return {
    id: str(r.id),
    lotId: str(r.lot_id),
    laneId: str(r.lane_id),
    eventId: str(r.event_id),
    plate: str(r.plate),
    confidence: num(r.confidence),
    at: num(r.at),
    reason: str(r.reason),
    candidateSessionIds: JSON.parse(str(r.candidate_session_ids)) as string[],
    status: str(r.status) as ReviewItem['status'],
    createdAt: num(r.created_at),
    resolution: strOrNull(r.resolution),
    resolvedAt: numOrNull(r.resolved_at),
  };
}

export function toSettlement(r: Row | undefined): Settlement | null {
  if (!r) return null;
  return {
    id: str(r.id),
    exitEventId: str(r.exit_event_id),
    sessionId: str(r.session_id),
    lotId: str(r.lot_id),
    accountId: strOrNull(r.account_id),
    driverId: strOrNull(r.driver_id),
    amount: num(r.amount),
    currency: str(r.currency),
    entryAt: num(r.entry_at),
    exitAt: num(r.exit_at),
    method: str(r.method) as Settlement['method'],
    journalEntryId: strOrNull(r.journal_entry_id),
    createdAt: num(r.created_at),
  };
}

export function toMethod(r: Row | undefined): SavedPaymentMethod | null {
  if (!r) return null;
  return {
    id: str(r.id),
    driverId: str(r.driver_id),
    accountId: str(r.account_id),
    provider: str(r.provider),
    customerId: str(r.customer_id),
    methodId: str(r.method_id),
    label: str(r.label),
    verifiedAt: num(r.verified_at),
    removedAt: numOrNull(r.removed_at),
  };
}

export function toRefund(r: Row | undefined): Refund | null {
  if (!r) return null;
  return {
    id: str(r.id),
    settlementId: str(r.settlement_id),
    requestId: str(r.request_id),
    amount: num(r.amount),
    currency: str(r.currency),
    reason: str(r.reason),
    operatorKeyId: str(r.operator_key_id),
    journalEntryId: str(r.journal_entry_id),
    createdAt: num(r.created_at),
  };
}
