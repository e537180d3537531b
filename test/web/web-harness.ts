/**
 * What the browser tests share: Debian's Chromium driven by playwright-core
 * (skipped with a message when /usr/bin/chromium is missing), a car park
 * on this machine (cloud on the test backend, see newCloudDatabase; a partner's witness, a lot with entry and exit
 * lanes, a registered gate) and a real gate unit with replay cameras of
 * rendered cars, and screenshots written to test-output/screenshots/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { DemoSite } from '../../demo/demo-site.js';
import { renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import { systemClock } from '../../time/clock.js';
import { parseEdgeConfig } from '../../edge/edge-config.js';
import type { GateUnit } from '../../edge/gate-unit.js';
import { startGateUnit } from '../../edge/gate-unit.js';
import { hourlyTariff, newCloudDatabase } from '../cloud/cloud-harness.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');

/** why the browser tests cannot run here, or false */
export const skipBrowser: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install it with scripts/install-system-packages.sh (CI does)`;

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-background-networking'],
  });
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1366, height: 900 };

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface Site {
  site: DemoSite;
  dir: string;
  lotId: string;
  lanes: { entry: string; exit: string };
  gate: GateUnit;
  /** a car arrives at the lane: the gate reads the next rendered car and decides */
  trigger(lane: 'entry' | 'exit'): Promise<{ plate: string; action: string; reason: string; fee: number | null }>;
  close(): Promise<void>;
}

/** Renders the cars each lane's camera will see, in order (two frames each). */
async function renderCars(dir: string, plates: string[], seed: number): Promise<void> {
  for (const [i, plate] of plates.entries()) {
    const carDir = join(dir, `car-${String(i).padStart(3, '0')}`);
    await mkdir(carDir, { recursive: true });
    for (let f = 0; f < 2; f++) {
      const spec = randomSceneSpec('cn-blue', seed + 100 * i + f, 'easy');
      const scene = await renderScene({ ...spec, plate: { text: plate, style: 'cn-blue' } });
      await writeFile(join(carDir, `frame-${f}.jpg`), scene.jpeg);
    }
  }
}

/** A car park with a witness and a gate unit whose cameras will see `cars.entry` and `cars.exit` in order. */
export async function startSite(cars: { entry: string[]; exit: string[] }, seed: number): Promise<Site> {
  const dir = await mkdtemp(join(tmpdir(), 'platepay-web-'));
  await renderCars(join(dir, 'entry-cam'), cars.entry, seed);
  await renderCars(join(dir, 'exit-cam'), cars.exit, seed + 50);
  const database = await newCloudDatabase(dir);
  const site = await DemoSite.start({
    dir,
    database: database.database,
    clock: systemClock,
    witness: true,
    ledgerBatchMs: 100,
  });
  const lot = await site.api<{ id: string }>('POST', '/v1/lots', { name: 'Riverside car park', tariff: hourlyTariff });
  const entry = await site.api<{ id: string }>('POST', `/v1/lots/${lot.id}/lanes`, {
    name: 'North entry',
    direction: 'entry',
  });
  const exit = await site.api<{ id: string }>('POST', `/v1/lots/${lot.id}/lanes`, {
    name: 'North exit',
    direction: 'exit',
  });
  const { gateId, keyFile } = await site.addGate(lot.id, 'north-gate');
  const lane = (laneId: string, direction: string, cam: string) => ({
    laneId,
    direction,
    camera: { type: 'replay', dir: join(dir, cam) },
    barrier: { type: 'simulated' },
    presence: 'trigger',
    budgetMs: 10_000,
    maxFrames: 2,
    holdMs: 0,
  });
  const config = parseEdgeConfig(
    {
      gateId,
      cloudUrl: site.url.replace('http', 'ws') + '/v1/gates/ws',
      keyFile,
      journal: join(dir, 'edge.db'),
      http: { host: '127.0.0.1', port: 0 },
      threads: 2,
      lanes: [lane(entry.id, 'entry', 'entry-cam'), lane(exit.id, 'exit', 'exit-cam')],
    },
    dir,
  );
  const gate = await startGateUnit(config, { logger: false });
  for (let i = 0; i < 200 && !gate.uplink.online; i++) await new Promise((r) => setTimeout(r, 50));
  if (!gate.uplink.online) throw new Error('the gate unit did not connect to the cloud');
  const lanes = { entry: entry.id, exit: exit.id };
  return {
    site,
    dir,
    lotId: lot.id,
    lanes,
    gate,
    async trigger(which) {
      const res = await fetch(`${gate.url}/lanes/${lanes[which]}/trigger`, { method: 'POST' });
      const body = (await res.json()) as { plate: string; action: string; reason: string; fee: number | null };
      if (res.status !== 200) throw new Error(`trigger ${which}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async close() {
      await gate.close();
      await site.close();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
