/** The car park the cloud bench drives: a cloud on a scratch database, lots, lanes, gates, drivers with funded wallets and linked plates. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCloudConfig } from '../../cloud/cloud-config.js';
import { startCloud } from '../../cloud/cloud-service.js';
import type { Cloud } from '../../cloud/cloud-service.js';
import { formatSigningKey, generateSigningKey } from '../../cloud/ledger/signed-note.js';
import { createScratchDatabase, dropScratchDatabase } from '../../cloud/storage/scratch-databases.js';
import type { Driver } from '../../cloud/storage/repositories.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { GateFleet, GateSpec } from './gate-fleet.js';
import { BENCH_DATABASE_PREFIX } from './bench-checks.js';

const ADMIN = 'ppkey_bench-admin-key-0123456789abcdef';

/**
 * Cars per car park: every lane event reads all the unclosed sessions of its lot (exits are matched
 * against them), so the cars are spread over lots of this size whatever the number of gates; the
 * gates are spread evenly over the lots.
 */
export const CARS_PER_LOT = 200;

const DRIVERS = 20;

const tariff = {
  currency: 'CNY',
  freeMinutes: 0,
  unitMinutes: 60,
  unitPrice: 500,
  dailyCap: 3000,
  bands: [],
  graceMinutes: 15,
  utcOffsetMinutes: 480,
};

/**
 * A cloud on a temp SQLite file (or on a fresh PostgreSQL database, with 1 or 2 instances) with
 * lots, lanes, G admitted gates (in the worker) and funded drivers.
 */
export interface BenchSite {
  dir: string;
  /** the SQLite file, or the PostgreSQL database's URL */
  database: string;
  /** the instance the API calls go to */
  cloud: Cloud;
  /** every instance (one on SQLite) */
  clouds: Cloud[];
  postgres: boolean;
  fleet: GateFleet;
  specs: GateSpec[];
  drivers: Array<{ driver: Driver; account: string }>;
  /** closes the gates, then the cloud (once; the database is complete after it) */
  stop(): Promise<void>;
  /** stops what is still running (ignoring errors) and removes the temp folder */
  dispose(): Promise<void>;
}

export async function startSite(
  gateCount: number,
  lotCount: number,
  groupCommit: boolean,
  label: string,
  progress: (m: string) => void,
  postgres?: PgBench,
): Promise<BenchSite> {
  const dir = await mkdtemp(join(tmpdir(), 'platepay-cloud-bench-'));
  let database = join(dir, 'cloud.db');
  let created: string | null = null;
  const clouds: Cloud[] = [];
  let fleet: GateFleet | null = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await fleet?.close();
    } finally {
      await Promise.all(clouds.map((c) => c.close()));
    }
  };
  const dispose = async () => {
    await stop().catch(() => undefined);
    if (postgres && created)
      await dropScratchDatabase(postgres.server, created, BENCH_DATABASE_PREFIX).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (postgres) {
      created = await createScratchDatabase(postgres.server, BENCH_DATABASE_PREFIX);
      database = created;
      // every instance must share these
      const keys = {
        plateKey: randomBytes(32).toString('hex'),
        ledgerKey: formatSigningKey(generateSigningKey('platepay.local/ledger')),
      };
      for (let i = 0; i < postgres.instances; i++) {
        clouds.push(
          await startCloud(parseCloudConfig({ database, port: 0, adminKey: ADMIN, logLevel: 'silent', ...keys }, {}), {
            logger: false,
          }),
        );
      }
    } else {
      clouds.push(
        await startCloud(
          parseCloudConfig({ database, port: 0, adminKey: ADMIN, logLevel: 'silent', groupCommit }, {}),
          { logger: false },
        ),
      );
    }
    const c = clouds[0]!;
    fleet = new GateFleet();
    const url = c.url!;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as { id: string };
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    // lots and lanes, then the gates, each with its own key (registered over the API)
    const lots: Array<{ id: string; entry: string; exit: string }> = [];
    for (let l = 0; l < lotCount; l++) {
      const lot = await api('POST', '/v1/lots', { name: `bench lot ${l}`, tariff });
      const entry = await api('POST', `/v1/lots/${lot.id}/lanes`, { name: 'in', direction: 'entry' });
      const exit = await api('POST', `/v1/lots/${lot.id}/lanes`, { name: 'out', direction: 'exit' });
      lots.push({ id: lot.id, entry: entry.id, exit: exit.id });
    }
    const specs: GateSpec[] = new Array<GateSpec>(gateCount);
    for (let i = 0; i < gateCount; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, gateCount - i) }, async (_, j) => {
          const g = i + j;
          const key = GateKey.generate();
          const lot = lots[g % lotCount]!;
          const gate = await api('POST', `/v1/lots/${lot.id}/gates`, { name: `gate ${g}`, publicKey: key.publicKey });
          specs[g] = {
            // on several instances the gates alternate between them
            ...(clouds.length > 1
              ? { url: clouds[g % clouds.length]!.url!.replace(/^http/, 'ws') + '/v1/gates/ws' }
              : {}),
            gateId: gate.id,
            seed: /platepay-gate-key-v1 (\S+)/.exec(key.format())![1]!,
            entryLane: lot.entry,
            exitLane: lot.exit,
          };
        }),
      );
    }
    progress(`${label}: connecting the gates`);
    await fleet.ask({ cmd: 'connect', url: url.replace(/^http/, 'ws') + '/v1/gates/ws', gates: specs });
    const admitted = clouds.reduce((s, x) => s + x.gates.connectedGates, 0);
    if (admitted !== gateCount) throw new Error(`${admitted} gates admitted, expected ${gateCount}`);
    // drivers with funded wallets (they link the plates after the gates are admitted: a gate's
    // first allow-list is built at admission from every link)
    const drivers = await Promise.all(
      Array.from({ length: DRIVERS }, async (_, d) => {
        const { driver } = await c.drivers.signUp({
          email: `bench${d}@example.com`,
          password: 'long enough password',
          name: `bench ${d}`,
        });
        const account = (await c.drivers.accounts(driver))[0]!.id;
        // paid in through the built-in test provider; credited when its webhook arrives
        await c.drivers.topUp(driver, account, 1_000_000_000, 'bench', 'test_card_ok');
        for (let tries = 0; (await c.drivers.accounts(driver))[0]!.pendingTopUps.length > 0; tries++) {
          if (tries > 1000) throw new Error(`the test provider did not confirm bench driver ${d}'s top-up`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return { driver, account };
      }),
    );
    return { dir, database, cloud: c, clouds, postgres: Boolean(postgres), fleet, specs, drivers, stop, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** Links the plates to the drivers' wallets (round robin); returns the links, for unlinkPlates. */
export async function linkPlates(
  site: BenchSite,
  plates: string[],
): Promise<Array<{ driver: Driver; linkId: string }>> {
  return Promise.all(
    plates.map(async (plate, i) => {
      const d = site.drivers[i % site.drivers.length]!;
      const link = await site.cloud.drivers.linkPlate(d.driver, { plate, accountId: d.account });
      return { driver: d.driver, linkId: link.id };
    }),
  );
}

export async function unlinkPlates(site: BenchSite, links: Array<{ driver: Driver; linkId: string }>): Promise<void> {
  await Promise.all(links.map((l) => site.cloud.drivers.unlinkPlate(l.driver, l.linkId)));
}

/** PostgreSQL runs: the server (a URL whose role may create databases) and the cloud instances per run. */
export interface PgBench {
  server: string;
  instances: 1 | 2;
}
