/**
 * The storage seam: what the business logic needs from a database, as
 * async interfaces. SQLite (`sqlite/`) and PostgreSQL (`postgres/`) implement
 * them, one file per aggregate in each (accounts, money, lots, sessions), so
 * a change to one concern touches one file per backend.
 *
 * All money-moving work runs inside `Store.transaction`, which is atomic and
 * durable when it resolves. Amounts are integers in minor units.
 */
import type { Tariff } from '../tariffs/tariff.js';

export interface Driver {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  createdAt: number;
}

export interface DriverToken {
  tokenHash: string;
  driverId: string;
  expiresAt: number;
}

export type AccountKind = 'wallet' | 'system';

export interface PaymentAccount {
  id: string;
  /** null for system accounts (revenue, top-up funding) */
  driverId: string | null;
  kind: AccountKind;
  currency: string;
  /** how far below zero the balance may go (deposit-free parking) */
  creditLimit: number;
  label: string;
  createdAt: number;
}

export interface JournalEntry {
  id: string;
  kind: 'topup' | 'charge' | 'refund';
  /** unique: the idempotency key of the money movement */
  reference: string;
  currency: string;
  amount: number;
  createdAt: number;
}

/** One leg of a journal entry; the legs of an entry sum to zero. */
export interface Posting {
  entryId: string;
  accountId: string;
  amount: number;
}

export interface PlateLink {
  id: string;
  plate: string;
  accountId: string;
  driverId: string;
  createdAt: number;
  removedAt: number | null;
}

export type DisputeStatus = 'open' | 'transferred' | 'rejected';

export interface PlateDispute {
  id: string;
  plate: string;
  claimantDriverId: string;
  claimantAccountId: string;
  holderLinkId: string;
  reason: string;
  status: DisputeStatus;
  createdAt: number;
  resolvedAt: number | null;
}

export type OperatorRole = 'admin' | 'operator' | 'auditor';

export interface OperatorKey {
  id: string;
  keyHash: string;
  role: OperatorRole;
  label: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface Lot {
  id: string;
  name: string;
  tariff: Tariff;
  createdAt: number;
}

export type LaneDirection = 'entry' | 'exit';

export interface Lane {
  id: string;
  lotId: string;
  name: string;
  direction: LaneDirection;
  createdAt: number;
}

export interface Gate {
  id: string;
  lotId: string;
  name: string;
  /** Ed25519 public key, base64 */
  publicKey: string;
  createdAt: number;
  revokedAt: number | null;
  /** the highest lane-event counter applied from this gate (replay protection) */
  lastCounter: number;
}

export type SessionStatus = 'open' | 'awaiting_payment' | 'paid' | 'closed';

export interface ParkingSession {
  id: string;
  lotId: string;
  plate: string;
  entryEventId: string;
  entryLaneId: string;
  entryAt: number;
  entryConfidence: number;
  status: SessionStatus;
  exitEventId: string | null;
  exitAt: number | null;
  fee: number | null;
  paidAt: number | null;
  /** set when a second entry arrived for the same plate while this session was open */
  passbackFlag: boolean;
}

/** A lane event as stored: the decision returned for it is kept so replays return the same. */
export interface StoredLaneEvent {
  id: string;
  laneId: string;
  kind: LaneDirection;
  plate: string;
  confidence: number;
  at: number;
  receivedAt: number;
  /** digest of the submitted event, to tell a replay from a different event reusing the id */
  requestHash: string;
  decision: string;
}

export interface PendingPayment {
  id: string;
  sessionId: string;
  plate: string;
  amount: number;
  currency: string;
  status: 'pending' | 'paid';
  createdAt: number;
  paidAt: number | null;
  paidByAccountId: string | null;
}

export interface ReviewItem {
  id: string;
  lotId: string;
  laneId: string;
  eventId: string;
  plate: string;
  confidence: number;
  at: number;
  reason: string;
  candidateSessionIds: string[];
  status: 'open' | 'resolved';
  createdAt: number;
  resolution: string | null;
  resolvedAt: number | null;
}

export interface Settlement {
  id: string;
  exitEventId: string;
  sessionId: string;
  lotId: string;
  /** the account charged; null when nothing was charged (free stay, waived) */
  accountId: string | null;
  driverId: string | null;
  amount: number;
  currency: string;
  entryAt: number;
  exitAt: number;
  method: 'wallet' | 'card' | 'paid-before-exit' | 'free' | 'waived';
  journalEntryId: string | null;
  createdAt: number;
}

/** Money given back on a settlement by an operator: one journal entry of kind 'refund', with the reason. */
export interface Refund {
  id: string;
  settlementId: string;
  /** the operator's idempotency key: a repeated request returns the first refund */
  requestId: string;
  /** minor units, > 0; the refunds of a settlement never sum to more than its amount */
  amount: number;
  currency: string;
  reason: string;
  /** the API key that asked for it */
  operatorKeyId: string;
  journalEntryId: string;
  createdAt: number;
}

/** The ledger seam: settlement records in log order (the signed Merkle log builds on it). */
export interface LedgerRecordRow {
  index: number;
  settlementId: string;
  record: string;
  createdAt: number;
}

/** Who pays for a plate's stays: its active link, the account it is linked to, and that account's saved payment method. */
export interface Payer {
  link: PlateLink;
  /** null when there is no such account */
  account: PaymentAccount | null;
  /** the account's active saved payment method (as `PaymentRepository.methodOfAccount`), or null */
  method: SavedPaymentMethod | null;
}

export interface DriverRepository {
  insert(d: Driver): Promise<void>;
  byId(id: string): Promise<Driver | null>;
  byEmail(email: string): Promise<Driver | null>;
  insertToken(t: DriverToken): Promise<void>;
  tokenByHash(hash: string): Promise<DriverToken | null>;
  deleteExpiredTokens(now: number): Promise<void>;
  /** a token signed out: it is refused from then on */
  deleteToken(hash: string): Promise<void>;
  /** every token of a driver (signed out everywhere) */
  deleteTokensOfDriver(driverId: string): Promise<void>;
}

export interface AccountRepository {
  insert(a: PaymentAccount): Promise<void>;
  byId(id: string): Promise<PaymentAccount | null>;
  ofDriver(driverId: string): Promise<PaymentAccount[]>;
  systemAccount(label: string, currency: string): Promise<PaymentAccount | null>;
  balance(accountId: string): Promise<number>;
  /**
   * Holds the driver's money for the rest of the transaction: any other transaction that holds it
   * waits until this one ends. Taken before a balance or the driver's credit is read to decide a
   * charge, so that two charges of one driver (two cars, two wallets) never both spend the same
   * credit. SQLite: nothing to do (one writer at a time).
   */
  holdDriverMoney(driverId: string): Promise<void>;
  entryByReference(reference: string): Promise<JournalEntry | null>;
  /** inserts the entry and its postings; the postings must sum to zero */
  insertEntry(e: JournalEntry, postings: Posting[]): Promise<void>;
  postingsOfEntry(entryId: string): Promise<Posting[]>;
  postingsOf(
    accountId: string,
  ): Promise<Array<Posting & { kind: JournalEntry['kind']; reference: string; createdAt: number }>>;
  /** sum of every posting in the book (zero when the books balance) */
  totalOfAllPostings(): Promise<number>;
}

export interface LinkRepository {
  insert(l: PlateLink): Promise<void>;
  byId(id: string): Promise<PlateLink | null>;
  activeByPlate(plate: string): Promise<PlateLink | null>;
  /** the plate's active link with its account and the account's saved method, in one read (PostgreSQL: one statement) */
  payerOfPlate(plate: string): Promise<Payer | null>;
  activeOfDriver(driverId: string): Promise<PlateLink[]>;
  /** active links whose plate has a session in the lot that is not closed, or that began at `since` or later */
  activeParkedAt(lotId: string, since: number): Promise<PlateLink[]>;
  remove(id: string, at: number): Promise<void>;
  insertDispute(d: PlateDispute): Promise<void>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  disputeById(id: string): Promise<PlateDispute | null>;
  disputes(status?: DisputeStatus): Promise<PlateDispute[]>;
  resolveDispute(id: string, status: DisputeStatus, at: number): Promise<void>;
}

export interface OperatorRepository {
  insertKey(k: OperatorKey): Promise<void>;
  keyByHash(hash: string): Promise<OperatorKey | null>;
  keys(): Promise<OperatorKey[]>;
  revokeKey(id: string, at: number): Promise<void>;
}

export interface LotRepository {
  insertLot(l: Lot): Promise<void>;
  lotById(id: string): Promise<Lot | null>;
  lots(): Promise<Lot[]>;
  updateTariff(lotId: string, tariff: Tariff): Promise<void>;
  insertLane(l: Lane): Promise<void>;
  laneById(id: string): Promise<Lane | null>;
  lanesOf(lotId: string): Promise<Lane[]>;
  insertGate(g: Gate): Promise<void>;
  gateById(id: string): Promise<Gate | null>;
  gatesOf(lotId: string): Promise<Gate[]>;
  revokeGate(id: string, at: number): Promise<void>;
  /** raises the gate's applied counter to `counter` (never lowers it) */
  raiseGateCounter(id: string, counter: number): Promise<void>;
}

export interface SessionRepository {
  insert(s: ParkingSession): Promise<void>;
  /** the session, held for the rest of the transaction (PostgreSQL: a row lock; it is updated from what this returns) */
  byId(id: string): Promise<ParkingSession | null>;
  /** sessions in a lot that an exit may still close (open, awaiting payment, paid) */
  unclosedInLot(lotId: string): Promise<ParkingSession[]>;
  /**
   * the unclosed sessions of a lot filed under any of these candidate keys
   * (cloud/sessions/plate-keys.ts `sessionKeys`), ordered by (entryAt, id): every session that fits a read
   * is among those found by `readKeys(read)`
   */
  unclosedByKeys(lotId: string, keys: readonly string[]): Promise<ParkingSession[]>;
  /**
   * the session as it is now, held for the rest of the transaction (PostgreSQL: a row lock, waiting for
   * a transaction that holds it), or null when it is closed by now: an exit decides on what this returns,
   * so that two exits never both settle one stay
   */
  lockUnclosed(id: string): Promise<ParkingSession | null>;
  /**
   * the unclosed sessions of exactly this plate in a lot; the plate in this lot is held for the rest
   * of the transaction (PostgreSQL: an advisory lock taken before the read), so that two entries of one
   * plate at once never open two sessions
   */
  unclosedOfPlate(lotId: string, plate: string): Promise<ParkingSession[]>;
  /**
   * writes every field of `s`: read it in this transaction from `byId`, `lockUnclosed` or
   * `unclosedOfPlate`, which hold the row (PostgreSQL), so no concurrent change is overwritten
   */
  update(s: ParkingSession): Promise<void>;
  ofPlates(plates: string[]): Promise<ParkingSession[]>;
  eventById(id: string): Promise<StoredLaneEvent | null>;
  insertEvent(e: StoredLaneEvent): Promise<void>;
  /** replaces an event's stored decision (a card charge decided after the event was first applied) */
  updateEventDecision(id: string, decision: string): Promise<void>;
  insertPendingPayment(p: PendingPayment): Promise<void>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  pendingPaymentById(id: string): Promise<PendingPayment | null>;
  pendingPaymentsOfPlates(plates: string[]): Promise<PendingPayment[]>;
  updatePendingPayment(p: PendingPayment): Promise<void>;
  /** the pending (unpaid) payments of stays in a lot, newest first */
  pendingPaymentsInLot(lotId: string): Promise<PendingPayment[]>;
  insertReview(r: ReviewItem): Promise<void>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  reviewById(id: string): Promise<ReviewItem | null>;
  reviews(status?: ReviewItem['status']): Promise<ReviewItem[]>;
  openReviewCount(): Promise<number>;
  /**
   * how many review items were ever queued, and how many of them are resolved: items are never
   * deleted nor reopened, so the pair changes with every change of the queue (the open queue alone
   * looks the same after an item was queued and resolved)
   */
  reviewQueueCounts(): Promise<{ queued: number; resolved: number }>;
  updateReview(r: ReviewItem): Promise<void>;
}

export interface SettlementRepository {
  insert(s: Settlement): Promise<void>;
  byId(id: string): Promise<Settlement | null>;
  byExitEvent(exitEventId: string): Promise<Settlement | null>;
  ofDriver(driverId: string): Promise<Settlement[]>;
  /**
   * appends a record to the ledger, committed with the transaction; returns its index, or null
   * where the log gives it its place after the commit (PostgreSQL: the ledger sequencer, on its
   * next tick, so that concurrent settlements do not contend for the next index)
   */
  appendLedgerRecord(settlementId: string, record: string, at: number): Promise<number | null>;
  /** the settlement's record once it has its place in the log */
  ledgerRecordOf(settlementId: string): Promise<LedgerRecordRow | null>;
  ledgerSize(): Promise<number>;
  /**
   * the settlement, held for the rest of the transaction (PostgreSQL: `FOR NO KEY UPDATE`), so that
   * two refunds of one settlement are decided one after the other; SQLite: `byId` (one writer at a time)
   */
  holdForRefund(id: string): Promise<Settlement | null>;
  insertRefund(r: Refund): Promise<void>;
  refundByRequest(requestId: string): Promise<Refund | null>;
  /** the refunds of a settlement, oldest first */
  refundsOf(settlementId: string): Promise<Refund[]>;
}

/**
 * A wallet top-up: money the driver pays in through the payment provider.
 * The wallet is credited only when the provider's signed webhook confirms
 * the payment (`status` pending -> succeeded, once).
 */
export interface TopUp {
  id: string;
  driverId: string;
  accountId: string;
  amount: number;
  currency: string;
  /** the driver's reference, normalised (trimmed, spaces folded, lower case); unique per driver */
  reference: string;
  provider: string;
  /** the provider's payment id, once the provider has answered */
  providerPaymentId: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  createdAt: number;
  settledAt: number | null;
  /** the journal entry that credited the wallet */
  journalEntryId: string | null;
}

/** A payment method saved at the provider for one of the driver's accounts; exits of its plates are charged on it. */
export interface SavedPaymentMethod {
  id: string;
  driverId: string;
  accountId: string;
  provider: string;
  customerId: string;
  /** the provider's id of the method (Stripe: pm_...) */
  methodId: string;
  /** e.g. "visa ending 4242" */
  label: string;
  /** when the provider accepted it (attached to the customer) */
  verifiedAt: number;
  removedAt: number | null;
}

/**
 * An exit charged on a saved payment method. Written before the provider is
 * called (status `started`), so that a crash between the provider's charge
 * and our commit is found and finished on restart with the same
 * idempotency key (the exit event id).
 */
export interface CardCharge {
  id: string;
  exitEventId: string;
  sessionId: string;
  lotId: string;
  accountId: string;
  driverId: string;
  methodId: string;
  amount: number;
  currency: string;
  provider: string;
  status: 'started' | 'succeeded' | 'declined';
  /** what the gate was told: nothing yet, hold the car, or let it out on the driver's credit standing */
  gateAnswer: 'none' | 'held' | 'released';
  providerPaymentId: string | null;
  failure: string | null;
  attempts: number;
  createdAt: number;
  settledAt: number | null;
}

export interface PaymentRepository {
  insertTopUp(t: TopUp): Promise<void>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  topUpById(id: string): Promise<TopUp | null>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  topUpByReference(driverId: string, reference: string): Promise<TopUp | null>;
  topUpsOfAccount(accountId: string): Promise<TopUp[]>;
  updateTopUp(t: TopUp): Promise<void>;
  insertMethod(m: SavedPaymentMethod): Promise<void>;
  /** the account's active (not removed) saved method */
  methodOfAccount(accountId: string): Promise<SavedPaymentMethod | null>;
  /** every method the driver saved, removed ones too (their customer id is reused) */
  methodsOfDriver(driverId: string): Promise<SavedPaymentMethod[]>;
  removeMethod(id: string, at: number): Promise<void>;
  insertCharge(c: CardCharge): Promise<void>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  chargeById(id: string): Promise<CardCharge | null>;
  /** held for the rest of the transaction (PostgreSQL: a row lock), as it may be updated from what this returns */
  chargeByExitEvent(exitEventId: string): Promise<CardCharge | null>;
  /** charges still waiting for the provider's final answer, oldest first */
  startedCharges(limit: number): Promise<CardCharge[]>;
  /** the driver's charges still waiting for the provider */
  startedChargesOfDriver(driverId: string): Promise<CardCharge[]>;
  updateCharge(c: CardCharge): Promise<void>;
  /** records a provider's webhook event id; false when it was seen before (a duplicate delivery) */
  recordWebhookEvent(provider: string, eventId: string, at: number): Promise<boolean>;
}

/** The operator console's chart figures, counted in the database (implementation: stats-repository.ts). */
/** a lot and a half-open time range [from, to) in ms since the epoch */
export interface StatsRange {
  lotId: string;
  from: number;
  to: number;
}

/** what happened in one time bucket; buckets where nothing happened are left out */
export interface StatsBucket {
  /** (t - from) / bucketMs, rounded down */
  index: number;
  /** stays that began (parking sessions by entry time) */
  entries: number;
  /** stays that ended (sessions by exit time) */
  exits: number;
  /** settlements in the lot's currency, by the stay's exit time */
  settlements: number;
  /** their amounts summed (minor units) */
  revenue: number;
  /** lane events the cloud decided (reads of entry and exit lanes) */
  events: number;
  /** review items queued */
  reviews: number;
}

export interface DecisionCount {
  action: string;
  reason: string;
  count: number;
}

export interface ReviewReasonCount {
  reason: string;
  count: number;
}

/** a reported trigger -> barrier-open time of one car (see proto/v1 GateStatus `lastOpened`) */
export interface BarrierTiming {
  eventId: string;
  gateId: string;
  lotId: string;
  laneId: string;
  /** when the car triggered the lane (gate clock) */
  triggeredAt: number;
  triggerToBarrierMs: number;
  receivedAt: number;
}

export interface LaneLatency {
  laneId: string;
  laneName: string;
  count: number;
  /** nearest-rank percentiles (the value at rank ceil(p * count)), as PostgreSQL's percentile_disc */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StatsRepository {
  /** sessions inside the lot at `at` (entered before it and not yet read at an exit) */
  insideAt(lotId: string, at: number): Promise<number>;
  /** the range's buckets of `bucketMs` with anything in them; revenue only of settlements in `currency` */
  buckets(range: StatsRange, bucketMs: number, currency: string): Promise<StatsBucket[]>;
  /** the stored decisions of the range's lane events, by action and reason, most frequent first */
  decisions(range: StatsRange): Promise<DecisionCount[]>;
  /** review items queued in the range, by reason, most frequent first */
  reviewReasons(range: StatsRange): Promise<ReviewReasonCount[]>;
  /** lane events by read confidence in `buckets` equal slices of [0, 1] (1 itself in the last); index -> count */
  confidence(range: StatsRange, buckets: number): Promise<Map<number, number>>;
  /** per lane of the lot with timings in the range (by trigger time), ordered by lane name */
  latency(range: StatsRange): Promise<LaneLatency[]>;
  /** stores a reported timing; false when that event's timing was stored before (the first report stays) */
  recordBarrierTiming(t: BarrierTiming): Promise<boolean>;
}

export interface Repositories {
  drivers: DriverRepository;
  payments: PaymentRepository;
  accounts: AccountRepository;
  links: LinkRepository;
  operators: OperatorRepository;
  lots: LotRepository;
  sessions: SessionRepository;
  settlements: SettlementRepository;
  /** the operator console's chart figures (cloud/storage/stats-repository.ts) */
  stats: StatsRepository;
  /**
   * Runs `reads`: reads that do not depend on one another, started at once (one `Promise.all`).
   * PostgreSQL sends the reads started before `reads` first waits as one statement: one round trip,
   * one snapshot, taken before any row lock among them is granted (pg-statements.ts). SQLite runs it.
   */
  together<T>(reads: () => Promise<T>): Promise<T>;
}

export interface Store {
  /** runs `work` atomically: all of its writes commit together when it resolves, or none when it throws */
  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
