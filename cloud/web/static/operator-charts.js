// The console's "charts" tab: how a lot has done over a range of its local days, from the cloud's
// aggregate endpoints (GET /v1/lots/:lotId/stats/...; the database does the counting). mount(panel,
// console) is its whole interface (see TABS in operator.js). Each chart is a figure with a caption and a
// table for screen readers (operator-charts-plot.js); the messages are in operator-charts-messages.js.
import { addMessages, language, t } from './i18n.js';
import { chart } from './operator-charts-plot.js';
import { MESSAGES } from './operator-charts-messages.js';
import { api, h, money, say } from './ui.js';

addMessages(MESSAGES);
// uPlot's own styles, served by the cloud like the module (the CSP allows stylesheets from here only)
if (!document.querySelector('link[href="/web/vendor/uplot.css"]'))
  document.head.append(h('link', { rel: 'stylesheet', href: '/web/vendor/uplot.css' }));

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 7;
const MAX_DAYS = 92;

// Every date, time and number the tab shows is formatted here (times in the lot's local time: UTC plus
// the tariff's fixed offset), so that one place changes when ui.js gets lot-aware formatting.
const format = {
  /** the lot-local YYYY-MM-DD of an instant */
  isoDay: (ms, offsetMinutes) => new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 10),
  /** an axis tick of an instant already shifted into lot-local time: the day at midnight, else the hour */
  shiftedTick: (shifted) =>
    shifted % DAY_MS === 0
      ? format.shiftedDay(shifted)
      : new Intl.DateTimeFormat(language(), { timeZone: 'UTC', hour: '2-digit', minute: '2-digit' }).format(shifted),
  /** an instant already shifted into lot-local time, e.g. "3 Mar, 14:00" */
  shiftedHour: (shifted) =>
    new Intl.DateTimeFormat(language(), {
      timeZone: 'UTC',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    }).format(shifted),
  shiftedDay: (shifted) =>
    new Intl.DateTimeFormat(language(), { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(shifted),
  hour: (ms, offsetMinutes) => format.shiftedHour(ms + offsetMinutes * 60_000),
  day: (ms, offsetMinutes) =>
    new Intl.DateTimeFormat(language(), { timeZone: 'UTC', dateStyle: 'medium' }).format(ms + offsetMinutes * 60_000),
  count: (n) => new Intl.NumberFormat(language()).format(n),
  money: (minor, currency) => money(minor, currency),
  /** minor units -> major units, for the plot's y values */
  major: (minor, currency) => minor / 10 ** currencyDigits(currency),
  percent: (ratio) =>
    ratio === null
      ? '—'
      : new Intl.NumberFormat(language(), { style: 'percent', maximumFractionDigits: 1 }).format(ratio),
  ms: (ms) => t('charts.ms', { n: new Intl.NumberFormat(language()).format(ms) }),
  confidence: (x) => new Intl.NumberFormat(language(), { minimumFractionDigits: 2 }).format(x),
};

function currencyDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** the API's words for decisions and review reasons, in the reader's language when we know them */
const reasonText = (reason) => {
  const key = `charts.reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
};

let stopListening = null;

export async function mount(panel, console) {
  const state = { lots: [], lotId: null, from: null, to: null, figures: null, error: null, fieldError: null };
  let drawn = [];

  const load = async () => {
    try {
      state.lots = (await api('GET', '/v1/lots', { secret: console.key() })).lots;
    } catch (err) {
      if (err.status === 401 || err.status === 403) return console.signOutWith(err.message);
      state.error = err.message;
    }
    const lot = state.lots[0];
    if (lot) choose(lot.id);
    render();
    if (lot) await show();
  };

  /** a lot, and the last DEFAULT_DAYS of its local days unless a range is chosen */
  const choose = (lotId) => {
    state.lotId = lotId;
    if (!state.to) {
      const offset = lotOf(lotId).tariff.utcOffsetMinutes;
      state.to = format.isoDay(Date.now(), offset);
      state.from = format.isoDay(Date.now() - (DEFAULT_DAYS - 1) * DAY_MS, offset);
    }
  };
  const lotOf = (id) => state.lots.find((l) => l.id === id);

  let asked = 0;
  /** fetches the figures of the chosen lot and range; an answer to an older choice is dropped */
  const show = async () => {
    const mine = ++asked;
    state.error = null;
    state.fieldError = null;
    const q = `from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}`;
    const base = `/v1/lots/${state.lotId}/stats`;
    const get = (what) => api('GET', `${base}/${what}?${q}`, { secret: console.key() });
    panel.setAttribute('aria-busy', 'true');
    try {
      const [hourly, daily, decisions, confidence, latency] = await Promise.all(
        ['hourly', 'daily', 'decisions', 'confidence', 'latency'].map(get),
      );
      if (mine !== asked) return;
      state.figures = { hourly, daily, decisions, confidence, latency };
    } catch (err) {
      if (mine !== asked) return;
      if (err.status === 401 || err.status === 403) return console.signOutWith(err.message);
      state.figures = null;
      // the API names the parameter at the start of its message ("from: ...", "to: ...")
      const field = /^(from|to): /.exec(err.message)?.[1];
      if (field) state.fieldError = { field, message: err.message };
      else state.error = err.message;
    } finally {
      if (mine === asked) panel.removeAttribute('aria-busy');
    }
    render();
  };

  const render = () => {
    for (const c of drawn) c.destroy();
    drawn = [];
    const status = h('p', { class: 'message', role: 'alert', hidden: true });
    const content = [h('h2', {}, t('charts.title')), rangeForm(state, { choose, show }), status];
    if (state.lots.length === 0 && !state.error) content.push(h('p', { class: 'muted' }, t('charts.noLots')));
    const charts = state.figures ? chartsOf(state.figures) : [];
    if (charts.length)
      content.push(
        h('p', { class: 'hint', id: 'charts-range' }, rangeText(state.figures.hourly)),
        h(
          'div',
          { class: 'charts-grid' },
          charts.map((c) => c.figure),
        ),
      );
    // the form is drawn anew: keep the keyboard where it was (or take it to the day in error)
    const focused = panel.contains(document.activeElement) ? document.activeElement.id : null;
    panel.replaceChildren(...content);
    const focus = state.fieldError ? `charts-${state.fieldError.field}` : focused;
    if (focus) document.getElementById(focus)?.focus();
    if (state.error) say(status, state.error, 'error');
    for (const c of charts) c.draw();
    drawn = charts;
  };

  // a second sign-in mounts the tab again: the first mount's listener goes
  if (stopListening) stopListening();
  window.addEventListener('languagechange', render);
  stopListening = () => window.removeEventListener('languagechange', render);
  await load();
}

/** The lot select and the two days, with each field's error next to it. */
function rangeForm(state, { choose, show }) {
  const field = (id, label, input, hint) => {
    const error = state.fieldError?.field === id ? state.fieldError.message : null;
    const errorId = `charts-${id}-error`;
    const hintId = hint ? `charts-${id}-hint` : null;
    input.id = `charts-${id}`;
    const described = [hintId, error ? errorId : null].filter(Boolean).join(' ');
    if (described) input.setAttribute('aria-describedby', described);
    if (error) input.setAttribute('aria-invalid', 'true');
    return h(
      'div',
      { class: 'field' },
      h('label', { for: input.id }, label),
      input,
      hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
      h('p', { class: 'message error', id: errorId, role: 'alert', hidden: !error }, error ?? ''),
    );
  };
  const lotSelect = h(
    'select',
    { name: 'lot' },
    state.lots.map((l) => h('option', { value: l.id, selected: l.id === state.lotId }, l.name)),
  );
  const from = h('input', { type: 'date', name: 'from', value: state.from ?? '', required: true });
  const to = h('input', { type: 'date', name: 'to', value: state.to ?? '', required: true });
  const form = h(
    'form',
    {
      class: 'charts-range',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        choose(lotSelect.value);
        state.from = from.value;
        state.to = to.value;
        void show();
      },
    },
    field('lot', t('charts.lot'), lotSelect),
    field('from', t('charts.from'), from),
    field('to', t('charts.to'), to, t('charts.rangeHint', { max: MAX_DAYS })),
    h(
      'button',
      { type: 'submit', id: 'charts-show', class: 'primary', disabled: state.lots.length === 0 },
      t('charts.show'),
    ),
  );
  lotSelect.addEventListener('change', () => {
    choose(lotSelect.value);
    form.requestSubmit();
  });
  return form;
}

function rangeText(hourly) {
  const offset = hourly.utcOffsetMinutes;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const zone = `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return t('charts.range', {
    from: format.day(hourly.start, offset),
    to: format.day(hourly.end - DAY_MS, offset),
    zone,
    currency: hourly.currency,
  });
}

/** The charts of one answer set, in the order the tab shows them. */
function chartsOf({ hourly, daily, decisions, confidence, latency }) {
  const offset = hourly.utcOffsetMinutes;
  const offsetMs = offset * 60_000;
  const currency = hourly.currency;
  const hours = {
    kind: 'time',
    values: hourly.hours.map((x) => x.start),
    heading: t('charts.hour'),
    label: (ms) => format.hour(ms, offset),
    tick: (shifted) => format.shiftedTick(shifted),
    offsetMs,
  };
  const days = {
    kind: 'time',
    values: daily.days.map((x) => x.start),
    heading: t('charts.day'),
    label: (ms) => format.day(ms, offset),
    tick: (shifted) => format.shiftedDay(shifted),
    offsetMs,
  };
  const counts = { tick: (v) => format.count(v) };
  const amounts = { tick: (v) => format.money(Math.round(v * 10 ** currencyDigits(currency)), currency) };
  const sum = (list, key) => list.reduce((n, x) => n + x[key], 0);
  const series = (label, values, tone, style, fmt = format.count, plotValue) => ({
    label,
    values,
    tone,
    style,
    format: fmt,
    plotValue,
  });
  const toMajor = (minor) => format.major(minor, currency);
  /** revenue per bucket (hours or days): bars of minor units, with the total and settlement count in the summary */
  const revenueChart = (name, title, buckets, x) =>
    chart({
      name,
      title,
      summary: t('charts.revenueSummary', {
        total: format.money(sum(buckets, 'revenue'), currency),
        settlements: format.count(sum(buckets, 'settlements')),
      }),
      empty: t('charts.empty'),
      x,
      y: amounts,
      series: [
        series(
          t('charts.revenue'),
          buckets.map((b) => b.revenue),
          'ok',
          'bars',
          (m) => format.money(m, currency),
          toMajor,
        ),
      ],
    });
  const peak = Math.max(0, ...hourly.hours.map((x) => x.inside));
  const decisionLabels = decisions.decisions.map((d) => `${t(`charts.action.${d.action}`)} · ${reasonText(d.reason)}`);
  const reviewReasons = decisions.reviews.map((r) => `${reasonText(r.reason)} ${format.count(r.count)}`).join(', ');
  const reads = confidence.reads;
  const reviews = sum(daily.days, 'reviews');
  const events = sum(daily.days, 'events');
  return [
    chart({
      name: 'occupancy',
      title: t('charts.occupancy'),
      summary: t('charts.occupancySummary', { peak: format.count(peak), start: format.count(hourly.insideAtStart) }),
      empty: t('charts.empty'),
      x: hours,
      y: counts,
      series: [
        series(
          t('charts.inside'),
          hourly.hours.map((x) => x.inside),
          'brand',
          'line',
        ),
      ],
    }),
    chart({
      name: 'flow',
      title: t('charts.flow'),
      summary: t('charts.flowSummary', {
        entries: format.count(sum(hourly.hours, 'entries')),
        exits: format.count(sum(hourly.hours, 'exits')),
      }),
      empty: t('charts.empty'),
      x: hours,
      y: counts,
      series: [
        series(
          t('charts.entries'),
          hourly.hours.map((x) => x.entries),
          'brand',
          'bars',
        ),
        series(
          t('charts.exits'),
          hourly.hours.map((x) => x.exits),
          'wait',
          'bars',
        ),
      ],
    }),
    revenueChart('revenue-hourly', t('charts.revenueHourly'), hourly.hours, hours),
    revenueChart('revenue-daily', t('charts.revenueDaily'), daily.days, days),
    chart({
      name: 'decisions',
      title: t('charts.decisions'),
      summary: t('charts.decisionsSummary', {
        events: format.count(decisions.events),
        reviews: reviewReasons || t('charts.none'),
      }),
      empty: t('charts.empty'),
      x: {
        kind: 'category',
        values: decisionLabels,
        heading: t('charts.decision'),
        label: (v) => v,
        tick: (v) => v,
      },
      y: counts,
      series: [
        series(
          t('charts.count'),
          decisions.decisions.map((d) => d.count),
          'brand',
          'bars',
        ),
      ],
    }),
    chart({
      name: 'review-rate',
      title: t('charts.reviewRate'),
      summary: t('charts.reviewRateSummary', {
        reviews: format.count(reviews),
        events: format.count(events),
        rate: format.percent(events ? reviews / events : null),
      }),
      empty: t('charts.empty'),
      x: days,
      y: { tick: (v) => format.percent(v / 100) },
      series: [
        series(
          t('charts.reviewRateSeries'),
          daily.days.map((x) => x.reviewRate),
          'bad',
          'line',
          format.percent,
          (r) => r * 100,
        ),
      ],
    }),
    chart({
      name: 'confidence',
      title: t('charts.confidence'),
      summary: t('charts.confidenceSummary', { reads: format.count(reads) }),
      empty: t('charts.empty'),
      x: {
        kind: 'category',
        values: confidence.buckets,
        heading: t('charts.confidenceBucket'),
        label: (b) => `${format.confidence(b.from)}–${format.confidence(b.to)}`,
        // a label every 0.2 (every fourth bucket), so that they do not run into one another
        tick: (b) => (Math.round(b.from * 100) % 20 === 0 ? format.confidence(b.from) : ''),
      },
      y: counts,
      series: [
        series(
          t('charts.reads'),
          confidence.buckets.map((b) => b.count),
          'brand',
          'bars',
        ),
      ],
    }),
    chart({
      name: 'latency',
      title: t('charts.latency'),
      summary: t('charts.latencySummary'),
      empty: t('charts.latencyEmpty'),
      x: {
        kind: 'category',
        values: latency.lanes,
        heading: t('charts.lane'),
        label: (l) => t('charts.laneTimings', { lane: l.laneName, n: format.count(l.count) }),
        tick: (l) => l.laneName,
      },
      y: { tick: (v) => format.ms(v) },
      series: [
        series(
          'p50',
          latency.lanes.map((l) => l.p50Ms),
          'brand',
          'bars',
          format.ms,
        ),
        series(
          'p99',
          latency.lanes.map((l) => l.p99Ms),
          'wait',
          'bars',
          format.ms,
        ),
      ],
    }),
  ];
}
