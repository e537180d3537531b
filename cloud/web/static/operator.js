// The operator dashboard: lots, gates and lanes with their latest reads (plate crop, confidence,
// decision; the lane and barrier state the gate reports, and its offline queue), the review queue with buttons to resolve, today's settlements and the latest ledger
// checkpoint. It listens to /web/api/operator/stream (server-sent events over fetch, so the API key
// travels in the Authorization header) and re-reads the dashboard when something changed.
import { api, h, money, time, clock, say } from './ui.js';

const main = document.getElementById('main');
const live = document.getElementById('live');
const signOutButton = document.getElementById('sign-out');
const KEY = 'platepay.operatorKey';
let key = sessionStorage.getItem(KEY);
let stream = null;
const crops = new Map(); // eventId -> object URL

signOutButton.addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  key = null;
  if (stream) stream.abort();
  showSignIn();
});

function showSignIn(problem = '') {
  signOutButton.hidden = true;
  live.hidden = true;
  const message = h('p', { class: 'message', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'card narrow', id: 'key-form', novalidate: true },
    h('h2', {}, 'Operator sign-in'),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'api-key' }, 'API key'),
      h('input', {
        id: 'api-key',
        name: 'key',
        type: 'password',
        autocomplete: 'off',
        required: true,
        'aria-describedby': 'key-hint',
      }),
    ),
    h(
      'p',
      { class: 'hint', id: 'key-hint' },
      'An operator, admin or auditor key (ppkey_…). It stays in this tab only.',
    ),
    message,
    h('button', { type: 'submit', class: 'primary' }, 'Open dashboard'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const candidate = form.elements.key.value.trim();
    try {
      await api('GET', '/web/api/operator/dashboard', { secret: candidate });
      key = candidate;
      sessionStorage.setItem(KEY, key);
      start();
    } catch (err) {
      say(message, err.message, 'error');
    }
  });
  main.replaceChildren(form);
  if (problem) say(message, problem, 'error');
  form.elements.key.focus();
}

const view = {
  lots: h('section', { 'aria-labelledby': 'lots-h', id: 'lots' }, h('h2', { id: 'lots-h' }, 'Lanes')),
  reviews: h(
    'section',
    { class: 'card', 'aria-labelledby': 'reviews-h', id: 'reviews' },
    h('h2', { id: 'reviews-h' }, 'Review queue'),
  ),
  today: h(
    'section',
    { class: 'card', 'aria-labelledby': 'today-h', id: 'today' },
    h('h2', { id: 'today-h' }, "Today's settlements"),
  ),
  ledger: h(
    'section',
    { class: 'card', 'aria-labelledby': 'ledger-h', id: 'ledger' },
    h('h2', { id: 'ledger-h' }, 'Ledger checkpoint'),
  ),
};
const notice = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', hidden: true, id: 'notice' });

// The console's tabs: the live view is this module; each other tab is its own module, loaded when first
// opened, exporting mount(panel, console) (see `consoleContext`). The open tab is kept in the URL's hash.
const TABS = [
  { id: 'live', label: 'Live' },
  { id: 'manage', label: 'Manage', module: './operator-manage.js' },
  { id: 'charts', label: 'Charts', module: './operator-charts.js' },
  { id: 'find', label: 'Find a car', module: './operator-find.js' },
  { id: 'export', label: 'Export', module: './operator-export.js' },
];
const mounted = new Set();

/** what a tab module gets: the key of this tab's sign-in, and the way out when the key stops working */
const consoleContext = {
  key: () => key,
  signOutWith: (message) => signOutWith(message),
  refreshLive: () => refresh(),
};

function tabFromHash() {
  const id = location.hash.replace(/^#/, '');
  return TABS.some((t) => t.id === id) ? id : 'live';
}

function start() {
  signOutButton.hidden = false;
  mounted.clear();
  const panels = new Map(
    TABS.map((tab) => [
      tab.id,
      h('section', {
        id: `panel-${tab.id}`,
        role: 'tabpanel',
        'aria-labelledby': `tab-${tab.id}`,
        class: 'panel',
        hidden: true,
      }),
    ]),
  );
  panels
    .get('live')
    .append(
      notice,
      h('div', { class: 'dash' }, view.lots, h('div', { class: 'side' }, view.reviews, view.today, view.ledger)),
    );
  const buttons = TABS.map((tab) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${tab.id}`,
        'aria-controls': `panel-${tab.id}`,
        onclick: () => {
          location.hash = tab.id;
        },
      },
      tab.label,
    ),
  );
  const tablist = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Console' }, buttons);
  tablist.addEventListener('keydown', (event) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0 || (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft')) return;
    const next = buttons[(i + (event.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    next.click();
  });
  const show = async () => {
    const id = tabFromHash();
    for (const [i, tab] of TABS.entries()) {
      const selected = tab.id === id;
      buttons[i].setAttribute('aria-selected', String(selected));
      buttons[i].tabIndex = selected ? 0 : -1;
      panels.get(tab.id).hidden = !selected;
    }
    const tab = TABS.find((t) => t.id === id);
    if (tab.module && !mounted.has(id)) {
      mounted.add(id);
      try {
        const mod = await import(tab.module);
        await mod.mount(panels.get(id), consoleContext);
      } catch (err) {
        mounted.delete(id);
        panels.get(id).replaceChildren(h('p', { class: 'message error', role: 'alert' }, String(err.message ?? err)));
      }
    }
  };
  window.onhashchange = () => void show();
  main.replaceChildren(tablist, ...panels.values());
  void show();
  void refresh();
  void listen();
}

let refreshing = null;
let again = false;
// a read that failed (a storage hiccup, a dropped connection) is tried again by itself, sooner than the next
// change would come (which may be never): the page must not keep showing what changed
let retry = null;
let retryDelay = 1000;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  clearTimeout(retry);
  retry = null;
  refreshing = (async () => {
    try {
      const data = await api('GET', '/web/api/operator/dashboard', { secret: key });
      retryDelay = 1000;
      if (notice.classList.contains('error')) say(notice, '');
      render(data);
    } catch (err) {
      if (err.status === 401 || err.status === 403) return signOutWith(err.message);
      say(notice, `Could not refresh: ${err.message}`, 'error');
      if (key) retry = setTimeout(() => key && void refresh(), retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) {
    again = false;
    return refresh();
  }
}

function signOutWith(message) {
  sessionStorage.removeItem(KEY);
  key = null;
  if (stream) stream.abort();
  showSignIn(message);
}

function setLive(state) {
  live.hidden = false;
  live.textContent = state === 'live' ? '● live' : '○ reconnecting…';
  live.className = `live ${state}`;
  live.dataset.state = state;
}

/** server-sent events over fetch; reconnects with a growing delay */
async function listen() {
  let delay = 1000;
  while (key) {
    stream = new AbortController();
    try {
      const res = await fetch('/web/api/operator/stream', {
        headers: { authorization: `Bearer ${key}` },
        signal: stream.signal,
      });
      if (res.status === 401 || res.status === 403) return signOutWith('The API key is no longer valid.');
      if (!res.ok || !res.body) throw new Error(`stream ${res.status}`);
      setLive('live');
      delay = 1000;
      void refresh(); // anything missed while away
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: change$/m.test(block)) scheduleRefresh();
        }
      }
    } catch {
      if (!key) return;
    }
    setLive('reconnecting');
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    void refresh();
  }, 100);
}

function keep(section, ...children) {
  section.replaceChildren(
    section.firstElementChild,
    ...children.flat(Infinity).filter((c) => c !== null && c !== undefined),
  );
}

/** the crop of a lane event, fetched with the key (an <img> cannot send it) */
function crop(eventId, plate) {
  const img = h('img', { class: 'crop', alt: `Plate crop of ${plate}`, width: 160, height: 48 });
  const cached = crops.get(eventId);
  if (cached) img.src = cached;
  else
    fetch(`/web/api/operator/reads/${encodeURIComponent(eventId)}/crop`, {
      headers: { authorization: `Bearer ${key}` },
    })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (!b) return img.replaceWith(h('span', { class: 'crop none' }, 'no image'));
        const url = URL.createObjectURL(b);
        crops.set(eventId, url);
        img.src = url;
      })
      .catch(() => undefined);
  return img;
}

const pct = (c) => `${Math.round(c * 1000) / 10}%`;

function render(d) {
  // a re-render must not take the operator's choice or keyboard focus away
  const focused = document.activeElement && document.activeElement.id;
  const chosen = new Map([...main.querySelectorAll('select[id]')].map((s) => [s.id, s.value]));
  keep(view.lots, d.lots.length ? d.lots.map(renderLot) : h('p', { class: 'muted' }, 'No car parks yet.'));
  renderReviews(d);
  renderToday(d);
  renderLedger(d.checkpoint);
  for (const [id, value] of chosen) {
    const s = document.getElementById(id);
    if (s && [...s.options].some((o) => o.value === value)) s.value = value;
  }
  if (focused) document.getElementById(focused)?.focus();
}

function renderLot(lot) {
  const totals =
    Object.entries(lot.today.totals)
      .map(([c, v]) => money(v, c))
      .join(' + ') || money(0, lot.currency);
  return h(
    'article',
    { class: 'card lot', dataset: { lot: lot.id } },
    h('h3', {}, lot.name),
    h(
      'p',
      { class: 'muted' },
      `Today: ${lot.today.settlements} settlement${lot.today.settlements === 1 ? '' : 's'}, ${totals}`,
    ),
    h(
      'ul',
      { class: 'plain gates' },
      lot.gates.map((g) =>
        h(
          'li',
          { class: 'gate', dataset: { gate: g.id, online: String(g.online) } },
          h('span', { class: `dot ${g.online ? 'on' : 'off'}`, 'aria-hidden': 'true' }),
          h('strong', {}, g.name),
          ' ',
          h(
            'span',
            { class: 'gate-state' },
            g.revoked ? 'revoked' : g.online ? `online since ${clock(g.onlineSince)}` : 'offline',
          ),
          g.online && g.status
            ? h(
                'span',
                { class: 'gate-report muted', dataset: { outbox: String(g.status.outboxDepth) } },
                ' · ',
                h(
                  'span',
                  { class: g.status.outboxDepth > 0 ? 'badge wait' : null },
                  `offline queue: ${g.status.outboxDepth}`,
                ),
                ` · reported ${clock(g.status.receivedAt)}`,
              )
            : null,
        ),
      ),
    ),
    h('div', { class: 'lanes' }, lot.lanes.map(renderLane)),
  );
}

/** the barrier as the gate reports it: open, closed, or unknown (a command failed or went unanswered) */
const BARRIER_BADGE = { open: 'ok', closed: 'neutral', unknown: 'bad' };

function renderLane(lane) {
  const b = lane.barrier;
  const r = lane.reported;
  const lastDecision = [
    b
      ? h('span', { class: `badge ${b.action === 'open' ? 'ok' : 'bad'}` }, b.action === 'open' ? 'opened' : 'held')
      : h('span', { class: 'muted' }, 'no car yet'),
    b ? ` ${b.plate} · ${b.reason} · ${clock(b.at)}` : '',
  ];
  return h(
    'div',
    { class: 'lane', dataset: { lane: lane.id } },
    h('h4', {}, `${lane.name} `, h('span', { class: 'muted' }, `(${lane.direction})`)),
    // the gate's own report when there is one; else the cloud's last decision stands in for it
    r
      ? h(
          'p',
          { class: 'barrier', dataset: { barrier: r.barrier, laneState: r.state } },
          'Barrier: ',
          h('span', { class: `badge ${BARRIER_BADGE[r.barrier] ?? 'bad'}` }, r.barrier),
          h('span', { class: 'muted' }, ` · lane ${r.state} · reported ${clock(r.receivedAt)}`),
        )
      : h('p', { class: 'barrier' }, 'Barrier: ', ...lastDecision),
    r ? h('p', { class: 'last-decision' }, 'Last decision: ', ...lastDecision) : null,
    lane.reads.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'reads' },
            h('caption', { class: 'sr-only' }, `Latest reads at ${lane.name}`),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Camera'),
                h('th', { scope: 'col' }, 'Read'),
                h('th', { scope: 'col' }, 'Decision'),
              ),
            ),
            h(
              'tbody',
              {},
              lane.reads.map((r) =>
                h(
                  'tr',
                  { class: 'read', dataset: { event: r.eventId } },
                  h('td', {}, r.hasCrop ? crop(r.eventId, r.plate) : h('span', { class: 'crop none' }, 'no image')),
                  h(
                    'td',
                    {},
                    h('span', { class: 'plate' }, r.plate),
                    h('br'),
                    h(
                      'span',
                      { class: `confidence${r.confidence < 0.9 ? ' warn' : ''}`, title: 'read confidence' },
                      pct(r.confidence),
                    ),
                    h('span', { class: 'muted' }, ` · ${clock(r.at)}`),
                  ),
                  h('td', {}, `${r.action} · ${r.reason}`, r.fee ? ` · ${money(r.fee, r.currency)}` : ''),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No reads yet.'),
  );
}

function renderReviews(d) {
  const laneName = new Map(d.lots.flatMap((l) => l.lanes.map((x) => [x.id, `${l.name} · ${x.name}`])));
  if (!d.reviews.length) return keep(view.reviews, h('p', { class: 'muted', id: 'no-reviews' }, 'Nothing to review.'));
  keep(
    view.reviews,
    h(
      'ul',
      { class: 'plain' },
      d.reviews.map((r) => {
        const message = h('p', { class: 'message', role: 'alert', hidden: true });
        const selectId = `session-${r.id}`;
        const sessions = [...r.candidates, ...r.otherSessions];
        const select = h(
          'select',
          { id: selectId },
          sessions.length ? null : h('option', { value: '' }, 'no open stay in this car park'),
          r.candidates.length
            ? h(
                'optgroup',
                { label: 'Likely' },
                r.candidates.map((s) => h('option', { value: s.id }, `${s.plate} · in ${time(s.entryAt)}`)),
              )
            : null,
          r.otherSessions.length
            ? h(
                'optgroup',
                { label: 'Other open stays' },
                r.otherSessions.map((s) => h('option', { value: s.id }, `${s.plate} · in ${time(s.entryAt)}`)),
              )
            : null,
        );
        const act = (action) => async () => {
          const body = action === 'dismiss' ? { action } : { action, sessionId: select.value };
          if (action !== 'dismiss' && !select.value)
            return say(message, 'Choose the stay this car belongs to.', 'error');
          try {
            const out = await api('POST', `/v1/reviews/${r.id}/resolve`, { secret: key, body });
            const dd = out.decision;
            say(
              notice,
              action === 'dismiss'
                ? `Dismissed the read of ${r.plate}.`
                : `${r.plate}: ${dd.reason}${dd.fee ? `, ${money(dd.fee, dd.currency)}` : ''}.`,
              'ok',
            );
            await refresh();
          } catch (err) {
            say(message, err.message, 'error');
          }
        };
        return h(
          'li',
          { class: 'review', dataset: { review: r.id } },
          h(
            'div',
            { class: 'review-head' },
            r.hasCrop ? crop(r.eventId, r.plate) : h('span', { class: 'crop none' }, 'no image'),
            h(
              'div',
              {},
              h('p', {}, h('span', { class: 'plate' }, r.plate), ` read at ${pct(r.confidence)}`),
              h('p', { class: 'muted' }, `${laneName.get(r.laneId) ?? ''} · ${time(r.at)} · ${r.reason}`),
            ),
          ),
          h('div', { class: 'field' }, h('label', { for: selectId }, 'Stay this car belongs to'), select),
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                id: `match-${r.id}`,
                class: 'primary',
                onclick: act('match'),
                disabled: !sessions.length,
              },
              'Match and charge',
            ),
            h(
              'button',
              {
                type: 'button',
                id: `waive-${r.id}`,
                class: 'secondary',
                onclick: act('waive'),
                disabled: !sessions.length,
              },
              'Waive',
            ),
            h(
              'button',
              { type: 'button', id: `dismiss-${r.id}`, class: 'secondary', onclick: act('dismiss') },
              'Dismiss',
            ),
          ),
          message,
        );
      }),
    ),
  );
}

function renderToday(d) {
  const rows = d.lots.flatMap((l) => l.today.latest.map((s) => ({ ...s, lot: l.name })));
  rows.sort((a, b) => b.settledAt - a.settledAt);
  if (!rows.length) return keep(view.today, h('p', { class: 'muted' }, 'No settlements today.'));
  keep(
    view.today,
    h(
      'table',
      { class: 'settlements' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Time'),
          h('th', { scope: 'col' }, 'Car park'),
          h('th', { scope: 'col' }, 'Amount'),
          h('th', { scope: 'col' }, 'How'),
        ),
      ),
      h(
        'tbody',
        {},
        rows
          .slice(0, 10)
          .map((s) =>
            h(
              'tr',
              { dataset: { settlement: s.settlementId } },
              h('td', {}, clock(s.settledAt)),
              h('td', {}, s.lot),
              h('td', { class: 'num' }, money(s.amount, s.currency)),
              h('td', {}, s.method),
            ),
          ),
      ),
    ),
  );
}

function renderLedger(c) {
  if (!c) return keep(view.ledger, h('p', { class: 'muted' }, 'No checkpoint yet.'));
  keep(
    view.ledger,
    h(
      'dl',
      { class: 'pairs' },
      h('dt', {}, 'Log'),
      h('dd', { class: 'mono' }, c.origin),
      h('dt', {}, 'Size'),
      h('dd', { id: 'checkpoint-size' }, `${c.size} records`),
      h('dt', {}, 'Root'),
      h('dd', { class: 'mono wrap' }, c.root),
      h('dt', {}, 'Signed'),
      h(
        'dd',
        {},
        `${time(c.createdAt)} · `,
        h(
          'span',
          { class: `badge ${c.logSignatureValid ? 'ok' : 'bad'}` },
          c.logSignatureValid ? 'log signature valid' : 'log signature INVALID',
        ),
      ),
      h('dt', {}, 'Cosigned by'),
      h(
        'dd',
        { id: 'cosigners' },
        c.cosignatures.length
          ? c.cosignatures.map((w) =>
              h('span', { class: 'badge ok' }, `${w.name}${w.timestamp ? ` at ${clock(w.timestamp * 1000)}` : ''}`),
            )
          : h('span', { class: 'muted' }, 'nobody yet'),
        ` · ${c.final ? 'final' : `needs ${c.quorum}`}`,
      ),
    ),
  );
}

if (key) start();
else showSignIn();
