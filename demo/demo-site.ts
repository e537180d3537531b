/**
 * A car park on one machine, for the demo and the benchmarks: a cloud
 * (SQLite in a folder, generated keys, optionally a partner's witness that
 * cosigns checkpoints), one lot with a tariff, lanes, drivers with funded
 * accounts and linked plates, and a registered gate key. Everything goes
 * through the cloud's real HTTP API, as an operator and drivers would.
 *
 * Cars for the replay cameras are rendered scenes written one subfolder per
 * car (`car-0000/frame-0.jpg`), the layout `ReplayCamera` reads.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../time/clock.js';
import { parseCloudConfig } from '../cloud/cloud-config.js';
import type { Cloud } from '../cloud/cloud-service.js';
import { startCloud } from '../cloud/cloud-service.js';
import type { NoteKey } from '../cloud/ledger/signed-note.js';
import { formatSigningKey, formatVerifierKey, generateSigningKey } from '../cloud/ledger/signed-note.js';
import { Witness } from '../cloud/ledger/witness.js';
import { buildWitnessServer } from '../cloud/ledger/witness-server.js';
import type { VerifyResult } from '../cloud/ledger/ledger-verifier.js';
import { httpSource, verifyLedger } from '../cloud/ledger/ledger-verifier.js';
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

const ORIGIN = 'demo.platepay.example/ledger';

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
    const logKey = generateSigningKey(ORIGIN);
    let witnessApp: FastifyInstance | null = null;
    let witnessKey: NoteKey | null = null;
    const settings: Record<string, unknown> = {
      database: options.database ?? join(options.dir, 'cloud.db'),
      port: 0,
      adminKey,
      logLevel: 'silent',
      ledgerOrigin: ORIGIN,
      ledgerKey: formatSigningKey(logKey),
      plateKey: randomBytes(32).toString('hex'),
      ledgerBatchMs: options.ledgerBatchMs ?? 200,
      ...options.cloudSettings,
    };
    if (options.witness) {
      const key = generateSigningKey('partner-bank', 'cosignature');
      const witness = new Witness(key, logKey, ORIGIN, join(options.dir, 'witness-state.json'), options.clock);
      witnessApp = await buildWitnessServer(witness);
      await witnessApp.listen({ host: '127.0.0.1', port: 0 });
      const address = witnessApp.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      settings.witnesses = [{ url: `http://127.0.0.1:${port}`, vkey: formatVerifierKey(key) }];
      settings.witnessQuorum = 1;
      witnessKey = key;
    }
    const cloud = await startCloud(parseCloudConfig(settings, {}), { clock: options.clock, logger: false });
    return new DemoSite(cloud, cloud.url!, adminKey, options.dir, logKey, witnessKey, witnessApp);
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
