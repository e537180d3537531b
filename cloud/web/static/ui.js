// Small helpers shared by the driver page and the operator dashboard: DOM building (text only, never
// HTML from data), API calls with a bearer secret, and formatting of money and times in the page's
// language (i18n.js) and, for times, in a car park's fixed UTC offset (its tariff's utcOffsetMinutes).
import { addMessages, hasMessage, language, t } from './i18n.js';

addMessages({
  en: {
    'ui.network': 'The service cannot be reached. Check your connection and try again.',
    'ui.duration.hours': '{h} h {m} min',
    'ui.duration.minutes': '{m} min',
    // the API's errors by code, for the pages in Chinese (in English the API's own message is shown)
    'api.error.UNAUTHORIZED': 'The key or sign-in is not valid (any more).',
    'api.error.BAD_CREDENTIALS': 'The email or password is wrong.',
    'api.error.TOKEN_EXPIRED': 'You were signed out: sign in again.',
    'api.error.FORBIDDEN': 'Your role may not do this.',
    'api.error.PAYMENT_METHOD_REFUSED': 'The payment provider refused this card.',
    'api.error.PAYMENT_DECLINED': 'The payment was declined.',
    'api.error.PROVIDER_UNAVAILABLE': 'The payment provider did not answer; try again.',
    'api.error.STORAGE_FULL': 'The service cannot save right now; nothing was changed. Try again later.',
    'api.error.STORAGE_READ_ONLY': 'The service cannot save right now; nothing was changed. Try again later.',
    'api.error.STORAGE_IO_ERROR': 'The service cannot save right now; nothing was changed. Try again later.',
    'api.error.INTERNAL': 'Something went wrong in the service. Try again.',
  },
  'zh-CN': {
    'ui.network': '无法连接服务，请检查网络后重试。',
    'ui.duration.hours': '{h} 小时 {m} 分钟',
    'ui.duration.minutes': '{m} 分钟',
    'api.error.UNAUTHORIZED': '密钥或登录状态无效（或已失效）。',
    'api.error.BAD_CREDENTIALS': '电子邮箱或密码错误。',
    'api.error.TOKEN_EXPIRED': '登录已过期，请重新登录。',
    'api.error.FORBIDDEN': '您的角色无权执行此操作。',
    'api.error.PAYMENT_METHOD_REFUSED': '支付机构拒绝了这张卡。',
    'api.error.PAYMENT_DECLINED': '支付被拒绝。',
    'api.error.PROVIDER_UNAVAILABLE': '支付机构没有响应，请重试。',
    'api.error.STORAGE_FULL': '服务暂时无法保存，未做任何更改，请稍后再试。',
    'api.error.STORAGE_READ_ONLY': '服务暂时无法保存，未做任何更改，请稍后再试。',
    'api.error.STORAGE_IO_ERROR': '服务暂时无法保存，未做任何更改，请稍后再试。',
    'api.error.INTERNAL': '服务出现错误，请重试。',
  },
});

/** h('p', {class: 'x', onclick: f}, 'text', child) -> element; strings become text nodes */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** the input field the API named (e.g. "name", "tariff.bands[1].from"), or null */
    this.field = field;
  }
}

/** Calls the cloud's API; resolves with the JSON body or rejects with an ApiError carrying the API's message. */
export async function api(method, path, { secret, body } = {}) {
  const headers = {};
  if (secret) headers.authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', t('ui.network'));
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : { code: 'HTTP_' + res.status, message: res.statusText };
    throw new ApiError(res.status, e.code, e.message, e.field ?? null);
  }
  return data;
}

/**
 * What to tell the reader about a failed call: in English the API's own message (the most precise);
 * in another language the words for its code when the catalogue has them, else the API's message.
 */
export function errorText(err) {
  const key = `api.error.${err.code}`;
  return language() !== 'en' && err.code && hasMessage(key) ? t(key) : err.message;
}

const digitsCache = new Map();
function fractionDigits(currency) {
  if (!digitsCache.has(currency)) {
    let d = 2;
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      d = 2;
    }
    digitsCache.set(currency, d);
  }
  return digitsCache.get(currency);
}

/** minor units -> "CN¥12.50" (English) or "¥12.50" (Chinese), in the page's language */
export function money(minor, currency) {
  if (minor === null || minor === undefined || !currency) return '—';
  const d = fractionDigits(currency);
  try {
    return new Intl.NumberFormat(language(), { style: 'currency', currency }).format(minor / 10 ** d);
  } catch {
    return `${(minor / 10 ** d).toFixed(d)} ${currency}`;
  }
}

/** 480 -> "UTC+8", 330 -> "UTC+5:30", -210 -> "UTC-3:30", 0 -> "UTC" */
export function offsetLabel(offsetMinutes) {
  if (!offsetMinutes) return 'UTC';
  const abs = Math.abs(offsetMinutes);
  const minutes = abs % 60;
  return `UTC${offsetMinutes < 0 ? '-' : '+'}${Math.floor(abs / 60)}${minutes ? `:${String(minutes).padStart(2, '0')}` : ''}`;
}

/**
 * `ms` formatted with `options` in the page's language, at the car park's UTC offset when one is given
 * (else the reader's own time zone). The offset is shown ("… UTC+8") when the reader's clock differs
 * from the car park's at that moment, so a reader elsewhere is not misled.
 */
function formatAt(ms, offsetMinutes, options) {
  if (offsetMinutes === null || offsetMinutes === undefined) return new Date(ms).toLocaleString(language(), options);
  const text = new Date(ms + offsetMinutes * 60_000).toLocaleString(language(), { ...options, timeZone: 'UTC' });
  const readers = -new Date(ms).getTimezoneOffset();
  return readers === offsetMinutes ? text : `${text} ${offsetLabel(offsetMinutes)}`;
}

/** date and time: "Dec 4, 2026, 2:05 PM" / "2026年12月4日 14:05" (+ the offset, see formatAt) */
export const time = (ms, offsetMinutes) =>
  ms === null || ms === undefined ? '—' : formatAt(ms, offsetMinutes, { dateStyle: 'medium', timeStyle: 'short' });

/** time of day: "14:05:09" (+ the offset, see formatAt) */
export const clock = (ms, offsetMinutes) =>
  ms === null || ms === undefined
    ? '—'
    : formatAt(ms, offsetMinutes, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** "2 h 5 min" / "2 小时 5 分钟" */
export function duration(ms) {
  const min = Math.max(0, Math.floor(ms / 60000));
  const hours = Math.floor(min / 60);
  return hours ? t('ui.duration.hours', { h: hours, m: min % 60 }) : t('ui.duration.minutes', { m: min });
}

/**
 * Keeps what the reader typed when a form is rebuilt (in another language): each named field's value,
 * and the focus, go from `old` to `fresh`. Nothing happens when there is no old form.
 */
export function carryOver(old, fresh) {
  if (!old) return fresh;
  for (const field of old.elements) {
    if (!field.name || field.type === 'submit' || field.type === 'button') continue;
    const twin = fresh.elements.namedItem(field.name);
    if (twin && 'value' in twin) twin.value = field.value;
  }
  const focused = document.activeElement;
  if (focused && old.contains(focused) && focused.id) {
    setTimeout(() => document.getElementById(focused.id)?.focus(), 0);
  }
  return fresh;
}

/** Shows a message in a live region (errors are announced to screen readers). */
export function say(region, text, kind = 'info') {
  region.textContent = text;
  region.className = `message ${kind}`;
  region.hidden = !text;
}
