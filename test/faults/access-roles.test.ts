/** Access by role: gates, auditors and operators stay within their roles (over HTTP and the gate WebSocket), and a revoked key stops working. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { Reply } from '../cloud/cloud-harness.js';
import { topUpAndWait } from '../cloud/top-up.js';
import { ADMIN_KEY, TestCloud, eventId, setUpLot, signUp, tariff } from '../cloud/cloud-harness.js';
import { RawGate } from './raw-gate.js';
import { operatorRoutes, unknownId } from './access-fixtures.js';

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
