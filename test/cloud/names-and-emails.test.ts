/**
 * Names and emails people type are checked before anything is stored: a
 * blank name (spaces only, ideographic spaces included), one with control
 * or text-direction characters, or an email that cannot be an address (no
 * dotted domain, a one-letter or numeric top-level domain, spaces) gets 400
 * naming the field, and changes nothing. Good ones are stored trimmed (and
 * emails in lower case).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, setUpLot, signUp, tariff } from './cloud-harness.js';
import { GateKey } from '../../proto/v1/gate-key.js';

const PASSWORD = 'correct horse battery';

describe('names and emails', () => {
  let t: TestCloud;
  let driver: { token: string; accountId: string };
  let lotId: string;

  before(async () => {
    t = await TestCloud.start();
    driver = await signUp(t, 'namer@example.com');
    lotId = (await setUpLot(t)).lotId;
  });
  after(async () => {
    await t.stop();
  });

  const signUpWith = (email: string, name: string) =>
    t.call('POST', '/v1/drivers', { body: { email, password: PASSWORD, name } });

  it('refuses blank or unreadable names and impossible emails with 400 naming the field, storing nothing', async () => {
    const before = t.snapshot();
    const badNames = ['   ', '\u3000\u3000', ' \t ', 'Mei\u0007Lin', 'Mei\nLin', 'nim\u202Eeve'];
    for (const name of badNames) {
      const r = await signUpWith('someone@example.com', name);
      assert.equal(r.status, 400, `name ${JSON.stringify(name)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_NAME', JSON.stringify(name));
      assert.match(r.body.error.message, /^name: /);
    }
    const badEmails = [
      'a@bxyz',
      'a@b',
      'a@b.c',
      'a@example.123',
      'a@.com',
      'a@example..com',
      'a@-example.com',
      'a b@example.com',
      'ab@exa mple.com',
      'a@b@example.com',
      '@example.com',
      'a@example.com.',
      'a\u0000@example.com',
      `${'x'.repeat(65)}@example.com`,
    ];
    for (const email of badEmails) {
      const r = await signUpWith(email, 'Someone');
      assert.equal(r.status, 400, `email ${JSON.stringify(email)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_EMAIL', JSON.stringify(email));
      assert.match(r.body.error.message, /^email: /);
    }
    const named: Array<[string, string, unknown]> = [
      ['a lot', '/v1/lots', { name: '   ', tariff }],
      ['a lane', `/v1/lots/${lotId}/lanes`, { name: '  ', direction: 'entry' }],
      ['a gate', `/v1/lots/${lotId}/gates`, { name: ' ', publicKey: GateKey.generate().publicKey }],
      ['an API key', '/v1/keys', { role: 'auditor', label: '\u3000' }],
    ];
    for (const [what, path, body] of named) {
      const r = await t.call('POST', path, { token: ADMIN_KEY, body });
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'INVALID_NAME', what);
      assert.match(r.body.error.message, /^(name|label): must not be blank/, what);
    }
    const wallet = await t.call('POST', '/v1/me/accounts', {
      token: driver.token,
      body: { currency: 'EUR', label: '  ' },
    });
    assert.deepEqual([wallet.status, wallet.body.error.code], [400, 'INVALID_NAME']);
    assert.match(wallet.body.error.message, /^label: /);
    assert.equal(t.snapshot(), before, 'no refused request changed the database');
  });

  it('stores good names trimmed and emails trimmed in lower case, and signs them in however they are spelled', async () => {
    const good: Array<[string, string]> = [
      ['  Mei.Lin+parking@Example.CO.uk ', 'mei.lin+parking@example.co.uk'],
      ['李@example.cn', '李@example.cn'],
      ['o@xn--80ak6aa92e.com', 'o@xn--80ak6aa92e.com'],
      ['x@sub.example.xn--p1ai', 'x@sub.example.xn--p1ai'],
    ];
    for (const [typed, stored] of good) {
      const r = await signUpWith(typed, '  Mei   Lin  ');
      assert.equal(r.status, 201, `${typed}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.driver.email, stored);
      assert.equal(r.body.driver.name, 'Mei   Lin');
      const signIn = await t.call('POST', '/v1/auth/token', {
        body: { email: typed.trim().toUpperCase(), password: PASSWORD },
      });
      assert.equal(signIn.status, 200, typed);
    }
    const lot = await t.call('POST', '/v1/lots', { token: ADMIN_KEY, body: { name: ' North  ', tariff } });
    assert.equal(lot.body.name, 'North');
    const name100 = 'y'.repeat(98) + '\u{1F697}\u{1F697}';
    assert.equal((await signUpWith('long.name@example.com', name100)).status, 201, 'a hundred characters');
  });
});
