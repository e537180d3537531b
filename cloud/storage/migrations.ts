/**
 * Versioned schema migrations for both backends, in one place: each
 * migration has its SQL for SQLite and for PostgreSQL, applied in order and
 * recorded in `schema_migrations`. A migration, once released, is never
 * edited (its SQLite text stays byte for byte what existing databases ran):
 * a change is a new migration with the next version, written for both.
 *
 * The PostgreSQL text is the same schema with its types: times, amounts and
 * counters are BIGINT (ms since the epoch do not fit in INTEGER), REAL is
 * DOUBLE PRECISION, BLOB is BYTEA. Booleans stay 0/1 integers so both
 * backends read rows alike.
 */
import { LEDGER_SCHEMA } from '../ledger/ledger-store.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  /** the SQLite text (released versions: never edited) */
  sql: string;
  /** the PostgreSQL text */
  postgres: string;
}

/** The SQL of `m` for `dialect`. */
export function migrationSql(m: Migration, dialect: Dialect): string {
  return dialect === 'sqlite' ? m.sql : m.postgres;
}

/** Migration 5 (SQLite text; the PostgreSQL text is derived from it). */
const PAYMENT_TABLES = `
      -- wallet top-ups through the payment provider: credited only when its signed webhook confirms them
      CREATE TABLE top_ups (
        id TEXT PRIMARY KEY,
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        amount INTEGER NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        reference TEXT NOT NULL,
        provider TEXT NOT NULL,
        provider_payment_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        created_at INTEGER NOT NULL,
        settled_at INTEGER,
        journal_entry_id TEXT REFERENCES journal_entries(id),
        UNIQUE (driver_id, reference)
      );
      CREATE INDEX top_ups_account ON top_ups(account_id);
      -- payment methods saved at the provider, one active per account
      CREATE TABLE saved_payment_methods (
        id TEXT PRIMARY KEY,
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        provider TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        method_id TEXT NOT NULL,
        label TEXT NOT NULL,
        verified_at INTEGER NOT NULL,
        removed_at INTEGER
      );
      CREATE UNIQUE INDEX saved_payment_methods_active ON saved_payment_methods(account_id) WHERE removed_at IS NULL;
      CREATE INDEX saved_payment_methods_driver ON saved_payment_methods(driver_id);
      -- exits charged on a saved method: written before the provider is called, finished once
      CREATE TABLE card_charges (
        id TEXT PRIMARY KEY,
        exit_event_id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES parking_sessions(id),
        lot_id TEXT NOT NULL REFERENCES lots(id),
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        method_id TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        provider TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('started', 'succeeded', 'declined')),
        gate_answer TEXT NOT NULL CHECK (gate_answer IN ('none', 'held', 'released')),
        provider_payment_id TEXT,
        failure TEXT,
        attempts INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        settled_at INTEGER
      );
      CREATE INDEX card_charges_started ON card_charges(created_at) WHERE status = 'started';
      -- provider webhook events already applied: a second delivery of the same id changes nothing
      CREATE TABLE provider_events (
        provider TEXT NOT NULL,
        event_id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (provider, event_id)
      );
    `;

/**
 * Migration 6 (the same text on both backends): the candidate keys of the
 * unclosed sessions (cloud/sessions/plate-keys.ts). An exit looks up its
 * read's keys instead of comparing the read with every car in the lot; a
 * session's keys are written with it and deleted when it closes. Sessions
 * left unclosed by an older version get theirs when the store opens
 * (`fillSessionKeys` of each backend).
 */
const SESSION_KEYS = `
      CREATE TABLE session_keys (
        lot_id TEXT NOT NULL,
        key TEXT NOT NULL,
        session_id TEXT NOT NULL REFERENCES parking_sessions(id),
        PRIMARY KEY (lot_id, key, session_id)
      );
      CREATE INDEX session_keys_session ON session_keys(session_id);
    `;

/** Migration 9 (SQLite text; the PostgreSQL text is derived from it). */
const REFUNDS = `
      -- money given back on a settlement by an operator, with the reason; at most what was charged,
      -- once per request id; each is one journal entry (kind 'refund')
      CREATE TABLE refunds (
        id TEXT PRIMARY KEY,
        settlement_id TEXT NOT NULL REFERENCES settlements(id),
        request_id TEXT NOT NULL UNIQUE,
        amount INTEGER NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        reason TEXT NOT NULL,
        operator_key_id TEXT NOT NULL,
        journal_entry_id TEXT NOT NULL UNIQUE REFERENCES journal_entries(id),
        created_at INTEGER NOT NULL
      );
      CREATE INDEX refunds_of_settlement ON refunds (settlement_id);
`;

/**
 * A plate with its look-alike characters folded (O, D, Q -> 0; I -> 1; B -> 8; S -> 5; Z -> 2; G -> 6),
 * as SQL on both backends: `foldLookAlikes` of proto/look-alikes.ts, which a test holds it to. The
 * plate search (cloud/search/) compares it in this exact form, so that the index of migration 7 serves it.
 */
export const FOLDED_PLATE_SQL =
  "replace(replace(replace(replace(replace(replace(replace(replace(plate, 'O', '0'), 'D', '0'), 'Q', '0'), 'I', '1'), 'B', '8'), 'S', '5'), 'Z', '2'), 'G', '6')";

/**
 * Migration 7 (the same text on both backends): what the operator console's searches read.
 * Stays by plate with look-alikes folded ("find a car"); settlements of a lot in the order they
 * were settled (the accounting export reads them in pages of that order).
 */
const SEARCH_INDEXES = `
      CREATE INDEX parking_sessions_plate_folded ON parking_sessions((${FOLDED_PLATE_SQL}));
      CREATE INDEX settlements_lot_settled ON settlements(lot_id, created_at, id);
    `;

/**
 * Migration 8 (the same text on both backends): what the operator console's
 * charts read (cloud/storage/stats-repository.ts). The trigger -> barrier
 * time of each car a lane opened for, as its gate reported it (GateStatus
 * `lastOpened`), one row per lane event; and indexes for the charts' range
 * queries by lot and time.
 */
const CHART_TABLES = `
      CREATE TABLE barrier_timings (
        event_id TEXT PRIMARY KEY,
        gate_id TEXT NOT NULL,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        lane_id TEXT NOT NULL REFERENCES lanes(id),
        triggered_at BIGINT NOT NULL,
        trigger_to_barrier_ms BIGINT NOT NULL CHECK (trigger_to_barrier_ms >= 0),
        received_at BIGINT NOT NULL
      );
      CREATE INDEX barrier_timings_lot ON barrier_timings(lot_id, triggered_at);
      CREATE INDEX parking_sessions_lot_entry ON parking_sessions(lot_id, entry_at);
      CREATE INDEX parking_sessions_lot_exit ON parking_sessions(lot_id, exit_at);
      CREATE INDEX settlements_lot_exit ON settlements(lot_id, exit_at);
      CREATE INDEX lane_events_lane_at ON lane_events(lane_id, at);
      CREATE INDEX review_items_lot_at ON review_items(lot_id, at);
    `;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'drivers, accounts, links, lots, sessions, settlements',
    sql: `
      CREATE TABLE drivers (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE driver_tokens (
        token_hash TEXT PRIMARY KEY,
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE payment_accounts (
        id TEXT PRIMARY KEY,
        driver_id TEXT REFERENCES drivers(id),
        kind TEXT NOT NULL CHECK (kind IN ('wallet', 'system')),
        currency TEXT NOT NULL,
        credit_limit INTEGER NOT NULL CHECK (credit_limit >= 0),
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX payment_accounts_system ON payment_accounts(label, currency) WHERE kind = 'system';
      CREATE TABLE journal_entries (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('topup', 'charge', 'refund')),
        reference TEXT NOT NULL UNIQUE,
        currency TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        created_at INTEGER NOT NULL
      );
      CREATE TABLE postings (
        entry_id TEXT NOT NULL REFERENCES journal_entries(id),
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        amount INTEGER NOT NULL,
        PRIMARY KEY (entry_id, account_id)
      );
      CREATE INDEX postings_account ON postings(account_id);
      CREATE TABLE plate_links (
        id TEXT PRIMARY KEY,
        plate TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        created_at INTEGER NOT NULL,
        removed_at INTEGER
      );
      CREATE UNIQUE INDEX plate_links_one_active ON plate_links(plate) WHERE removed_at IS NULL;
      CREATE INDEX plate_links_driver ON plate_links(driver_id);
      CREATE TABLE plate_disputes (
        id TEXT PRIMARY KEY,
        plate TEXT NOT NULL,
        claimant_driver_id TEXT NOT NULL REFERENCES drivers(id),
        claimant_account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        holder_link_id TEXT NOT NULL REFERENCES plate_links(id),
        reason TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'transferred', 'rejected')),
        created_at INTEGER NOT NULL,
        resolved_at INTEGER
      );
      CREATE TABLE operator_keys (
        id TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE lots (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tariff TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE lanes (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        name TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
        created_at INTEGER NOT NULL
      );
      CREATE TABLE gates (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        name TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE parking_sessions (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        plate TEXT NOT NULL,
        entry_event_id TEXT NOT NULL UNIQUE,
        entry_lane_id TEXT NOT NULL REFERENCES lanes(id),
        entry_at INTEGER NOT NULL,
        entry_confidence REAL NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'awaiting_payment', 'paid', 'closed')),
        exit_event_id TEXT UNIQUE,
        exit_at INTEGER,
        fee INTEGER,
        paid_at INTEGER,
        passback_flag INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX parking_sessions_unclosed ON parking_sessions(lot_id) WHERE status != 'closed';
      CREATE INDEX parking_sessions_plate ON parking_sessions(plate);
      CREATE TABLE lane_events (
        id TEXT PRIMARY KEY,
        lane_id TEXT NOT NULL REFERENCES lanes(id),
        kind TEXT NOT NULL CHECK (kind IN ('entry', 'exit')),
        plate TEXT NOT NULL,
        confidence REAL NOT NULL,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        request_hash TEXT NOT NULL,
        decision TEXT NOT NULL
      );
      CREATE TABLE pending_payments (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES parking_sessions(id),
        plate TEXT NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
        created_at INTEGER NOT NULL,
        paid_at INTEGER,
        paid_by_account_id TEXT REFERENCES payment_accounts(id)
      );
      CREATE INDEX pending_payments_plate ON pending_payments(plate);
      CREATE TABLE review_items (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        lane_id TEXT NOT NULL REFERENCES lanes(id),
        event_id TEXT NOT NULL UNIQUE,
        plate TEXT NOT NULL,
        confidence REAL NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        candidate_session_ids TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
        created_at INTEGER NOT NULL,
        resolution TEXT,
        resolved_at INTEGER
      );
      CREATE TABLE settlements (
        id TEXT PRIMARY KEY,
        exit_event_id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL UNIQUE REFERENCES parking_sessions(id),
        lot_id TEXT NOT NULL REFERENCES lots(id),
        account_id TEXT REFERENCES payment_accounts(id),
        driver_id TEXT REFERENCES drivers(id),
        amount INTEGER NOT NULL CHECK (amount >= 0),
        currency TEXT NOT NULL,
        entry_at INTEGER NOT NULL,
        exit_at INTEGER NOT NULL,
        method TEXT NOT NULL,
        journal_entry_id TEXT REFERENCES journal_entries(id),
        created_at INTEGER NOT NULL
      );
      CREATE INDEX settlements_driver ON settlements(driver_id);
    `,
    postgres: `
      CREATE TABLE drivers (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE driver_tokens (
        token_hash TEXT PRIMARY KEY,
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE payment_accounts (
        id TEXT PRIMARY KEY,
        driver_id TEXT REFERENCES drivers(id),
        kind TEXT NOT NULL CHECK (kind IN ('wallet', 'system')),
        currency TEXT NOT NULL,
        credit_limit BIGINT NOT NULL CHECK (credit_limit >= 0),
        label TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE UNIQUE INDEX payment_accounts_system ON payment_accounts(label, currency) WHERE kind = 'system';
      CREATE TABLE journal_entries (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('topup', 'charge', 'refund')),
        reference TEXT NOT NULL UNIQUE,
        currency TEXT NOT NULL,
        amount BIGINT NOT NULL CHECK (amount > 0),
        created_at BIGINT NOT NULL
      );
      CREATE TABLE postings (
        entry_id TEXT NOT NULL REFERENCES journal_entries(id),
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        amount BIGINT NOT NULL,
        PRIMARY KEY (entry_id, account_id)
      );
      CREATE INDEX postings_account ON postings(account_id);
      CREATE TABLE plate_links (
        id TEXT PRIMARY KEY,
        plate TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        driver_id TEXT NOT NULL REFERENCES drivers(id),
        created_at BIGINT NOT NULL,
        removed_at BIGINT
      );
      CREATE UNIQUE INDEX plate_links_one_active ON plate_links(plate) WHERE removed_at IS NULL;
      CREATE INDEX plate_links_driver ON plate_links(driver_id);
      CREATE TABLE plate_disputes (
        id TEXT PRIMARY KEY,
        plate TEXT NOT NULL,
        claimant_driver_id TEXT NOT NULL REFERENCES drivers(id),
        claimant_account_id TEXT NOT NULL REFERENCES payment_accounts(id),
        holder_link_id TEXT NOT NULL REFERENCES plate_links(id),
        reason TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'transferred', 'rejected')),
        created_at BIGINT NOT NULL,
        resolved_at BIGINT
      );
      CREATE TABLE operator_keys (
        id TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'auditor')),
        label TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE TABLE lots (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tariff TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE lanes (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        name TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('entry', 'exit')),
        created_at BIGINT NOT NULL
      );
      CREATE TABLE gates (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        name TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE TABLE parking_sessions (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        plate TEXT NOT NULL,
        entry_event_id TEXT NOT NULL UNIQUE,
        entry_lane_id TEXT NOT NULL REFERENCES lanes(id),
        entry_at BIGINT NOT NULL,
        entry_confidence DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'awaiting_payment', 'paid', 'closed')),
        exit_event_id TEXT UNIQUE,
        exit_at BIGINT,
        fee BIGINT,
        paid_at BIGINT,
        passback_flag INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX parking_sessions_unclosed ON parking_sessions(lot_id) WHERE status != 'closed';
      CREATE INDEX parking_sessions_plate ON parking_sessions(plate);
      CREATE TABLE lane_events (
        id TEXT PRIMARY KEY,
        lane_id TEXT NOT NULL REFERENCES lanes(id),
        kind TEXT NOT NULL CHECK (kind IN ('entry', 'exit')),
        plate TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        at BIGINT NOT NULL,
        received_at BIGINT NOT NULL,
        request_hash TEXT NOT NULL,
        decision TEXT NOT NULL
      );
      CREATE TABLE pending_payments (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES parking_sessions(id),
        plate TEXT NOT NULL,
        amount BIGINT NOT NULL CHECK (amount > 0),
        currency TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
        created_at BIGINT NOT NULL,
        paid_at BIGINT,
        paid_by_account_id TEXT REFERENCES payment_accounts(id)
      );
      CREATE INDEX pending_payments_plate ON pending_payments(plate);
      CREATE TABLE review_items (
        id TEXT PRIMARY KEY,
        lot_id TEXT NOT NULL REFERENCES lots(id),
        lane_id TEXT NOT NULL REFERENCES lanes(id),
        event_id TEXT NOT NULL UNIQUE,
        plate TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        at BIGINT NOT NULL,
        reason TEXT NOT NULL,
        candidate_session_ids TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
        created_at BIGINT NOT NULL,
        resolution TEXT,
        resolved_at BIGINT
      );
      CREATE TABLE settlements (
        id TEXT PRIMARY KEY,
        exit_event_id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL UNIQUE REFERENCES parking_sessions(id),
        lot_id TEXT NOT NULL REFERENCES lots(id),
        account_id TEXT REFERENCES payment_accounts(id),
        driver_id TEXT REFERENCES drivers(id),
        amount BIGINT NOT NULL CHECK (amount >= 0),
        currency TEXT NOT NULL,
        entry_at BIGINT NOT NULL,
        exit_at BIGINT NOT NULL,
        method TEXT NOT NULL,
        journal_entry_id TEXT REFERENCES journal_entries(id),
        created_at BIGINT NOT NULL
      );
      CREATE INDEX settlements_driver ON settlements(driver_id);
    `,
  },
  {
    version: 2,
    name: 'gate event counters (replay protection)',
    sql: `ALTER TABLE gates ADD COLUMN last_counter INTEGER NOT NULL DEFAULT 0;`,
    postgres: `ALTER TABLE gates ADD COLUMN last_counter BIGINT NOT NULL DEFAULT 0;`,
  },
  {
    version: 3,
    name: 'ledger tables (records, subtree hashes, checkpoints, cosignatures)',
    // SQLite: the ledger store has always created them (IF NOT EXISTS), so this only records them here
    sql: LEDGER_SCHEMA,
    postgres: `
      CREATE TABLE ledger_records (
        idx BIGINT PRIMARY KEY,
        ref TEXT UNIQUE,
        record TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE ledger_nodes (
        level INTEGER NOT NULL,
        idx BIGINT NOT NULL,
        hash BYTEA NOT NULL,
        PRIMARY KEY (level, idx)
      );
      CREATE TABLE ledger_checkpoints (
        size BIGINT PRIMARY KEY,
        note TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE SEQUENCE ledger_cosignatures_rev;
      CREATE TABLE ledger_cosignatures (
        size BIGINT NOT NULL REFERENCES ledger_checkpoints(size),
        witness TEXT NOT NULL,
        line TEXT NOT NULL,
        rev BIGINT NOT NULL DEFAULT nextval('ledger_cosignatures_rev'),
        PRIMARY KEY (size, witness)
      );
      CREATE INDEX ledger_cosignatures_rev_idx ON ledger_cosignatures(rev);
      -- records committed by settlements, waiting for the sequencer to give them their index
      CREATE TABLE ledger_queue (
        seq BIGSERIAL PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'operator dashboard: lane reads with crops, gate presence (PostgreSQL)',
    // SQLite: nothing; the reads stay in their own file (<database>.evidence, cloud/web/lane-read-log.ts)
    // and gate presence in the one process's memory
    sql: `-- nothing on SQLite`,
    // In a schema of their own, as SQLite keeps them in a file of their own: observations for people to
    // look at, written outside the settlement transactions, never part of the money data (nor of a
    // comparison of "every table"). IF NOT EXISTS: stores told apart only by search_path share it.
    postgres: `
      CREATE SCHEMA IF NOT EXISTS platepay_dashboard;
      -- every lane event a gate sent, with its decision and plate crop (cloud/web/pg-lane-read-log.ts);
      -- seq orders arrivals across instances, and its maximum tells the dashboards that reads came in
      CREATE TABLE IF NOT EXISTS platepay_dashboard.lane_reads (
        seq BIGSERIAL PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        gate_id TEXT NOT NULL,
        lot_id TEXT NOT NULL,
        lane_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        plate TEXT NOT NULL,
        confidence DOUBLE PRECISION NOT NULL,
        at BIGINT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL,
        fee BIGINT,
        currency TEXT,
        review_id TEXT,
        crop BYTEA,
        received_at BIGINT NOT NULL
      );
      -- JPEGs do not compress: kept out of line, uncompressed
      ALTER TABLE platepay_dashboard.lane_reads ALTER COLUMN crop SET STORAGE EXTERNAL;
      CREATE INDEX IF NOT EXISTS lane_reads_lane ON platepay_dashboard.lane_reads(lane_id, received_at);
      CREATE INDEX IF NOT EXISTS lane_reads_received ON platepay_dashboard.lane_reads(received_at);
      -- the gates connected to each instance and their last status (cloud/web/pg-gate-board.ts); a row
      -- counts while its instance's heartbeat (database clock) is fresh; rev changes with what a dashboard shows
      CREATE SEQUENCE IF NOT EXISTS platepay_dashboard.gate_presence_rev;
      CREATE TABLE IF NOT EXISTS platepay_dashboard.gate_presence (
        gate_id TEXT NOT NULL,
        instance TEXT NOT NULL,
        lot_id TEXT NOT NULL,
        since BIGINT NOT NULL,
        status TEXT,
        rev BIGINT NOT NULL DEFAULT nextval('platepay_dashboard.gate_presence_rev'),
        heartbeat TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (gate_id, instance)
      );
      CREATE INDEX IF NOT EXISTS gate_presence_instance ON platepay_dashboard.gate_presence(instance);
    `,
  },
  {
    version: 5,
    name: 'money through a payment provider: top-ups, saved payment methods, card charges, webhook events',
    sql: PAYMENT_TABLES,
    // the same tables; times and amounts are BIGINT
    postgres: PAYMENT_TABLES.replaceAll('INTEGER', 'BIGINT'),
  },
  {
    version: 6,
    name: 'candidate keys of unclosed sessions',
    sql: SESSION_KEYS,
    postgres: SESSION_KEYS,
  },
  {
    version: 7,
    name: 'indexes of the operator console: stays by folded plate, settlements of a lot by time',
    sql: SEARCH_INDEXES,
    postgres: SEARCH_INDEXES,
  },
  {
    version: 8,
    name: 'operator console charts: barrier timings, range indexes',
    sql: CHART_TABLES,
    postgres: CHART_TABLES,
  },
  {
    version: 9,
    name: 'refunds of settlements, with their reasons',
    sql: REFUNDS,
    // the same table; times and amounts are BIGINT
    postgres: REFUNDS.replaceAll('INTEGER', 'BIGINT'),
  },
];
