// Small helpers shared by the driver page and the operator dashboard: DOM building (text only, never
// HTML from data), API calls with a bearer secret, and formatting of money and times.

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
    throw new ApiError(0, 'NETWORK', 'The service cannot be reached. Check your connection and try again.');
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

/** minor units -> "CN¥12.50" in the reader's locale */
export function money(minor, currency) {
  if (minor === null || minor === undefined || !currency) return '—';
  const d = fractionDigits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 10 ** d);
  } catch {
    return `${(minor / 10 ** d).toFixed(d)} ${currency}`;
  }
}

export const time = (ms) =>
  ms === null || ms === undefined
    ? '—'
    : new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const clock = (ms) =>
  new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** "2 h 5 min" */
export function duration(ms) {
  const min = Math.max(0, Math.floor(ms / 60000));
  const hours = Math.floor(min / 60);
  return hours ? `${hours} h ${min % 60} min` : `${min} min`;
}

/** Shows a message in a live region (errors are announced to screen readers). */
export function say(region, text, kind = 'info') {
  region.textContent = text;
  region.className = `message ${kind}`;
  region.hidden = !text;
}
