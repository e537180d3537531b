/**
 * Sessions end when they should: a driver signs out (this token, or every
 * token).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, signUp } from '../cloud/cloud-harness.js';
import { PASSWORD } from './access-fixtures.js';

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
