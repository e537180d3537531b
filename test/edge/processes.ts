/**
 * Test helpers that run `platepay cloud` and `platepay edge` as child
 * processes (real processes, so they can be killed with SIGKILL), call their
 * HTTP ports, set up a car park through the API, and render cars for replay
 * cameras.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import { topUpAndWait } from '../cloud/top-up.js';
import { hourlyTariff, newCloudDatabase } from '../cloud/cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'platepay.js');

export interface Proc {
  child: ChildProcess;
  url: string;
}

/** Starts `platepay ARGS` and resolves once its stderr matches `pattern` (group 1: its URL). */
export function start(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PLATEPAY_LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = pattern.exec(stderr);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${stderr}`)));
  });
}

export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  await new Promise((resolve) => {
    p.child.once('exit', resolve);
    p.child.kill(signal);
  });
}

export async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Renders `frames` frames of one car with `plate` into dir/car-NNN/. */
export async function renderCar(dir: string, index: number, plate: string, frames = 2): Promise<void> {
  const carDir = join(dir, `car-${String(index).padStart(3, '0')}`);
  await mkdir(carDir, { recursive: true });
  for (let f = 0; f < frames; f++) {
    const spec = randomSceneSpec('cn-blue', 100 * index + f, 'easy');
    const scene = await renderScene({ ...spec, plate: { text: plate, style: 'cn-blue' } });
    await writeFile(join(carDir, `frame-${f}.jpg`), scene.jpeg);
  }
}

export interface CarPark {
  cloud: Proc;
  /** the cloud's database (SQLite in dir, or PostgreSQL under PLATEPAY_TEST_DATABASE): drop it when done */
  database: CloudDatabase;
  cloudConfig: string;
  driver: { token: string; accountId: string };
  lanes: { entry: string; exit: string };
  gateId: string;
  /** the gate's key, written to dir/gate.key */
  keyFile: string;
}

/**
 * A `platepay cloud` process on dir/cloud.db (or a PostgreSQL database of its own, see
 * newCloudDatabase) with: one driver (signed up,
 * topped up with `topUp`), a lot charging 500 per started hour (no free
 * minutes, cap 3000) with an entry and an exit lane, and a registered gate
 * whose key is in dir/gate.key.
 */
export async function startCarPark(
  dir: string,
  adminKey: string,
  options: { email: string; topUp: number; graceMinutes: number },
): Promise<CarPark> {
  const cloudConfig = join(dir, 'cloud.json');
  const database = await newCloudDatabase(dir);
  await writeFile(
    cloudConfig,
    JSON.stringify({
      database: database.database,
      ...database.config,
      port: 0,
      adminKey,
      ledgerBatchMs: 50,
      logLevel: 'warn',
    }),
  );
  const cloud = await start(['cloud', '--config', cloudConfig], /listening on (http:\/\/\S+)/);
  const c = cloud.url;
  const signup = await call(c, 'POST', '/v1/drivers', { email: options.email, password: 'long enough', name: 'D' });
  const driver = {
    token: signup.body.token as string,
    accountId: (await call(c, 'GET', '/v1/me', undefined, signup.body.token)).body.accounts[0].id as string,
  };
  await topUpAndWait((m, p, b) => call(c, m, p, b, driver.token), driver.accountId, options.topUp, 'r1');
  const tariff = { ...hourlyTariff, graceMinutes: options.graceMinutes };
  const lot = await call(c, 'POST', '/v1/lots', { name: 'P1', tariff }, adminKey);
  const entry = await call(c, 'POST', `/v1/lots/${lot.body.id}/lanes`, { name: 'in', direction: 'entry' }, adminKey);
  const exit = await call(c, 'POST', `/v1/lots/${lot.body.id}/lanes`, { name: 'out', direction: 'exit' }, adminKey);
  const key = GateKey.generate();
  const keyFile = join(dir, 'gate.key');
  await writeFile(keyFile, key.format());
  const gate = await call(
    c,
    'POST',
    `/v1/lots/${lot.body.id}/gates`,
    { name: 'g1', publicKey: key.publicKey },
    adminKey,
  );
  return {
    cloud,
    database,
    cloudConfig,
    driver,
    lanes: { entry: entry.body.id, exit: exit.body.id },
    gateId: gate.body.id,
    keyFile,
  };
}
