/**
 * Sessions end when they should: a driver signs out (this token, or every
 * token), an operator's live stream ends once its key is revoked, one
 * address cannot make the cloud hash passwords for many emails, and a
 * client that sends its request slowly is cut off.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { LOGIN_MAX_ATTEMPTS_PER_ADDRESS } from '../../cloud/accounts/login-throttle.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { ADMIN_KEY, TestCloud, eventId, setUpLot, signUp } from '../cloud/cloud-harness.js';
import { PASSWORD } from './access-fixtures.js';
import { RawGate } from './raw-gate.js';

/** An operator's server-sent event stream, read as it arrives. */
async function openStream(base: string, key: string) {
  const abort = new AbortController();
  const res = await fetch(`${base}/web/api/operator/stream`, {
    headers: { authorization: `Bearer ${key}` },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  const seen = { changes: 0, revoked: false, ended: false };
  let wake = () => undefined as void;
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: change$/m.test(block)) seen.changes++;
          if (/^event: revoked$/m.test(block)) seen.revoked = true;
        }
        wake();
      }
    } catch {
      // aborted
    }
    seen.ended = true;
    wake();
  })();
  return {
    seen,
    /** resolves when something arrives or the stream ends, or after `ms` */
    update: (ms: number) =>
      Promise.race([new Promise<void>((resolve) => (wake = resolve)), delay(ms)]).then(() => {
        wake = () => undefined;
      }),
    stop: () => abort.abort(),
  };
}

describe('drivers sign out', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start();
  });
  after(async () => {
    await t.stop();
  });

  const me = (token: string) => t.call('GET', '/v1/me', { token });
  const signIn = async () =>
    (await t.call('POST', '/v1/auth/token', { body: { email: 'leaver@example.com', password: PASSWORD } })).body
      .token as string;

  it('refuses a token once signed out, keeps the other devices signed in, and signs out everywhere', async () => {
    const phone = (await signUp(t, 'leaver@example.com')).token;
    const laptop = await signIn();
    // a new sign-in does not sign the other devices out
    assert.equal((await me(phone)).status, 200);
    assert.equal((await me(laptop)).status, 200);

    const out = await t.call('DELETE', '/v1/auth/token', { token: phone });
    assert.equal(out.status, 204, JSON.stringify(out.body));
    const refused = await me(phone);
    assert.deepEqual([refused.status, refused.body.error.code], [401, 'UNAUTHORIZED']);
    assert.equal((await t.call('DELETE', '/v1/auth/token', { token: phone })).status, 401, 'signed out once');
    assert.equal((await me(laptop)).status, 200, 'the laptop stays signed in');

    const tablet = await signIn();
    const everywhere = await t.call('DELETE', '/v1/auth/tokens', { token: tablet });
    assert.equal(everywhere.status, 204);
    for (const token of [laptop, tablet]) assert.equal((await me(token)).status, 401);
    assert.equal((await me(await signIn())).status, 200, 'signing in again works');
    const operator = await t.call('DELETE', '/v1/auth/token', { token: ADMIN_KEY });
    assert.equal(operator.status, 403, 'an API key is not signed out here');
  });
});

describe('an operator stream ends when its key is revoked', () => {
  let t: TestCloud;
  let exitLane: string;

  before(async () => {
    t = await TestCloud.start();
    exitLane = (await setUpLot(t)).exit;
  });
  after(async () => {
    await t.stop();
  });

  let plate = 1000;
  /** an exit nobody entered: a new review, which the dashboard shows */
  async function newReview(): Promise<void> {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: exitLane, plate: `REV${++plate}`, confidence: 0.99, at: t.clock.now() },
    });
    assert.equal(r.body.reason, 'review', JSON.stringify(r.body));
  }

  it('passes changes on while the key is valid, then says revoked and ends at the next change', async () => {
    const created = await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'operator', label: 'desk' } });
    const stream = await openStream(t.url, created.body.secret);
    try {
      // the stream works: changes arrive (reviews are made until one is seen)
      for (let i = 0; stream.seen.changes === 0; i++) {
        assert.ok(i < 30, 'no change arrived on the stream');
        await newReview();
        await stream.update(2000);
      }
      const revoke = await t.call('DELETE', `/v1/keys/${created.body.key.id}`, { token: ADMIN_KEY });
      assert.equal(revoke.status, 204);
      const before = stream.seen.changes;
      for (let i = 0; !stream.seen.ended; i++) {
        // a change already on its way when the key was revoked may still arrive; no more than that
        assert.ok(stream.seen.changes - before <= 1, `the revoked key's stream still streams (${i} changes made)`);
        assert.ok(i < 30, 'the stream did not end');
        await newReview();
        await stream.update(2000);
      }
      assert.equal(stream.seen.revoked, true, 'the stream says why it ends');
      const again = await fetch(`${t.url}/web/api/operator/stream`, {
        headers: { authorization: `Bearer ${created.body.secret}` },
      });
      assert.equal(again.status, 401, 'the key cannot open another');
    } finally {
      stream.stop();
    }
  });
});

describe('one address cannot try many emails', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start();
    await signUp(t, 'target@example.com');
    await signUp(t, 'regular@example.com');
  });
  after(async () => {
    await t.stop();
  });

  const signIn = async (email: string, password: string, ip: string) => {
    const res = await t.cloud.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { email, password },
      remoteAddress: ip,
    });
    return { status: res.statusCode, body: res.json() as { error?: { code: string; message: string } }, res };
  };

  it(`locks an address after ${LOGIN_MAX_ATTEMPTS_PER_ADDRESS} failed attempts over any emails, answering 429 without hashing`, async () => {
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS_PER_ADDRESS; i++) {
      const r = await signIn(`guess${i}@example.com`, 'wrong password', '10.7.0.1');
      assert.equal(r.status, 401, `attempt ${i + 1}: ${JSON.stringify(r.body)}`);
    }
    let hashed = 0;
    const scrypt = crypto.scrypt;
    crypto.scrypt = ((...args: Parameters<typeof scrypt>) => {
      hashed++;
      return scrypt(...args);
    }) as typeof scrypt;
    syncBuiltinESMExports();
    try {
      // another email, even with its right password: refused before any password is hashed
      const locked = await signIn('target@example.com', PASSWORD, '10.7.0.1');
      assert.equal(locked.status, 429, JSON.stringify(locked.body));
      assert.equal(locked.body.error!.code, 'LOGIN_RATE_LIMITED');
      assert.match(locked.body.error!.message, /too many sign-in attempts from this address; try again in \d+ s/);
      assert.ok(Number(locked.res.headers['retry-after']) > 0);
      assert.equal((await signIn('new-guess@example.com', 'wrong', '10.7.0.1')).status, 429);
      assert.equal(hashed, 0, 'no password was hashed for a locked address');
      // another address is not affected
      assert.equal((await signIn('target@example.com', PASSWORD, '10.7.0.2')).status, 200);
      assert.ok(hashed > 0, 'the spy sees the hashing it should');
    } finally {
      crypto.scrypt = scrypt;
      syncBuiltinESMExports();
    }
  });

  it('gives a successful sign-in its attempt back, so many drivers can sign in from one address', async () => {
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS_PER_ADDRESS - 1; i++) {
      assert.equal((await signIn(`typo${i}@example.com`, 'wrong', '10.7.0.3')).status, 401);
    }
    for (let i = 0; i < 10; i++) {
      assert.equal((await signIn('regular@example.com', PASSWORD, '10.7.0.3')).status, 200, `sign-in ${i + 1}`);
    }
    assert.equal((await signIn('typo-last@example.com', 'wrong', '10.7.0.3')).status, 401, 'the last attempt left');
    assert.equal((await signIn('regular@example.com', PASSWORD, '10.7.0.3')).status, 429);
  });
});

describe('slow clients are cut off', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start(undefined, { headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
  });
  after(async () => {
    await t.stop();
  });

  /** sends `start`, then `drip` every 200 ms until the cloud closes the connection; returns what it answered */
  function slowClient(start: string, drip: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(Number(new URL(t.url).port), '127.0.0.1');
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (answer += d));
      socket.on('error', () => undefined);
      socket.write(start);
      const dripping = setInterval(() => socket.write(drip), 200);
      socket.on('close', () => {
        clearInterval(dripping);
        resolve(answer);
      });
    });
  }

  it(
    'closes a connection that sends its headers or its body slowly (408), and not a stream or a gate',
    { timeout: 60_000 },
    async () => {
      const lot = await setUpLot(t);
      const key = GateKey.generate();
      const gate = await t.call('POST', `/v1/lots/${lot.lotId}/gates`, {
        token: ADMIN_KEY,
        body: { name: 'patient gate', publicKey: key.publicKey },
      });
      const ws = await RawGate.connect(t.url);
      await ws.handshake(gate.body.id, key);
      const stream = await openStream(t.url, ADMIN_KEY);
      try {
        const [headers, body] = await Promise.all([
          slowClient('GET /health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: yes\r\n'),
          slowClient(
            'POST /v1/drivers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
            ' ',
          ),
        ]);
        assert.match(headers, /^HTTP\/1\.1 408 /);
        assert.match(body, /^HTTP\/1\.1 408 /);
        // both timeouts have passed: the gate's socket and the operator's stream still work
        await ws.ping();
        const exit = await t.call('POST', '/v1/events', {
          token: ADMIN_KEY,
          body: { eventId: eventId(), laneId: lot.exit, plate: 'SLO1234', confidence: 0.99, at: t.clock.now() },
        });
        assert.equal(exit.status, 200);
        for (let i = 0; stream.seen.changes === 0; i++) {
          assert.ok(i < 30 && !stream.seen.ended, 'the stream ended');
          await stream.update(2000);
        }
      } finally {
        stream.stop();
        ws.close();
      }
    },
  );

  it('runs with timeouts by default', async () => {
    const plain = await TestCloud.start();
    try {
      const server = plain.cloud.app.server;
      assert.deepEqual(
        [server.headersTimeout, server.requestTimeout, server.keepAliveTimeout],
        [10_000, 30_000, 72_000],
      );
    } finally {
      await plain.stop();
    }
  });
});
