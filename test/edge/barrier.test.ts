/**
 * Barrier drivers: the simulated barrier and the confirming wrapper (state
 * only after confirmation, alarms on failure or silence, one command at a
 * time), the HTTP relay against a real local server (success, wrong
 * status, silence, refused connection, placeholders), the command driver
 * with real child processes (exit codes, signals, a hung program killed),
 * and the config parser (good configs, bad ones naming the field).
 * Timing assertions are only lower bounds or "it returned": the machine
 * may be slow and noisy.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BarrierConfigError, createBarrierDriver, parseBarrierConfig } from '../../edge/barrier/barrier-config.js';
import type { BarrierAlarm, BarrierDriver, BarrierResult } from '../../edge/barrier/barrier-driver.js';
import { ConfirmingBarrier, SAFETY_GRACE_MS } from '../../edge/barrier/barrier-driver.js';
import { CommandBarrier } from '../../edge/barrier/command-barrier.js';
import { HttpRelayBarrier } from '../../edge/barrier/http-relay-barrier.js';
import { SimulatedBarrier } from '../../edge/barrier/simulated-barrier.js';
import { fillTemplate } from '../../edge/barrier/template.js';

const LANE = `lan_${'c'.repeat(32)}`;
const ctx = { laneId: LANE, reason: 'charged "vip" 皖A12345' };

function alarmsOf(barrier: ConfirmingBarrier): BarrierAlarm[] {
  const alarms: BarrierAlarm[] = [];
  barrier.on('alarm', (a: BarrierAlarm) => alarms.push(a));
  return alarms;
}

function failed(r: BarrierResult): string {
  assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return (r as { error: string }).error;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('simulated barrier behind ConfirmingBarrier', { timeout: 30_000 }, () => {
  it('records every command and sets the state only on confirmation', async () => {
    const driver = new SimulatedBarrier();
    const barrier = new ConfirmingBarrier(driver, LANE);
    const alarms = alarmsOf(barrier);
    assert.equal(barrier.state, 'closed');
    const before = Date.now();
    const pending = barrier.open('entry 皖A12345');
    assert.equal(barrier.state, 'closed', 'not open before the device confirmed');
    const opened = await pending;
    assert.equal(opened.ok, true);
    assert.equal(barrier.state, 'open');
    assert.equal((await barrier.close('vehicle left')).ok, true);
    assert.equal(barrier.state, 'closed');
    assert.deepEqual(
      driver.commands.map(({ command, laneId, reason }) => ({ command, laneId, reason })),
      [
        { command: 'open', laneId: LANE, reason: 'entry 皖A12345' },
        { command: 'close', laneId: LANE, reason: 'vehicle left' },
      ],
    );
    for (const c of driver.commands) assert.ok(c.at >= before && c.at <= Date.now());
    assert.equal(driver.kind, 'simulated');
    assert.equal(driver.ackDelayMs, 5);
    assert.equal(driver.timeoutMs, 1000);
    assert.deepEqual(alarms, []);
  });

  it('acknowledges after the configured delay', async () => {
    const driver = new SimulatedBarrier({ ackDelayMs: 60 });
    const startedAt = performance.now();
    const r = await driver.send('open', ctx);
    assert.equal(r.ok, true);
    assert.ok(r.ok && r.ackMs >= 50, `ackMs ${JSON.stringify(r)}`);
    assert.ok(performance.now() - startedAt >= 50);
  });

  it('a failing device gives ok:false, an alarm and state unknown; a later success recovers', async () => {
    const driver = new SimulatedBarrier();
    const barrier = new ConfirmingBarrier(driver, LANE);
    const alarms = alarmsOf(barrier);
    driver.setMode('fail', 'motor jammed');
    const r = await barrier.open('entry');
    assert.equal(failed(r), 'motor jammed');
    assert.equal(barrier.state, 'unknown');
    assert.deepEqual(alarms, [{ laneId: LANE, command: 'open', error: 'motor jammed' }]);
    assert.equal(driver.commands.length, 1, 'a failed command is still recorded');

    driver.setMode('ack');
    assert.equal((await barrier.open('retry')).ok, true);
    assert.equal(barrier.state, 'open');
    assert.equal(alarms.length, 1);
  });

  it("emits 'state' after each confirmed change of state, and only then", async () => {
    const driver = new SimulatedBarrier();
    const barrier = new ConfirmingBarrier(driver, LANE);
    barrier.on('alarm', () => undefined);
    const states: string[] = [];
    barrier.on('state', (s: string) => states.push(s));
    await barrier.open('a');
    await barrier.open('again'); // no change
    await barrier.close('gone');
    driver.setMode('fail', 'motor jammed');
    await barrier.open('b');
    await barrier.close('c'); // still unknown
    driver.setMode('ack');
    await barrier.close('d');
    assert.deepEqual(states, ['open', 'closed', 'unknown', 'closed']);
  });

  it('a silent device times out with ok:false, an alarm and state unknown', async () => {
    const driver = new SimulatedBarrier({ timeoutMs: 50 });
    driver.setMode('no-ack');
    const barrier = new ConfirmingBarrier(driver, LANE);
    const alarms = alarmsOf(barrier);
    assert.match(failed(await barrier.open('entry')), /no acknowledgement in 50 ms/);
    assert.equal(barrier.state, 'unknown');
    assert.equal(alarms.length, 1);
    assert.match(alarms[0]!.error, /no acknowledgement in 50 ms/);
    assert.equal(alarms[0]!.command, 'open');

    const slow = new SimulatedBarrier({ ackDelayMs: 80, timeoutMs: 40 });
    const r = await slow.send('close', ctx);
    assert.match(failed(r), /no acknowledgement in 40 ms/);
    assert.ok(!r.ok && r.afterMs >= 30);
  });

  it('close() answers waiting commands at once and refuses later ones', async () => {
    const driver = new SimulatedBarrier({ timeoutMs: 60_000 });
    driver.setMode('no-ack');
    const pending = driver.send('open', ctx);
    await sleep(10);
    await driver.close();
    assert.match(failed(await pending), /closed/);
    assert.match(failed(await driver.send('open', ctx)), /closed/);
  });

  it('runs commands one at a time, in order', async () => {
    const events: string[] = [];
    const driver: BarrierDriver = {
      kind: 'fake',
      timeoutMs: 1000,
      async send(command) {
        events.push(`start ${command}`);
        await sleep(command === 'open' ? 40 : 1);
        events.push(`end ${command}`);
        return { ok: true, ackMs: 1 };
      },
      async close() {},
    };
    const barrier = new ConfirmingBarrier(driver, LANE);
    const [a, b] = await Promise.all([barrier.open('entry'), barrier.close('left')]);
    assert.equal(a.ok && b.ok, true);
    assert.deepEqual(events, ['start open', 'end open', 'start close', 'end close']);
    assert.equal(barrier.state, 'closed');
  });

  it('survives a driver that throws, returns garbage or never answers', async () => {
    const throwing: BarrierDriver = {
      kind: 'broken',
      send() {
        throw new Error('wires cut');
      },
      async close() {},
    };
    const b1 = new ConfirmingBarrier(throwing, LANE);
    const alarms = alarmsOf(b1);
    assert.match(failed(await b1.open('entry')), /broken driver failed: wires cut/);
    assert.equal(b1.state, 'unknown');
    assert.equal(alarms.length, 1);

    const garbage = { kind: 'odd', send: async () => ({ yes: 1 }), close: async () => {} } as unknown as BarrierDriver;
    assert.match(failed(await new ConfirmingBarrier(garbage, LANE).open('entry')), /malformed/);

    const hanging: BarrierDriver = {
      kind: 'hung',
      timeoutMs: 20,
      send: () => new Promise<BarrierResult>(() => {}),
      async close() {},
    };
    const b3 = new ConfirmingBarrier(hanging, LANE);
    const r = await b3.close('left');
    assert.match(failed(r), new RegExp(`hung driver gave no answer in ${20 + SAFETY_GRACE_MS} ms`));
    assert.equal(b3.state, 'unknown');
    // the queue is not stuck behind the hung command
    assert.equal((await b3.open('again')).ok, false);
  });
});

describe('HTTP relay barrier', { timeout: 30_000 }, () => {
  type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };
  const seen: Seen[] = [];
  let server: http.Server;
  let base: string;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const path = (req.url ?? '').split('?')[0]!;
        if (path.startsWith('/hang')) return; // never answers
        const status = path.startsWith('/status/') ? Number(path.slice('/status/'.length)) : 200;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end('relay');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('acknowledges on 2xx and fills placeholders in the URL and a JSON body', async () => {
    const driver = new HttpRelayBarrier({
      url: `${base}/relay/{lane}/{command}?why={reason}`,
      headers: { 'content-type': 'application/json', 'x-token': 'secret' },
      body: '{"lane":"{lane}","cmd":"{command}","why":"{reason}","keep":"{other}"}',
    });
    const barrier = new ConfirmingBarrier(driver, LANE);
    const r = await barrier.open(ctx.reason);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(barrier.state, 'open');
    const req = seen.at(-1)!;
    assert.equal(req.method, 'POST');
    const url = new URL(req.url, base);
    assert.equal(url.pathname, `/relay/${LANE}/open`);
    assert.equal(url.searchParams.get('why'), ctx.reason);
    assert.deepEqual(JSON.parse(req.body), { lane: LANE, cmd: 'open', why: ctx.reason, keep: '{other}' });
    assert.equal(req.headers['x-token'], 'secret');
    assert.equal(Number(req.headers['content-length']), Buffer.byteLength(req.body));
    await driver.close();
  });

  it('a 500 is a failure naming the status, with an alarm', async () => {
    const barrier = new ConfirmingBarrier(new HttpRelayBarrier({ url: `${base}/status/500` }), LANE);
    const alarms = alarmsOf(barrier);
    const error = failed(await barrier.open('entry'));
    assert.match(error, /^relay answered 500\b/);
    assert.equal(barrier.state, 'unknown');
    assert.deepEqual(alarms, [{ laneId: LANE, command: 'open', error }]);
  });

  it('expectStatus picks the one status that means done', async () => {
    const wrong = new HttpRelayBarrier({ url: `${base}/status/200`, method: 'PUT', expectStatus: 204 });
    assert.match(failed(await wrong.send('open', ctx)), /relay answered 200/);
    assert.equal(seen.at(-1)!.method, 'PUT');
    const right = new HttpRelayBarrier({ url: `${base}/status/204`, method: 'get', expectStatus: 204 });
    assert.equal((await right.send('open', ctx)).ok, true);
    assert.equal(seen.at(-1)!.method, 'GET');
  });

  it('a relay that never answers gives ok:false once the timeout passed', async () => {
    const driver = new HttpRelayBarrier({ url: `${base}/hang`, timeoutMs: 100 });
    const r = await driver.send('open', ctx);
    assert.match(failed(r), /no answer in 100 ms/);
    assert.ok(!r.ok && r.afterMs >= 90, JSON.stringify(r));
  });

  it('a refused connection is a failure saying so', async () => {
    const probe = http.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const driver = new HttpRelayBarrier({ url: `http://127.0.0.1:${port}/relay?secret=1` });
    const error = failed(await driver.send('open', ctx));
    assert.equal(error, `connection refused by 127.0.0.1:${port}`);
  });

  it('form bodies are form-encoded; close() answers requests in flight', async () => {
    const driver = new HttpRelayBarrier({
      url: `${base}/hang/form`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'lane={lane}&why={reason}',
      timeoutMs: 30_000,
    });
    const pending = driver.send('close', ctx);
    while (!seen.some((s) => s.url === '/hang/form')) await sleep(5);
    assert.equal(new URLSearchParams(seen.find((s) => s.url === '/hang/form')!.body).get('why'), ctx.reason);
    await driver.close();
    assert.match(failed(await pending), /closed/);
    assert.match(failed(await driver.send('open', ctx)), /closed/);
  });
});

describe('command barrier', { timeout: 60_000 }, () => {
  const node = process.execPath;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-barrier-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 0 is an acknowledgement; placeholders reach the program as plain arguments', async () => {
    const driver = new CommandBarrier({
      program: node,
      args: [
        '-e',
        'const [l, c, r] = process.argv.slice(1); process.exit(l.startsWith("lan_") && c === "open" && r === process.env.WANT ? 0 : 9)',
        '{lane}',
        '{command}',
        '{reason}',
      ],
      timeoutMs: 20_000,
    });
    process.env.WANT = ctx.reason;
    try {
      const barrier = new ConfirmingBarrier(driver, LANE);
      const r = await barrier.open(ctx.reason);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(barrier.state, 'open');
    } finally {
      delete process.env.WANT;
    }
  });

  it('a non-zero exit names the code and the head of stderr', async () => {
    const driver = new CommandBarrier({
      program: node,
      args: ['-e', 'process.stderr.write("gpio: pin {lane} busy\\n" + "x".repeat(500)); process.exit(3)'],
      timeoutMs: 20_000,
    });
    const barrier = new ConfirmingBarrier(driver, LANE);
    const alarms = alarmsOf(barrier);
    const error = failed(await barrier.close('left'));
    assert.match(error, /exited with code 3: gpio: pin lan_c+ busy x+\.\.\.$/);
    assert.ok(error.length < 600);
    assert.equal(barrier.state, 'unknown');
    assert.equal(alarms.length, 1);
  });

  it('a program killed by a signal says which', async () => {
    const driver = new CommandBarrier({
      program: node,
      args: ['-e', 'process.kill(process.pid, "SIGTERM")'],
      timeoutMs: 20_000,
    });
    assert.match(failed(await driver.send('open', ctx)), /killed by SIGTERM/);
  });

  it('a program that runs past the timeout is killed and the command fails', async () => {
    const pidFile = join(dir, 'pid');
    const driver = new CommandBarrier({
      program: node,
      args: [
        '-e',
        'require("fs").writeFileSync(process.argv[1], String(process.pid)); setTimeout(() => {}, 60000)',
        pidFile,
      ],
      timeoutMs: 1000,
    });
    const r = await driver.send('open', ctx);
    assert.match(failed(r), /did not finish in 1000 ms \(killed\)/);
    // if it got as far as writing its pid, that process must go away
    const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
    if (pid > 0) {
      const deadline = Date.now() + 10_000;
      let alive = true;
      while (alive && Date.now() < deadline) {
        try {
          process.kill(pid, 0);
          await sleep(20);
        } catch {
          alive = false;
        }
      }
      assert.equal(alive, false, `process ${pid} still running`);
    }
    await driver.close();
  });

  it('a missing program cannot be run; close() stops running children', async () => {
    const missing = new CommandBarrier({ program: join(dir, 'no-such-gpio-tool'), timeoutMs: 5000 });
    assert.match(failed(await missing.send('open', ctx)), /cannot run .*no-such-gpio-tool: ENOENT/);

    const driver = new CommandBarrier({
      program: node,
      args: ['-e', 'setTimeout(() => {}, 60000)'],
      timeoutMs: 60_000,
    });
    const pending = driver.send('open', ctx);
    await sleep(50);
    await driver.close();
    assert.match(failed(await pending), /closed/);
    assert.match(failed(await driver.send('open', ctx)), /closed/);
  });
});

describe('barrier config', () => {
  const P = 'lanes[0].barrier';

  function rejects(input: unknown, field: string, message?: RegExp): void {
    assert.throws(
      () => parseBarrierConfig(input, P),
      (err: unknown) => {
        assert.ok(err instanceof BarrierConfigError, String(err));
        assert.equal(err.code, 'INVALID_CONFIG');
        assert.ok(err.message.startsWith(`${field}: `), `${err.message} should name ${field}`);
        if (message) assert.match(err.message, message);
        return true;
      },
    );
  }

  it('accepts each type and fills in defaults', () => {
    assert.deepEqual(parseBarrierConfig({ type: 'simulated' }, P), {
      type: 'simulated',
      ackDelayMs: 5,
      timeoutMs: 1000,
    });
    assert.deepEqual(parseBarrierConfig({ type: 'simulated', ackDelayMs: 0, timeoutMs: 60_000 }, P), {
      type: 'simulated',
      ackDelayMs: 0,
      timeoutMs: 60_000,
    });
    assert.deepEqual(parseBarrierConfig({ type: 'http-relay', url: 'http://10.0.0.9/relay/{lane}/{command}' }, P), {
      type: 'http-relay',
      url: 'http://10.0.0.9/relay/{lane}/{command}',
      method: 'POST',
      headers: {},
      body: null,
      timeoutMs: 1000,
      expectStatus: null,
    });
    assert.deepEqual(
      parseBarrierConfig(
        {
          type: 'http-relay',
          url: 'https://admin:pw@relay-{lane}.local:8443/cgi?do={command}',
          method: 'put',
          headers: { Authorization: 'Basic YTpi', 'content-type': 'application/json' },
          body: '{"state":"{command}"}',
          timeoutMs: 250,
          expectStatus: 204,
        },
        P,
      ),
      {
        type: 'http-relay',
        url: 'https://admin:pw@relay-{lane}.local:8443/cgi?do={command}',
        method: 'PUT',
        headers: { Authorization: 'Basic YTpi', 'content-type': 'application/json' },
        body: '{"state":"{command}"}',
        timeoutMs: 250,
        expectStatus: 204,
      },
    );
    assert.deepEqual(parseBarrierConfig({ type: 'command', program: '/usr/bin/gpioset' }, P), {
      type: 'command',
      program: '/usr/bin/gpioset',
      args: [],
      timeoutMs: 1000,
    });
    assert.deepEqual(
      parseBarrierConfig(
        { type: 'command', program: 'gpioset', args: ['gpiochip0', '17={command}'], timeoutMs: 2000 },
        P,
      ),
      { type: 'command', program: 'gpioset', args: ['gpiochip0', '17={command}'], timeoutMs: 2000 },
    );
  });

  it('rejects bad shapes and types, naming the field', () => {
    rejects(undefined, P, /expected an object/);
    rejects([], P);
    rejects('simulated', P);
    rejects({}, `${P}.type`, /simulated, http-relay, command/);
    rejects({ type: 'gpio' }, `${P}.type`);
    rejects({ type: 'simulated', speed: 3 }, `${P}.speed`, /unknown setting/);
    rejects({ type: 'command', program: 'x', shell: true }, `${P}.shell`, /unknown setting/);
  });

  it('rejects timeouts that are not integers from 1 to 60000', () => {
    for (const timeoutMs of [0, -5, 1.5, 60_001, '100', null, true]) {
      rejects({ type: 'simulated', timeoutMs }, `${P}.timeoutMs`, /integer from 1 to 60000/);
    }
    rejects({ type: 'http-relay', url: 'http://r/', timeoutMs: 0 }, `${P}.timeoutMs`);
    rejects({ type: 'command', program: 'x', timeoutMs: 100_000 }, `${P}.timeoutMs`);
    rejects({ type: 'simulated', ackDelayMs: -1 }, `${P}.ackDelayMs`);
  });

  it('rejects bad relay settings', () => {
    rejects({ type: 'http-relay' }, `${P}.url`);
    for (const url of ['ftp://relay/x', 'file:///etc/passwd', 'relay.local/open', 'http://', 'ws://relay/x', 42]) {
      rejects({ type: 'http-relay', url }, `${P}.url`, url === 42 ? undefined : /expected an http\(s\) URL/);
    }
    rejects({ type: 'http-relay', url: 'http://r/', method: 'CONNECT' }, `${P}.method`);
    rejects({ type: 'http-relay', url: 'http://r/', method: 'GET', body: 'x' }, `${P}.body`, /GET/);
    rejects({ type: 'http-relay', url: 'http://r/', body: 7 }, `${P}.body`);
    rejects({ type: 'http-relay', url: 'http://r/', headers: ['x'] }, `${P}.headers`);
    rejects({ type: 'http-relay', url: 'http://r/', headers: { 'x-a': 'ok\r\nx-b: injected' } }, `${P}.headers.x-a`);
    rejects({ type: 'http-relay', url: 'http://r/', headers: { 'bad name': 'v' } }, `${P}.headers["bad name"]`);
    rejects({ type: 'http-relay', url: 'http://r/', headers: { 'x-n': 5 } }, `${P}.headers.x-n`);
    rejects(
      { type: 'http-relay', url: 'http://r/', headers: { 'Content-Length': '3' } },
      `${P}.headers.Content-Length`,
    );
    rejects({ type: 'http-relay', url: 'http://r/', expectStatus: 700 }, `${P}.expectStatus`);
  });

  it('rejects bad command settings', () => {
    rejects({ type: 'command' }, `${P}.program`);
    rejects({ type: 'command', program: '' }, `${P}.program`);
    rejects({ type: 'command', program: 'a\0b' }, `${P}.program`, /NUL/);
    rejects({ type: 'command', program: 'x', args: 'on' }, `${P}.args`);
    rejects({ type: 'command', program: 'x', args: ['ok', 17] }, `${P}.args[1]`);
  });

  it('creates the driver the config names', async () => {
    const drivers = [
      createBarrierDriver(parseBarrierConfig({ type: 'simulated', timeoutMs: 300 }, P)),
      createBarrierDriver(parseBarrierConfig({ type: 'http-relay', url: 'http://r/', timeoutMs: 400 }, P)),
      createBarrierDriver(parseBarrierConfig({ type: 'command', program: 'x', timeoutMs: 500 }, P)),
    ];
    assert.deepEqual(
      drivers.map((d) => [d.kind, d.timeoutMs]),
      [
        ['simulated', 300],
        ['http-relay', 400],
        ['command', 500],
      ],
    );
    assert.ok(drivers[0] instanceof SimulatedBarrier);
    await Promise.all(drivers.map((d) => d.close()));
  });

  it('fills placeholders once, leaving other braces alone', () => {
    assert.equal(
      fillTemplate('{lane}/{command}/{reason}/{x}', 'open', { laneId: '{reason}', reason: 'a b' }, encodeURIComponent),
      '%7Breason%7D/open/a%20b/{x}',
    );
  });
});
