/**
 * Several `platepay cloud` processes for the multi-instance tests: start
 * one on a config file and learn its URL, stop it as an operator would,
 * call its API, wait for something it shows, and speak the gate protocol
 * to it as a gate unit does (hello, challenge, signed auth, signed lane
 * events, status reports).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { CloudToGate, LaneEventBody } from '../../proto/v1/messages.js';
import { authSigningBytes } from '../../proto/v1/codec.js';
import type { GateKey } from '../../proto/v1/gate-key.js';
import { ADMIN_KEY, PLATE_KEY, TEST_LEDGER_KEY } from './cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** the `platepay` command */
export const BIN = join(ROOT, 'bin', 'platepay.js');

export interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

/**
 * Writes dir/cloud.json for instances that share the PostgreSQL database at `url` (with the harness's
 * admin, plate and ledger keys; the ledger ticks every 100 ms); returns its path.
 */
export async function writeInstanceConfig(dir: string, url: string): Promise<string> {
  const file = join(dir, 'cloud.json');
  await writeFile(
    file,
    JSON.stringify({
      database: url,
      adminKey: ADMIN_KEY,
      plateKey: PLATE_KEY,
      ledgerKey: TEST_LEDGER_KEY,
      ledgerBatchMs: 100,
      logLevel: 'silent',
    }),
  );
  return file;
}

/** Starts `platepay cloud --config FILE --port 0`; resolves once it listens. */
export async function startInstance(name: string, configFile: string): Promise<Instance> {
  const child = spawn(process.execPath, [BIN, 'cloud', '--config', configFile, '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${err}`));
    });
  });
  return { name, child, url, exited };
}

/** Stops an instance as an operator does (SIGTERM: it closes cleanly); SIGKILL if it hangs. */
export async function stopInstance(i: Instance): Promise<void> {
  i.child.kill('SIGTERM');
  const timer = setTimeout(() => i.child.kill('SIGKILL'), 30_000);
  await i.exited;
  clearTimeout(timer);
}

/** One JSON API call; the body parsed (null when empty). */
export async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Polls until `probe` gives something (not null or false); generous, as the machine is shared. */
export async function until<T>(what: string, probe: () => Promise<T | null | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A gate's connection: hello/challenge/auth, then signed lane events and one-way status reports. */
export class GateLink {
  /** requests waiting for their answer, by message id */
  private readonly waiting = new Map<string, { resolve: (m: CloudToGate) => void; reject: (e: Error) => void }>();
  private closed = false;
  private n = 0;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as CloudToGate & { re?: string | null };
      if (m.type === 'challenge' || m.type === 'welcome' || m.type === 'decision' || m.type === 'error') {
        const w = m.re ? this.waiting.get(m.re) : undefined;
        if (w) {
          this.waiting.delete(m.re!);
          w.resolve(m);
        }
      }
    });
    const fail = () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
    };
    ws.on('close', fail);
    ws.on('error', fail); // the instance went away
  }

  static async connect(url: string, gateId: string, key: GateKey): Promise<GateLink> {
    const ws = new WebSocket(url.replace('http', 'ws') + '/v1/gates/ws');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const link = new GateLink(ws);
    const challenge = await link.request({ v: 1, type: 'hello', id: link.id(), gateId, software: 'test' });
    if (challenge.type !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(challenge)}`);
    const signature = key.sign(authSigningBytes(gateId, challenge.nonce));
    const welcome = await link.request({
      v: 1,
      type: 'auth',
      id: link.id(),
      gateId,
      nonce: challenge.nonce,
      signature,
    });
    if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
    return link;
  }

  private id(): string {
    return `m${++this.n}`;
  }

  private request(m: { id: string; [k: string]: unknown }): Promise<CloudToGate> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject });
      this.ws.send(JSON.stringify(m));
    });
  }

  /** sends a signed lane event; resolves with the decision (rejects on a refusal or when the connection dies) */
  async event(body: LaneEventBody, signature: string) {
    const answer = await this.request({ v: 1, type: 'laneEvent', id: this.id(), event: body, signature });
    if (answer.type !== 'decision') throw new Error(`expected a decision, got ${JSON.stringify(answer)}`);
    return answer.decision;
  }

  /** a gate status report (one way: no answer) */
  status(outboxDepth: number, lanes: Array<{ laneId: string; state: 'idle'; barrier: 'open' | 'closed' }>): void {
    this.ws.send(JSON.stringify({ v: 1, type: 'gateStatus', id: this.id(), at: Date.now(), outboxDepth, lanes }));
  }

  close(): void {
    this.ws.close();
  }
}
