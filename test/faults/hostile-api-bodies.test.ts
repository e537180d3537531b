/**
 * Hostile API bodies: wrong types, missing and extra fields, 1 MB strings,
 * deep nesting, prototype keys and unicode tricks in plates (full-width,
 * zero-width, homoglyphs, direction marks, combining marks, NUL, styled and
 * compatibility characters) get a 4xx `{error: {code, message}}`, never a
 * 5xx, and leave the database unchanged. Full-width and zero-width forms of
 * a plate are normalised to it; everything that could make a plate look
 * like another one is refused (proto/plate-syntax.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { GateKey } from '../../proto/v1/gate-key.js';
import { normalisePlate } from '../../proto/plate-syntax.js';
import type { Reply } from '../cloud/cloud-harness.js';
import { ADMIN_KEY, TestCloud, setUpLot, signUp, tariff } from '../cloud/cloud-harness.js';
import { Json, jsonType, simpleKey } from './hostile-fixtures.js';

describe('hostile API bodies: 4xx with {error: {code, message}}, never a 5xx, and nothing changes', () => {
  let t: TestCloud;
  let ana: { token: string; accountId: string; driverId: string };
  let bo: { token: string; accountId: string; driverId: string };
  let lot: { lotId: string; entry: string; exit: string };
  const ANA_PLATE = 'BEA1230';

  before(async () => {
    t = await TestCloud.start();
    ana = await signUp(t, 'ana@example.com');
    bo = await signUp(t, 'bo@example.com');
    lot = await setUpLot(t);
    const link = await t.call('POST', '/v1/me/links', {
      token: ana.token,
      body: { plate: ANA_PLATE, accountId: ana.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
  });
  after(async () => {
    await t.stop();
  });

  function assertRefused(r: Reply, what: string, status?: number | RegExp, code?: string | RegExp): void {
    assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status} ${JSON.stringify(r.body)}`);
    if (typeof status === 'number') assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body?.error?.code, 'string', `${what}: ${JSON.stringify(r.body)}`);
    assert.ok(typeof r.body.error.message === 'string' && r.body.error.message.length > 0, what);
    if (typeof code === 'string') assert.equal(r.body.error.code, code, `${what}: ${JSON.stringify(r.body)}`);
    else if (code) assert.match(r.body.error.code, code, `${what}: ${JSON.stringify(r.body)}`);
  }

  async function unchanged(work: () => Promise<void>): Promise<void> {
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    await work();
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'a refused request changed the database');
  }

  /** a plate for a query string; a lone surrogate (no UTF-8 form) is sent as its 3-byte CESU-8 encoding */
  const queryText = (plate: string) => {
    try {
      return encodeURIComponent(plate);
    } catch {
      return plate.replace(/[\uD800-\uDFFF]/g, '%ED%A0%80');
    }
  };

  /** plates that could be mistaken for another plate: each must be refused (INVALID_PLATE) */
  const trickPlates: Array<[string, string]> = [
    ['Cyrillic А, В, Е', '\u0412\u0415\u04101230'],
    ['a Cyrillic О for the digit 0', 'BEA123\u041E'],
    ['Greek Β, Ε, Α', '\u0392\u0395\u03911230'],
    ['a left-to-right mark', 'BEA\u200E1230'],
    ['a right-to-left mark', 'BEA\u200F1230'],
    ['a right-to-left override (shows as BEA1230)', '\u202E0321AEB'],
    ['a right-to-left isolate', 'BEA\u20671230\u2069'],
    ['an Arabic letter mark', '\u061CBEA1230'],
    ['a combining acute accent', 'BE\u0301A1230'],
    ['a combining long stroke overlay', 'BEA1230\u0336'],
    ['a combining enclosing circle', 'BEA1230\u20DD'],
    ['NUL', 'BEA\u00001230'],
    ['a bell control character', 'BEA1230\u0007'],
    ['a soft hyphen', 'BEA\u00AD1230'],
    ['a Hangul filler (invisible)', 'BEA\u31641230'],
    ['a variation selector', 'BEA1230\uFE0F'],
    ['invisible tag characters', 'BEA1230\u{E0041}'],
    ['circled letters', '\u24B7\u24BA\u24B61230'],
    ['mathematical bold letters', '\u{1D401}\u{1D404}\u{1D400}1230'],
    ['superscript digits', 'BEA\u00B9\u00B2\u00B3\u2070'],
    ['a Roman numeral one (reads as I)', 'BEA\u2160230'],
    ['the Kelvin sign', '\u212ABC1234'],
    ['a dotless i', 'BEA\u0131230'],
    ['a long s', '\u017FEA1230'],
    ['sharp s (upper-cases to SS)', 'BEA\u00DF12'],
    ['a ligature fi', 'BE\uFB011230'],
    ['a squared unit ㎏ (reads as KG)', 'BEA12\u338F'],
    ['a Kangxi radical that looks like 甘', '\u2F62A12345'],
    ['a compatibility ideograph for 冀', '\uFA75A12345'],
    ['a lone surrogate', 'BEA\uD8001230'],
    ['an emoji', 'BEA\u{1F697}230'],
  ];

  it('refuses plates with unicode tricks on every route that takes a plate', async () => {
    await unchanged(async () => {
      for (const [i, [what, plate]] of trickPlates.entries()) {
        assert.equal(normalisePlate(plate), null, `${what}: normalised to ${normalisePlate(plate)}`);
        const link = await t.call('POST', '/v1/me/links', {
          token: bo.token,
          body: { plate, accountId: bo.accountId },
        });
        assertRefused(link, `link of ${what}`, 400, 'INVALID_PLATE');
        const dispute = await t.call('POST', '/v1/me/disputes', {
          token: bo.token,
          body: { plate, accountId: bo.accountId, reason: 'mine' },
        });
        assertRefused(dispute, `dispute of ${what}`, 400, 'INVALID_PLATE');
        const pending = await t.call('GET', `/v1/pending-payments?plate=${queryText(plate)}`, {
          token: bo.token,
        });
        assertRefused(pending, `pending payments of ${what}`, 400, 'INVALID_PLATE');
        const event = await t.call('POST', '/v1/events', {
          token: ADMIN_KEY,
          body: { eventId: `trick-${i}`, laneId: lot.entry, plate, confidence: 0.99, at: t.clock.now() },
        });
        assertRefused(event, `event of ${what}`, 400, 'INVALID_PLATE');
      }
    });
  });

  it('refuses a letter O where a CN plate has a digit (CN plates never use O)', async () => {
    await unchanged(async () => {
      for (const plate of ['皖AO1234', '皖A1234O', '京ＡＯ１２３４']) {
        const link = await t.call('POST', '/v1/me/links', {
          token: bo.token,
          body: { plate, accountId: bo.accountId },
        });
        assertRefused(link, `link of ${plate}`, 400, 'INVALID_PLATE');
        assert.match(link.body.error.message, /fits no supported plate format/);
      }
    });
  });

  it('normalises full-width, zero-width, case and separator forms to the one plate they show', async () => {
    const forms: Array<[string, string]> = [
      ['full-width', 'ＢＥＡ１２３０'],
      ['full-width lower case', 'ｂｅａ１２３０'],
      ['zero-width space, joiners and BOM', '\u200BB\u200CE\u200DA\u20601\uFEFF230'],
      ['lower case with separators', 'bea-123.0'],
      ['an ideographic space and full-width hyphen', 'BEA\u3000１２－３０'],
    ];
    await unchanged(async () => {
      for (const [what, plate] of forms) {
        assert.equal(normalisePlate(plate), ANA_PLATE, what);
        const r = await t.call('POST', '/v1/me/links', { token: bo.token, body: { plate, accountId: bo.accountId } });
        assertRefused(r, `${what} form of a plate Ana holds`, 409, 'PLATE_LINKED_ELSEWHERE');
      }
    });
    // a new plate typed in full-width is stored as ASCII, and its ASCII form is then the same plate
    const link = await t.call('POST', '/v1/me/links', {
      token: bo.token,
      body: { plate: 'ＸＹ\u200BＺ７８９０', accountId: bo.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    assert.equal(link.body.plate, 'XYZ7890');
    const taken = await t.call('POST', '/v1/me/links', {
      token: ana.token,
      body: { plate: 'xyz 7890', accountId: ana.accountId },
    });
    assertRefused(taken, 'ASCII form of a plate linked in full-width', 409, 'PLATE_LINKED_ELSEWHERE');
  });

  it('keeps a digit 0 and a letter O apart: a look-alike plate is its own plate, never the other one', async () => {
    // both are issued in European series, so BEA123O is a plate of its own; it is stored exactly as typed
    const r = await t.call('POST', '/v1/me/links', {
      token: bo.token,
      body: { plate: 'bea123o', accountId: bo.accountId },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.plate, 'BEA123O');
    const anaLinks = await t.call('GET', '/v1/me/links', { token: ana.token });
    assert.deepEqual(
      anaLinks.body.links.map((l: { plate: string }) => l.plate),
      [ANA_PLATE],
      "Ana's link is untouched",
    );
    const del = await t.call('DELETE', `/v1/me/links/${r.body.id}`, { token: bo.token });
    assert.equal(del.status, 204);
  });

  /** routes with a good body (each valid for its schema), to mutate */
  const routes = (): Array<{
    name: string;
    method: string;
    path: string;
    token: string;
    body: Record<string, Json>;
  }> => [
    {
      name: 'sign-up',
      method: 'POST',
      path: '/v1/drivers',
      token: '',
      body: { email: 'x@example.com', password: 'long enough', name: 'X' },
    },
    {
      name: 'sign-in',
      method: 'POST',
      path: '/v1/auth/token',
      token: '',
      body: { email: 'ana@example.com', password: 'wrong password' },
    },
    {
      name: 'new account',
      method: 'POST',
      path: '/v1/me/accounts',
      token: ana.token,
      body: { currency: 'EUR', label: 'travel' },
    },
    {
      name: 'top-up',
      method: 'POST',
      path: `/v1/me/accounts/${ana.accountId}/top-ups`,
      token: ana.token,
      body: { amount: 100, reference: 'r1' },
    },
    {
      name: 'link',
      method: 'POST',
      path: '/v1/me/links',
      token: ana.token,
      body: { plate: 'NEW1234', accountId: ana.accountId },
    },
    {
      name: 'dispute',
      method: 'POST',
      path: '/v1/me/disputes',
      token: bo.token,
      body: { plate: ANA_PLATE, accountId: bo.accountId, reason: 'mine' },
    },
    {
      name: 'pay',
      method: 'POST',
      path: `/v1/pending-payments/pay_${'0'.repeat(32)}/pay`,
      token: ana.token,
      body: { accountId: ana.accountId },
    },
    { name: 'lot', method: 'POST', path: '/v1/lots', token: ADMIN_KEY, body: { name: 'P2', tariff } },
    {
      name: 'lane',
      method: 'POST',
      path: `/v1/lots/${lot.lotId}/lanes`,
      token: ADMIN_KEY,
      body: { name: 'in 2', direction: 'entry' },
    },
    {
      name: 'gate',
      method: 'POST',
      path: `/v1/lots/${lot.lotId}/gates`,
      token: ADMIN_KEY,
      body: { name: 'g', publicKey: GateKey.generate().publicKey },
    },
    {
      name: 'event',
      method: 'POST',
      path: '/v1/events',
      token: ADMIN_KEY,
      body: { eventId: 'fz-1', laneId: lot.entry, plate: 'FUZ1234', confidence: 0.9, at: t.clock.now() },
    },
    {
      name: 'review',
      method: 'POST',
      path: `/v1/reviews/rev_${'0'.repeat(32)}/resolve`,
      token: ADMIN_KEY,
      body: { action: 'match', sessionId: `ses_${'0'.repeat(32)}` },
    },
    {
      name: 'dispute resolve',
      method: 'POST',
      path: `/v1/disputes/dsp_${'0'.repeat(32)}/resolve`,
      token: ADMIN_KEY,
      body: { outcome: 'reject' },
    },
    { name: 'key', method: 'POST', path: '/v1/keys', token: ADMIN_KEY, body: { role: 'auditor', label: 'bank' } },
  ];

  it('refuses bodies with a field missing, of the wrong type, or an extra field, on every write route (property)', async () => {
    const all = routes();
    const mutation = fc.constantFrom(...all).chain((route) => {
      const keys = Object.keys(route.body).filter((k) => !(route.name === 'lot' && k === 'tariff'));
      const key = fc.constantFrom(...keys);
      return fc.oneof(
        key.map((k) => {
          const body = { ...route.body };
          delete body[k];
          return { route, body: body as Json, what: `${route.name} without ${k}` };
        }),
        fc
          .tuple(key, fc.jsonValue({ maxDepth: 3 }))
          .filter(([k, v]) => jsonType(v) !== jsonType(route.body[k]))
          .map(([k, v]) => ({
            route,
            body: { ...route.body, [k]: v } as Json,
            what: `${route.name} with ${k} = ${JSON.stringify(v).slice(0, 40)}`,
          })),
        fc
          .tuple(simpleKey, fc.jsonValue({ maxDepth: 2 }))
          .filter(([k]) => !(k in route.body))
          .map(([k, v]) => ({
            route,
            body: { ...route.body, [k]: v } as Json,
            what: `${route.name} with an extra ${k}`,
          })),
        fc
          .jsonValue({ maxDepth: 3 })
          .filter((v) => jsonType(v) !== 'object')
          .map((v) => ({ route, body: v, what: `${route.name} with body ${JSON.stringify(v).slice(0, 40)}` })),
      );
    });
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async ({ route, body, what }) => {
          const r = await t.call(route.method, route.path, {
            token: route.token || undefined,
            raw: JSON.stringify(body),
          });
          assertRefused(r, what, 400, /^(BAD_REQUEST|INVALID_JSON)$/);
        }),
        { numRuns: 250 },
      );
    });
  });

  it('refuses huge strings, deep nesting, prototype keys and odd encodings', async () => {
    const mb = 'A'.repeat(1 << 20);
    const deepArray = (n: number, inner: string) => '['.repeat(n) + inner + ']'.repeat(n);
    const deepObject = (n: number, inner: string) => '{"a":'.repeat(n) + inner + '}'.repeat(n);
    const link = (extra: string) => `{"plate":"NEW1234","accountId":"${ana.accountId}"${extra}}`;
    const cases: Array<{
      what: string;
      method?: string;
      path?: string;
      token?: string;
      raw: string | Buffer;
      status: number;
      code: string;
    }> = [
      {
        what: 'a 1 MB plate',
        raw: JSON.stringify({ plate: mb, accountId: ana.accountId }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      { what: 'a 1 MB extra field', raw: link(`,"x":"${mb}"`), status: 413, code: 'BODY_TOO_LARGE' },
      {
        what: 'a 1 MB name at sign-up',
        path: '/v1/drivers',
        token: '',
        raw: JSON.stringify({ email: 'big@example.com', password: 'long enough', name: mb }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        what: 'a 1 MB tariff',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: JSON.stringify({ ...tariff, bands: new Array(60_000).fill({ from: '00:00', to: '01:00', unitPrice: 1 }) }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        what: 'a 60 KB plate (under the body limit)',
        raw: JSON.stringify({ plate: 'A'.repeat(60_000), accountId: ana.accountId }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a plate of 20000 nested arrays',
        raw: `{"plate":${deepArray(20_000, '"NEW1234"')},"accountId":"${ana.accountId}"}`,
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an extra field of 10000 nested objects',
        raw: link(`,"x":${deepObject(10_000, '1')}`),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a tariff of 10000 nested objects',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: deepObject(10_000, '1'),
        status: 400,
        code: 'INVALID_TARIFF',
      },
      {
        what: 'a tariff with a nested band',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: JSON.stringify({ ...tariff, bands: [[[{ from: '00:00' }]]] }),
        status: 400,
        code: 'INVALID_TARIFF',
      },
      { what: '__proto__ in the body', raw: link(',"__proto__":{"driverId":"x"}'), status: 400, code: 'INVALID_JSON' },
      {
        what: 'constructor.prototype in the body',
        raw: link(',"constructor":{"prototype":{"isAdmin":true}}'),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        what: '__proto__ deep in nesting',
        raw: link(`,"x":${deepObject(5000, '{"__proto__":{"p":1}}')}`),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        what: '__proto__ in a tariff',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: JSON.stringify(tariff).replace('{', '{"__proto__":{"unitPrice":0},'),
        status: 400,
        code: 'INVALID_JSON',
      },
      { what: 'truncated JSON', raw: link('').slice(0, 20), status: 400, code: 'INVALID_JSON' },
      {
        what: 'bytes that are not UTF-8',
        raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        status: 400,
        code: 'BAD_REQUEST',
      },
      { what: 'an empty body', raw: '', status: 400, code: 'BAD_REQUEST' },
      { what: 'null', raw: 'null', status: 400, code: 'BAD_REQUEST' },
      { what: 'an array of the body', raw: `[${link('')}]`, status: 400, code: 'BAD_REQUEST' },
      {
        what: 'a number where the account id goes',
        raw: `{"plate":"NEW1234","accountId":1e400}`,
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a NUL in the account id',
        raw: JSON.stringify({ plate: 'NEW1234', accountId: `${ana.accountId}\u0000` }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a full-width account id',
        raw: JSON.stringify({ plate: 'NEW1234', accountId: ana.accountId.replace('acc', 'ａｃｃ') }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an amount of 1e400 (Infinity)',
        path: `/v1/me/accounts/${ana.accountId}/top-ups`,
        raw: '{"amount":1e400,"reference":"r"}',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an amount of 2^53+1',
        path: `/v1/me/accounts/${ana.accountId}/top-ups`,
        raw: '{"amount":9007199254740993,"reference":"r"}',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an amount of -0',
        path: `/v1/me/accounts/${ana.accountId}/top-ups`,
        raw: '{"amount":-0,"reference":"r"}',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an event at -1 ms',
        path: '/v1/events',
        token: ADMIN_KEY,
        raw: JSON.stringify({ eventId: 'neg', laneId: lot.entry, plate: 'NEG1234', confidence: 0.9, at: -1 }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an event with confidence NaN (as a string)',
        path: '/v1/events',
        token: ADMIN_KEY,
        raw: JSON.stringify({ eventId: 'nan', laneId: lot.entry, plate: 'NAN1234', confidence: 'NaN', at: 1 }),
        status: 400,
        code: 'BAD_REQUEST',
      },
    ];
    await unchanged(async () => {
      for (const c of cases) {
        const res = await fetch(t.url + (c.path ?? '/v1/me/links'), {
          method: c.method ?? 'POST',
          headers: {
            'content-type': 'application/json',
            ...((c.token ?? ana.token) ? { authorization: `Bearer ${c.token ?? ana.token}` } : {}),
          },
          body: c.raw,
        });
        const text = await res.text();
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // checked below
        }
        assertRefused({ status: res.status, body }, c.what, c.status, c.code);
      }
      assert.equal(({} as Record<string, unknown>).driverId, undefined, 'Object.prototype was polluted');
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype was polluted');
    });
  });

  it('refuses a 1 MB query string with a 4xx and goes on serving', async () => {
    const r = await t.call('GET', `/v1/pending-payments?plate=${'A'.repeat(1 << 20)}`, { token: ana.token });
    // node refuses the oversized request head itself (431); fastify's client-error body is not our error shape
    assert.equal(r.status, 431);
    const small = await t.call('GET', `/v1/pending-payments?plate=${'A'.repeat(10_000)}`, { token: ana.token });
    assertRefused(small, 'a 10 KB plate in the query', 400, 'BAD_REQUEST');
    assert.equal((await t.call('GET', '/health')).status, 200);
  });

  it('answers plain-text and form bodies with a 4xx', async () => {
    await unchanged(async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await fetch(t.url + '/v1/me/links', {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${ana.token}` },
          body: `plate=NEW1234&accountId=${ana.accountId}`,
        });
        assertRefused({ status: res.status, body: await res.json() }, type);
      }
    });
  });
});
