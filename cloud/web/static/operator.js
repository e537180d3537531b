// The operator console: sign-in with an API key, the tabs (the live view in operator-live.js; each other
// tab its own module), and the live view's data: it listens to /web/api/operator/stream (server-sent
// events over fetch, so the API key travels in the Authorization header) and re-reads the dashboard when
// something changed. The header's language switcher re-translates everything in place.
import { api, carryOver, errorText, h, say } from './ui.js';
import { t, translateStatic } from './i18n.js';
import './i18n-operator.js';
import { mountLanguageSwitcher } from './language-switcher.js';
import { createLiveView } from './operator-live.js';

const main = document.getElementById('main');
const live = document.getElementById('live');
const signOutButton = document.getElementById('sign-out');
const KEY = 'platepay.operatorKey';
let key = sessionStorage.getItem(KEY);
let stream = null;
let signInProblem = '';

translateStatic();
mountLanguageSwitcher(document.getElementById('tools'));

signOutButton.addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  key = null;
  if (stream) stream.abort();
  showSignIn();
});

function showSignIn(problem = '') {
  signInProblem = problem;
  signOutButton.hidden = true;
  live.hidden = true;
  const message = h('p', { class: 'message', role: 'alert', hidden: true, id: 'key-message' });
  const form = h(
    'form',
    { class: 'card narrow', id: 'key-form', novalidate: true },
    h('h2', {}, t('console.signIn.heading')),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'api-key' }, t('console.signIn.key')),
      h('input', {
        id: 'api-key',
        name: 'key',
        type: 'password',
        autocomplete: 'off',
        required: true,
        'aria-describedby': 'key-hint key-message',
      }),
    ),
    h('p', { class: 'hint', id: 'key-hint' }, t('console.signIn.hint')),
    message,
    h('button', { type: 'submit', class: 'primary' }, t('console.signIn.submit')),
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
      say(message, errorText(err), 'error');
    }
  });
  const old = document.getElementById('key-form');
  main.replaceChildren(carryOver(old, form));
  if (problem) say(message, problem, 'error');
  if (!old) form.elements.key.focus();
}

const liveView = createLiveView({ key: () => key, refresh: () => refresh() });

// The console's tabs: the live view is operator-live.js; each other tab is its own module, loaded when
// first opened, exporting mount(panel, console) (see `consoleContext`). The open tab is kept in the URL's
// hash. A tab module re-renders itself on 'languagechange'.
const TABS = [
  { id: 'live' },
  { id: 'manage', module: './operator-manage.js' },
  { id: 'charts', module: './operator-charts.js' },
  { id: 'find', module: './operator-find.js' },
  { id: 'export', module: './operator-export.js' },
];
const mounted = new Set();
let tabButtons = [];

/** what a tab module gets: the key of this tab's sign-in, and the way out when the key stops working */
const consoleContext = {
  key: () => key,
  signOutWith: (message) => signOutWith(message),
  refreshLive: () => refresh(),
};

function tabFromHash() {
  const id = location.hash.replace(/^#/, '');
  return TABS.some((tab) => tab.id === id) ? id : 'live';
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
  panels.get('live').append(...liveView.parts);
  tabButtons = TABS.map((tab) =>
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
      t(`console.tab.${tab.id}`),
    ),
  );
  const buttons = tabButtons;
  const tablist = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': t('console.tabs'), id: 'tabs' }, buttons);
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
    const tab = TABS.find((x) => x.id === id);
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
      liveView.clearError();
      liveView.render(data);
    } catch (err) {
      if (err.status === 401 || err.status === 403) return signOutWith(errorText(err));
      liveView.tell(() => t('live.refreshFailed', { message: errorText(err) }), 'error');
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
  live.textContent = t(`console.live.${state}`);
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
      if (res.status === 401 || res.status === 403) return signOutWith(t('console.keyInvalid'));
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

/** the page in the language just chosen: what is shown is rebuilt, what the operator typed stays */
window.addEventListener('languagechange', () => {
  if (!key) return showSignIn(signInProblem);
  tabButtons.forEach((button, i) => {
    button.textContent = t(`console.tab.${TABS[i].id}`);
  });
  document.getElementById('tabs')?.setAttribute('aria-label', t('console.tabs'));
  if (live.dataset.state) setLive(live.dataset.state);
  liveView.retranslate();
});

if (key) start();
else showSignIn();
