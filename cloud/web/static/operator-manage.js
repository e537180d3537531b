// The console's Manage tab: car parks (lots), their lanes, gates and tariff, disputes, unpaid stays,
// refunds and API keys, each changed through the same API the docs describe. The key's role decides what
// shows: an auditor sees everything and gets no change controls (the API refuses their changes anyway);
// API keys are an admin's. After a change the tab re-reads its data and the live view refreshes.
//
// This module loads the data and lays the tab out; each part is its own module (operator-manage-*.js).
import { api, h, say } from './ui.js';
import { t } from './i18n.js';
import './operator-manage-messages.js';
import { lotSections, newLotForm } from './operator-manage-lots.js';
import { tariffSection } from './operator-manage-tariff.js';
import { disputesSection, pendingSection, refundsSection } from './operator-manage-money.js';
import { keysSection } from './operator-manage-keys.js';

export async function mount(panel, console) {
  const state = {
    me: null,
    lots: [],
    dashboard: null,
    disputes: [],
    pending: [],
    keys: [],
    lotId: null,
    /** a new API key's secret, shown until the admin dismisses it (it is never shown again) */
    newKey: null,
    /** the settlement the refund form is open for, with what it charged and refunded */
    refund: null,
  };
  const notice = h('p', { class: 'message', id: 'manage-notice', role: 'status', 'aria-live': 'polite', hidden: true });
  const body = h('div', { class: 'manage' });
  panel.replaceChildren(notice, body);

  const ctx = {
    state,
    key: () => console.key(),
    call: (method, path, payload) => api(method, path, { secret: console.key(), body: payload }),
    canChange: () => state.me !== null && state.me.role !== 'auditor',
    isAdmin: () => state.me !== null && state.me.role === 'admin',
    lot: () => state.lots.find((l) => l.id === state.lotId) ?? null,
    /** the live view's data of the chosen lot (gate status, today's settlements) */
    liveLot: () => state.dashboard?.lots.find((l) => l.id === state.lotId) ?? null,
    /** after a change: say what happened, re-read, re-render, refresh the live view */
    async changed(message) {
      await reload();
      say(notice, message, 'ok');
      void console.refreshLive();
    },
    render: () => render(),
  };

  /** reads everything again and shows it; the panel's data-loads counts these (the tests wait on it) */
  let loads = 0;
  async function reload() {
    await load();
    render();
    panel.dataset.loads = String(++loads);
  }

  async function load() {
    try {
      if (!state.me) state.me = await ctx.call('GET', '/v1/keys/me');
      const [lots, dashboard, disputes] = await Promise.all([
        ctx.call('GET', '/v1/lots'),
        ctx.call('GET', '/web/api/operator/dashboard'),
        ctx.call('GET', '/v1/disputes?status=open'),
      ]);
      state.lots = lots.lots;
      state.dashboard = dashboard;
      state.disputes = disputes.disputes;
      if (!state.lots.some((l) => l.id === state.lotId)) state.lotId = state.lots[0]?.id ?? null;
      state.pending = state.lotId
        ? (await ctx.call('GET', `/v1/lots/${state.lotId}/pending-payments`)).pendingPayments
        : [];
      state.keys = ctx.isAdmin() ? (await ctx.call('GET', '/v1/keys')).keys : [];
    } catch (err) {
      if (err.status === 401 || err.status === 403) return console.signOutWith(err.message);
      say(notice, t('manage.loadFailed', { message: err.message }), 'error');
    }
  }

  function render() {
    // a re-render keeps the keyboard focus where it was (by id)
    const focused = document.activeElement && panel.contains(document.activeElement) ? document.activeElement.id : null;
    const lot = ctx.lot();
    const chooser = state.lots.length
      ? h(
          'div',
          { class: 'field lot-chooser' },
          h('label', { for: 'manage-lot' }, t('manage.lot.choose')),
          h(
            'select',
            {
              id: 'manage-lot',
              onchange: async (event) => {
                state.lotId = event.target.value;
                state.refund = null;
                await reload();
              },
            },
            state.lots.map((l) => h('option', { value: l.id, selected: l.id === state.lotId }, l.name)),
          ),
        )
      : h('p', { class: 'muted', id: 'manage-no-lots' }, t('manage.lot.none'));
    body.replaceChildren(
      h('h2', { class: 'sr-only' }, t('manage.title')),
      state.me
        ? h(
            'p',
            { class: 'muted', id: 'manage-role', dataset: { role: state.me.role } },
            t(`manage.role.${state.me.role}`, { label: state.me.label }),
          )
        : null,
      h(
        'div',
        { class: 'manage-grid' },
        h(
          'div',
          { class: 'manage-main' },
          h('section', { class: 'card', 'aria-labelledby': 'manage-lots-h', id: 'manage-lots' }, [
            h('h3', { id: 'manage-lots-h' }, t('manage.lots.title')),
            chooser,
            ctx.canChange() ? newLotForm(ctx) : null,
          ]),
          lot ? lotSections(ctx, lot) : null,
          lot ? tariffSection(ctx, lot) : null,
        ),
        h(
          'div',
          { class: 'manage-side' },
          lot ? pendingSection(ctx, lot) : null,
          lot ? refundsSection(ctx, lot) : null,
          disputesSection(ctx),
          keysSection(ctx),
        ),
      ),
    );
    if (focused) document.getElementById(focused)?.focus();
  }

  const onLanguage = () => {
    // a sign-out and a new sign-in mount the tab afresh in a new panel: this one then stops listening
    if (!panel.isConnected) return window.removeEventListener('languagechange', onLanguage);
    render();
  };
  window.addEventListener('languagechange', onLanguage);
  // coming back to the tab shows what changed meanwhile (a gate came online, a dispute was opened)
  const onTab = async () => {
    if (!panel.isConnected) return window.removeEventListener('hashchange', onTab);
    if (location.hash !== '#manage') return;
    await reload();
  };
  window.addEventListener('hashchange', onTab);
  await reload();
}
