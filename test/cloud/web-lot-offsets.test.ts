/**
 * The pages show times in each car park's own time (its tariff's fixed UTC
 * offset), so the web routes give that offset: the operator dashboard per
 * lot, and the driver's parking page per open stay and for every car park
 * the driver has stayed in (their past receipts' times), over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, eventId, signUp, tariff } from './cloud-harness.js';

describe('car parks’ UTC offsets on the web routes', () => {
  let t: TestCloud;
  const lots: Record<string, { id: string; entry: string; exit: string }> = {};

  async function lot(name: string, utcOffsetMinutes: number) {
    const l = await t.call('POST', '/v1/lots', {
      token: ADMIN_KEY,
      body: { name, tariff: { ...tariff, utcOffsetMinutes } },
    });
    assert.equal(l.status, 201, JSON.stringify(l.body));
    const lane = async (direction: string) =>
      (await t.call('POST', `/v1/lots/${l.body.id}/lanes`, { token: ADMIN_KEY, body: { name: direction, direction } }))
        .body.id as string;
    return { id: l.body.id as string, entry: await lane('entry'), exit: await lane('exit') };
  }

  const event = async (laneId: string, plate: string) => {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId, plate, confidence: 0.99, at: t.clock.now() },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { action: string; reason: string };
  };

  before(async () => {
    t = await TestCloud.start();
    lots.delhi = await lot('Delhi T3', 330);
    lots.recife = await lot('Recife centro', -180);
  });
  after(async () => {
    await t.stop();
  });

  it('gives each lot its offset on the dashboard, and each stay and car park its offset on the driver page', async () => {
    const driver = await signUp(t, 'offsets@example.com');
    const link = await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: 'OFS1234', accountId: driver.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    // a free short stay in Delhi (closed), then a car parked in Recife (open)
    await event(lots.delhi!.entry, 'OFS1234');
    t.clock.advance(5 * 60_000);
    const left = await event(lots.delhi!.exit, 'OFS1234');
    assert.deepEqual([left.action, left.reason], ['open', 'free']);
    await event(lots.recife!.entry, 'OFS1234');

    const page = await t.call('GET', '/web/api/me/parking', { token: driver.token });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.deepEqual(
      page.body.sessions.map((s: { lot: string; utcOffsetMinutes: number }) => [s.lot, s.utcOffsetMinutes]),
      [['Recife centro', -180]],
    );
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    assert.deepEqual(
      [...page.body.lots].sort(byId),
      [
        { id: lots.delhi!.id, name: 'Delhi T3', currency: 'CNY', utcOffsetMinutes: 330 },
        { id: lots.recife!.id, name: 'Recife centro', currency: 'CNY', utcOffsetMinutes: -180 },
      ].sort(byId),
    );

    const dashboard = await t.call('GET', '/web/api/operator/dashboard', { token: ADMIN_KEY });
    assert.equal(dashboard.status, 200, JSON.stringify(dashboard.body));
    assert.deepEqual(
      dashboard.body.lots.map((l: { name: string; utcOffsetMinutes: number }) => [l.name, l.utcOffsetMinutes]).sort(),
      [
        ['Delhi T3', 330],
        ['Recife centro', -180],
      ],
    );
  });
});
