// The driver's page: sign up or sign in, link and unlink plates, wallets, the current stay with its
// running fee, and past stays with receipts that are checked in this browser against the ledger's keys.
// Words in the page's language (the header's switcher); times in each car park's own UTC offset.
import { api, carryOver, errorText, h, money, time, duration, say } from './ui.js';
import { language, t, translateStatic, word } from './i18n.js';
import './i18n-driver.js';
import { mountLanguageSwitcher } from './language-switcher.js';
import { checkReceipt } from './receipt-check.js';

const main = document.getElementById('main');
const signOutButton = document.getElementById('sign-out');
const TOKEN = 'platepay.driverToken';
let token = localStorage.getItem(TOKEN);
let keys = null;
let refreshTimer = null;
/** what the page shows now, to redraw in another language: a sign-in form, or the signed-in home */
let showing = { mode: 'in' };

translateStatic();
mountLanguageSwitcher(document.getElementById('tools'));

signOutButton.addEventListener('click', () => {
  const signedOut = token;
  localStorage.removeItem(TOKEN);
  token = null;
  showSignIn();
  // the cloud forgets the token too, so a copy of it left anywhere is worth nothing
  if (signedOut) api('DELETE', '/v1/auth/token', { secret: signedOut }).catch(() => undefined);
});

function field(id, label, attrs) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, ...attrs }));
}

function showSignIn(mode = 'in') {
  clearInterval(refreshTimer);
  showing = { mode };
  signOutButton.hidden = true;
  const message = h('p', { class: 'message', role: 'alert', hidden: true, id: 'sign-in-message' });
  const up = mode === 'up';
  const id = up ? 'sign-up-form' : 'sign-in-form';
  const form = h(
    'form',
    { class: 'card', id, novalidate: true },
    h('h2', {}, up ? t('driver.signUp.heading') : t('driver.signIn.heading')),
    up
      ? field('name', t('driver.name'), {
          autocomplete: 'name',
          required: true,
          maxlength: 100,
          'aria-describedby': message.id,
        })
      : null,
    field('email', t('driver.email'), {
      type: 'email',
      autocomplete: 'email',
      required: true,
      'aria-describedby': message.id,
    }),
    field('password', t('driver.password'), {
      type: 'password',
      autocomplete: up ? 'new-password' : 'current-password',
      required: true,
      minlength: up ? 8 : 1,
      'aria-describedby': up ? `password-hint ${message.id}` : message.id,
    }),
    up ? h('p', { class: 'hint', id: 'password-hint' }, t('driver.passwordHint')) : null,
    message,
    h('button', { type: 'submit', class: 'primary' }, up ? t('driver.signUp.submit') : t('driver.signIn.submit')),
    h(
      'p',
      {},
      up ? t('driver.haveAccount') : t('driver.newHere'),
      h(
        'button',
        { type: 'button', class: 'link', onclick: () => showSignIn(up ? 'in' : 'up') },
        up ? t('driver.toSignIn') : t('driver.toSignUp'),
      ),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    say(message, '');
    try {
      const r = up
        ? await api('POST', '/v1/drivers', { body: { name: data.name, email: data.email, password: data.password } })
        : await api('POST', '/v1/auth/token', { body: { email: data.email, password: data.password } });
      token = r.token;
      localStorage.setItem(TOKEN, token);
      await showHome();
    } catch (err) {
      say(message, err.code === 'BAD_REQUEST' ? friendly(err.message) : errorText(err), 'error');
    }
  });
  // the same form again (in another language): what the driver typed stays, and the focus
  const old = document.getElementById(id);
  main.replaceChildren(carryOver(old, form));
  if (!old) form.querySelector('input').focus();
}

/** fastify's schema messages, in words a driver reads */
function friendly(message) {
  if (/email/.test(message)) return t('driver.bad.email');
  if (/password/.test(message)) return t('driver.bad.password');
  if (/name/.test(message)) return t('driver.bad.name');
  if (/plate/.test(message)) return t('driver.bad.plate');
  return message;
}

async function loadKeys() {
  if (!keys) keys = await api('GET', '/web/api/ledger-keys');
  return keys;
}

async function showHome() {
  signOutButton.hidden = false;
  const section = (id) => h('section', { class: 'card', 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }));
  const sections = {
    wallet: section('wallet'),
    plates: section('plates'),
    now: section('now'),
    history: section('history'),
  };
  const headings = () => {
    for (const [id, s] of Object.entries(sections)) s.firstElementChild.textContent = t(`driver.${id}`);
  };
  headings();
  const greeting = h('p', { class: 'greeting' });
  main.replaceChildren(greeting, sections.now, sections.plates, sections.wallet, sections.history);
  const state = { me: null };
  const refresh = async () => {
    try {
      const [me, links, parking, sessions, receipts, k, credit] = await Promise.all([
        api('GET', '/v1/me', { secret: token }),
        api('GET', '/v1/me/links', { secret: token }),
        api('GET', '/web/api/me/parking', { secret: token }),
        api('GET', '/v1/me/sessions', { secret: token }),
        api('GET', '/v1/me/receipts', { secret: token }),
        loadKeys(),
        api('GET', '/v1/me/credit', { secret: token }),
      ]);
      state.me = me;
      headings();
      greeting.textContent = t('driver.greeting', { name: me.driver.name, email: me.driver.email });
      renderWallet(sections.wallet, me.accounts, credit, refresh);
      renderPlates(sections.plates, links.links, me.accounts, refresh);
      renderNow(sections.now, parking);
      renderHistory(sections.history, receipts.receipts, sessions.sessions, k, parking.lots);
    } catch (err) {
      if (err.status === 401) {
        localStorage.removeItem(TOKEN);
        token = null;
        showSignIn();
      }
    }
  };
  showing = { mode: 'home', refresh };
  await refresh();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, 3000);
}

function keep(section, ...children) {
  section.replaceChildren(
    section.firstElementChild,
    ...children.flat(Infinity).filter((c) => c !== null && c !== undefined),
  );
}

/**
 * A form the driver is using (focused, or typed into) survives the 3-second refresh as it is, so typing
 * is never interrupted; in another language it is rebuilt with what was typed carried over.
 */
function keptForm(section, id, fresh) {
  const old = section.querySelector(`#${id}`);
  const inUse =
    old && (old.contains(document.activeElement) || [...old.querySelectorAll('input')].some((e) => e.value));
  if (!inUse) return fresh;
  if (old.dataset.lang === language()) return old;
  return carryOver(old, fresh);
}

function renderWallet(section, accounts, credit, refresh) {
  const message = h('p', { class: 'message', role: 'alert', hidden: true, id: 'card-message' });
  const list = h(
    'ul',
    { class: 'plain' },
    accounts.map((a) =>
      h(
        'li',
        { class: 'account', dataset: { account: a.id } },
        h('span', { class: 'label' }, a.label),
        h(
          'dl',
          { class: 'pairs' },
          h('dt', {}, t('driver.balance')),
          h('dd', { class: 'balance' }, money(a.balance, a.currency)),
          h('dt', {}, t('driver.available')),
          h('dd', { class: 'available' }, money(a.available, a.currency)),
          h('dt', {}, t('driver.card')),
          h('dd', { class: 'payment-method' }, a.paymentMethod ? a.paymentMethod.label : t('driver.noCard')),
          a.pendingTopUps.length ? h('dt', {}, t('driver.pendingTopUps')) : null,
          a.pendingTopUps.length
            ? h('dd', { class: 'pending-top-ups' }, a.pendingTopUps.map((t) => money(t.amount, t.currency)).join(', '))
            : null,
        ),
      ),
    ),
  );
  const standing = h(
    'p',
    { class: 'muted standing' },
    credit.goodStanding
      ? t('driver.goodStanding', { score: credit.score, limit: money(credit.creditLimit, credit.currency) })
      : t('driver.lowStanding', { score: credit.score }),
  );
  // a payment method token as the payment provider's card form gives it (the built-in test provider: test_card_ok)
  const first = accounts[0];
  const form = h(
    'form',
    { id: 'card-form', novalidate: true, dataset: { lang: language() } },
    h('label', { for: 'card-token' }, first.paymentMethod ? t('driver.topUpLabel') : t('driver.cardTokenLabel')),
    first.paymentMethod
      ? h('input', {
          id: 'card-token',
          name: 'amount',
          inputmode: 'decimal',
          autocomplete: 'off',
          'aria-describedby': 'card-message',
        })
      : h('input', {
          id: 'card-token',
          name: 'token',
          autocomplete: 'off',
          spellcheck: 'false',
          'aria-describedby': 'card-message',
        }),
    h('button', { type: 'submit' }, first.paymentMethod ? t('driver.topUp') : t('driver.saveCard')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    say(message, '');
    try {
      if (first.paymentMethod) {
        const amount = Math.round(Number(form.elements.amount.value) * 100);
        if (!Number.isSafeInteger(amount) || amount < 1) return say(message, t('driver.badAmount'), 'error');
        const reference = `web-${Date.now()}`;
        await api('POST', `/v1/me/accounts/${first.id}/top-ups`, { secret: token, body: { amount, reference } });
        form.reset();
        await refresh();
        say(section.querySelector('.message'), t('driver.topUpSent'), 'ok');
      } else {
        const paymentMethod = form.elements.token.value.trim();
        if (!paymentMethod) return say(message, t('driver.noToken'), 'error');
        const m = await api('PUT', `/v1/me/accounts/${first.id}/payment-method`, {
          secret: token,
          body: { paymentMethod },
        });
        form.reset();
        await refresh();
        say(section.querySelector('.message'), t('driver.cardSaved', { card: m.label }), 'ok');
      }
    } catch (err) {
      say(message, errorText(err), 'error');
    }
  });
  const shown = keptForm(section, 'card-form', form);
  keep(section, list, standing, shown, shown === form ? message : section.querySelector('.message'));
}

function renderPlates(section, links, accounts, refresh) {
  const message = h('p', { class: 'message', role: 'alert', hidden: true, id: 'plate-message' });
  const list = links.length
    ? h(
        'ul',
        { class: 'plain plates' },
        links.map((l) =>
          h(
            'li',
            { class: 'plate-row', dataset: { plate: l.plate } },
            h('span', { class: 'plate' }, l.plate),
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'aria-label': t('driver.unlinkLabel', { plate: l.plate }),
                onclick: async () => {
                  try {
                    await api('DELETE', `/v1/me/links/${l.id}`, { secret: token });
                    await refresh();
                  } catch (err) {
                    say(message, errorText(err), 'error');
                  }
                },
              },
              t('driver.unlink'),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, t('driver.noPlates'));
  const form = h(
    'form',
    { class: 'inline', id: 'link-form', novalidate: true, dataset: { lang: language() } },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'plate' }, t('driver.plate')),
      h('input', {
        id: 'plate',
        name: 'plate',
        required: true,
        maxlength: 32,
        autocomplete: 'off',
        autocapitalize: 'characters',
        spellcheck: 'false',
        'aria-describedby': 'plate-hint plate-message',
      }),
      h('span', { class: 'hint', id: 'plate-hint' }, t('driver.plateHint')),
    ),
    accounts.length > 1
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: 'account' }, t('driver.payFrom')),
          h(
            'select',
            { id: 'account', name: 'account' },
            accounts.map((a) => h('option', { value: a.id }, `${a.label} (${a.currency})`)),
          ),
        )
      : null,
    h('button', { type: 'submit', class: 'primary' }, t('driver.linkPlate')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const plate = form.elements.plate.value.trim();
    say(message, '');
    if (!plate) return say(message, t('driver.bad.plate'), 'error');
    const accountId = form.elements.account ? form.elements.account.value : accounts[0].id;
    try {
      const link = await api('POST', '/v1/me/links', { secret: token, body: { plate, accountId } });
      form.reset();
      await refresh();
      say(section.querySelector('.message'), t('driver.linked', { plate: link.plate }), 'ok');
    } catch (err) {
      say(message, err.code === 'BAD_REQUEST' ? friendly(err.message) : errorText(err), 'error');
    }
  });
  // keep what the driver is typing across refreshes
  const shown = keptForm(section, 'link-form', form);
  keep(section, list, shown, shown === form ? message : section.querySelector('.message'));
}

function renderNow(section, parking) {
  if (!parking.sessions.length)
    return keep(section, h('p', { class: 'muted', id: 'no-session' }, t('driver.notParked')));
  keep(
    section,
    parking.sessions.map((s) =>
      h(
        'div',
        { class: 'stay', dataset: { session: s.id } },
        h(
          'p',
          { class: 'big' },
          h('span', { class: 'plate' }, s.plate),
          t('driver.parkedAt', { lot: s.lot ?? t('driver.someLot') }),
        ),
        h(
          'dl',
          { class: 'pairs' },
          h('dt', {}, t('driver.entered')),
          h('dd', {}, time(s.entryAt, s.utcOffsetMinutes)),
          h('dt', {}, t('driver.parkedFor')),
          h('dd', {}, duration(parking.now - s.entryAt)),
          h('dt', {}, s.status === 'open' ? t('driver.feeSoFar') : t('driver.fee')),
          // the only note the API gives: the stay's entry time cannot be right
          h('dd', { class: 'running-fee' }, s.note ? t('driver.entryTimeWrong') : money(s.fee, s.currency)),
        ),
      ),
    ),
  );
}

function renderHistory(section, receipts, sessions, k, lots) {
  if (!receipts.length) return keep(section, h('p', { class: 'muted' }, t('driver.noHistory')));
  const plateOf = new Map(sessions.map((s) => [s.id, s.plate]));
  const offsetOf = new Map(lots.map((l) => [l.id, l.utcOffsetMinutes]));
  const items = [...receipts]
    .sort((a, b) => b.settlement.exitAt - a.settlement.exitAt)
    .map((r) => {
      const s = r.settlement;
      const check = checkReceipt(r, k);
      const at = offsetOf.get(s.lotId);
      const badge =
        check.status === 'verified'
          ? h('span', { class: 'badge ok', title: t('driver.verifiedTitle') }, t('driver.verified'))
          : check.status === 'pending'
            ? h('span', { class: 'badge wait' }, t('driver.pending'))
            : h('span', { class: 'badge bad' }, t('driver.notVerified'));
      return h(
        'li',
        { class: 'receipt', dataset: { settlement: s.id, verification: check.status } },
        h(
          'div',
          { class: 'receipt-head' },
          h('span', { class: 'plate' }, plateOf.get(s.sessionId) ?? ''),
          h('span', { class: 'amount' }, money(s.amount, s.currency)),
          badge,
        ),
        h(
          'p',
          { class: 'muted' },
          `${time(s.entryAt, at)} → ${time(s.exitAt, at)} · ${duration(s.exitAt - s.entryAt)} · ${word('driver.method', s.method)}`,
        ),
        h(
          'details',
          {},
          h('summary', {}, t('driver.receiptDetails')),
          h(
            'dl',
            { class: 'pairs' },
            h('dt', {}, t('driver.receipt')),
            h('dd', { class: 'mono' }, s.id),
            h('dt', {}, t('driver.ledgerEntry')),
            h('dd', {}, r.ledgerIndex === null ? '—' : `#${r.ledgerIndex}`),
            check.status === 'verified'
              ? [h('dt', {}, t('driver.checkpoint')), h('dd', {}, t('driver.treeOf', { n: check.size }))]
              : null,
            check.status === 'verified'
              ? [
                  h('dt', {}, t('driver.cosignedBy')),
                  h('dd', {}, check.cosignedBy.join(', ') || t('driver.noWitnesses')),
                ]
              : null,
            check.status !== 'verified'
              ? [h('dt', {}, t('driver.why')), h('dd', { class: 'why' }, check.problem)]
              : null,
          ),
        ),
      );
    });
  keep(section, h('ul', { class: 'plain' }, items));
}

/** the page in the language just chosen: redrawn in place, what the driver typed stays */
window.addEventListener('languagechange', () => {
  if (showing.mode === 'home') void showing.refresh();
  else showSignIn(showing.mode);
});

if (token) void showHome();
else showSignIn();
