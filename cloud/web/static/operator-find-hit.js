// One stay found by "Find a car": the plate, the car park, entry and exit in the car park's local time with
// the plate images, the decision, and the receipt (settlement, ledger entry) with a button that checks it in
// this browser against the log's signed checkpoint, as the driver page does.
import { api, h, money } from './ui.js';
import { language, t } from './i18n.js';
import { checkReceipt } from './receipt-check.js';
import './operator-find-messages.js';

// Times and amounts are formatted here only (one place to change when ui.js formats in a lot's zone).
/** "4 Mar 2026, 09:30 (UTC+8)": the moment in the car park's own time zone */
export function lotTime(ms, utcOffsetMinutes) {
  if (ms === null || ms === undefined) return '—';
  const shifted = new Date(ms + utcOffsetMinutes * 60_000);
  const text = new Intl.DateTimeFormat(language(), { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short' }).format(
    shifted,
  );
  const sign = utcOffsetMinutes < 0 ? '−' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  const zone =
    abs === 0 ? 'UTC' : `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
  return `${text} (${zone})`;
}

const amount = (minor, currency) => money(minor, currency);

const pct = (c) => `${Math.round(c * 1000) / 10}%`;

/** a message of a known set (reasons, methods, statuses), else the value as the API gave it */
function known(prefix, value) {
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? value : text;
}

/** the plate image of a lane event, fetched with the key (an <img> cannot send it); "no image" once pruned */
function plateImage(eventId, alt, key, images) {
  const none = () => h('span', { class: 'crop none' }, t('find.crop.none'));
  const cached = images.get(eventId);
  if (cached === null) return none();
  const img = h('img', { class: 'crop', alt, width: 160, height: 48 });
  if (cached) {
    img.src = cached;
    return img;
  }
  fetch(`/web/api/operator/reads/${encodeURIComponent(eventId)}/crop`, { headers: { authorization: `Bearer ${key}` } })
    .then((r) => (r.ok ? r.blob() : null))
    .then((blob) => {
      if (!blob) {
        images.set(eventId, null);
        return img.replaceWith(none());
      }
      const url = URL.createObjectURL(blob);
      images.set(eventId, url);
      img.src = url;
    })
    .catch(() => img.replaceWith(none()));
  return img;
}

function decisionText(d) {
  if (!d) return '—';
  return t('find.decision.value', { action: known('find.action', d.action), reason: known('find.reason', d.reason) });
}

/** the receipt check, shown in `out` (a live region) */
async function verify(hit, key, out, button) {
  const s = hit.settlement;
  button.disabled = true;
  out.className = 'verify';
  out.textContent = t('find.verifying');
  try {
    const [receipt, keys] = await Promise.all([
      api('GET', `/v1/ledger/receipts/${encodeURIComponent(s.id)}`, { secret: key }),
      api('GET', '/web/api/ledger-keys'),
    ]);
    const check = checkReceipt(
      {
        record: receipt.record,
        ledgerIndex: receipt.index,
        proof: receipt.proof,
        checkpoint: receipt.checkpoint,
        settlement: { ...s, accountId: s.accountId },
      },
      keys,
    );
    out.dataset.verification = check.status;
    if (check.status === 'verified') {
      out.className = 'verify badge ok';
      out.textContent = t('find.verified', { index: check.index, size: check.size });
    } else if (check.status === 'pending') {
      out.className = 'verify badge wait';
      out.textContent = t('find.verify.pending');
    } else {
      out.className = 'verify badge bad';
      out.textContent = t('find.verify.failed', { problem: check.problem });
    }
  } catch (err) {
    // a receipt whose record is not in a checkpoint yet is answered with an error: try again later
    out.dataset.verification = 'pending';
    out.className = 'verify badge wait';
    out.textContent = err.status === 409 || err.status === 404 ? t('find.verify.pending') : err.message;
  } finally {
    button.disabled = false;
  }
}

function receiptOf(hit, key) {
  const s = hit.settlement;
  if (!s) return h('p', { class: 'muted' }, t('find.receipt.none'));
  const out = h('p', { class: 'verify', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary' }, t('find.verify'));
  button.addEventListener('click', () => void verify(hit, key, out, button));
  return h(
    'div',
    { class: 'find-receipt', dataset: { settlement: s.id } },
    h(
      'dl',
      { class: 'pairs' },
      h('dt', {}, t('find.receipt.amount')),
      h('dd', { class: 'amount' }, amount(s.amount, s.currency)),
      h('dt', {}, t('find.receipt.method')),
      h('dd', {}, known('find.method', s.method)),
      h('dt', {}, t('find.receipt.id')),
      h('dd', { class: 'mono' }, s.id),
      h('dt', {}, t('find.receipt.ledger')),
      h('dd', {}, s.ledgerIndex === null ? t('find.receipt.ledger.pending') : `#${s.ledgerIndex}`),
    ),
    h('div', { class: 'actions' }, button),
    out,
  );
}

/** the card of one stay; `images` caches plate images by event id across renders */
export function renderHit(hit, key, images) {
  const zone = hit.lot.utcOffsetMinutes;
  const exit = hit.exit;
  const decision = exit?.decision ?? hit.entry.decision;
  const statusClass = hit.status === 'closed' ? 'neutral' : hit.status === 'open' ? 'ok' : 'wait';
  const headingId = `hit-${hit.sessionId}`;
  return h(
    'li',
    { class: 'find-hit', dataset: { session: hit.sessionId, status: hit.status }, 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'plate-row' },
      h('h3', { id: headingId }, h('span', { class: 'plate' }, hit.plate), ' ', hit.lot.name),
      hit.exact
        ? h('span', { class: 'badge neutral' }, t('find.exact'))
        : h('span', { class: 'badge wait', title: t('find.lookalike.title') }, t('find.lookalike')),
      h('span', { class: `badge ${statusClass}` }, known('find.status', hit.status)),
    ),
    h(
      'div',
      { class: 'find-events' },
      h(
        'figure',
        { class: 'find-event' },
        plateImage(hit.entry.eventId, t('find.crop.entry', { plate: hit.plate }), key, images),
        h(
          'figcaption',
          {},
          h('strong', {}, t('find.entered')),
          ' ',
          lotTime(hit.entry.at, zone),
          h('br'),
          h('span', { class: 'muted' }, t('find.confidence', { pct: pct(hit.entry.confidence) })),
        ),
      ),
      h(
        'figure',
        { class: 'find-event' },
        exit
          ? plateImage(exit.eventId, t('find.crop.exit', { plate: hit.plate }), key, images)
          : h('span', { class: 'crop none' }, '—'),
        h(
          'figcaption',
          {},
          h('strong', {}, t('find.left')),
          ' ',
          exit && exit.at !== null ? lotTime(exit.at, zone) : t('find.notLeft'),
          exit && exit.confidence !== null
            ? [h('br'), h('span', { class: 'muted' }, t('find.confidence', { pct: pct(exit.confidence) }))]
            : null,
        ),
      ),
    ),
    h(
      'dl',
      { class: 'pairs' },
      h('dt', {}, t('find.decision')),
      h('dd', { class: 'decision' }, decisionText(decision)),
      h('dt', {}, t('find.fee')),
      h('dd', {}, hit.fee === null ? '—' : amount(hit.fee, hit.lot.currency)),
    ),
    h('h4', {}, t('find.receipt')),
    receiptOf(hit, key),
  );
}
