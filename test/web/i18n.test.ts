/**
 * The pages' language and formatting code, run in Node (the same ES modules
 * the browser loads from cloud/web/static/): which language a browser's list
 * picks, t() filling in its variables, both catalogues holding the same
 * keys, and money and times in the page's language and a car park's fixed
 * UTC offset (shown when the reader's clock differs).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

const STATIC = new URL('../../../cloud/web/static/', import.meta.url);

interface I18n {
  LANGUAGES: string[];
  pickLanguage(preferred: string[] | undefined): string;
  language(): string;
  setLanguage(lang: string): void;
  addMessages(messages: Record<string, Record<string, string>>): void;
  t(key: string, vars?: Record<string, unknown>): string;
  tn(key: string, n: number, vars?: Record<string, unknown>): string;
  word(prefix: string, value: string): string;
  missingMessages(): string[];
}
interface Ui {
  money(minor: number | null, currency: string | null): string;
  time(ms: number | null, offsetMinutes?: number | null): string;
  clock(ms: number | null, offsetMinutes?: number | null): string;
  duration(ms: number): string;
  offsetLabel(offsetMinutes: number): string;
  errorText(err: { code: string; message: string }): string;
  ApiError: new (status: number, code: string, message: string) => { code: string; message: string };
}

const i18n = (await import(new URL('i18n.js', STATIC).href)) as I18n;
const ui = (await import(new URL('ui.js', STATIC).href)) as Ui;
// the catalogues a page loads (receipt-check.js imports the vendored crypto by its URL path: the browser test checks it)
await import(new URL('i18n-operator.js', STATIC).href);
await import(new URL('i18n-driver.js', STATIC).href);
await import(new URL('language-switcher.js', STATIC).href);

/** runs `f` with the page in `lang`, then back to English */
function inLanguage<T>(lang: string, f: () => T): T {
  i18n.setLanguage(lang);
  try {
    return f();
  } finally {
    i18n.setLanguage('en');
  }
}

const OTHER_TAGS = ['fr', 'de-DE', 'ja', 'zh-TW', 'zh-Hant-HK', 'zh-HK', 'ko-KR', 'es-419', '', 'x'];

describe('pickLanguage', () => {
  it('takes the first tag it knows: English or Simplified Chinese; anything else is passed over', () => {
    const known = fc.constantFrom(
      ['en', 'en'],
      ['en-US', 'en'],
      ['EN-gb', 'en'],
      ['zh', 'zh-CN'],
      ['zh-CN', 'zh-CN'],
      ['zh-cn', 'zh-CN'],
      ['zh-Hans', 'zh-CN'],
      ['zh-Hans-CN', 'zh-CN'],
      ['zh-SG', 'zh-CN'],
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...OTHER_TAGS)),
        known,
        fc.array(fc.string()),
        (before, [tag, lang], rest) => {
          assert.equal(i18n.pickLanguage([...before, tag, ...rest]), lang);
        },
      ),
    );
  });

  it('falls back to English when no tag is known (Traditional Chinese included), or there is no list', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...OTHER_TAGS)), (tags) => {
        assert.equal(i18n.pickLanguage(tags), 'en');
      }),
    );
    assert.equal(i18n.pickLanguage(undefined), 'en');
  });
});

describe('t', () => {
  i18n.addMessages({
    en: { 'test.greet': 'Hello {name}, {n} cars', 'test.only-en': 'English only', 'test.cars.one': '{n} car' },
    'zh-CN': { 'test.greet': '{name} 你好，{n} 辆车', 'test.cars.one': '{n} 辆车' },
  });
  i18n.addMessages({ en: { 'test.cars.other': '{n} cars' }, 'zh-CN': { 'test.cars.other': '{n} 辆车' } });

  it('fills in each variable, in either language, and leaves a placeholder it has no value for', () => {
    const word = fc.stringMatching(/^[^{}]{0,12}$/);
    fc.assert(
      fc.property(word, fc.integer(), fc.constantFrom('en', 'zh-CN'), (name, n, lang) => {
        const text = inLanguage(lang, () => i18n.t('test.greet', { name, n }));
        assert.equal(text, lang === 'en' ? `Hello ${name}, ${n} cars` : `${name} 你好，${n} 辆车`);
      }),
    );
    assert.equal(i18n.t('test.greet', { n: 2 }), 'Hello {name}, 2 cars');
  });

  it('falls back to English for a key the language lacks, and to the key itself; a code without words stays as it is', () => {
    assert.equal(
      inLanguage('zh-CN', () => i18n.t('test.only-en')),
      'English only',
    );
    assert.equal(i18n.t('test.nowhere'), 'test.nowhere');
    assert.equal(i18n.word('live.reason', 'charged'), 'charged');
    assert.equal(
      inLanguage('zh-CN', () => i18n.word('live.reason', 'charged')),
      '已扣费',
    );
    assert.equal(
      inLanguage('zh-CN', () => i18n.word('live.reason', 'something-new')),
      'something-new',
    );
  });

  it('counts: one and other', () => {
    assert.equal(i18n.tn('test.cars', 1), '1 car');
    assert.equal(i18n.tn('test.cars', 3), '3 cars');
    assert.equal(
      inLanguage('zh-CN', () => i18n.tn('test.cars', 1)),
      '1 辆车',
    );
  });

  it('an unknown language is refused; the page stays in its language', () => {
    i18n.setLanguage('fr');
    assert.equal(i18n.language(), 'en');
  });
});

describe('the catalogues', () => {
  it('have the same keys in English and Simplified Chinese (the test messages aside)', () => {
    assert.deepEqual(
      i18n.missingMessages().filter((m) => !m.includes(' test.')),
      [],
    );
  });
});

describe('formatting', () => {
  it('money in the page language: CN¥ in English, ¥ in Chinese, minor units by the currency', () => {
    assert.equal(ui.money(1250, 'CNY'), 'CN¥12.50');
    assert.equal(
      inLanguage('zh-CN', () => ui.money(1250, 'CNY')),
      '¥12.50',
    );
    assert.equal(ui.money(1250, 'JPY'), '¥1,250');
    assert.equal(ui.money(null, 'CNY'), '—');
  });

  it('offsetLabel reads back as the offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: -840, max: 840 }), (offset) => {
        const m = /^UTC(?:([+-])(\d{1,2})(?::(\d\d))?)?$/.exec(ui.offsetLabel(offset));
        assert.ok(m, ui.offsetLabel(offset));
        const back = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
        assert.equal(back, offset);
      }),
    );
  });

  it("clock(ms, offset) is the time of day at the car park's offset, with the offset shown when the reader's differs", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -840, max: 840 }), (ms, offset) => {
        const local = new Date(ms + offset * 60_000);
        const hhmmss = [local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds()]
          .map((x) => String(x).padStart(2, '0'))
          .join(':');
        const readersOwn = -new Date(ms).getTimezoneOffset() === offset;
        assert.equal(ui.clock(ms, offset), readersOwn ? hhmmss : `${hhmmss} ${ui.offsetLabel(offset)}`);
      }),
    );
  });

  it('time(ms, offset) gives the date at the offset, in the page language', () => {
    const ms = Date.UTC(2026, 11, 3, 20, 30); // 4 Dec 04:30 at UTC+8
    assert.match(ui.time(ms, 480), /Dec 4, 2026.*4:30/);
    assert.match(
      inLanguage('zh-CN', () => ui.time(ms, 480)),
      /2026年12月4日.*04:30/,
    );
    assert.equal(ui.time(null, 480), '—');
  });

  it("an API error: the API's own message in English, the words for its code in Chinese when there are some", () => {
    const bad = new ui.ApiError(401, 'UNAUTHORIZED', 'the API key is not valid');
    const odd = new ui.ApiError(409, 'SOMETHING_NEW', 'a conflict the page has no words for');
    assert.equal(ui.errorText(bad), 'the API key is not valid');
    assert.equal(
      inLanguage('zh-CN', () => ui.errorText(bad)),
      '密钥或登录状态无效（或已失效）。',
    );
    assert.equal(
      inLanguage('zh-CN', () => ui.errorText(odd)),
      'a conflict the page has no words for',
    );
  });

  it('durations in the page language', () => {
    assert.equal(ui.duration(125 * 60_000), '2 h 5 min');
    assert.equal(ui.duration(59_999), '0 min');
    assert.equal(
      inLanguage('zh-CN', () => ui.duration(125 * 60_000)),
      '2 小时 5 分钟',
    );
  });
});
