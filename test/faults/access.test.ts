/**
 * Hostile access: a driver reaches only their own links, sessions,
 * accounts and receipts (every driver route tried with another driver's
 * real ids: 404 exactly as for a missing id, and nothing changes); drivers
 * and gates (their keys, ids, signatures, their WebSocket) cannot use
 * operator or ledger routes; an auditor reads but cannot write (every write
 * route); a revoked key stops working; driver tokens expire on the injected
 * clock; and brute-force sign-in is rate-limited per email and client
 * address (cloud/accounts/login-throttle.ts) with 429 and Retry-After.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOGIN_LOCKOUT_MS, LOGIN_MAX_ATTEMPTS, LOGIN_WINDOW_MS } from '../../cloud/accounts/login-throttle.js';
import { authSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { Reply } from '../cloud/cloud-harness.js';
import { topUpAndWait } from '../cloud/top-up.js';
import { ADMIN_KEY, TestCloud, eventId, setUpLot, signUp, tariff } from '../cloud/cloud-harness.js';
import { RawGate } from './raw-gate.js';

const PASSWORD = 'correct horse battery';
const unknownId = (prefix: string) => `${prefix}_${'0'.repeat(32)}`;

interface Attempt {
  name: string;
  method: string;
  path: string;
  body?: unknown;
}

/** the error message with ids taken out, to compare "another's" with "missing" */
const withoutIds = (message: string) => message.replace(/[a-z]{3}_[0-9a-f]{32}/g, 'ID');

describe("a driver cannot see or change another driver's things", () => {
  let t: TestCloud;
  let ana: { token: string; accountId: string; driverId: string };
  let bo: { token: string; accountId: string; driverId: string };
  let boUsd: string;
  let boLink: string;
  let anaLink: string;
  let boSettlement: string;
  let boSession: string;
  let pendingId: string;
  let lot: { lotId: string; entry: string; exit: string };

  before(async () => {
    t = await TestCloud.start();
    ana = await signUp(t, 'ana@example.com');
    bo = await signUp(t, 'bo@example.com');
    lot = await setUpLot(t);
    boUsd = (await t.call('POST', '/v1/me/accounts', { token: bo.token, body: { currency: 'USD', label: 'usd' } })).body
      .id;
    anaLink = (
      await t.call('POST', '/v1/me/links', { token: ana.token, body: { plate: 'ANA1234', accountId: ana.accountId } })
    ).body.id;
    boLink = (
      await t.call('POST', '/v1/me/links', { token: bo.token, body: { plate: 'BOB5678', accountId: bo.accountId } })
    ).body.id;
    await topUpAndWait(t.driverCall(bo.token), bo.accountId, 10_000, 'bo-1');
    // Bo parks and pays (a session and a settlement of his); an unlinked car leaves a pending payment
    const event = (laneId: string, plate: string) =>
      t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId, plate, confidence: 0.99, at: t.clock.now() },
      });
    boSession = (await event(lot.entry, 'BOB5678')).body.sessionId;
    await event(lot.entry, 'UNL9999');
    t.clock.advance(2 * 3_600_000);
    const exit = await event(lot.exit, 'BOB5678');
    assert.equal(exit.body.reason, 'charged', JSON.stringify(exit.body));
    boSettlement = exit.body.settlementId;
    const unpaid = await event(lot.exit, 'UNL9999');
    assert.equal(unpaid.body.reason, 'payment_required', JSON.stringify(unpaid.body));
    pendingId = unpaid.body.pendingPaymentId;
    await t.cloud.checkpointNow();
  });
  after(async () => {
    await t.stop();
  });

  it("refuses every driver route given Bo's ids, exactly as for ids that do not exist, and changes nothing", async () => {
    const attempts = (ids: {
      account: string;
      usd: string;
      link: string;
      settlement: string;
      holderAccount: string;
    }): Attempt[] => [
      {
        name: 'top up his wallet',
        method: 'POST',
        path: `/v1/me/accounts/${ids.account}/top-ups`,
        body: { amount: 1, reference: 'x' },
      },
      {
        name: 'top up his USD wallet',
        method: 'POST',
        path: `/v1/me/accounts/${ids.usd}/top-ups`,
        body: { amount: 1, reference: 'x' },
      },
      {
        name: 'link a plate to his wallet',
        method: 'POST',
        path: '/v1/me/links',
        body: { plate: 'NEW1234', accountId: ids.account },
      },
      { name: 'unlink his link', method: 'DELETE', path: `/v1/me/links/${ids.link}` },
      { name: 'unlink his wallet (an id of another kind)', method: 'DELETE', path: `/v1/me/links/${ids.account}` },
      {
        name: 'dispute his plate with his own wallet',
        method: 'POST',
        path: '/v1/me/disputes',
        body: { plate: 'BOB5678', accountId: ids.holderAccount, reason: 'x' },
      },
      { name: 'read his receipt', method: 'GET', path: `/v1/me/receipts/${ids.settlement}` },
      {
        name: 'pay a pending payment from his wallet',
        method: 'POST',
        path: `/v1/pending-payments/${pendingId}/pay`,
        body: { accountId: ids.account },
      },
    ];
    const his = attempts({
      account: bo.accountId,
      usd: boUsd,
      link: boLink,
      settlement: boSettlement,
      holderAccount: bo.accountId,
    });
    const none = attempts({
      account: unknownId('acc'),
      usd: unknownId('acc'),
      link: unknownId('lnk'),
      settlement: unknownId('stl'),
      holderAccount: unknownId('acc'),
    });
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    for (const [i, a] of his.entries()) {
      const r = await t.call(a.method, a.path, { token: ana.token, body: a.body });
      assert.equal(r.status, 404, `${a.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'NOT_FOUND', a.name);
      // the answer tells nothing about whether the id exists
      const missing = await t.call(none[i]!.method, none[i]!.path, { token: ana.token, body: none[i]!.body });
      assert.equal(missing.status, 404, `${a.name} (missing id)`);
      assert.equal(withoutIds(r.body.error.message), withoutIds(missing.body.error.message), a.name);
    }
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, "no attempt on Bo's things changed the database");
  });

  it("lists none of Bo's accounts, links, sessions or receipts to Ana, whatever the query says", async () => {
    const boIds = [bo.driverId, bo.accountId, boUsd, boLink, boSession, boSettlement, 'BOB5678'];
    for (const path of [
      '/v1/me',
      '/v1/me/accounts',
      '/v1/me/links',
      '/v1/me/sessions',
      '/v1/me/receipts',
      `/v1/me/links?driverId=${bo.driverId}`,
      `/v1/me/accounts?driverId=${bo.driverId}&id=${bo.accountId}`,
      `/v1/me/receipts?settlementId=${boSettlement}`,
    ]) {
      const r = await t.call('GET', path, { token: ana.token });
      assert.ok(r.status === 200 || r.status === 400, `${path}: ${r.status}`);
      const text = JSON.stringify(r.body);
      for (const id of boIds) assert.ok(!text.includes(id), `${path} shows ${id}`);
    }
    // and Bo sees his own
    const receipts = await t.call('GET', '/v1/me/receipts', { token: bo.token });
    assert.deepEqual(
      receipts.body.receipts.map((r: { settlement: { id: string } }) => r.settlement.id),
      [boSettlement],
    );
    const sessions = await t.call('GET', '/v1/me/sessions', { token: bo.token });
    assert.ok(sessions.body.sessions.some((s: { id: string }) => s.id === boSession));
  });

  it('cannot put another driver id into a body it sends', async () => {
    const before = t.snapshot();
    for (const [path, body] of [
      ['/v1/me/accounts', { currency: 'EUR', label: 'x', driverId: bo.driverId }],
      ['/v1/me/links', { plate: 'NEW1234', accountId: ana.accountId, driverId: bo.driverId }],
      [`/v1/me/accounts/${ana.accountId}/top-ups`, { amount: 1, reference: 'x', accountId: bo.accountId }],
    ] as const) {
      const r = await t.call('POST', path, { token: ana.token, body });
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'BAD_REQUEST');
    }
    assert.equal(t.snapshot(), before);
  });

  it("keeps Ana's link when Bo tries to take it, and only an operator can move it", async () => {
    const r = await t.call('POST', '/v1/me/links', {
      token: bo.token,
      body: { plate: 'ana1234', accountId: bo.accountId },
    });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'PLATE_LINKED_ELSEWHERE');
    const links = await t.call('GET', '/v1/me/links', { token: ana.token });
    assert.deepEqual(
      links.body.links.map((l: { id: string }) => l.id),
      [anaLink],
    );
  });

  it('refuses every operator and ledger route to a driver token (403), and they change nothing', async () => {
    const before = t.snapshot();
    for (const a of operatorRoutes({ lotId: lot.lotId, laneId: lot.entry, settlementId: boSettlement })) {
      const r = await t.call(a.method, a.path, { token: ana.token, body: a.body });
      assert.equal(r.status, 403, `${a.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'FORBIDDEN', a.name);
    }
    assert.equal(t.snapshot(), before);
  });
});

/** Every operator, admin and ledger route, with bodies valid for their schemas. */
function operatorRoutes(ids: {
  lotId: string;
  laneId: string;
  settlementId: string;
}): Array<Attempt & { write: boolean }> {
  return [
    { name: 'list lots', method: 'GET', path: '/v1/lots', write: false },
    { name: 'read a lot', method: 'GET', path: `/v1/lots/${ids.lotId}`, write: false },
    { name: 'list reviews', method: 'GET', path: '/v1/reviews', write: false },
    { name: 'list disputes', method: 'GET', path: '/v1/disputes?status=open', write: false },
    { name: 'ledger checkpoint', method: 'GET', path: '/v1/ledger/checkpoint', write: false },
    { name: 'ledger checkpoints', method: 'GET', path: '/v1/ledger/checkpoints', write: false },
    { name: 'ledger records', method: 'GET', path: '/v1/ledger/records?start=0&end=1', write: false },
    { name: 'ledger leaves', method: 'GET', path: '/v1/ledger/leaves?start=0&end=1', write: false },
    { name: 'inclusion proof', method: 'GET', path: '/v1/ledger/proofs/inclusion?index=0&size=1', write: false },
    { name: 'consistency proof', method: 'GET', path: '/v1/ledger/proofs/consistency?from=1&to=1', write: false },
    { name: 'ledger receipt', method: 'GET', path: `/v1/ledger/receipts/${ids.settlementId}`, write: false },
    { name: 'create a lot', method: 'POST', path: '/v1/lots', body: { name: 'P9', tariff }, write: true },
    {
      name: 'change a tariff',
      method: 'PUT',
      path: `/v1/lots/${ids.lotId}/tariff`,
      body: { ...tariff, unitPrice: 1 },
      write: true,
    },
    {
      name: 'add a lane',
      method: 'POST',
      path: `/v1/lots/${ids.lotId}/lanes`,
      body: { name: 'x', direction: 'exit' },
      write: true,
    },
    {
      name: 'add a gate',
      method: 'POST',
      path: `/v1/lots/${ids.lotId}/gates`,
      body: { name: 'g', publicKey: GateKey.generate().publicKey },
      write: true,
    },
    { name: 'revoke a gate', method: 'POST', path: `/v1/gates/${unknownId('gat')}/revoke`, write: true },
    {
      name: 'submit a lane event',
      method: 'POST',
      path: '/v1/events',
      body: { eventId: 'acc-ev', laneId: ids.laneId, plate: 'ACC1234', confidence: 0.99, at: 0 },
      write: true,
    },
    {
      name: 'resolve a review',
      method: 'POST',
      path: `/v1/reviews/${unknownId('rev')}/resolve`,
      body: { action: 'dismiss' },
      write: true,
    },
    {
      name: 'resolve a dispute',
      method: 'POST',
      path: `/v1/disputes/${unknownId('dsp')}/resolve`,
      body: { outcome: 'transfer' },
      write: true,
    },
    { name: 'make an API key', method: 'POST', path: '/v1/keys', body: { role: 'admin', label: 'mine' }, write: true },
    { name: 'list API keys', method: 'GET', path: '/v1/keys', write: true },
    { name: 'revoke an API key', method: 'DELETE', path: `/v1/keys/${unknownId('key')}`, write: true },
  ];
}

describe('gates, auditors and operators stay within their roles', () => {
  let t: TestCloud;
  let lot: { lotId: string; entry: string; exit: string };
  let auditor: { id: string; secret: string };
  let operator: string;
  let settlementId: string;
  const gateKey = GateKey.generate();
  let gateId: string;

  before(async () => {
    t = await TestCloud.start();
    lot = await setUpLot(t);
    const a = await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'bank' } });
    auditor = { id: a.body.key.id, secret: a.body.secret };
    operator = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'operator', label: 'ops' } })).body
      .secret;
    const gate = await t.call('POST', `/v1/lots/${lot.lotId}/gates`, {
      token: ADMIN_KEY,
      body: { name: 'gate', publicKey: gateKey.publicKey },
    });
    gateId = gate.body.id;
    // one settlement, so that the ledger has a record, a proof and a receipt to read
    const driver = await signUp(t, 'cy@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 5_000);
    await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: 'CYC1234', accountId: driver.accountId },
    });
    const ev = (laneId: string) =>
      t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId, plate: 'CYC1234', confidence: 0.99, at: t.clock.now() },
      });
    await ev(lot.entry);
    t.clock.advance(3_600_000);
    settlementId = (await ev(lot.exit)).body.settlementId;
    assert.ok(settlementId);
    await t.cloud.checkpointNow();
  });
  after(async () => {
    await t.stop();
  });

  const routes = () => operatorRoutes({ lotId: lot.lotId, laneId: lot.entry, settlementId });

  it('lets an auditor read everything an operator reads', async () => {
    for (const a of routes().filter((r) => !r.write)) {
      const r = await t.call(a.method, a.path, { token: auditor.secret });
      assert.equal(r.status, 200, `${a.name}: ${JSON.stringify(r.body)}`);
    }
  });

  it('refuses every write route (and the key routes) to an auditor with 403, and nothing changes', async () => {
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    for (const a of routes().filter((r) => r.write)) {
      const r = await t.call(a.method, a.path, { token: auditor.secret, body: a.body });
      assert.equal(r.status, 403, `${a.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'FORBIDDEN', a.name);
      assert.match(r.body.error.message, /needs the role .*the key is auditor/, a.name);
    }
    // the auditor key on driver routes is refused as well
    for (const path of ['/v1/me', '/v1/me/receipts']) {
      const r = await t.call('GET', path, { token: auditor.secret });
      assert.equal(r.status, 403, path);
    }
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before);
  });

  it('refuses the admin-only key routes to an operator key', async () => {
    const before = t.snapshot();
    for (const a of routes().filter((r) => r.path.startsWith('/v1/keys'))) {
      const r = await t.call(a.method, a.path, { token: operator, body: a.body });
      assert.equal(r.status, 403, `${a.name}: ${JSON.stringify(r.body)}`);
    }
    assert.equal(t.snapshot(), before);
  });

  it("refuses a gate's public key, id, signature or key file as an API key (401)", async () => {
    const signature = gateKey.sign(authSigningBytes(gateId, 'A'.repeat(43) + '='));
    const credentials: Array<[string, string]> = [
      ['the public key', gateKey.publicKey],
      ['the gate id', gateId],
      ['a signature by the gate', signature],
      ['the key file', gateKey.format().trim()],
      ['the gate id as an API key', `ppkey_${gateId}`],
      ['the public key as an API key', `ppkey_${gateKey.publicKey.replace(/[+/=]/g, '')}`],
    ];
    const before = t.snapshot();
    for (const [what, secret] of credentials) {
      for (const a of routes()) {
        const res = await fetch(t.url + a.path, {
          method: a.method,
          headers: {
            authorization: `Bearer ${secret}`,
            ...(a.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: a.body === undefined ? undefined : JSON.stringify(a.body),
        });
        const body = (await res.json()) as Reply['body'];
        assert.ok(res.status === 401 || res.status === 403, `${what} on ${a.name}: ${res.status}`);
        assert.ok(['UNAUTHORIZED', 'FORBIDDEN'].includes(body.error.code), `${what} on ${a.name}`);
      }
    }
    assert.equal(t.snapshot(), before);
  });

  it('gives an admitted gate no operator actions over its WebSocket, and no WebSocket on other paths', async () => {
    const before = t.snapshot();
    const g = await RawGate.connect(t.url);
    await g.handshake(gateId, gateKey);
    const actions = [
      { v: 1, type: 'createLot', id: 'x1', name: 'mine', tariff },
      { v: 1, type: 'resolveReview', id: 'x2', reviewId: unknownId('rev'), action: 'waive' },
      { v: 1, type: 'revokeGate', id: 'x3', gateId },
      { v: 1, type: 'createKey', id: 'x4', role: 'admin', label: 'mine' },
      { v: 1, type: 'policy', id: 'x5', issuedAt: 0, salt: 'A'.repeat(22) + '==', allow: [] },
      { v: 1, type: 'decision', id: 'x6', re: 'x', decision: {} },
      { v: 1, type: 'hello', id: 'x7', gateId: unknownId('gat'), software: 'x', role: 'admin' },
    ];
    for (const m of actions) {
      g.send(m);
      const answer = await g.next();
      assert.ok(answer?.type === 'error' && answer.code === 'BAD_MESSAGE', `${m.type}: ${JSON.stringify(answer)}`);
    }
    g.close();
    for (const path of ['/v1/lots', '/v1/keys', '/v1/events', '/v1/gates/ws/../../keys', '/']) {
      await assert.rejects(RawGate.connect(t.url, path), `a WebSocket on ${path}`);
    }
    assert.equal(t.snapshot(), before);
  });

  it('stops honouring an API key once it is revoked (401)', async () => {
    const k = await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'temp' } });
    assert.equal((await t.call('GET', '/v1/lots', { token: k.body.secret })).status, 200);
    assert.equal((await t.call('DELETE', `/v1/keys/${k.body.key.id}`, { token: ADMIN_KEY })).status, 204);
    const r = await t.call('GET', '/v1/lots', { token: k.body.secret });
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /revoked/);
    const ledger = await t.call('GET', '/v1/ledger/checkpoint', { token: k.body.secret });
    assert.equal(ledger.status, 401);
  });
});

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
