// Manage tab: money after the fact. Unpaid stays of the car park (pending payments); refunds of a
// settlement, with the reason recorded (never more than it charged; each request carries its own id, so a
// form sent twice refunds once); plate disputes between drivers, resolved by giving the plate to the
// claimant or rejecting the claim.
import { h, say, time } from './ui.js';
import { t } from './i18n.js';
import {
  amount,
  confirmButton,
  field,
  form,
  input,
  lotTime,
  minorFromText,
  textFromMinor,
} from './operator-manage-forms.js';

export function pendingSection(ctx, lot) {
  const offset = lot.tariff.utcOffsetMinutes;
  const rows = ctx.state.pending;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-pending-h', id: 'manage-pending' },
    h('h3', { id: 'manage-pending-h' }, t('manage.pending.title')),
    rows.length
      ? h(
          'table',
          { class: 'pending' },
          h('caption', { class: 'sr-only' }, t('manage.pending.title')),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('manage.col.plate')),
              h('th', { scope: 'col' }, t('manage.col.amount')),
              h('th', { scope: 'col' }, t('manage.col.since')),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((p) =>
              h(
                'tr',
                { dataset: { pending: p.id } },
                h('td', {}, h('span', { class: 'plate' }, p.plate)),
                h('td', { class: 'num' }, amount(p.amount, p.currency)),
                h('td', {}, lotTime(p.createdAt, offset)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted', id: 'manage-no-pending' }, t('manage.pending.none')),
  );
}

const REFUNDABLE = new Set(['wallet', 'paid-before-exit']);

function newRequestId() {
  return `console-${window.crypto.randomUUID()}`;
}

async function openRefund(ctx, settlementId) {
  const found = await ctx.call('GET', `/v1/settlements/${encodeURIComponent(settlementId)}/refunds`);
  ctx.state.refund = { ...found, requestId: newRequestId() };
  ctx.render();
  document.getElementById('refund-amount')?.focus();
}

export function refundsSection(ctx, lot) {
  const offset = lot.tariff.utcOffsetMinutes;
  const today = ctx.liveLot()?.today.latest ?? [];
  const alert = h('p', { class: 'message', id: 'refund-find-alert', role: 'alert', hidden: true });
  const which = field({
    label: t('manage.refund.settlement'),
    control: input('refund-settlement', {
      autocomplete: 'off',
      class: 'mono',
      value: ctx.state.refund?.settlementId ?? '',
    }),
    hint: t('manage.refund.settlementHint'),
    names: ['settlementId'],
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-refunds-h', id: 'manage-refunds' },
    h('h3', { id: 'manage-refunds-h' }, t('manage.refund.title')),
    today.length
      ? h(
          'table',
          { class: 'refundable' },
          h('caption', { class: 'sr-only' }, t('manage.refund.today')),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, t('manage.col.time')),
              h('th', { scope: 'col' }, t('manage.col.amount')),
              h('th', { scope: 'col' }, t('manage.col.method')),
              h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('manage.col.actions'))),
            ),
          ),
          h(
            'tbody',
            {},
            today.map((s) =>
              h(
                'tr',
                { dataset: { settlement: s.settlementId } },
                h('td', {}, lotTime(s.settledAt, offset)),
                h('td', { class: 'num' }, amount(s.amount, s.currency)),
                h('td', {}, t(`manage.method.${s.method}`)),
                h(
                  'td',
                  {},
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'link',
                      id: `refund-open-${s.settlementId}`,
                      onclick: () => openRefund(ctx, s.settlementId).catch((err) => say(alert, err.message, 'error')),
                    },
                    t('manage.refund.open', { amount: amount(s.amount, s.currency) }),
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('manage.refund.noneToday')),
    form({
      id: 'refund-find-form',
      fields: [which],
      submitLabel: t('manage.refund.find'),
      after: [alert],
      onSubmit: async () => {
        const id = which.control.value.trim();
        if (!/^stl_[0-9a-f]{32}$/.test(id)) {
          const err = new Error(t('manage.refund.badId'));
          err.field = 'settlementId';
          throw err;
        }
        await openRefund(ctx, id);
      },
    }),
    ctx.state.refund ? refundDetail(ctx, offset) : null,
  );
}

function refundDetail(ctx, offset) {
  const r = ctx.state.refund;
  const amountField = field({
    label: t('manage.refund.amount', { currency: r.currency }),
    control: input('refund-amount', {
      inputmode: 'decimal',
      autocomplete: 'off',
      value: textFromMinor(r.refundable, r.currency),
    }),
    names: ['amount'],
  });
  const reason = field({
    label: t('manage.refund.reason'),
    control: input('refund-reason', { autocomplete: 'off', maxlength: 500 }),
    hint: t('manage.refund.reasonHint'),
    names: ['reason', 'requestId'],
  });
  return h(
    'div',
    { class: 'refund-detail', id: 'refund-detail', dataset: { settlement: r.settlementId } },
    h('h4', {}, t('manage.refund.of', { id: r.settlementId })),
    h(
      'dl',
      { class: 'pairs' },
      h('dt', {}, t('manage.refund.charged')),
      h('dd', { id: 'refund-charged' }, amount(r.charged, r.currency), ' · ', t(`manage.method.${r.method}`)),
      h('dt', {}, t('manage.refund.refunded')),
      h('dd', { id: 'refund-refunded' }, amount(r.refunded, r.currency)),
      h('dt', {}, t('manage.refund.refundable')),
      h('dd', { id: 'refund-refundable' }, amount(r.refundable, r.currency)),
    ),
    r.refunds.length
      ? h(
          'ul',
          { class: 'plain refunds' },
          r.refunds.map((x) =>
            h(
              'li',
              { dataset: { refund: x.id } },
              amount(x.amount, x.currency),
              ' · ',
              lotTime(x.createdAt, offset),
              ' · ',
              h('q', {}, x.reason),
            ),
          ),
        )
      : null,
    !REFUNDABLE.has(r.method)
      ? h('p', { class: 'muted' }, t(r.method === 'card' ? 'manage.refund.card' : 'manage.refund.nothing'))
      : ctx.canChange() && r.refundable > 0
        ? form({
            id: 'refund-form',
            fields: [amountField, reason],
            submitLabel: t('manage.refund.give'),
            onSubmit: async () => {
              const minor = minorFromText(amountField.control.value, r.currency, 'amount');
              const done = await ctx.call('POST', `/v1/settlements/${r.settlementId}/refunds`, {
                requestId: r.requestId,
                amount: minor,
                reason: reason.control.value,
              });
              await openRefund(ctx, r.settlementId);
              await ctx.changed(t('manage.refund.done', { amount: amount(done.amount, done.currency) }));
            },
          })
        : null,
  );
}

export function disputesSection(ctx) {
  const alert = h('p', { class: 'message', id: 'manage-disputes-alert', role: 'alert', hidden: true });
  const list = ctx.state.disputes;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-disputes-h', id: 'manage-disputes' },
    h('h3', { id: 'manage-disputes-h' }, t('manage.disputes.title')),
    list.length
      ? h(
          'ul',
          { class: 'plain' },
          list.map((d) =>
            h(
              'li',
              { class: 'dispute', dataset: { dispute: d.id } },
              h('p', {}, h('span', { class: 'plate' }, d.plate), ' ', h('span', { class: 'muted' }, time(d.createdAt))),
              h('p', {}, t('manage.disputes.reason'), ' ', h('q', {}, d.reason)),
              ctx.canChange()
                ? h(
                    'div',
                    { class: 'actions' },
                    confirmButton({
                      id: `transfer-${d.id}`,
                      label: t('manage.disputes.transfer'),
                      question: t('manage.disputes.transferQuestion', { plate: d.plate }),
                      yes: t('manage.disputes.transferYes'),
                      alert,
                      onConfirm: async () => {
                        await ctx.call('POST', `/v1/disputes/${d.id}/resolve`, { outcome: 'transfer' });
                        await ctx.changed(t('manage.disputes.transferred', { plate: d.plate }));
                      },
                    }),
                    confirmButton({
                      id: `reject-${d.id}`,
                      label: t('manage.disputes.reject'),
                      question: t('manage.disputes.rejectQuestion', { plate: d.plate }),
                      yes: t('manage.disputes.rejectYes'),
                      alert,
                      onConfirm: async () => {
                        await ctx.call('POST', `/v1/disputes/${d.id}/resolve`, { outcome: 'reject' });
                        await ctx.changed(t('manage.disputes.rejected', { plate: d.plate }));
                      },
                    }),
                  )
                : null,
            ),
          ),
        )
      : h('p', { class: 'muted', id: 'manage-no-disputes' }, t('manage.disputes.none')),
    alert,
  );
}
