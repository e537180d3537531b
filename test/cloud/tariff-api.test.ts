/**
 * Tariffs through the operator API over real HTTP: a lot created, or its
 * tariff replaced, with a negative price (a band's included) or another
 * negative or out-of-range money or duration field is refused with 400
 * INVALID_TARIFF whose message starts with the offending field, and nothing
 * is stored: the lot keeps its tariff, no lot is added.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Reply } from './cloud-harness.js';
import { ADMIN_KEY, TestCloud, setUpLot, tariff } from './cloud-harness.js';

const night = { from: '22:00', to: '06:00', unitPrice: 200 };

/** a tariff change, and the field the refusal must name */
const refused: Array<[Record<string, unknown>, string]> = [
  [{ bands: [{ ...night, unitPrice: -100 }] }, 'tariff.bands[0].unitPrice'],
  [{ bands: [night, { from: '06:00', to: '09:00', unitPrice: -1 }] }, 'tariff.bands[1].unitPrice'],
  [{ unitPrice: -1 }, 'tariff.unitPrice'],
  [{ dailyCap: -3000 }, 'tariff.dailyCap'],
  [{ freeMinutes: -15 }, 'tariff.freeMinutes'],
  [{ graceMinutes: -1 }, 'tariff.graceMinutes'],
  [{ unitMinutes: -60 }, 'tariff.unitMinutes'],
  [{ unitPrice: 2 ** 53 + 2 }, 'tariff.unitPrice'],
];

describe('tariffs through the operator API', () => {
  let t: TestCloud;
  let lotId: string;
  before(async () => {
    t = await TestCloud.start();
    lotId = (await setUpLot(t, 'Tariff P1')).lotId;
  });
  after(async () => {
    await t.stop();
  });

  const assertRefused = (r: Reply, field: string, what: string) => {
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'INVALID_TARIFF', `${what}: ${JSON.stringify(r.body)}`);
    assert.ok(r.body.error.message.startsWith(`${field}: `), `${what}: ${r.body.error.message}`);
  };

  it('refuses a negative price, a band price included, and other bad numbers; nothing is stored', async () => {
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const lots = (await t.call('GET', '/v1/lots', { token: ADMIN_KEY })).body.lots.length;
    for (const [change, field] of refused) {
      const what = JSON.stringify(change);
      const created = await t.call('POST', '/v1/lots', {
        token: ADMIN_KEY,
        body: { name: 'Bad tariff', tariff: { ...tariff, ...change } },
      });
      assertRefused(created, field, `new lot with ${what}`);
      const replaced = await t.call('PUT', `/v1/lots/${lotId}/tariff`, {
        token: ADMIN_KEY,
        body: { ...tariff, ...change },
      });
      assertRefused(replaced, field, `tariff replaced with ${what}`);
    }
    const negativeBand = await t.call('PUT', `/v1/lots/${lotId}/tariff`, {
      token: ADMIN_KEY,
      body: { ...tariff, bands: [{ ...night, unitPrice: -100 }] },
    });
    assert.equal(
      negativeBand.body.error.message,
      'tariff.bands[0].unitPrice: expected an integer from 0 to 1000000000, got -100',
    );
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'no refused tariff changed the database');
    assert.equal((await t.call('GET', '/v1/lots', { token: ADMIN_KEY })).body.lots.length, lots, 'no lot added');
    assert.deepEqual((await t.call('GET', `/v1/lots/${lotId}`, { token: ADMIN_KEY })).body.tariff, tariff);
  });

  it('stores a good tariff with a band', async () => {
    const good = { ...tariff, bands: [night] };
    const r = await t.call('PUT', `/v1/lots/${lotId}/tariff`, { token: ADMIN_KEY, body: good });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((await t.call('GET', `/v1/lots/${lotId}`, { token: ADMIN_KEY })).body.tariff, good);
  });
});
