/**
 * A car park on one machine, for the demo and the benchmarks: a cloud
 * (SQLite in a folder, or PostgreSQL; optionally a partner's witness that
 * cosigns checkpoints), one lot with a tariff, lanes, drivers with funded
 * accounts and linked plates, and a registered gate key. Everything goes
 * through the cloud's real HTTP API, as an operator and drivers would.
 *
 * The cloud's keys outlive it, so its ledger can be exported, verified and
 * signed on later: on SQLite they are kept as `platepay cloud` keeps them
 * (`<database>.ledgerkey`, `<database>.platekey`), on PostgreSQL in the
 * folder's `cloud.json`. The ledger origin is the cloud's default.
 *
 * Cars for the replay cameras are rendered scenes written one subfolder per
 * car (`car-0000/frame-0.jpg`), the layout `ReplayCamera` reads.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../time/clock.js';
import { DEFAULT_LEDGER_ORIGIN, parseCloudConfig } from '../cloud/cloud-config.js';
import type { Cloud } from '../cloud/cloud-service.js';
import { startCloud } from '../cloud/cloud-service.js';
import type { NoteKey } from '../cloud/ledger/signed-note.js';
import { formatSigningKey, generateSigningKey } from '../cloud/ledger/signed-note.js';
import { Witness } from '../cloud/ledger/witness.js';
import { buildWitnessServer } from '../cloud/ledger/witness-server.js';
import type { VerifyResult } from '../cloud/ledger/ledger-verifier.js';
import { httpSource, verifyLedger } from '../cloud/ledger/ledger-verifier.js';
import { isPostgresUrl } from '../cloud/storage/postgres/pg-connection.js';
import { GateKey } from '../proto/v1/gate-key.js';
import type { SceneSpec } from '../scenes/scene-renderer.js';
import { renderScene } from '../scenes/scene-renderer.js';

export const DEMO_TARIFF = {
  currency: 'CNY',
  freeMinutes: 15,
  unitMinutes: 60,
  unitPrice: 500,
  dailyCap: 6000,
  bands: [],
  graceMinutes: 15,
  utcOffsetMinutes: 480,
};

/** where a demo cloud on PostgreSQL keeps its database URL and keys, in the demo's folder */
export const DEMO_POSTGRES_CONFIG = 'cloud.json';

export interface SiteOptions {
  /** where the cloud's database (unless `database` says otherwise), keys and the gate's files live */
  dir: string;
  /** the cloud's database: a SQLite file or a postgres:// URL (default: dir/cloud.db) */
  database?: string;
  clock: Clock;
  /** run a partner's witness that cosigns checkpoints (quorum 1) */
  witness: boolean;
  ledgerBatchMs?: number;
  /** extra cloud settings (e.g. groupCommit) */
  cloudSettings?: Record<string, unknown>;
}

export interface Driver {
  token: string;
  accountId: string;
}

export class DemoSite {
  private constructor(
    readonly cloud: Cloud,
    readonly url: string,
    readonly adminKey: string,
    readonly dir: string,
    private readonly logKey: NoteKey,
    private readonly witnessKey: NoteKey | null,
    private readonly witnessApp: FastifyInstance | null,
  ) {}

  static async start(options: SiteOptions): Promise<DemoSite> {
    const adminKey = `ppkey_demo-${Math.random().toString(36).slice(2)}-0123456789abcdef`;
    const database = options.database ?? join(options.dir, 'cloud.db');
    const settings: Record<string, unknown> = {
      database,
      port: 0,
      adminKey,
      logLevel: 'silent',
      ledgerBatchMs: options.ledgerBatchMs ?? 200,
      ...(isPostgresUrl(database) ? await keepPostgresKeys(options.dir, database) : {}),
      ...options.cloudSettings,
    };
    // on SQLite the keys are kept where `platepay cloud` keeps them: read from, or generated into, files beside the database
    const config = parseCloudConfig(settings, {});
    let witnessApp: FastifyInstance | null = null;
    let witnessKey: NoteKey | null = null;
    if (options.witness) {
      const key = generateSigningKey('partner-bank', 'cosignature');
      const witnessState = join(options.dir, 'witness-state.json');
      const witness = new Witness(key, config.ledgerKey, config.ledgerOrigin, witnessState, options.clock);
      witnessApp = await buildWitnessServer(witness);
      await witnessApp.listen({ host: '127.0.0.1', port: 0 });
      const address = witnessApp.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      config.witnesses = [{ url: `http://127.0.0.1:${port}`, key }];
      config.witnessQuorum = 1;
      witnessKey = key;
    }
    let cloud: Cloud;
    try {
      cloud = await startCloud(config, { clock: options.clock, logger: false });
    } catch (err) {
      await witnessApp?.close(); // a listening witness would keep the process alive
      throw err;
    }
    return new DemoSite(cloud, cloud.url!, adminKey, options.dir, config.ledgerKey, witnessKey, witnessApp);
  }

  /** one API call; throws with the cloud's error on a non-2xx answer */
  async api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const res = await fetch(this.url + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        authorization: `Bearer ${token ?? this.adminKey}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** a lot with the demo tariff and the given lanes; returns lane ids in order */
  async addLot(name: string, lanes: Array<{ name: string; direction: 'entry' | 'exit' }>) {
    const lot = await this.api<{ id: string }>('POST', '/v1/lots', { name, tariff: DEMO_TARIFF });
    const laneIds: string[] = [];
    for (const l of lanes) laneIds.push((await this.api<{ id: string }>('POST', `/v1/lots/${lot.id}/lanes`, l)).id);
    return { lotId: lot.id, laneIds };
  }

  /** a gate with a fresh key written to `dir/gate.key`; returns its id and key file */
  async addGate(lotId: string, name: string): Promise<{ gateId: string; keyFile: string }> {
    const key = GateKey.generate();
    const keyFile = join(this.dir, `${name}.key`);
    await writeFile(keyFile, key.format(), { mode: 0o600 });
    const gate = await this.api<{ id: string }>('POST', `/v1/lots/${lotId}/gates`, { name, publicKey: key.publicKey });
    return { gateId: gate.id, keyFile };
  }

  /**
   * A driver who signs up, tops up `balance` (minor units) through the
   * payment provider (the built-in test provider's card; the wallet is
   * credited when its signed webhook arrives, which this waits for) and
   * links `plates`. With `savedCard`, the account also keeps the test card
   * on file, so its exits are charged on the card through the provider.
   */
  async addDriver(
    email: string,
    balance: number,
    plates: string[],
    options: { savedCard?: boolean } = {},
  ): Promise<Driver> {
    const { token } = await this.api<{ token: string }>(
      'POST',
      '/v1/drivers',
      { email, password: 'demo password', name: email.split('@')[0] },
      '',
    );
    const me = await this.api<{ accounts: Array<{ id: string }> }>('GET', '/v1/me', undefined, token);
    const accountId = me.accounts[0]!.id;
    if (balance > 0) {
      const body = { amount: balance, reference: 'demo', paymentMethod: 'test_card_ok' };
      await this.api('POST', `/v1/me/accounts/${accountId}/top-ups`, body, token);
      for (let tries = 0; ; tries++) {
        const { accounts } = await this.api<{ accounts: Array<{ id: string; pendingTopUps: unknown[] }> }>(
          'GET',
          '/v1/me/accounts',
          undefined,
          token,
        );
        if (accounts.find((a) => a.id === accountId)?.pendingTopUps.length === 0) break;
        if (tries > 500) throw new Error(`the provider did not confirm ${email}'s top-up`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    if (options.savedCard) {
      await this.api('PUT', `/v1/me/accounts/${accountId}/payment-method`, { paymentMethod: 'test_card_ok' }, token);
    }
    for (const plate of plates) await this.api('POST', '/v1/me/links', { plate, accountId }, token);
    return { token, accountId };
  }

  /** issues a checkpoint now and checks the whole ledger as a partner would, over HTTP */
  async verifyLedger(): Promise<VerifyResult> {
    await this.cloud.checkpointNow();
    const witnesses = this.witnessKey ? [this.witnessKey] : [];
    return verifyLedger(httpSource(this.url, this.adminKey), { log: this.logKey, witnesses, quorum: witnesses.length });
  }

  async close(): Promise<void> {
    await this.cloud.close();
    await this.witnessApp?.close();
  }
}

/**
 * The keys of a demo cloud on PostgreSQL (which generates none itself), kept in `dir/cloud.json`
 * with the database (mode 0600), so that `platepay cloud --config` or `platepay ledger export
 * --config` with that file signs and reads the same ledger later. A file kept for the same
 * database is used again; one for another database is never overwritten.
 */
async function keepPostgresKeys(dir: string, database: string): Promise<{ ledgerKey: string; plateKey: string }> {
  const file = join(dir, DEMO_POSTGRES_CONFIG);
  if (existsSync(file)) {
    const kept = JSON.parse(await readFile(file, 'utf8')) as {
      database?: unknown;
      ledgerKey?: unknown;
      plateKey?: unknown;
    };
    if (kept.database !== database || typeof kept.ledgerKey !== 'string' || typeof kept.plateKey !== 'string') {
      throw new Error(`${file} keeps the keys of another database: use another folder`);
    }
    return { ledgerKey: kept.ledgerKey, plateKey: kept.plateKey };
  }
  const keys = {
    ledgerKey: formatSigningKey(generateSigningKey(DEFAULT_LEDGER_ORIGIN)),
    plateKey: randomBytes(32).toString('hex'),
  };
  await writeFile(file, JSON.stringify({ database, ...keys }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return keys;
}

/** Renders each scene into `dir/car-NNNN/frame-0.jpg`, in order (the replay camera's layout). */
export async function writeCarScenes(
  dir: string,
  scenes: SceneSpec[],
  progress: (done: number) => void = () => undefined,
): Promise<void> {
  for (const [i, spec] of scenes.entries()) {
    const carDir = join(dir, `car-${String(i).padStart(4, '0')}`);
    await mkdir(carDir, { recursive: true });
    await writeFile(join(carDir, 'frame-0.jpg'), (await renderScene(spec)).jpeg);
    progress(i + 1);
  }
}
