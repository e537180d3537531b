// The pages' languages: English and Simplified Chinese. Each page module registers its own messages
// for both languages with `addMessages`, and writes every visible string as `t('key', {vars})`.
// The language is the reader's choice (kept in localStorage) or else the browser's; `setLanguage`
// stores a new choice, re-translates the html's own text (elements with data-i18n="key") and tells the
// page (a 'languagechange' event on window) so each module re-renders. `tn` picks a count's words,
// `word` shows a code the API sends (a decision reason) in words when the catalogue has them.

export const LANGUAGES = ['en', 'zh-CN'];
const CHOICE = 'platepay.language';
const catalogue = { en: new Map(), 'zh-CN': new Map() };

/** 'zh', 'zh-CN', 'zh-Hans-*' -> 'zh-CN'; anything else -> 'en' */
export function pickLanguage(preferred) {
  for (const tag of preferred ?? []) {
    const lower = String(tag).toLowerCase();
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
    if (lower === 'zh' || lower === 'zh-cn' || lower.startsWith('zh-hans') || lower === 'zh-sg') return 'zh-CN';
  }
  return 'en';
}

function storedChoice() {
  try {
    const v = localStorage.getItem(CHOICE);
    return LANGUAGES.includes(v) ? v : null;
  } catch {
    return null;
  }
}

// outside a browser (the unit tests import this module in Node) there is no stored choice and no page
const inBrowser = typeof document !== 'undefined';
let current = inBrowser
  ? (storedChoice() ?? pickLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]))
  : 'en';
if (inBrowser) document.documentElement.lang = current;

export const language = () => current;

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(CHOICE, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  if (!inBrowser) return;
  document.documentElement.lang = lang;
  translateStatic();
  window.dispatchEvent(new Event('languagechange'));
}

/**
 * The html files' own text: each element with data-i18n="key" gets t(key) as its text (the <title> too).
 * The page module calls it once its messages are added; setLanguage calls it again before 'languagechange'.
 */
export function translateStatic() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

/** addMessages({ en: {key: 'text {n}'}, 'zh-CN': {key: '文本 {n}'} }); both languages must have the same keys */
export function addMessages(messages) {
  for (const lang of LANGUAGES) {
    for (const [k, v] of Object.entries(messages[lang] ?? {})) catalogue[lang].set(k, v);
  }
}

/** t('today.count', {n: 3}) -> the current language's text with {n} filled in; English if missing, else the key */
export function t(key, vars = {}) {
  const text = catalogue[current].get(key) ?? catalogue.en.get(key) ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** a count's text: `key.one` when n is 1, else `key.other` (both languages have both); {n} is filled in */
export function tn(key, n, vars = {}) {
  return t(n === 1 ? `${key}.one` : `${key}.other`, { ...vars, n });
}

/** whether the current language, or English, has words for `key` */
export function hasMessage(key) {
  return catalogue[current].has(key) || catalogue.en.has(key);
}

/** the text of a value the API sends as a code (a decision reason, a lane state): `prefix.value`, or the code itself */
export function word(prefix, value) {
  const key = `${prefix}.${value}`;
  return hasMessage(key) ? t(key) : String(value);
}

/** keys present in one language and not the other (the tests check this is empty) */
export function missingMessages() {
  const missing = [];
  for (const [a, b] of [
    ['en', 'zh-CN'],
    ['zh-CN', 'en'],
  ]) {
    for (const k of catalogue[a].keys()) if (!catalogue[b].has(k)) missing.push(`${b}: ${k}`);
  }
  return missing;
}
