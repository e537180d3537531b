/**
 * A real cloud service for tests: SQLite in a temporary folder, listening on
 * 127.0.0.1 on a free port, with a clock the test moves, and a tiny JSON
 * client over real HTTP (fetch).
 */
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../cloud/clock.js';
import { parseCloudConfig } from '../../cloud/cloud-config.js';
import type { Cloud } from '../../cloud/cloud-service.js';
import { startCloud } from '../../cloud/cloud-service.js';

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
  ) {
    this.clock = clock;
  }

  static async start(clock = new ManualClock(T0), extraConfig: Record<string, unknown> = {}): Promise<TestCloud> {
    const dir = await mkdtemp(join(tmpdir(), 'platepay-cloud-'));
    const t = new TestCloud(dir, clock, extraConfig);
    await t.restart();
    return t;
  }

  /** the config the service runs with, as a JSON file for the CLI */
  get configJson(): Record<string, unknown> {
    return { database: this.dbPath, adminKey: ADMIN_KEY, plateKey: PLATE_KEY, ...this.extraConfig };
  }

  get dbPath(): string {
    return join(this.dir, 'cloud.db');
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
        ...this.extraConfig,
      },
      {},
    );
    this.cloud = await startCloud(config, { clock: this.clock, logger: false });
  }

  async stop(): Promise<void> {
    if (this.cloud) await this.cloud.close();
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

  /** Every row of every table, to show that a refused request changed nothing. */
  snapshot(): string {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>
      ).map((r) => r.name);
      const out: Record<string, unknown[]> = {};
      for (const t of tables) out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).all();
      return JSON.stringify(out);
    } finally {
      db.close();
    }
  }
}

export const tariff = {
  currency: 'CNY',
  freeMinutes: 15,
  unitMinutes: 60,
  unitPrice: 500,
  dailyCap: 3000,
  bands: [],
  graceMinutes: 15,
  utcOffsetMinutes: 480,
};

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
