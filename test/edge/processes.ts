/**
 * Test helpers that run `platepay cloud` and `platepay edge` as child
 * processes (real processes, so they can be killed with SIGKILL), call their
 * HTTP ports, and render cars for replay cameras.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomSceneSpec, renderScene } from '../../bench/scenes/scene-renderer.js';

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
