// One chart of the console's charts tab: a <figure> with its caption, the plot (uPlot on a canvas, hidden
// from screen readers) and the same figures as a table that only screen readers see. The figure carries
// `data-chart` (its name) and `data-points` (how many points the plot was given), which the tests read.
import uPlot from '/web/vendor/uplot.js';
import { h } from './ui.js';

const PLOT_HEIGHT = 240;

/** the page's colours (style.css), for the series */
function colour(name, fallback) {
  return window.getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const palette = () => ({
  brand: colour('--brand', '#1d4ed8'),
  ok: colour('--ok', '#166534'),
  bad: colour('--bad', '#991b1b'),
  wait: colour('--wait', '#854d0e'),
  ink: colour('--ink', '#111827'),
  line: colour('--line', '#d1d5db'),
});

/**
 * chart({name, title, summary, empty, x, y, series}) -> {figure, draw(), destroy()}
 * - x: {kind: 'time' | 'category', values, heading, label(value) for the table, tick(value) for the axis,
 *   offsetMs (time: the lot's UTC offset; a time tick gets the shifted instant, to format as UTC)}
 * - y: {tick(value)}; series: [{label, values, tone (a palette name), style: 'line' | 'bars', format(value) for the table,
 *   plotValue(value) optional, what the plot shows}]
 * draw makes the plot once the figure is in the page (uPlot measures its container).
 */
export function chart(spec) {
  const captionId = `chart-${spec.name}-caption`;
  const plotBox = h('div', { class: 'chart-plot', 'aria-hidden': 'true' });
  const points = spec.x.values.length;
  // in a clipped box: a table grows to its rows whatever its own height says
  const table = h(
    'table',
    {},
    h('caption', {}, spec.title),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, spec.x.heading),
        spec.series.map((s) => h('th', { scope: 'col' }, s.label)),
      ),
    ),
    h(
      'tbody',
      {},
      spec.x.values.map((x, i) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, spec.x.label(x)),
          spec.series.map((s) => h('td', {}, s.format(s.values[i]))),
        ),
      ),
    ),
  );
  const figure = h(
    'figure',
    { class: 'chart', 'aria-labelledby': captionId, dataset: { chart: spec.name, points: String(points) } },
    h('figcaption', { id: captionId }, h('h3', {}, spec.title), h('p', { class: 'hint' }, spec.summary)),
    points && spec.series.length > 1
      ? h(
          'ul',
          { class: 'chart-legend', 'aria-hidden': 'true' },
          spec.series.map((s) => h('li', {}, h('span', { class: `swatch tone-${s.tone}` }), s.label)),
        )
      : null,
    points ? plotBox : h('p', { class: 'muted chart-empty' }, spec.empty),
    h('div', { class: 'sr-only' }, table),
  );
  let plot = null;
  return {
    figure,
    draw() {
      if (!points) return;
      const width = Math.max(280, plotBox.clientWidth || figure.clientWidth || 600);
      plot = new uPlot(options(spec, width), data(spec), plotBox);
    },
    destroy() {
      plot?.destroy();
      plot = null;
    },
  };
}

function data(spec) {
  // time: seconds, shifted by the lot's UTC offset so that uPlot (told the time zone is UTC) places
  // hours and days on the lot's clock; categories: their index
  const xs =
    spec.x.kind === 'time' ? spec.x.values.map((v) => (v + spec.x.offsetMs) / 1000) : spec.x.values.map((_, i) => i);
  return [xs, ...spec.series.map((s) => s.values.map((v) => (v === null ? null : (s.plotValue?.(v) ?? v))))];
}

function options(spec, width) {
  const colours = palette();
  const n = spec.x.values.length;
  const many = spec.series.length > 1;
  const series = spec.series.map((s, i) => {
    const bars = s.style === 'bars';
    const stroke = colours[s.tone];
    const offset = many && bars ? (i === 0 ? -1 : 1) : 0;
    return {
      label: s.label,
      stroke,
      fill: bars ? stroke : undefined,
      width: bars ? 0 : 2,
      points: { show: !bars && n < 40 },
      paths: bars ? uPlot.paths.bars({ size: [many ? 0.4 : 0.7, 60], align: offset }) : undefined,
      spanGaps: false,
    };
  });
  const axisFont = '13px system-ui, sans-serif';
  const xAxis =
    spec.x.kind === 'time'
      ? {
          stroke: colours.ink,
          font: axisFont,
          grid: { stroke: colours.line },
          space: 70,
          // the x values are shifted into the lot's local time (see data): format them as UTC
          values: (u, splits) => splits.map((s) => spec.x.tick(s * 1000)),
        }
      : {
          stroke: colours.ink,
          font: axisFont,
          grid: { show: false },
          splits: () => spec.x.values.map((_, i) => i),
          values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? spec.x.tick(spec.x.values[i]) : '')),
          rotate: 0,
        };
  return {
    width,
    height: PLOT_HEIGHT,
    legend: { show: false },
    cursor: { show: true, drag: { x: false, y: false } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'UTC'),
    scales: {
      x: spec.x.kind === 'time' ? { time: true } : { time: false, range: [-0.5, Math.max(0.5, n - 0.5)] },
      y: { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1) * 1.1] },
    },
    axes: [
      xAxis,
      {
        stroke: colours.ink,
        font: axisFont,
        grid: { stroke: colours.line },
        // as wide as its longest label (amounts with their currency are long)
        size: (u, values) => 20 + 8.5 * Math.max(4, ...(values ?? []).map((v) => String(v).length)),
        values: (u, splits) => splits.map((v) => spec.y.tick(v)),
      },
    ],
    series: [{}, ...series],
  };
}
