// The driver's page: sign up or sign in, link and unlink plates, wallets, the current stay with its
// running fee, and past stays with receipts that are checked in this browser against the ledger's keys.
import { api, h, money, time, duration, say } from './ui.js';
import { checkReceipt } from './receipt-check.js';

const main = document.getElementById('main');
const signOutButton = document.getElementById('sign-out');
const TOKEN = 'platepay.driverToken';
let token = localStorage.getItem(TOKEN);
let keys = null;
let refreshTimer = null;

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
  signOutButton.hidden = true;
  const message = h('p', { class: 'message', role: 'alert', hidden: true });
  const up = mode === 'up';
  const form = h(
    'form',
    { class: 'card', id: up ? 'sign-up-form' : 'sign-in-form', novalidate: true },
    h('h2', {}, up ? 'Create an account' : 'Sign in'),
    up ? field('name', 'Your name', { autocomplete: 'name', required: true, maxlength: 100 }) : null,
    field('email', 'Email', { type: 'email', autocomplete: 'email', required: true }),
    field('password', 'Password', {
      type: 'password',
      autocomplete: up ? 'new-password' : 'current-password',
      required: true,
      minlength: up ? 8 : 1,
      'aria-describedby': up ? 'password-hint' : null,
    }),
    up ? h('p', { class: 'hint', id: 'password-hint' }, 'At least 8 characters.') : null,
    message,
    h('button', { type: 'submit', class: 'primary' }, up ? 'Create account' : 'Sign in'),
    h(
      'p',
      {},
      up ? 'Already have an account? ' : 'New here? ',
      h(
        'button',
        { type: 'button', class: 'link', onclick: () => showSignIn(up ? 'in' : 'up') },
        up ? 'Sign in' : 'Create an account',
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
      say(message, err.code === 'BAD_REQUEST' ? friendly(err.message) : err.message, 'error');
    }
  });
  main.replaceChildren(form);
  form.querySelector('input').focus();
}

/** fastify's schema messages, in words a driver reads */
function friendly(message) {
  if (/email/.test(message)) return 'Enter a valid email address.';
  if (/password/.test(message)) return 'The password must be at least 8 characters.';
  if (/name/.test(message)) return 'Enter your name.';
  if (/plate/.test(message)) return 'Enter a plate number.';
  return message;
}

async function loadKeys() {
  if (!keys) keys = await api('GET', '/web/api/ledger-keys');
  return keys;
}

async function showHome() {
  signOutButton.hidden = false;
  const sections = {
    wallet: h('section', { class: 'card', 'aria-labelledby': 'wallet-h' }, h('h2', { id: 'wallet-h' }, 'Wallet')),
    plates: h('section', { class: 'card', 'aria-labelledby': 'plates-h' }, h('h2', { id: 'plates-h' }, 'My plates')),
    now: h('section', { class: 'card', 'aria-labelledby': 'now-h' }, h('h2', { id: 'now-h' }, 'Parking now')),
    history: h(
      'section',
      { class: 'card', 'aria-labelledby': 'history-h' },
      h('h2', { id: 'history-h' }, 'History and receipts'),
    ),
  };
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
      greeting.textContent = `Signed in as ${me.driver.name} (${me.driver.email})`;
      renderWallet(sections.wallet, me.accounts, credit, refresh);
      renderPlates(sections.plates, links.links, me.accounts, refresh);
      renderNow(sections.now, parking);
      renderHistory(sections.history, receipts.receipts, sessions.sessions, k);
    } catch (err) {
      if (err.status === 401) {
        localStorage.removeItem(TOKEN);
        token = null;
        showSignIn();
      }
    }
  };
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

function renderWallet(section, accounts, credit, refresh) {
  const message = h('p', { class: 'message', role: 'alert', hidden: true });
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
          h('dt', {}, 'Balance'),
          h('dd', { class: 'balance' }, money(a.balance, a.currency)),
          h('dt', {}, 'Available incl. credit'),
          h('dd', { class: 'available' }, money(a.available, a.currency)),
          h('dt', {}, 'Card for parking'),
          h(
            'dd',
            { class: 'payment-method' },
            a.paymentMethod ? a.paymentMethod.label : 'none: exits are paid from the balance',
          ),
          a.pendingTopUps.length ? h('dt', {}, 'Top-ups waiting for the bank') : null,
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
      ? `Good standing (score ${credit.score}): you may owe up to ${money(credit.creditLimit, credit.currency)}.`
      : `Credit score ${credit.score}: exits are paid when you leave (save a card to park without a deposit).`,
  );
  // a payment method token as the payment provider's card form gives it (the built-in test provider: test_card_ok)
  const first = accounts[0];
  const form = h(
    'form',
    { id: 'card-form', novalidate: true },
    h(
      'label',
      { for: 'card-token' },
      first.paymentMethod ? 'Top up with the saved card (amount)' : 'Card token from the payment page',
    ),
    first.paymentMethod
      ? h('input', { id: 'card-token', name: 'amount', inputmode: 'decimal', autocomplete: 'off' })
      : h('input', { id: 'card-token', name: 'token', autocomplete: 'off', spellcheck: 'false' }),
    h('button', { type: 'submit' }, first.paymentMethod ? 'Top up' : 'Save card'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    say(message, '');
    try {
      if (first.paymentMethod) {
        const amount = Math.round(Number(form.elements.amount.value) * 100);
        if (!Number.isSafeInteger(amount) || amount < 1) return say(message, 'Enter an amount such as 50.', 'error');
        const reference = `web-${Date.now()}`;
        await api('POST', `/v1/me/accounts/${first.id}/top-ups`, { secret: token, body: { amount, reference } });
        form.reset();
        await refresh();
        say(
          section.querySelector('.message'),
          'Top-up sent to the bank; it shows in the balance once the bank confirms it.',
          'ok',
        );
      } else {
        const paymentMethod = form.elements.token.value.trim();
        if (!paymentMethod) return say(message, 'Enter the card token.', 'error');
        const m = await api('PUT', `/v1/me/accounts/${first.id}/payment-method`, {
          secret: token,
          body: { paymentMethod },
        });
        form.reset();
        await refresh();
        say(section.querySelector('.message'), `${m.label} saved: your exits are charged on it.`, 'ok');
      }
    } catch (err) {
      say(message, err.message, 'error');
    }
  });
  const old = section.querySelector('#card-form');
  if (old && (old.contains(document.activeElement) || old.querySelector('input').value)) {
    keep(section, list, standing, old, section.querySelector('.message') ?? message);
    return;
  }
  keep(section, list, standing, form, message);
}

function renderPlates(section, links, accounts, refresh) {
  const message = h('p', { class: 'message', role: 'alert', hidden: true });
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
                'aria-label': `Unlink ${l.plate}`,
                onclick: async () => {
                  try {
                    await api('DELETE', `/v1/me/links/${l.id}`, { secret: token });
                    await refresh();
                  } catch (err) {
                    say(message, err.message, 'error');
                  }
                },
              },
              'Unlink',
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'No plates linked yet.');
  const form = h(
    'form',
    { class: 'inline', id: 'link-form', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'plate' }, 'Plate number'),
      h('input', {
        id: 'plate',
        name: 'plate',
        required: true,
        maxlength: 32,
        autocomplete: 'off',
        autocapitalize: 'characters',
        spellcheck: 'false',
        'aria-describedby': 'plate-hint',
      }),
      h('span', { class: 'hint', id: 'plate-hint' }, 'As on the plate, e.g. 皖A12345, 7ABC123 or BA123CD.'),
    ),
    accounts.length > 1
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: 'account' }, 'Pay from'),
          h(
            'select',
            { id: 'account', name: 'account' },
            accounts.map((a) => h('option', { value: a.id }, `${a.label} (${a.currency})`)),
          ),
        )
      : null,
    h('button', { type: 'submit', class: 'primary' }, 'Link plate'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const plate = form.elements.plate.value.trim();
    say(message, '');
    if (!plate) return say(message, 'Enter a plate number.', 'error');
    const accountId = form.elements.account ? form.elements.account.value : accounts[0].id;
    try {
      const link = await api('POST', '/v1/me/links', { secret: token, body: { plate, accountId } });
      form.reset();
      await refresh();
      say(section.querySelector('.message'), `${link.plate} is linked.`, 'ok');
    } catch (err) {
      say(message, err.code === 'BAD_REQUEST' ? friendly(err.message) : err.message, 'error');
    }
  });
  // keep what the driver is typing across refreshes
  const old = section.querySelector('#link-form');
  if (old && (old.contains(document.activeElement) || old.elements.plate.value)) {
    const oldMessage = section.querySelector('.message');
    keep(section, list, old, oldMessage ?? message);
    return;
  }
  keep(section, list, form, message);
}

function renderNow(section, parking) {
  if (!parking.sessions.length)
    return keep(section, h('p', { class: 'muted', id: 'no-session' }, 'Not parked anywhere.'));
  keep(
    section,
    parking.sessions.map((s) =>
      h(
        'div',
        { class: 'stay', dataset: { session: s.id } },
        h('p', { class: 'big' }, h('span', { class: 'plate' }, s.plate), ' at ', s.lot ?? 'a car park'),
        h(
          'dl',
          { class: 'pairs' },
          h('dt', {}, 'Entered'),
          h('dd', {}, time(s.entryAt)),
          h('dt', {}, 'Parked for'),
          h('dd', {}, duration(parking.now - s.entryAt)),
          h('dt', {}, s.status === 'open' ? 'Fee so far' : 'Fee'),
          h('dd', { class: 'running-fee' }, s.note ?? money(s.fee, s.currency)),
        ),
      ),
    ),
  );
}

const METHOD = {
  wallet: 'charged to wallet',
  'paid-before-exit': 'paid before exit',
  free: 'free stay',
  waived: 'waived',
};

function renderHistory(section, receipts, sessions, k) {
  if (!receipts.length) return keep(section, h('p', { class: 'muted' }, 'No finished stays yet.'));
  const plateOf = new Map(sessions.map((s) => [s.id, s.plate]));
  const items = [...receipts]
    .sort((a, b) => b.settlement.exitAt - a.settlement.exitAt)
    .map((r) => {
      const s = r.settlement;
      const check = checkReceipt(r, k);
      const badge =
        check.status === 'verified'
          ? h('span', { class: 'badge ok', title: 'checked in this browser' }, '✓ verified')
          : check.status === 'pending'
            ? h('span', { class: 'badge wait' }, 'pending')
            : h('span', { class: 'badge bad' }, '✗ not verified');
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
          `${time(s.entryAt)} → ${time(s.exitAt)} · ${duration(s.exitAt - s.entryAt)} · ${METHOD[s.method] ?? s.method}`,
        ),
        h(
          'details',
          {},
          h('summary', {}, 'Receipt details'),
          h(
            'dl',
            { class: 'pairs' },
            h('dt', {}, 'Receipt'),
            h('dd', { class: 'mono' }, s.id),
            h('dt', {}, 'Ledger entry'),
            h('dd', {}, r.ledgerIndex === null ? '—' : `#${r.ledgerIndex}`),
            check.status === 'verified'
              ? [h('dt', {}, 'Checkpoint'), h('dd', {}, `tree of ${check.size} entries`)]
              : null,
            check.status === 'verified'
              ? [h('dt', {}, 'Cosigned by'), h('dd', {}, check.cosignedBy.join(', ') || 'no witnesses configured')]
              : null,
            check.status !== 'verified' ? [h('dt', {}, 'Why'), h('dd', { class: 'why' }, check.problem)] : null,
          ),
        ),
      );
    });
  keep(section, h('ul', { class: 'plain' }, items));
}

if (token) void showHome();
else showSignIn();
