/**
 * Bad input on every route gets a 4xx with a clear error code and changes
 * nothing: missing fields, wrong types, huge bodies, unknown ids, other
 * drivers' resources, wrong roles, expired tokens. The whole database is
 * compared before and after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, setUpLot, signUp, tariff } from './cloud-harness.js';

interface Case {
  name: string;
  method: string;
  path: string | (() => string);
  token?: () => string | undefined;
  body?: unknown;
  raw?: string;
  status: number;
  code: string;
}

describe('cloud: bad input is refused and changes nothing', () => {
  let t: TestCloud;
  let ana: { token: string; accountId: string };
  let bo: { token: string; accountId: string };
  let anaLink: string;
  let lot: { lotId: string; entry: string; exit: string };
  let auditor: string;
  let operator: string;
  const unknownId = (prefix: string) => `${prefix}_${'0'.repeat(32)}`;

  before(async () => {
    t = await TestCloud.start();
    ana = await signUp(t, 'ana@example.com');
    bo = await signUp(t, 'bo@example.com');
    anaLink = (
      await t.call('POST', '/v1/me/links', { token: ana.token, body: { plate: 'ANA1234', accountId: ana.accountId } })
    ).body.id;
    lot = await setUpLot(t);
    auditor = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'bank' } })).body
      .secret;
    operator = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'operator', label: 'ops' } })).body
      .secret;
  });
  after(async () => {
    await t.stop();
  });

  const driver = () => ana.token;
  const admin = () => ADMIN_KEY;
  const goodEvent = () => ({
    eventId: 'ev-1',
    laneId: lot.entry,
    plate: 'ABC1234',
    confidence: 0.9,
    at: t.clock.now(),
  });
  const goodTariff = tariff;

  const cases: Case[] = [
    { name: 'sign-up without fields', method: 'POST', path: '/v1/drivers', body: {}, status: 400, code: 'BAD_REQUEST' },
    {
      name: 'sign-up with a number for email',
      method: 'POST',
      path: '/v1/drivers',
      body: { email: 5, password: 'longenough', name: 'x' },
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'sign-up with a short password',
      method: 'POST',
      path: '/v1/drivers',
      body: { email: 'new@example.com', password: 'short', name: 'x' },
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'sign-up with an unknown field',
      method: 'POST',
      path: '/v1/drivers',
      body: { email: 'new@example.com', password: 'longenough', name: 'x', admin: true },
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'sign-up with a taken email',
      method: 'POST',
      path: '/v1/drivers',
      body: { email: 'ANA@example.com', password: 'longenough', name: 'x' },
      status: 409,
      code: 'EMAIL_TAKEN',
    },
    {
      name: 'sign-up with a huge body',
      method: 'POST',
      path: '/v1/drivers',
      body: { email: 'new@example.com', password: 'longenough', name: 'x'.repeat(100_000) },
      status: 413,
      code: 'BODY_TOO_LARGE',
    },
    {
      name: 'sign-up with a long name',
      method: 'POST',
      path: '/v1/drivers',
      body: { email: 'new@example.com', password: 'longenough', name: 'x'.repeat(101) },
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'malformed JSON',
      method: 'POST',
      path: '/v1/drivers',
      raw: '{"email":',
      status: 400,
      code: 'INVALID_JSON',
    },
    {
      name: 'sign-in with a wrong password',
      method: 'POST',
      path: '/v1/auth/token',
      body: { email: 'ana@example.com', password: 'wrong password' },
      status: 401,
      code: 'BAD_CREDENTIALS',
    },
    {
      name: 'sign-in of an unknown driver',
      method: 'POST',
      path: '/v1/auth/token',
      body: { email: 'nobody@example.com', password: 'wrong password' },
      status: 401,
      code: 'BAD_CREDENTIALS',
    },
    { name: 'me without a token', method: 'GET', path: '/v1/me', status: 401, code: 'UNAUTHORIZED' },
    {
      name: 'me with a made-up token',
      method: 'GET',
      path: '/v1/me',
      token: () => 'pptok_madeup',
      status: 401,
      code: 'UNAUTHORIZED',
    },
    { name: 'me with an operator key', method: 'GET', path: '/v1/me', token: admin, status: 403, code: 'FORBIDDEN' },
    ...[0, -5, 1.5, '100', null].map((amount): Case => ({
      name: `top-up of ${JSON.stringify(amount)}`,
      method: 'POST',
      path: () => `/v1/me/accounts/${ana.accountId}/top-ups`,
      token: driver,
      body: { amount, reference: 'x' },
      status: 400,
      code: 'BAD_REQUEST',
    })),
    ...['XXX', 'ZZZ'].map((currency): Case => ({
      name: `a wallet in ${currency}, which is no currency in circulation`,
      method: 'POST',
      path: '/v1/me/accounts',
      token: driver,
      body: { currency, label: 'odd' },
      status: 400,
      code: 'INVALID_CURRENCY',
    })),
    {
      name: 'the ledger checkpoints with a parameter they do not take',
      method: 'GET',
      path: '/v1/ledger/checkpoints?from=x',
      token: admin,
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'top-up whose reference holds a NUL and a right-to-left override',
      method: 'POST',
      path: () => `/v1/me/accounts/${ana.accountId}/top-ups`,
      token: driver,
      body: { amount: 100, reference: 'a\u0000\u202eb' },
      status: 400,
      code: 'BAD_REQUEST',
    },
    // a dispute's reason is shown to operators: no control or text-direction characters, not blank
    ...['\u202egnirts\u0000 \u001b[31mred', '   '].map((reason): Case => ({
      name: `a plate dispute with the reason ${JSON.stringify(reason)}`,
      method: 'POST',
      path: '/v1/me/disputes',
      token: () => bo.token,
      body: () => ({ plate: 'ANA1234', accountId: bo.accountId, reason }),
      status: 400,
      code: 'INVALID_REASON',
    })),
    // a lone surrogate cannot be stored as text (SQLite kept its bytes and gave back U+FFFD)
    {
      name: 'an API key labelled with a lone surrogate',
      method: 'POST',
      path: '/v1/keys',
      token: admin,
      body: { role: 'auditor', label: 'x\ud800' },
      status: 400,
      code: 'INVALID_NAME',
    },
    {
      name: "top-up of another driver's account",
      method: 'POST',
      path: () => `/v1/me/accounts/${bo.accountId}/top-ups`,
      token: driver,
      body: { amount: 100, reference: 'x' },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'top-up of an unknown account',
      method: 'POST',
      path: `/v1/me/accounts/${unknownId('acc')}/top-ups`,
      token: driver,
      body: { amount: 100, reference: 'x' },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'top-up with a malformed account id',
      method: 'POST',
      path: '/v1/me/accounts/..%2F..%2Fetc/top-ups',
      token: driver,
      body: { amount: 100, reference: 'x' },
      status: 400,
      code: 'BAD_REQUEST',
    },
    ...['!!!', '', 'AB', 'ABC\u{1F697}123', 'O'.repeat(40)].map((plate): Case => ({
      name: `link of plate ${JSON.stringify(plate)}`,
      method: 'POST',
      path: '/v1/me/links',
      token: driver,
      body: () => ({ plate, accountId: ana.accountId }),
      status: 400,
      code: plate === '' || plate.length > 32 ? 'BAD_REQUEST' : 'INVALID_PLATE',
    })),
    {
      name: "link to another driver's account",
      method: 'POST',
      path: '/v1/me/links',
      token: driver,
      body: () => ({ plate: 'NEW1234', accountId: bo.accountId }),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'link of a plate already linked (full-width and zero-width forms of it)',
      method: 'POST',
      path: '/v1/me/links',
      token: () => bo.token,
      body: () => ({ plate: 'ＡＮＡ\u200B１２３４', accountId: bo.accountId }),
      status: 409,
      code: 'PLATE_LINKED_ELSEWHERE',
    },
    {
      name: "unlink of another driver's link",
      method: 'DELETE',
      path: () => `/v1/me/links/${anaLink}`,
      token: () => bo.token,
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: "another driver's receipt",
      method: 'GET',
      path: `/v1/me/receipts/${unknownId('stl')}`,
      token: driver,
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'pay an unknown pending payment',
      method: 'POST',
      path: `/v1/pending-payments/${unknownId('pay')}/pay`,
      token: driver,
      body: () => ({ accountId: ana.accountId }),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'pending payments without a plate',
      method: 'GET',
      path: '/v1/pending-payments',
      token: driver,
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'a driver creating a lot',
      method: 'POST',
      path: '/v1/lots',
      token: driver,
      body: { name: 'x', tariff: goodTariff },
      status: 403,
      code: 'FORBIDDEN',
    },
    {
      name: 'an auditor creating a lot',
      method: 'POST',
      path: '/v1/lots',
      token: () => auditor,
      body: { name: 'x', tariff: goodTariff },
      status: 403,
      code: 'FORBIDDEN',
    },
    ...[
      { unitMinutes: 0 },
      { unitPrice: -1 },
      { unitPrice: 2.5 },
      { currency: 'yuan' },
      { bands: [{ from: '25:00', to: '26:00', unitPrice: 1 }] },
    ].map((change): Case => ({
      name: `a lot with tariff ${JSON.stringify(change)}`,
      method: 'POST',
      path: '/v1/lots',
      token: admin,
      body: { name: 'x', tariff: { ...goodTariff, ...change } },
      status: 400,
      code: 'INVALID_TARIFF',
    })),
    {
      name: 'a lane in an unknown lot',
      method: 'POST',
      path: `/v1/lots/${unknownId('lot')}/lanes`,
      token: admin,
      body: { name: 'x', direction: 'entry' },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'a lane going sideways',
      method: 'POST',
      path: () => `/v1/lots/${lot.lotId}/lanes`,
      token: admin,
      body: { name: 'x', direction: 'sideways' },
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'a gate with a key that is not 32 bytes',
      method: 'POST',
      path: () => `/v1/lots/${lot.lotId}/gates`,
      token: admin,
      body: { name: 'g', publicKey: Buffer.alloc(33).toString('base64').slice(0, 44) },
      status: 400,
      code: 'INVALID_PUBLIC_KEY',
    },
    // the identity point and all zeros are small-order keys: anyone can sign for them
    ...['AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', Buffer.alloc(32).toString('base64')].map((publicKey): Case => ({
      name: `a gate with the weak key ${publicKey}`,
      method: 'POST',
      path: () => `/v1/lots/${lot.lotId}/gates`,
      token: admin,
      body: { name: 'g', publicKey },
      status: 400,
      code: 'INVALID_PUBLIC_KEY',
    })),
    ...[
      { confidence: 2 },
      { confidence: 'high' },
      { at: 'now' },
      { plate: '' },
      { eventId: 'has spaces' },
      { laneId: 42 },
    ].map((change): Case => ({
      name: `an event with ${JSON.stringify(change)}`,
      method: 'POST',
      path: '/v1/events',
      token: admin,
      body: () => ({ ...goodEvent(), ...change }),
      status: 400,
      code: 'BAD_REQUEST',
    })),
    {
      name: 'an event with a plate of symbols',
      method: 'POST',
      path: '/v1/events',
      token: admin,
      body: () => ({ ...goodEvent(), plate: '#$%' }),
      status: 400,
      code: 'INVALID_PLATE',
    },
    {
      name: 'an event an hour in the future',
      method: 'POST',
      path: '/v1/events',
      token: admin,
      body: () => ({ ...goodEvent(), at: t.clock.now() + 3_600_000 }),
      status: 400,
      code: 'EVENT_IN_FUTURE',
    },
    {
      name: 'an event on an unknown lane',
      method: 'POST',
      path: '/v1/events',
      token: admin,
      body: () => ({ ...goodEvent(), laneId: unknownId('lan') }),
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'an event from a driver',
      method: 'POST',
      path: '/v1/events',
      token: driver,
      body: () => goodEvent(),
      status: 403,
      code: 'FORBIDDEN',
    },
    {
      name: 'an event from an auditor',
      method: 'POST',
      path: '/v1/events',
      token: () => auditor,
      body: () => goodEvent(),
      status: 403,
      code: 'FORBIDDEN',
    },
    {
      name: 'resolving an unknown review',
      method: 'POST',
      path: `/v1/reviews/${unknownId('rev')}/resolve`,
      token: admin,
      body: { action: 'dismiss' },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'resolving a review by match without a session',
      method: 'POST',
      path: `/v1/reviews/${unknownId('rev')}/resolve`,
      token: admin,
      body: { action: 'match' },
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'resolving an unknown dispute',
      method: 'POST',
      path: `/v1/disputes/${unknownId('dsp')}/resolve`,
      token: admin,
      body: { outcome: 'transfer' },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'an operator making API keys',
      method: 'POST',
      path: '/v1/keys',
      token: () => operator,
      body: { role: 'admin', label: 'me' },
      status: 403,
      code: 'FORBIDDEN',
    },
    { name: 'an unknown route', method: 'GET', path: '/v1/nothing', status: 404, code: 'NOT_FOUND' },
  ];

  it('refuses each bad request with its status and code, and the database is unchanged', async () => {
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    for (const c of cases) {
      const path = typeof c.path === 'function' ? c.path() : c.path;
      const body = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body;
      const r = await t.call(c.method, path, { token: c.token?.(), body, raw: c.raw });
      assert.equal(r.status, c.status, `${c.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body?.error?.code, c.code, `${c.name}: ${JSON.stringify(r.body)}`);
      assert.ok(typeof r.body.error.message === 'string' && r.body.error.message.length > 0, c.name);
    }
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'no refused request changed the database');
  });

  it('refuses a token once it has expired', async () => {
    assert.equal((await t.call('GET', '/v1/me', { token: ana.token })).status, 200);
    t.clock.advance(24 * 3_600_000 + 1);
    const r = await t.call('GET', '/v1/me', { token: ana.token });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'TOKEN_EXPIRED');
  });

  it('lets an auditor read but not write', async () => {
    assert.equal((await t.call('GET', '/v1/lots', { token: auditor })).status, 200);
    assert.equal((await t.call('GET', '/v1/reviews', { token: auditor })).status, 200);
    const r = await t.call('PUT', `/v1/lots/${lot.lotId}/tariff`, { token: auditor, body: goodTariff });
    assert.equal(r.status, 403);
  });
});
