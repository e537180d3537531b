/**
 * /metrics tells business figures (settlements, amounts, the review queue):
 * on the API port only an operator API key gets them; with `metricsPort`
 * they are also served without a key on a listener of their own, which
 * serves nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCloudConfig } from '../../cloud/cloud-config.js';
import { ADMIN_KEY, TestCloud, signUp } from './cloud-harness.js';

describe('/metrics on the API port', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start();
  });
  after(async () => {
    await t.stop();
  });

  it('needs an operator API key: 401 without one, 403 for a driver, the figures for an auditor', async () => {
    const anyone = await t.call('GET', '/metrics');
    assert.equal(anyone.status, 401, String(anyone.body).slice(0, 200));
    assert.equal(anyone.body.error.code, 'UNAUTHORIZED');
    const driver = await signUp(t, 'curious@example.com');
    const asDriver = await t.call('GET', '/metrics', { token: driver.token });
    assert.equal(asDriver.status, 403);
    const auditor = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'prom' } }))
      .body.secret as string;
    const asAuditor = await t.call('GET', '/metrics', { token: auditor });
    assert.equal(asAuditor.status, 200);
    assert.match(asAuditor.body, /^platepay_review_queue_depth 0$/m);
    assert.equal(t.cloud.metricsUrl, null, 'no listener of its own unless configured');
  });
});

describe('/metrics on a listener of its own', () => {
  let t: TestCloud;

  before(async () => {
    t = await TestCloud.start(undefined, { metricsPort: 0, metricsHost: '127.0.0.1' });
  });
  after(async () => {
    await t.stop();
  });

  it('serves the figures without a key there, nothing else, and still needs a key on the API port', async () => {
    const base = t.cloud.metricsUrl!;
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(base, t.url);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^platepay_review_queue_depth 0$/m);
    for (const path of ['/v1/lots', '/health', '/']) assert.equal((await fetch(base + path)).status, 404, path);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
    assert.equal((await t.call('GET', '/metrics')).status, 401);
  });

  it('checks the setting', () => {
    for (const bad of [-1, 65536, 1.5, '9464'])
      assert.throws(() => parseCloudConfig({ database: ':memory:', metricsPort: bad }, {}), /config\.metricsPort/);
    assert.equal(parseCloudConfig({ database: ':memory:' }, {}).metricsPort, null);
  });
});
