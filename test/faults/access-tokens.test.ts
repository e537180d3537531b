/** Driver tokens expire on the injected clock, and brute-force sign-in is rate-limited per email and client address. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOGIN_LOCKOUT_MS, LOGIN_MAX_ATTEMPTS, LOGIN_WINDOW_MS } from '../../cloud/accounts/login-throttle.js';
import type { Reply } from '../cloud/cloud-harness.js';
import { TestCloud, signUp } from '../cloud/cloud-harness.js';
import { Attempt, PASSWORD, unknownId } from './access-fixtures.js';

describe('driver tokens expire on the injected clock', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start(undefined, { tokenTtlMinutes: 30 });
  });
  after(async () => {
    await t.stop();
  });

  it('honours a token until its expiry, refuses it from then on every driver route, and sign-in gives a new one', async () => {
    const d = await signUp(t, 'dee@example.com');
    const signUpReply = await t.call('POST', '/v1/auth/token', {
      body: { email: 'dee@example.com', password: PASSWORD },
    });
    assert.equal(signUpReply.status, 200);
    assert.equal(signUpReply.body.expiresAt, t.clock.now() + 30 * 60_000);
    const token = signUpReply.body.token as string;
    const routes: Attempt[] = [
      { name: 'me', method: 'GET', path: '/v1/me' },
      { name: 'accounts', method: 'GET', path: '/v1/me/accounts' },
      { name: 'new account', method: 'POST', path: '/v1/me/accounts', body: { currency: 'EUR', label: 'x' } },
      {
        name: 'top-up',
        method: 'POST',
        path: `/v1/me/accounts/${d.accountId}/top-ups`,
        body: { amount: 1, reference: 'late' },
      },
      { name: 'links', method: 'GET', path: '/v1/me/links' },
      { name: 'link', method: 'POST', path: '/v1/me/links', body: { plate: 'DEE1234', accountId: d.accountId } },
      { name: 'unlink', method: 'DELETE', path: `/v1/me/links/${unknownId('lnk')}` },
      {
        name: 'dispute',
        method: 'POST',
        path: '/v1/me/disputes',
        body: { plate: 'DEE1234', accountId: d.accountId, reason: 'x' },
      },
      { name: 'sessions', method: 'GET', path: '/v1/me/sessions' },
      { name: 'receipts', method: 'GET', path: '/v1/me/receipts' },
      { name: 'receipt', method: 'GET', path: `/v1/me/receipts/${unknownId('stl')}` },
      { name: 'pending payments', method: 'GET', path: '/v1/pending-payments?plate=DEE1234' },
      {
        name: 'pay',
        method: 'POST',
        path: `/v1/pending-payments/${unknownId('pay')}/pay`,
        body: { accountId: d.accountId },
      },
    ];
    t.clock.advance(30 * 60_000 - 1);
    assert.equal((await t.call('GET', '/v1/me', { token })).status, 200, 'one ms before expiry');
    t.clock.advance(1);
    const before = t.snapshot();
    for (const a of routes) {
      const r = await t.call(a.method, a.path, { token, body: a.body });
      assert.equal(r.status, 401, `${a.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'TOKEN_EXPIRED', a.name);
    }
    assert.equal(t.snapshot(), before, 'an expired token changed nothing');
    // the token from sign-up (issued earlier) has expired too; a new sign-in works, the old token stays dead
    assert.equal((await t.call('GET', '/v1/me', { token: d.token })).body.error.code, 'TOKEN_EXPIRED');
    const again = await t.call('POST', '/v1/auth/token', { body: { email: 'dee@example.com', password: PASSWORD } });
    assert.equal(again.status, 200);
    assert.equal((await t.call('GET', '/v1/me', { token: again.body.token })).status, 200);
    assert.equal((await t.call('GET', '/v1/me', { token })).status, 401);
    t.clock.advance(365 * 86_400_000);
    assert.equal((await t.call('GET', '/v1/me', { token: again.body.token })).body.error.code, 'TOKEN_EXPIRED');
  });
});

describe('brute-force sign-in is rate-limited per email and client address', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start();
    for (const email of ['eve@example.com', 'fay@example.com', 'gus@example.com', 'hal@example.com', 'ivy@example.com'])
      await signUp(t, email);
  });
  after(async () => {
    await t.stop();
  });

  /** a sign-in from `ip` (through fastify's inject, which sets the socket address) */
  async function signIn(
    email: string,
    password: string,
    ip = '127.0.0.1',
    headers: Record<string, string> = {},
  ): Promise<{ status: number; code: string | undefined; retryAfter: string | undefined }> {
    const res = await t.cloud.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { email, password },
      remoteAddress: ip,
      headers,
    });
    const body = res.json() as { error?: { code: string; message: string } };
    if (res.statusCode === 429) assert.match(body.error!.message, /too many sign-in attempts.*try again in \d+ s/);
    return {
      status: res.statusCode,
      code: body.error?.code,
      retryAfter: res.headers['retry-after'] as string | undefined,
    };
  }

  it(`locks an email for one address after ${LOGIN_MAX_ATTEMPTS} failed attempts, with 429 and Retry-After`, async () => {
    const before = t.snapshot();
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) {
      const r = await signIn('eve@example.com', `wrong ${i}`);
      assert.deepEqual([r.status, r.code], [401, 'BAD_CREDENTIALS'], `attempt ${i + 1}`);
    }
    const locked = await signIn('eve@example.com', 'wrong again');
    assert.deepEqual([locked.status, locked.code], [429, 'LOGIN_RATE_LIMITED']);
    assert.equal(t.snapshot(), before, 'failed and refused sign-ins write nothing');
    assert.equal(locked.retryAfter, String(LOGIN_LOCKOUT_MS / 1000));
    // the right password does not get through during the lockout, nor does another spelling of the email
    assert.equal((await signIn('eve@example.com', PASSWORD)).status, 429);
    assert.equal((await signIn('EVE@Example.COM', PASSWORD)).status, 429);
    // nor a forwarded-for header: the socket address counts
    assert.equal(
      (await signIn('eve@example.com', PASSWORD, '127.0.0.1', { 'x-forwarded-for': '10.9.9.9' })).status,
      429,
    );
    // the wait shrinks as time passes
    t.clock.advance(LOGIN_LOCKOUT_MS - 60_000);
    assert.equal((await signIn('eve@example.com', PASSWORD)).retryAfter, '60');
    // another address, and another email from this address, are not affected
    assert.equal((await signIn('eve@example.com', PASSWORD, '10.0.0.2')).status, 200);
    assert.equal((await signIn('fay@example.com', PASSWORD)).status, 200);
    t.clock.advance(60_000);
    const ok = await signIn('eve@example.com', PASSWORD);
    assert.equal(ok.status, 200, 'the lockout is over');
  });

  it('counts unknown emails exactly like known ones', async () => {
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) assert.equal((await signIn('nobody@example.com', 'x')).status, 401);
    const r = await signIn('nobody@example.com', 'x');
    assert.deepEqual([r.status, r.code], [429, 'LOGIN_RATE_LIMITED']);
  });

  it('starts afresh after a successful sign-in, and forgets old failures after the window', async () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < LOGIN_MAX_ATTEMPTS - 1; i++)
        assert.equal((await signIn('gus@example.com', 'wrong')).status, 401, `round ${round}`);
      assert.equal((await signIn('gus@example.com', PASSWORD)).status, 200, `round ${round}`);
    }
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) assert.equal((await signIn('hal@example.com', 'wrong')).status, 401);
    t.clock.advance(LOGIN_WINDOW_MS);
    assert.equal((await signIn('hal@example.com', PASSWORD)).status, 200, 'the window has passed');
  });

  it(`lets only ${LOGIN_MAX_ATTEMPTS} of many attempts sent at once check a password`, async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => signIn('ivy@example.com', 'wrong')));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [
      ...new Array(LOGIN_MAX_ATTEMPTS).fill(401),
      ...new Array(20 - LOGIN_MAX_ATTEMPTS).fill(429),
    ]);
  });

  it('answers a locked sign-in over real HTTP with the Retry-After header', async () => {
    // everything above came through inject from 127.0.0.1; Ivy is locked for it
    const res = await fetch(t.url + '/v1/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ivy@example.com', password: PASSWORD }),
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    const body = (await res.json()) as Reply['body'];
    assert.equal(body.error.code, 'LOGIN_RATE_LIMITED');
  });
});
