// The console's live view: lots, gates and lanes with their latest reads (plate crop, confidence,
// decision; the lane and barrier state the gate reports, and its offline queue), the review queue with
// buttons to resolve, today's settlements and the latest ledger checkpoint. It draws what
// /web/api/operator/dashboard gives; operator.js fetches it and calls render() when something changed.
// Times are each car park's own (its tariff's UTC offset); words are the page's language.
import { api, errorText, h, money, time, clock, say } from './ui.js';
import { t, tn, word } from './i18n.js';
import './i18n-operator.js';

/**
 * `key()` is the operator's API key, `refresh()` re-reads the dashboard. Returns the view's parts:
 * `parts` go into the live panel, `tell(() => text, kind)` shows a notice (its text made again after a
 * change of language), `render(data)` draws, `retranslate()` redraws in the page's language now.
 */
export function createLiveView({ key, refresh }) {
  const crops = new Map(); // eventId -> object URL
  const heading = (id, text) => h('h2', { id }, text);
  const view = {
    lots: h('section', { 'aria-labelledby': 'lots-h', id: 'lots' }, heading('lots-h', t('live.lanes'))),
    reviews: h(
      'section',
      { class: 'card', 'aria-labelledby': 'reviews-h', id: 'reviews' },
      heading('reviews-h', t('live.reviews')),
    ),
    today: h(
      'section',
      { class: 'card', 'aria-labelledby': 'today-h', id: 'today' },
      heading('today-h', t('live.today')),
    ),
    ledger: h(
      'section',
      { class: 'card', 'aria-labelledby': 'ledger-h', id: 'ledger' },
      heading('ledger-h', t('live.ledger')),
    ),
  };
  const notice = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', hidden: true, id: 'notice' });
  const main = h(
    'div',
    { class: 'dash' },
    view.lots,
    h('div', { class: 'side' }, view.reviews, view.today, view.ledger),
  );
  let last = null;
  /** the notice's text, made again in the page's language when it changes */
  let noticeText = null;
  function tell(make, kind) {
    noticeText = { make, kind };
    say(notice, make(), kind);
  }
  /** hides the notice if it is an error (a later read went through) */
  function clearError() {
    if (noticeText?.kind !== 'error') return;
    noticeText = null;
    say(notice, '');
  }

  function keep(section, ...children) {
    section.replaceChildren(
      section.firstElementChild,
      ...children.flat(Infinity).filter((c) => c !== null && c !== undefined),
    );
  }

  /** the crop of a lane event, fetched with the key (an <img> cannot send it) */
  function crop(eventId, plate) {
    const img = h('img', { class: 'crop', alt: t('live.cropAlt', { plate }), width: 160, height: 48 });
    const cached = crops.get(eventId);
    if (cached) img.src = cached;
    else
      fetch(`/web/api/operator/reads/${encodeURIComponent(eventId)}/crop`, {
        headers: { authorization: `Bearer ${key()}` },
      })
        .then((r) => (r.ok ? r.blob() : null))
        .then((b) => {
          if (!b) return img.replaceWith(noImage());
          const url = URL.createObjectURL(b);
          crops.set(eventId, url);
          img.src = url;
        })
        .catch(() => undefined);
    return img;
  }
  const noImage = () => h('span', { class: 'crop none' }, t('live.noImage'));

  const pct = (c) => `${Math.round(c * 1000) / 10}%`;

  function render(d) {
    last = d;
    // a re-render must not take the operator's choice or keyboard focus away
    const focused = document.activeElement && document.activeElement.id;
    const chosen = new Map([...main.querySelectorAll('select[id]')].map((s) => [s.id, s.value]));
    keep(view.lots, d.lots.length ? d.lots.map((lot) => renderLot(lot)) : h('p', { class: 'muted' }, t('live.noLots')));
    renderReviews(d);
    renderToday(d);
    renderLedger(d.checkpoint);
    for (const [id, value] of chosen) {
      const s = document.getElementById(id);
      if (s && [...s.options].some((o) => o.value === value)) s.value = value;
    }
    if (focused) document.getElementById(focused)?.focus();
  }

  function retranslate() {
    view.lots.firstElementChild.textContent = t('live.lanes');
    view.reviews.firstElementChild.textContent = t('live.reviews');
    view.today.firstElementChild.textContent = t('live.today');
    view.ledger.firstElementChild.textContent = t('live.ledger');
    if (noticeText && !notice.hidden) say(notice, noticeText.make(), noticeText.kind);
    if (last) render(last);
  }

  function renderLot(lot) {
    const at = lot.utcOffsetMinutes;
    const totals =
      Object.entries(lot.today.totals)
        .map(([c, v]) => money(v, c))
        .join(' + ') || money(0, lot.currency);
    return h(
      'article',
      { class: 'card lot', dataset: { lot: lot.id } },
      h('h3', {}, lot.name),
      h('p', { class: 'muted' }, tn('live.lotToday', lot.today.settlements, { total: totals })),
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
              g.revoked
                ? t('live.gate.revoked')
                : g.online
                  ? t('live.gate.online', { time: clock(g.onlineSince, at) })
                  : t('live.gate.offline'),
            ),
            g.online && g.status
              ? h(
                  'span',
                  { class: 'gate-report muted', dataset: { outbox: String(g.status.outboxDepth) } },
                  ' · ',
                  h(
                    'span',
                    { class: g.status.outboxDepth > 0 ? 'badge wait' : null },
                    t('live.gate.queue', { n: g.status.outboxDepth }),
                  ),
                  ` · ${t('live.gate.reported', { time: clock(g.status.receivedAt, at) })}`,
                )
              : null,
          ),
        ),
      ),
      h(
        'div',
        { class: 'lanes' },
        lot.lanes.map((lane) => renderLane(lane, at)),
      ),
    );
  }

  /** the barrier as the gate reports it: open, closed, or unknown (a command failed or went unanswered) */
  const BARRIER_BADGE = { open: 'ok', closed: 'neutral', unknown: 'bad' };

  function renderLane(lane, at) {
    const b = lane.barrier;
    const r = lane.reported;
    const lastDecision = [
      b
        ? h(
            'span',
            { class: `badge ${b.action === 'open' ? 'ok' : 'bad'}` },
            b.action === 'open' ? t('live.opened') : t('live.held'),
          )
        : h('span', { class: 'muted' }, t('live.noCar')),
      b ? ` ${b.plate} · ${word('live.reason', b.reason)} · ${clock(b.at, at)}` : '',
    ];
    return h(
      'div',
      { class: 'lane', dataset: { lane: lane.id } },
      h('h4', {}, `${lane.name} `, h('span', { class: 'muted' }, `(${word('live.direction', lane.direction)})`)),
      // the gate's own report when there is one; else the cloud's last decision stands in for it
      r
        ? h(
            'p',
            { class: 'barrier', dataset: { barrier: r.barrier, laneState: r.state } },
            t('live.barrier'),
            h('span', { class: `badge ${BARRIER_BADGE[r.barrier] ?? 'bad'}` }, word('live.barrierState', r.barrier)),
            h(
              'span',
              { class: 'muted' },
              ` · ${t('live.laneReport', { state: word('live.laneState', r.state), time: clock(r.receivedAt, at) })}`,
            ),
          )
        : h('p', { class: 'barrier' }, t('live.barrier'), ...lastDecision),
      r ? h('p', { class: 'last-decision' }, t('live.lastDecision'), ...lastDecision) : null,
      lane.reads.length
        ? h(
            'div',
            // it scrolls sideways on a narrow screen: a named region the keyboard can reach and scroll
            {
              class: 'table-wrap',
              id: `reads-${lane.id}`, // so a re-render gives the focus back
              tabindex: 0,
              role: 'region',
              'aria-label': t('live.readsCaption', { lane: lane.name }),
            },
            h(
              'table',
              { class: 'reads' },
              h('caption', { class: 'sr-only' }, t('live.readsCaption', { lane: lane.name })),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', { scope: 'col' }, t('live.col.camera')),
                  h('th', { scope: 'col' }, t('live.col.read')),
                  h('th', { scope: 'col' }, t('live.col.decision')),
                ),
              ),
              h(
                'tbody',
                {},
                lane.reads.map((read) =>
                  h(
                    'tr',
                    { class: 'read', dataset: { event: read.eventId } },
                    h('td', {}, read.hasCrop ? crop(read.eventId, read.plate) : noImage()),
                    h(
                      'td',
                      {},
                      h('span', { class: 'plate' }, read.plate),
                      h('br'),
                      h(
                        'span',
                        { class: `confidence${read.confidence < 0.9 ? ' warn' : ''}`, title: t('live.confidence') },
                        pct(read.confidence),
                      ),
                      h('span', { class: 'muted' }, ` · ${clock(read.at, at)}`),
                    ),
                    h(
                      'td',
                      {},
                      `${word('live.action', read.action)} · ${word('live.reason', read.reason)}`,
                      read.fee ? ` · ${money(read.fee, read.currency)}` : '',
                    ),
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, t('live.noReads')),
    );
  }

  function renderReviews(d) {
    const laneName = new Map(d.lots.flatMap((l) => l.lanes.map((x) => [x.id, `${l.name} · ${x.name}`])));
    const offsetOf = new Map(d.lots.map((l) => [l.id, l.utcOffsetMinutes]));
    if (!d.reviews.length) return keep(view.reviews, h('p', { class: 'muted', id: 'no-reviews' }, t('live.noReviews')));
    keep(
      view.reviews,
      h(
        'ul',
        { class: 'plain' },
        d.reviews.map((r) => renderReview(r, laneName, offsetOf.get(r.lotId))),
      ),
    );
  }

  function renderReview(r, laneName, at) {
    const message = h('p', { class: 'message', role: 'alert', hidden: true, id: `review-message-${r.id}` });
    const selectId = `session-${r.id}`;
    const sessions = [...r.candidates, ...r.otherSessions];
    const option = (s) =>
      h('option', { value: s.id }, t('live.stayOption', { plate: s.plate, time: time(s.entryAt, at) }));
    const select = h(
      'select',
      { id: selectId, 'aria-describedby': message.id },
      sessions.length ? null : h('option', { value: '' }, t('live.noOpenStay')),
      r.candidates.length ? h('optgroup', { label: t('live.likely') }, r.candidates.map(option)) : null,
      r.otherSessions.length ? h('optgroup', { label: t('live.otherStays') }, r.otherSessions.map(option)) : null,
    );
    const act = (action) => async () => {
      const body = action === 'dismiss' ? { action } : { action, sessionId: select.value };
      if (action !== 'dismiss' && !select.value) return say(message, t('live.chooseStay'), 'error');
      try {
        const out = await api('POST', `/v1/reviews/${r.id}/resolve`, { secret: key(), body });
        const dd = out.decision;
        tell(() => {
          const reason = word('live.reason', dd.reason);
          if (action === 'dismiss') return t('live.dismissed', { plate: r.plate });
          return dd.fee
            ? t('live.resolvedFee', { plate: r.plate, reason, fee: money(dd.fee, dd.currency) })
            : t('live.resolved', { plate: r.plate, reason });
        }, 'ok');
        await refresh();
      } catch (err) {
        say(message, errorText(err), 'error');
      }
    };
    const button = (action, label, kind, needsStay) =>
      h(
        'button',
        {
          type: 'button',
          id: `${action}-${r.id}`,
          class: kind,
          onclick: act(action),
          disabled: needsStay && !sessions.length,
        },
        label,
      );
    return h(
      'li',
      { class: 'review', dataset: { review: r.id } },
      h(
        'div',
        { class: 'review-head' },
        r.hasCrop ? crop(r.eventId, r.plate) : noImage(),
        h(
          'div',
          {},
          h('p', {}, h('span', { class: 'plate' }, r.plate), t('live.readAt', { confidence: pct(r.confidence) })),
          h(
            'p',
            { class: 'muted' },
            `${laneName.get(r.laneId) ?? ''} · ${time(r.at, at)} · ${word('live.reason', r.reason)}`,
          ),
        ),
      ),
      h('div', { class: 'field' }, h('label', { for: selectId }, t('live.stayLabel')), select),
      h(
        'div',
        { class: 'actions' },
        button('match', t('live.match'), 'primary', true),
        button('waive', t('live.waive'), 'secondary', true),
        button('dismiss', t('live.dismiss'), 'secondary', false),
      ),
      message,
    );
  }

  function renderToday(d) {
    const rows = d.lots.flatMap((l) =>
      l.today.latest.map((s) => ({ ...s, lot: l.name, utcOffsetMinutes: l.utcOffsetMinutes })),
    );
    rows.sort((a, b) => b.settledAt - a.settledAt);
    if (!rows.length) return keep(view.today, h('p', { class: 'muted' }, t('live.noSettlements')));
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
            h('th', { scope: 'col' }, t('live.col.time')),
            h('th', { scope: 'col' }, t('live.col.lot')),
            h('th', { scope: 'col' }, t('live.col.amount')),
            h('th', { scope: 'col' }, t('live.col.how')),
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
                h('td', {}, clock(s.settledAt, s.utcOffsetMinutes)),
                h('td', {}, s.lot),
                h('td', { class: 'num' }, money(s.amount, s.currency)),
                h('td', {}, word('live.method', s.method)),
              ),
            ),
        ),
      ),
    );
  }

  /** the checkpoint belongs to no car park: its times are the reader's own */
  function renderLedger(c) {
    if (!c) return keep(view.ledger, h('p', { class: 'muted' }, t('live.noCheckpoint')));
    keep(
      view.ledger,
      h(
        'dl',
        { class: 'pairs' },
        h('dt', {}, t('live.log')),
        h('dd', { class: 'mono' }, c.origin),
        h('dt', {}, t('live.size')),
        h('dd', { id: 'checkpoint-size' }, t('live.records', { n: c.size })),
        h('dt', {}, t('live.root')),
        h('dd', { class: 'mono wrap' }, c.root),
        h('dt', {}, t('live.signed')),
        h(
          'dd',
          {},
          `${time(c.createdAt)} · `,
          h(
            'span',
            { class: `badge ${c.logSignatureValid ? 'ok' : 'bad'}` },
            c.logSignatureValid ? t('live.sigValid') : t('live.sigInvalid'),
          ),
        ),
        h('dt', {}, t('live.cosignedBy')),
        h(
          'dd',
          { id: 'cosigners' },
          c.cosignatures.length
            ? c.cosignatures.map((w) =>
                h(
                  'span',
                  { class: 'badge ok' },
                  w.timestamp ? t('live.cosignedAt', { name: w.name, time: clock(w.timestamp * 1000) }) : w.name,
                ),
              )
            : h('span', { class: 'muted' }, t('live.nobody')),
          ` · ${c.final ? t('live.final') : t('live.needs', { quorum: c.quorum })}`,
        ),
      ),
    );
  }

  return { parts: [notice, main], tell, clearError, render, retranslate };
}
