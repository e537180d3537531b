// The console's "Export" tab: the settlements of a car park over a period (its local days) as CSV for the
// accounts (GET /v1/lots/:lotId/settlements.csv, fetched with the console's key). A short period is saved
// through a blob; a long one is streamed straight to a file where the browser can (File System Access API),
// so that not even the page holds it all.
import { api, h, say } from './ui.js';
import { addMessages, t } from './i18n.js';

addMessages({
  en: {
    'export.title': 'Accounting export',
    'export.intro':
      "One line per settlement of the car park, settled from the first to the last day (the car park's local days): amounts in minor units and formatted, the payment method and the ledger entry.",
    'export.lot': 'Car park',
    'export.lot.none': 'No car parks yet.',
    'export.from': 'From (first day)',
    'export.to': 'To (last day, included)',
    'export.day.hint': "Days in the car park's local time ({zone}).",
    'export.required': 'Choose a day.',
    'export.order': 'The last day cannot be before the first.',
    'export.download': 'Download CSV',
    'export.downloading': 'Preparing the file…',
    'export.saved': 'Saved {file}: {n} settlements.',
    'export.streamed': 'Saved {file} ({kb} KB).',
    'export.cancelled': 'The download was cancelled.',
    'export.failed': 'The export failed: {message}',
    'export.lots.failed': 'The car parks could not be read: {message}',
  },
  'zh-CN': {
    'export.title': '财务导出',
    'export.intro':
      '导出车场在所选日期内（按车场当地日期）的结算记录，每笔结算一行：金额（最小货币单位及格式化金额）、支付方式和账本序号。',
    'export.lot': '车场',
    'export.lot.none': '尚无车场。',
    'export.from': '开始日期',
    'export.to': '结束日期（含当天）',
    'export.day.hint': '按车场当地时间（{zone}）计算日期。',
    'export.required': '请选择日期。',
    'export.order': '结束日期不能早于开始日期。',
    'export.download': '下载 CSV',
    'export.downloading': '正在生成文件…',
    'export.saved': '已保存 {file}：共 {n} 笔结算。',
    'export.streamed': '已保存 {file}（{kb} KB）。',
    'export.cancelled': '已取消下载。',
    'export.failed': '导出失败：{message}',
    'export.lots.failed': '无法读取车场列表：{message}',
  },
});

/** over this many days, the file is streamed to disk where the browser allows it */
const LONG_PERIOD_DAYS = 31;
const DAY_MS = 86_400_000;

// Days and zones are worked out here only (one place to change when ui.js formats in a lot's zone).
/** "2026-03-04": the day it is now in a zone `offset` minutes east of UTC, `back` days ago */
function localDay(offset, back = 0) {
  return new Date(Date.now() + offset * 60_000 - back * DAY_MS).toISOString().slice(0, 10);
}

function zoneName(offset) {
  if (!offset) return 'UTC';
  const abs = Math.abs(offset);
  return `UTC${offset < 0 ? '−' : '+'}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
}

const daysBetween = (from, to) => (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;

/** the file name the cloud gives in Content-Disposition */
function fileNameOf(res, fallback) {
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return m ? m[1] : fallback;
}

/** saves a small file through a blob URL; resolves with the number of settlements in it */
async function saveThroughBlob(res, file) {
  const blob = await res.blob();
  const lines = (await blob.text()).split('\r\n').length - 2; // the header and the final line ending
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: file, class: 'sr-only' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return lines;
}

/** streams a large file to one the reader picks; resolves with its size in bytes, or null if cancelled */
async function streamToFile(res, file) {
  let handle;
  try {
    handle = await window.showSaveFilePicker({
      suggestedName: file,
      types: [{ description: 'CSV', accept: { 'text/csv': ['.csv'] } }],
    });
  } catch {
    await res.body.cancel();
    return null;
  }
  let bytes = 0;
  const counting = new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  await res.body.pipeThrough(counting).pipeTo(await handle.createWritable());
  return bytes;
}

export async function mount(panel, console) {
  const state = { lots: [], lotsError: '', lotId: '', from: '', to: '' };
  try {
    state.lots = (await api('GET', '/v1/lots', { secret: console.key() })).lots;
  } catch (err) {
    if (err.status === 401 || err.status === 403) return console.signOutWith(err.message);
    state.lotsError = err.message;
  }
  const lotOf = (id) => state.lots.find((l) => l.id === id) ?? state.lots[0];
  const offsetOf = (id) => lotOf(id)?.tariff?.utcOffsetMinutes ?? 0;
  if (state.lots.length) {
    state.lotId = state.lots[0].id;
    state.to = localDay(offsetOf(state.lotId));
    state.from = `${state.to.slice(0, 8)}01`;
  }

  const render = () => {
    const errors = {
      from: h('p', { class: 'message', role: 'alert', id: 'export-from-error', hidden: true }),
      to: h('p', { class: 'message', role: 'alert', id: 'export-to-error', hidden: true }),
    };
    const status = h('p', {
      class: 'message',
      role: 'status',
      'aria-live': 'polite',
      id: 'export-status',
      hidden: true,
    });
    const lot = h(
      'select',
      { id: 'export-lot', name: 'lot', required: true },
      state.lots.map((l) => h('option', { value: l.id, selected: l.id === state.lotId }, l.name)),
    );
    const day = (name) =>
      h('input', {
        id: `export-${name}`,
        name,
        type: 'date',
        required: true,
        value: state[name],
        min: '2000-01-01',
        max: '2099-12-31',
        'aria-describedby': `export-days-hint export-${name}-error`,
      });
    const from = day('from');
    const to = day('to');
    const hint = h(
      'p',
      { class: 'hint', id: 'export-days-hint' },
      t('export.day.hint', { zone: zoneName(offsetOf(state.lotId)) }),
    );
    lot.addEventListener('change', () => {
      state.lotId = lot.value;
      hint.textContent = t('export.day.hint', { zone: zoneName(offsetOf(state.lotId)) });
    });
    const button = h(
      'button',
      { type: 'submit', class: 'primary', disabled: !state.lots.length },
      t('export.download'),
    );
    const form = h(
      'form',
      { class: 'card export-form', novalidate: true, 'aria-labelledby': 'export-h' },
      h('h2', { id: 'export-h' }, t('export.title')),
      h('p', { class: 'hint' }, t('export.intro')),
      state.lotsError
        ? h('p', { class: 'message error', role: 'alert' }, t('export.lots.failed', { message: state.lotsError }))
        : null,
      state.lots.length ? null : h('p', { class: 'muted' }, t('export.lot.none')),
      h(
        'div',
        { class: 'export-fields' },
        h('div', { class: 'field' }, h('label', { for: 'export-lot' }, t('export.lot')), lot),
        h('div', { class: 'field' }, h('label', { for: 'export-from' }, t('export.from')), from, errors.from),
        h('div', { class: 'field' }, h('label', { for: 'export-to' }, t('export.to')), to, errors.to),
      ),
      hint,
      h('div', { class: 'actions' }, button),
      status,
    );
    const inputs = { from, to };
    const fieldError = (name, text) => {
      say(errors[name], text, 'error');
      inputs[name].setAttribute('aria-invalid', 'true');
    };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      state.lotId = lot.value;
      state.from = from.value;
      state.to = to.value;
      for (const name of ['from', 'to']) {
        say(errors[name], '');
        inputs[name].removeAttribute('aria-invalid');
      }
      say(status, '');
      const missing = ['from', 'to'].filter((name) => !state[name]);
      for (const name of missing) fieldError(name, t('export.required'));
      if (missing.length) return inputs[missing[0]].focus();
      if (state.to < state.from) {
        fieldError('to', t('export.order'));
        return to.focus();
      }
      button.disabled = true;
      say(status, t('export.downloading'));
      try {
        const q = new URLSearchParams({ from: state.from, to: state.to });
        const res = await fetch(`/v1/lots/${encodeURIComponent(state.lotId)}/settlements.csv?${q}`, {
          headers: { authorization: `Bearer ${console.key()}` },
        });
        if (!res.ok) {
          const body = await res.json().catch(() => null);
          const e = body?.error ?? { code: `HTTP_${res.status}`, message: res.statusText };
          if (res.status === 401) return console.signOutWith(e.message);
          // the API names the field first ("from: ...", "to: ...")
          const field = /^(from|to):/.exec(e.message)?.[1];
          if (field) {
            fieldError(field, e.message);
            say(status, '');
            return inputs[field].focus();
          }
          return say(status, t('export.failed', { message: e.message }), 'error');
        }
        const file = fileNameOf(res, `settlements-${state.from}-${state.to}.csv`);
        if (daysBetween(state.from, state.to) > LONG_PERIOD_DAYS && 'showSaveFilePicker' in window) {
          const bytes = await streamToFile(res, file);
          say(
            status,
            bytes === null ? t('export.cancelled') : t('export.streamed', { file, kb: Math.ceil(bytes / 1024) }),
            'ok',
          );
        } else {
          say(status, t('export.saved', { file, n: await saveThroughBlob(res, file) }), 'ok');
        }
      } catch (err) {
        say(status, t('export.failed', { message: err.message }), 'error');
      } finally {
        button.disabled = false;
      }
    });
    panel.replaceChildren(form);
  };

  window.addEventListener('languagechange', render);
  render();
}
