/**
 * The cloud's configuration (cloud/cloud-config.ts): a setting that is
 * missing takes its default, but a setting given as null is an error naming
 * it (it used to take the default silently, e.g. `"port": null` started on
 * 8080); and the tolerant match threshold may not be below the exact one.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCloudConfig } from '../../cloud/cloud-config.js';

const base = { database: ':memory:' };

describe('parseCloudConfig', () => {
  it('takes the defaults for missing settings', () => {
    const c = parseCloudConfig(base, {});
    assert.equal(c.port, 8080);
    assert.equal(c.groupCommit, true);
    assert.equal(c.matchMinConfidence, 0.9);
    assert.equal(c.matchMinExactConfidence, 0.7);
  });

  it('refuses null for a setting that has a default, naming it', () => {
    for (const [key, message] of [
      ['port', /config\.port: expected an integer from \d+ to 65535, got null/],
      ['groupCommit', /config\.groupCommit: expected true or false/],
      ['matchMinConfidence', /config\.matchMinConfidence: expected a number from 0 to 1/],
      ['matchMinExactConfidence', /config\.matchMinExactConfidence: expected a number from 0 to 1/],
    ] as const) {
      assert.throws(() => parseCloudConfig({ ...base, [key]: null }, {}), message, key);
    }
  });

  it('refuses a default currency that is not in circulation', () => {
    assert.equal(parseCloudConfig({ ...base, defaultCurrency: 'EUR' }, {}).defaultCurrency, 'EUR');
    for (const code of ['XXX', 'ZZZ', 'cny']) {
      assert.throws(
        () => parseCloudConfig({ ...base, defaultCurrency: code }, {}),
        /config\.defaultCurrency: expected the ISO 4217 code of a currency in circulation/,
      );
    }
  });

  it('creates no key file beside the database when the config is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'platepay-config-'));
    try {
      const database = join(dir, 'cloud.db');
      assert.throws(() => parseCloudConfig({ database, port: null }, {}), /config\.port/);
      assert.deepEqual(readdirSync(dir), [], 'no ledger or plate key was written for a config that failed');
      parseCloudConfig({ database }, {});
      assert.ok(existsSync(`${database}.ledgerkey`), 'a valid config still makes its keys');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a tolerant match threshold below the exact one', () => {
    assert.throws(
      () => parseCloudConfig({ ...base, matchMinConfidence: 0.5, matchMinExactConfidence: 0.95 }, {}),
      /config\.matchMinConfidence: 0\.5 is below config\.matchMinExactConfidence \(0\.95\)/,
    );
    const equal = parseCloudConfig({ ...base, matchMinConfidence: 0.8, matchMinExactConfidence: 0.8 }, {});
    assert.equal(equal.matchMinConfidence, 0.8);
  });

  it('refuses null in the payment provider settings', () => {
    const stripe = { provider: 'stripe', apiKey: 'sk_test_12345678', webhookSecrets: ['whsec_12345678'] };
    assert.equal(parseCloudConfig({ ...base, payments: stripe }, {}).payments.provider, 'stripe');
    assert.throws(
      () => parseCloudConfig({ ...base, payments: { ...stripe, timeoutMs: null } }, {}),
      /config\.payments\.timeoutMs/,
    );
    assert.throws(
      () => parseCloudConfig({ ...base, payments: { ...stripe, baseUrl: null } }, {}),
      /config\.payments\.baseUrl/,
    );
    assert.throws(
      () =>
        parseCloudConfig(
          { ...base, payments: { ...stripe, apiKey: null } },
          { PLATEPAY_STRIPE_API_KEY: 'sk_test_12345678' },
        ),
      /config\.payments\.apiKey/,
    );
  });
});
