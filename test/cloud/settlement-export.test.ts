// The accounting export over real HTTP (GET /v1/lots/:lotId/settlements.csv): one CSV line per settlement of
// the lot's local days, with the lot's offset on every time, minor and formatted amounts, the ledger index;
// RFC 4180 quoting and formula injection defused; the period and the lot checked with clear 400/404s; roles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csvField,
  csvLine,
  formatMinorUnits,
  isoWithOffset,
  settlementLine,
} from '../../cloud/exports/settlement-csv.js';
import { ADMIN_KEY, T0, TestCloud, parkCars, signUp } from './cloud-harness.js';

test('CSV fields: RFC 4180 quoting, and text a spreadsheet would run as a formula shown as text', () => {
  assert.equal(csvField('粤B12345'), '粤B12345');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\r\nlines'), '"two\r\nlines"');
  assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  for (const start of ['=', '+', '-', '@', '\t', '\r']) {
    const field = csvField(`${start}1+1`);
    assert.ok(field.startsWith(`"'${start}`), `${JSON.stringify(start)} -> ${field}`);
  }
  assert.equal(csvLine(['a', 'b,c', '']), 'a,"b,c",\r\n');
});

test('CSV values: amounts in the currency decimals, times in the lot zone with its offset', () => {
  assert.equal(formatMinorUnits(1250, 'CNY'), '12.50');
  assert.equal(formatMinorUnits(5, 'EUR'), '0.05');
  assert.equal(formatMinorUnits(0, 'CNY'), '0.00');
  assert.equal(formatMinorUnits(1250, 'JPY'), '1250');
  assert.equal(formatMinorUnits(1250, 'BHD'), '1.250');
  assert.equal(formatMinorUnits(123456789012, 'USD'), '1234567890.12');
  assert.equal(isoWithOffset(T0, 480), '2026-03-02T08:00:00.000+08:00');
  assert.equal(isoWithOffset(T0, 0), '2026-03-02T00:00:00.000Z');
  assert.equal(isoWithOffset(T0, -210), '2026-03-01T20:30:00.000-03:30');
  const line = settlementLine(
    {
      id: 'stl_1',
      sessionId: 'ses_1',
      plate: '粤B12345',
      entryAt: T0,
      exitAt: T0 + 5_400_000,
      amount: 1000,
      currency: 'CNY',
      accountId: null,
      method: 'free',
      ledgerIndex: null,
      settledAt: T0 + 5_400_000,
    },
    480,
  );
  assert.equal(
    line,
    'stl_1,ses_1,粤B12345,2026-03-02T08:00:00.000+08:00,2026-03-02T09:30:00.000+08:00,1000,10.00,CNY,,free,,' +
      '2026-03-02T09:30:00.000+08:00\r\n',
  );
});

/** the CSV's lines (without the final CRLF), each split into its fields (no field here holds a comma) */
const rowsOf = (csv: string) =>
  csv
    .split('\r\n')
    .slice(0, -1)
    .map((line) => line.split(','));

async function csv(t: TestCloud, lotId: string, query: string, token = ADMIN_KEY) {
  const res = await fetch(`${t.url}/v1/lots/${lotId}/settlements.csv?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    disposition: res.headers.get('content-disposition'),
    text: await res.text(),
  };
}

test('export a lot and period: one line per settlement, local days, ledger index, roles, clear errors', async () => {
  const t = await TestCloud.start();
  try {
    // three cars enter at 2026-03-02 08:00 (UTC+8); two leave at 09:30 (10.00 each), one stays
    const parked = await parkCars(t, {
      email: 'export@example.com',
      topUp: 100_000,
      lotName: 'Airport P1',
      platePrefix: '粤B1',
      cars: 3,
      stayMinutes: 90,
    });
    assert.equal((await parked.exitEvent(0)).body.reason, 'charged');
    assert.equal((await parked.exitEvent(1)).body.reason, 'charged');
    await t.cloud.checkpointNow();
    const lots = (await t.call('GET', '/v1/lots', { token: ADMIN_KEY })).body.lots as Array<{ id: string }>;
    const lotId = lots[0]!.id;

    const day = await csv(t, lotId, 'from=2026-03-02&to=2026-03-02');
    assert.equal(day.status, 200, day.text);
    assert.match(day.type!, /^text\/csv; charset=utf-8/);
    assert.match(day.disposition!, /^attachment; filename="settlements-lot_[0-9a-f]+-2026-03-02-2026-03-02\.csv"$/);
    const [header, ...rows] = rowsOf(day.text);
    assert.deepEqual(header, [
      'settlement_id',
      'session_id',
      'plate',
      'entry_at',
      'exit_at',
      'amount_minor',
      'amount',
      'currency',
      'payment_account_id',
      'payment_method',
      'ledger_index',
      'settled_at',
    ]);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows.map((r) => r[2]).sort(), ['粤B11000', '粤B11001']);
    const indexes = new Set<string>();
    for (const r of rows) {
      assert.match(r[0]!, /^stl_[0-9a-f]{32}$/);
      assert.match(r[1]!, /^ses_[0-9a-f]{32}$/);
      assert.equal(r[3], '2026-03-02T08:00:00.000+08:00');
      assert.equal(r[4], '2026-03-02T09:30:00.000+08:00');
      assert.deepEqual(r.slice(5, 8), ['1000', '10.00', 'CNY']);
      assert.equal(r[8], parked.driver.accountId);
      assert.equal(r[9], 'wallet');
      assert.match(r[10]!, /^\d+$/, 'the ledger index is given once the ledger has placed the record');
      indexes.add(r[10]!);
      assert.equal(r[11], '2026-03-02T09:30:00.000+08:00');
      const receipt = await t.call('GET', `/v1/ledger/receipts/${r[0]}`, { token: ADMIN_KEY });
      assert.equal(String(receipt.body.index), r[10]);
    }
    assert.equal(indexes.size, 2);

    // local days: 2026-03-02 09:30 in UTC+8 is 01:30 UTC, on no other local day
    assert.equal(rowsOf((await csv(t, lotId, 'from=2026-03-01&to=2026-03-01')).text).length, 1);
    assert.equal(rowsOf((await csv(t, lotId, 'from=2026-03-03&to=2026-03-31')).text).length, 1);
    assert.equal(rowsOf((await csv(t, lotId, 'from=2026-01-01&to=2026-12-31')).text).length, 3);

    // an auditor exports; a driver does not; no key at all gets 401
    const auditor = await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'audit' } });
    assert.equal((await csv(t, lotId, 'from=2026-03-02&to=2026-03-02', auditor.body.secret)).status, 200);
    const driver = await signUp(t, 'not-an-accountant@example.com');
    assert.equal((await csv(t, lotId, 'from=2026-03-02&to=2026-03-02', driver.token)).status, 403);
    assert.equal((await fetch(`${t.url}/v1/lots/${lotId}/settlements.csv?from=2026-03-02&to=2026-03-02`)).status, 401);

    const cases: Array<[string, string, number, string, RegExp]> = [
      [lotId, 'to=2026-03-02', 400, 'INVALID_PERIOD', /^from: required/],
      [lotId, 'from=2026-03-02', 400, 'INVALID_PERIOD', /^to: required/],
      [lotId, 'from=2026-3-2&to=2026-03-02', 400, 'INVALID_PERIOD', /^from: expected a day as YYYY-MM-DD/],
      [lotId, 'from=2026-02-30&to=2026-03-02', 400, 'INVALID_PERIOD', /^from: expected a day/],
      [lotId, 'from=2026-03-02&to=tomorrow', 400, 'INVALID_PERIOD', /^to: expected a day/],
      [lotId, 'from=1999-12-31&to=2026-03-02', 400, 'INVALID_PERIOD', /^from: expected a day .* from 2000 to 2099/],
      [lotId, 'from=2026-03-02&to=2026-03-01', 400, 'INVALID_PERIOD', /^to: 2026-03-01 is before from \(2026-03-02\)/],
      [lotId, 'from=2026-03-02&to=2026-03-02&format=xlsx', 400, 'BAD_REQUEST', /^format: not an export parameter/],
      ['P1', 'from=2026-03-02&to=2026-03-02', 400, 'BAD_REQUEST', /lotId/],
      [`lot_${'0'.repeat(32)}`, 'from=2026-03-02&to=2026-03-02', 404, 'NOT_FOUND', /lot/],
    ];
    for (const [lot, query, status, code, message] of cases) {
      const r = await csv(t, lot, query);
      assert.equal(r.status, status, `${query}: ${r.text}`);
      const body = JSON.parse(r.text);
      assert.equal(body.error.code, code, query);
      assert.match(body.error.message, message, query);
    }
  } finally {
    await t.stop();
  }
});
