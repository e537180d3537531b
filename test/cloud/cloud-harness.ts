/**
 * A real cloud service for tests: SQLite in a temporary folder, listening on
 * 127.0.0.1 on a free port, with a clock the test moves, and a tiny JSON
 * client over real HTTP (fetch).
 *
 * With PLATEPAY_TEST_DATABASE=postgres://user:password@host:port/db (a role
 * that may create databases; `bash scripts/postgres-for-tests.sh start`
 * prints one), every TestCloud runs on PostgreSQL instead, in a database of
 * its own that is created at start and dropped at stop.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../time/clock.js';
import { parseCloudConfig } from '../../cloud/cloud-config.js';
import type { Cloud } from '../../cloud/cloud-service.js';
import { startCloud } from '../../cloud/cloud-service.js';
import type { DriverCall } from './top-up.js';
import { topUpAndWait } from './top-up.js';
import { formatSigningKey, generateSigningKey } from '../../cloud/ledger/signed-note.js';
import { PgStore } from '../../cloud/storage/postgres/pg-store.js';
import { pgTypes } from '../../cloud/storage/postgres/pg-connection.js';
import { createScratchDatabase, dropScratchDatabase } from '../../cloud/storage/scratch-databases.js';
import type { Store } from '../../cloud/storage/repositories.js';
import { SqliteStore } from '../../cloud/storage/sqlite/sqlite-store.js';

/** the PostgreSQL server the tests run on, or null for SQLite */
export const TEST_POSTGRES: string | null = process.env.PLATEPAY_TEST_DATABASE || null;
/** the backend the tests run on, for test names and skips */
export const TEST_BACKEND: 'sqlite' | 'postgres' = TEST_POSTGRES ? 'postgres' : 'sqlite';
/**
 * For tests of SQLite's own machinery (`what`): false on SQLite, else the reason they skip on PostgreSQL
 * (whose counterparts are the pg-*.test.ts files).
 */
export const sqliteOnly = (what: string): string | false =>
  TEST_POSTGRES ? `tests ${what}: SQLite only (the suite runs on PostgreSQL)` : false;

/** a ledger key for PostgreSQL runs (several instances must share one, so none is generated there) */
export const TEST_LEDGER_KEY = formatSigningKey(generateSigningKey('platepay.local/ledger'));

const TEST_DATABASE_PREFIX = 'platepay_t_';

/** Creates a fresh PostgreSQL database on the test server; returns its URL. */
export async function createTestDatabase(): Promise<string> {
  if (!TEST_POSTGRES) throw new Error('PLATEPAY_TEST_DATABASE is not set');
  return createScratchDatabase(TEST_POSTGRES, TEST_DATABASE_PREFIX);
}

/** Drops a database made by createTestDatabase (its connections are ended). */
export async function dropTestDatabase(url: string): Promise<void> {
  if (!TEST_POSTGRES) return;
  await dropScratchDatabase(TEST_POSTGRES, url, TEST_DATABASE_PREFIX);
}

/** The database of a cloud that a test runs (in-process or as a child process). */
export interface CloudDatabase {
  /** the config's `database`: a SQLite file in the test's folder, or a PostgreSQL URL */
  database: string;
  /** what the backend needs besides `database` (PostgreSQL: the keys all instances share) */
  config: Record<string, unknown>;
  /** the same as environment variables, for `platepay cloud --db` */
  env: Record<string, string>;
  /** Drops the PostgreSQL database (SQLite: nothing; the test removes its folder). */
  drop(): Promise<void>;
}

/** the keys every cloud on a PostgreSQL test database is given (several instances must share them) */
const postgresKeys = () => ({
  config: { ledgerKey: TEST_LEDGER_KEY, plateKey: PLATE_KEY },
  env: { PLATEPAY_LEDGER_KEY: TEST_LEDGER_KEY, PLATEPAY_PLATE_KEY: PLATE_KEY },
});

/**
 * A fresh database for a cloud under test: `dir/file` on SQLite, or with PLATEPAY_TEST_DATABASE a
 * PostgreSQL database of its own (drop it when done).
 */
export async function newCloudDatabase(dir: string, file = 'cloud.db'): Promise<CloudDatabase> {
  if (!TEST_POSTGRES) return { database: join(dir, file), config: {}, env: {}, drop: async () => undefined };
  const url = await createTestDatabase();
  return { database: url, ...postgresKeys(), drop: () => dropTestDatabase(url) };
}

/**
 * Copies a cloud database (the cloud using it stopped): the SQLite file, its WAL and its key files, or a PostgreSQL
 * database made from it as a template.
 */
export async function copyCloudDatabase(from: CloudDatabase, dir: string, file = 'cloud.db'): Promise<CloudDatabase> {
  if (!TEST_POSTGRES) {
    const to = join(dir, file);
    // the keys kept beside it too: the copy's ledger was signed with its key
    for (const suffix of ['', '-wal', '-shm', '.ledgerkey', '.platekey']) {
      if (existsSync(from.database + suffix)) await copyFile(from.database + suffix, to + suffix);
    }
    return { database: to, config: {}, env: {}, drop: async () => undefined };
  }
  const template = new URL(from.database).pathname.slice(1);
  const url = await createScratchDatabase(TEST_POSTGRES, TEST_DATABASE_PREFIX, template);
  return { database: url, ...postgresKeys(), drop: () => dropTestDatabase(url) };
}

/**
 * The rows of one query on a cloud database, SQLite file or PostgreSQL URL, for tests that check
 * what was stored. Write `?` for parameters on both backends; BIGINT and COUNT come back as numbers.
 */
export async function queryCloudDatabase<Row = Record<string, unknown>>(
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  if (!TEST_POSTGRES) {
    const db = new Database(database, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as Row[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  const client = new pg.Client({ connectionString: database, types: pgTypes });
  await client.connect();
  try {
    return (
      await client.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      )
    ).rows as Row[];
  } finally {
    await client.end();
  }
}

let sharedDatabase: Promise<string> | null = null;

/**
 * A Store for repository-level tests: a fresh in-memory SQLite, or with PLATEPAY_TEST_DATABASE a
 * PgStore in a fresh schema of a database this test process shares between its stores (made on
 * first use, dropped when the process ends).
 */
export async function openTestStore(): Promise<Store> {
  if (!TEST_POSTGRES) return SqliteStore.open(':memory:');
  if (!sharedDatabase) {
    sharedDatabase = createTestDatabase();
    let dropped = false;
    process.on('beforeExit', () => {
      if (dropped) return;
      dropped = true;
      void sharedDatabase!.then(dropTestDatabase).catch(() => undefined);
    });
  }
  const url = await sharedDatabase;
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return PgStore.open(u.toString(), { poolSize: 2 });
}

export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const ADMIN_KEY = 'ppkey_test-admin-key-0123456789abcdef';
export const PLATE_KEY = '11'.repeat(32);
/** 2026-03-02 08:00 in UTC+8 (00:00 UTC) */
export const T0 = Date.UTC(2026, 2, 2, 0, 0, 0);

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export class TestCloud {
  cloud!: Cloud;
  readonly clock: ManualClock;

  private constructor(
    readonly dir: string,
    clock: ManualClock,
    private readonly extraConfig: Record<string, unknown>,
    /** the PostgreSQL database of this cloud, or null on SQLite */
    readonly postgresUrl: string | null,
  ) {
    this.clock = clock;
  }

  static async start(clock = new ManualClock(T0), extraConfig: Record<string, unknown> = {}): Promise<TestCloud> {
    const dir = await mkdtemp(join(tmpdir(), 'platepay-cloud-'));
    const url = TEST_POSTGRES ? await createTestDatabase() : null;
    const t = new TestCloud(dir, clock, extraConfig, url);
    await t.restart();
    return t;
  }

  /** the config the service runs with, as a JSON file for the CLI */
  get configJson(): Record<string, unknown> {
    return {
      database: this.dbPath,
      adminKey: ADMIN_KEY,
      plateKey: PLATE_KEY,
      ...this.backendConfig,
      ...this.extraConfig,
    };
  }

  /** the SQLite file, or the PostgreSQL URL */
  get dbPath(): string {
    return this.postgresUrl ?? join(this.dir, 'cloud.db');
  }

  private get backendConfig(): Record<string, unknown> {
    return this.postgresUrl ? { ledgerKey: TEST_LEDGER_KEY } : {};
  }

  get url(): string {
    return this.cloud.url!;
  }

  /** Starts (again) on the same database. */
  async restart(): Promise<void> {
    if (this.cloud) await this.cloud.close();
    const config = parseCloudConfig(
      {
        database: this.dbPath,
        port: 0,
        adminKey: ADMIN_KEY,
        plateKey: PLATE_KEY,
        logLevel: 'silent',
        ...this.backendConfig,
        ...this.extraConfig,
      },
      {},
    );
    this.cloud = await startCloud(config, { clock: this.clock, logger: false });
  }

  async stop(): Promise<void> {
    if (this.cloud) await this.cloud.close();
    if (this.postgresUrl) await dropTestDatabase(this.postgresUrl);
    await rm(this.dir, { recursive: true, force: true });
  }

  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] = 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (e.g. /metrics)
    }
    return { status: res.status, body: parsed };
  }

  /** A driver's calls with their token, in the shape topUpAndWait takes. */
  driverCall(token: string): DriverCall {
    return (method, path, body) => this.call(method, path, { token, body });
  }

  /**
   * Every row of every table but the ledger's checkpoints, to show that a refused request changed
   * nothing. Checkpoints are signed by the ledger on its own timer, not by a request (on PostgreSQL
   * the sequencer's first tick signs the empty log, whenever it comes); what a request adds to the
   * ledger shows in its records, which are compared.
   */
  snapshot(): string {
    if (this.postgresUrl) return postgresSnapshot(this.postgresUrl);
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>
      )
        .map((r) => r.name)
        .filter((name) => name !== CHECKPOINTS);
      const out: Record<string, unknown[]> = {};
      for (const t of tables) out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).all();
      return JSON.stringify(out);
    } finally {
      db.close();
    }
  }
}

/** the ledger's signed checkpoints, left out of snapshots (see `snapshot`) */
const CHECKPOINTS = 'ledger_checkpoints';

/**
 * Every row of every table of a PostgreSQL database, read synchronously (psql in a child process, so
 * `snapshot()` is synchronous on both backends): one line per row, tables by name, rows in text order.
 */
function postgresSnapshot(url: string): string {
  const script = `SELECT format('SELECT %L AS t, x::text AS r FROM %I x ORDER BY 2', table_name, table_name)
    FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name <> '${CHECKPOINTS}' ORDER BY table_name \\gexec`;
  return execFileSync('psql', [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'], {
    input: script,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** 500 per started hour from the first minute, at most 3000 a day: a short test stay costs something */
export const hourlyTariff = {
  currency: 'CNY',
  freeMinutes: 0,
  unitMinutes: 60,
  unitPrice: 500,
  dailyCap: 3000,
  bands: [],
  graceMinutes: 15,
  utcOffsetMinutes: 480,
};

/** the hourly tariff after 15 free minutes */
export const tariff = { ...hourlyTariff, freeMinutes: 15 };

/** Sets up a lot with one entry and one exit lane; returns their ids. */
export async function setUpLot(
  t: TestCloud,
  name = 'Airport P1',
): Promise<{ lotId: string; entry: string; exit: string }> {
  const lot = await t.call('POST', '/v1/lots', { token: ADMIN_KEY, body: { name, tariff } });
  if (lot.status !== 201) throw new Error(`lot: ${JSON.stringify(lot.body)}`);
  const entry = await t.call('POST', `/v1/lots/${lot.body.id}/lanes`, {
    token: ADMIN_KEY,
    body: { name: 'in', direction: 'entry' },
  });
  const exit = await t.call('POST', `/v1/lots/${lot.body.id}/lanes`, {
    token: ADMIN_KEY,
    body: { name: 'out', direction: 'exit' },
  });
  return { lotId: lot.body.id, entry: entry.body.id, exit: exit.body.id };
}

/** Signs a driver up and returns the token and the wallet id. */
export async function signUp(
  t: TestCloud,
  email: string,
): Promise<{ token: string; accountId: string; driverId: string }> {
  const r = await t.call('POST', '/v1/drivers', {
    body: { email, password: 'correct horse battery', name: 'Test Driver' },
  });
  if (r.status !== 201) throw new Error(`sign-up: ${JSON.stringify(r.body)}`);
  const me = await t.call('GET', '/v1/me', { token: r.body.token });
  return { token: r.body.token, accountId: me.body.accounts[0].id, driverId: r.body.driver.id };
}

let eventCounter = 0;
export const eventId = (): string => `evt-${process.pid}-${++eventCounter}`;

/** A driver whose linked cars entered one lot together and have stayed a while (see parkCars). */
export interface ParkedCars {
  driver: { token: string; accountId: string };
  plates: string[];
  lotId: string;
  /** the lot's exit lane */
  exitLane: string;
  /** when the cars are at the exit (the clock was moved on to it) */
  exitAt: number;
  /** sends car i's exit (event id `out-i`; the same event every time, so a resend is a resend) */
  exitEvent(i: number): Promise<Reply>;
  /** the driver's wallet balance */
  balance(): Promise<number>;
}

/**
 * Signs a driver up, tops the wallet up with `topUp`, links `cars` plates (`<prefix>1000`, ...), sets
 * up a lot, lets every car in at once and moves the clock on by `stayMinutes`.
 */
export async function parkCars(
  t: TestCloud,
  o: {
    email: string;
    topUp: number;
    lotName: string;
    platePrefix: string;
    cars: number;
    stayMinutes: number;
    /** before the event ids (`in-i`, `out-i`), for several lots of cars in one cloud */
    eventPrefix?: string;
  },
): Promise<ParkedCars> {
  const driver = await signUp(t, o.email);
  await topUpAndWait(t.driverCall(driver.token), driver.accountId, o.topUp, 'r');
  const { lotId, entry, exit } = await setUpLot(t, o.lotName);
  const plates = Array.from({ length: o.cars }, (_, i) => `${o.platePrefix}${String(1000 + i)}`);
  for (const plate of plates) {
    const l = await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate, accountId: driver.accountId },
    });
    if (l.status !== 201) throw new Error(`link ${plate}: ${JSON.stringify(l.body)}`);
  }
  const at = t.clock.now();
  for (const [i, plate] of plates.entries()) {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: `${o.eventPrefix ?? ''}in-${i}`, laneId: entry, plate, confidence: 0.99, at },
    });
    if (r.status !== 200) throw new Error(`entry ${plate}: ${JSON.stringify(r.body)}`);
  }
  const exitAt = at + o.stayMinutes * 60_000;
  t.clock.advance(o.stayMinutes * 60_000);
  return {
    driver,
    plates,
    lotId,
    exitLane: exit,
    exitAt,
    exitEvent: (i) =>
      t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: {
          eventId: `${o.eventPrefix ?? ''}out-${i}`,
          laneId: exit,
          plate: plates[i],
          confidence: 0.99,
          at: exitAt,
        },
      }),
    balance: async () =>
      (await t.call('GET', '/v1/me/accounts', { token: driver.token })).body.accounts[0].balance as number,
  };
}
