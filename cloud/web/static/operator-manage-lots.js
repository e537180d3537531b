// Manage tab: a new car park; a car park's lanes (entry or exit) and gate units (registered by their
// Ed25519 public key, revoked after a confirmation), with each gate's last contact and offline queue as
// the live view reports them.
import { h } from './ui.js';
import { t } from './i18n.js';
import {
  confirmButton,
  field,
  form,
  input,
  lotTime,
  minorFromText,
  offsetLabel,
  select,
  wholeFromText,
} from './operator-manage-forms.js';

/** a first tariff for a new lot: priced by the hour after 15 free minutes; the tariff form edits the rest */
const firstTariff = (currency, unitPrice, utcOffsetMinutes) => ({
  currency,
  freeMinutes: 15,
  unitMinutes: 60,
  unitPrice,
  dailyCap: null,
  bands: [],
  graceMinutes: 15,
  utcOffsetMinutes,
});

export function newLotForm(ctx) {
  const name = field({
    label: t('manage.lot.name'),
    control: input('new-lot-name', { autocomplete: 'off' }),
    names: ['name'],
  });
  const currency = field({
    label: t('manage.tariff.currency'),
    control: input('new-lot-currency', { value: 'CNY', maxlength: 3, autocomplete: 'off' }),
    hint: t('manage.tariff.currencyHint'),
    names: ['tariff.currency'],
  });
  const price = field({
    label: t('manage.lot.hourPrice'),
    control: input('new-lot-price', { inputmode: 'decimal', value: '5.00' }),
    names: ['tariff.unitPrice'],
  });
  const offset = field({
    label: t('manage.tariff.offset'),
    control: input('new-lot-offset', { inputmode: 'numeric', value: String(-new Date().getTimezoneOffset()) }),
    hint: t('manage.tariff.offsetHint'),
    names: ['tariff.utcOffsetMinutes'],
  });
  const fields = [name, currency, price, offset];
  return h(
    'details',
    { class: 'new-lot' },
    h('summary', {}, t('manage.lot.new')),
    form({
      id: 'new-lot-form',
      fields,
      submitLabel: t('manage.lot.create'),
      onSubmit: async () => {
        const code = currency.control.value.trim().toUpperCase();
        const tariff = firstTariff(
          code,
          minorFromText(price.control.value, code, 'tariff.unitPrice'),
          wholeFromText(offset.control.value, 'tariff.utcOffsetMinutes'),
        );
        const lot = await ctx.call('POST', '/v1/lots', { name: name.control.value, tariff });
        ctx.state.lotId = lot.id;
        await ctx.changed(t('manage.lot.created', { name: lot.name }));
      },
    }),
  );
}

export function lotSections(ctx, lot) {
  return [lanesSection(ctx, lot), gatesSection(ctx, lot)];
}

function lanesSection(ctx, lot) {
  const name = field({
    label: t('manage.lane.name'),
    control: input('new-lane-name', { autocomplete: 'off' }),
    names: ['name'],
  });
  const direction = field({
    label: t('manage.lane.direction'),
    control: select(
      'new-lane-direction',
      [
        ['entry', t('manage.lane.entry')],
        ['exit', t('manage.lane.exit')],
      ],
      'entry',
    ),
    names: ['direction'],
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-lanes-h', id: 'manage-lanes' },
    h('h3', { id: 'manage-lanes-h' }, t('manage.lanes.title', { lot: lot.name })),
    lot.lanes.length
      ? h(
          'ul',
          { class: 'plain' },
          lot.lanes.map((l) =>
            h(
              'li',
              { class: 'managed-lane', dataset: { lane: l.id } },
              h('strong', {}, l.name),
              ' ',
              h('span', { class: 'badge neutral' }, t(`manage.lane.${l.direction}`)),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('manage.lanes.none')),
    ctx.canChange()
      ? form({
          id: 'new-lane-form',
          fields: [name, direction],
          submitLabel: t('manage.lane.add'),
          onSubmit: async () => {
            const lane = await ctx.call('POST', `/v1/lots/${lot.id}/lanes`, {
              name: name.control.value,
              direction: direction.control.value,
            });
            await ctx.changed(t('manage.lane.added', { name: lane.name }));
          },
        })
      : null,
  );
}

function gateState(g, live, offset) {
  if (g.revokedAt !== null) return h('span', { class: 'badge bad' }, t('manage.gate.revoked'));
  if (!live || !live.online) return h('span', { class: 'badge neutral' }, t('manage.gate.offline'));
  const lastContact = live.status ? live.status.receivedAt : live.onlineSince;
  return h(
    'span',
    {},
    h('span', { class: 'badge ok' }, t('manage.gate.online')),
    ' ',
    t('manage.gate.lastContact', { at: `${lotTime(lastContact, offset)} (${offsetLabel(offset)})` }),
    ' · ',
    h(
      'span',
      { class: 'gate-queue', dataset: { outbox: String(live.status ? live.status.outboxDepth : 0) } },
      t('manage.gate.queue', { n: live.status ? live.status.outboxDepth : 0 }),
    ),
  );
}

function gatesSection(ctx, lot) {
  const offset = lot.tariff.utcOffsetMinutes;
  const live = new Map((ctx.liveLot()?.gates ?? []).map((g) => [g.id, g]));
  const alert = h('p', { class: 'message', id: 'manage-gates-alert', role: 'alert', hidden: true });
  const name = field({
    label: t('manage.gate.name'),
    control: input('new-gate-name', { autocomplete: 'off' }),
    names: ['name'],
  });
  const publicKey = field({
    label: t('manage.gate.publicKey'),
    control: input('new-gate-key', { autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
    hint: t('manage.gate.publicKeyHint'),
    names: ['publicKey'],
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-gates-h', id: 'manage-gates' },
    h('h3', { id: 'manage-gates-h' }, t('manage.gates.title', { lot: lot.name })),
    lot.gates.length
      ? h(
          'ul',
          { class: 'plain' },
          lot.gates.map((g) =>
            h(
              'li',
              { class: 'managed-gate', dataset: { gate: g.id, revoked: String(g.revokedAt !== null) } },
              h('strong', {}, g.name),
              ' ',
              gateState(g, live.get(g.id), offset),
              h('br'),
              h('span', { class: 'mono muted wrap' }, g.publicKey),
              ctx.canChange() && g.revokedAt === null
                ? h(
                    'div',
                    { class: 'actions' },
                    confirmButton({
                      id: `revoke-${g.id}`,
                      label: t('manage.gate.revoke', { name: g.name }),
                      question: t('manage.gate.revokeQuestion', { name: g.name }),
                      yes: t('manage.gate.revokeYes'),
                      alert,
                      onConfirm: async () => {
                        await ctx.call('POST', `/v1/gates/${g.id}/revoke`);
                        await ctx.changed(t('manage.gate.revokedNotice', { name: g.name }));
                      },
                    }),
                  )
                : null,
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('manage.gates.none')),
    alert,
    ctx.canChange()
      ? form({
          id: 'new-gate-form',
          fields: [name, publicKey],
          submitLabel: t('manage.gate.register'),
          onSubmit: async () => {
            const gate = await ctx.call('POST', `/v1/lots/${lot.id}/gates`, {
              name: name.control.value,
              publicKey: publicKey.control.value.trim(),
            });
            await ctx.changed(t('manage.gate.registered', { name: gate.name }));
          },
        })
      : null,
  );
}
