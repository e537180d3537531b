// Manage tab: a car park's tariff, every field editable, with a live fee preview for a stay the operator
// types (entry and exit in the lot's local time). The preview is the cloud's: POST /v1/tariffs/preview
// prices the tariff as typed with the same feeFor the settlement uses, and a tariff it refuses shows the
// refusal at the field it names. An auditor sees the tariff and the preview, and cannot save.
import { h, say } from './ui.js';
import { t } from './i18n.js';
import {
  amount,
  clearErrors,
  field,
  input,
  lotInputValue,
  minorFromText,
  msFromLotInput,
  offsetLabel,
  showError,
  textFromMinor,
  wholeFromText,
} from './operator-manage-forms.js';

const HOUR = 3_600_000;

export function tariffSection(ctx, lot) {
  const tariff = lot.tariff;
  const readOnly = !ctx.canChange();
  const attrs = (extra = {}) => ({ autocomplete: 'off', readonly: readOnly, ...extra });
  const numberField = (name, label, value, hint = null) =>
    field({
      label,
      hint,
      control: input(`tariff-${name}`, attrs({ inputmode: 'numeric', value: String(value) })),
      names: [`tariff.${name}`],
    });
  const moneyField = (name, label, minor, hint = null) =>
    field({
      label,
      hint,
      control: input(
        `tariff-${name}`,
        attrs({ inputmode: 'decimal', value: minor === null ? '' : textFromMinor(minor, tariff.currency) }),
      ),
      names: [`tariff.${name}`],
    });
  const f = {
    currency: field({
      label: t('manage.tariff.currency'),
      hint: t('manage.tariff.currencyHint'),
      control: input('tariff-currency', attrs({ value: tariff.currency, maxlength: 3 })),
      names: ['tariff.currency'],
    }),
    freeMinutes: numberField('freeMinutes', t('manage.tariff.freeMinutes'), tariff.freeMinutes),
    unitMinutes: numberField('unitMinutes', t('manage.tariff.unitMinutes'), tariff.unitMinutes),
    unitPrice: moneyField('unitPrice', t('manage.tariff.unitPrice'), tariff.unitPrice),
    dailyCap: moneyField('dailyCap', t('manage.tariff.dailyCap'), tariff.dailyCap, t('manage.tariff.dailyCapHint')),
    graceMinutes: numberField('graceMinutes', t('manage.tariff.graceMinutes'), tariff.graceMinutes),
    utcOffsetMinutes: numberField(
      'utcOffsetMinutes',
      t('manage.tariff.offset'),
      tariff.utcOffsetMinutes,
      t('manage.tariff.offsetHint'),
    ),
  };
  const bands = tariff.bands.map((b) => ({ ...b }));
  let bandFields = [];
  const bandList = h('div', { class: 'bands' });
  const offset = tariff.utcOffsetMinutes;
  const day = new Date(Date.now() + offset * 60_000).toISOString().slice(0, 10);
  const entryAt = Date.parse(`${day}T08:00:00Z`) - offset * 60_000;
  const stay = {
    entry: field({
      label: t('manage.preview.entry', { zone: offsetLabel(offset) }),
      control: input('preview-entry', { type: 'datetime-local', value: lotInputValue(entryAt, offset) }),
      names: ['entryAt'],
    }),
    exit: field({
      label: t('manage.preview.exit', { zone: offsetLabel(offset) }),
      control: input('preview-exit', { type: 'datetime-local', value: lotInputValue(entryAt + 2.5 * HOUR, offset) }),
      names: ['exitAt'],
    }),
  };
  const fee = h(
    'output',
    { id: 'tariff-preview', class: 'big', 'aria-live': 'polite', for: 'preview-entry preview-exit' },
    '…',
  );
  const alert = h('p', { class: 'message', id: 'tariff-alert', role: 'alert', hidden: true });
  const allFields = () => [...Object.values(f), ...bandFields, stay.entry, stay.exit];

  /** the tariff as typed; FieldError for what the page itself can tell is wrong */
  function typed() {
    const currency = f.currency.control.value.trim().toUpperCase();
    const cap = f.dailyCap.control.value.trim();
    return {
      currency,
      freeMinutes: wholeFromText(f.freeMinutes.control.value, 'tariff.freeMinutes'),
      unitMinutes: wholeFromText(f.unitMinutes.control.value, 'tariff.unitMinutes'),
      unitPrice: minorFromText(f.unitPrice.control.value, currency, 'tariff.unitPrice'),
      dailyCap: cap === '' ? null : minorFromText(cap, currency, 'tariff.dailyCap'),
      bands: bandFields.length
        ? bands.map((_, i) => ({
            from: bandFields[3 * i].control.value.trim(),
            to: bandFields[3 * i + 1].control.value.trim(),
            unitPrice: minorFromText(bandFields[3 * i + 2].control.value, currency, `tariff.bands[${i}].unitPrice`),
          }))
        : [],
      graceMinutes: wholeFromText(f.graceMinutes.control.value, 'tariff.graceMinutes'),
      utcOffsetMinutes: wholeFromText(f.utcOffsetMinutes.control.value, 'tariff.utcOffsetMinutes'),
    };
  }

  /** what was typed in the band rows, back into `bands` (before rows are added or removed) */
  function syncBands() {
    bands.forEach((b, i) => {
      if (!bandFields[3 * i]) return;
      b.from = bandFields[3 * i].control.value;
      b.to = bandFields[3 * i + 1].control.value;
      b.text = bandFields[3 * i + 2].control.value;
    });
  }

  function renderBands() {
    bandFields = [];
    bandList.replaceChildren(
      ...bands.map((b, i) => {
        const n = i + 1;
        const row = [
          field({
            label: t('manage.band.from', { n }),
            control: input(`band-${i}-from`, attrs({ value: b.from, placeholder: 'HH:MM', maxlength: 5 })),
            names: [`tariff.bands[${i}].from`, `tariff.bands[${i}]`],
          }),
          field({
            label: t('manage.band.to', { n }),
            control: input(`band-${i}-to`, attrs({ value: b.to, placeholder: 'HH:MM', maxlength: 5 })),
            names: [`tariff.bands[${i}].to`],
          }),
          field({
            label: t('manage.band.price', { n }),
            control: input(
              `band-${i}-price`,
              attrs({ inputmode: 'decimal', value: b.text ?? textFromMinor(b.unitPrice, tariff.currency) }),
            ),
            names: [`tariff.bands[${i}].unitPrice`],
          }),
        ];
        bandFields.push(...row);
        return h(
          'fieldset',
          { class: 'band', dataset: { band: String(i) } },
          h('legend', {}, t('manage.band.legend', { n })),
          row.map((x) => x.el),
          readOnly
            ? null
            : h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  id: `band-${i}-remove`,
                  onclick: () => {
                    syncBands();
                    bands.splice(i, 1);
                    renderBands();
                    void preview();
                    document.getElementById('band-add')?.focus();
                  },
                },
                t('manage.band.remove', { n }),
              ),
        );
      }),
    );
  }

  let asked = 0;
  async function preview() {
    const mine = ++asked;
    clearErrors(allFields(), alert);
    let body;
    try {
      body = {
        tariff: typed(),
        entryAt: msFromLotInput(stay.entry.control.value, offset, 'entryAt'),
        exitAt: msFromLotInput(stay.exit.control.value, offset, 'exitAt'),
      };
    } catch (err) {
      fee.textContent = '—';
      return showError(allFields(), alert, err);
    }
    try {
      const out = await ctx.call('POST', '/v1/tariffs/preview', body);
      if (mine !== asked) return;
      fee.textContent = amount(out.fee, out.currency);
      fee.dataset.fee = String(out.fee);
    } catch (err) {
      if (mine !== asked) return;
      fee.textContent = '—';
      delete fee.dataset.fee;
      showErrorQuietly(err);
    }
  }
  /** like showError, without moving the focus away from what the operator is typing */
  function showErrorQuietly(err) {
    const at = err.field ? allFields().find((x) => x.names.includes(err.field)) : null;
    if (at) at.show(err.message);
    else say(alert, err.message, 'error');
  }

  let timer = null;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void preview(), 250);
  };

  const save = h('button', { type: 'submit', class: 'primary', id: 'tariff-save' }, t('manage.tariff.save'));
  const addBand = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: 'band-add',
      onclick: () => {
        syncBands();
        bands.push({ from: '22:00', to: '06:00', unitPrice: 0 });
        renderBands();
        void preview();
        bandFields[bandFields.length - 3]?.control.focus();
      },
    },
    t('manage.band.add'),
  );
  const tariffForm = h(
    'form',
    { id: 'tariff-form', class: 'manage-form tariff-form', novalidate: true, oninput: later },
    h(
      'div',
      { class: 'tariff-fields' },
      Object.values(f).map((x) => x.el),
    ),
    h('h4', {}, t('manage.band.title')),
    h('p', { class: 'hint' }, t('manage.band.hint')),
    bandList,
    readOnly ? null : addBand,
    h(
      'fieldset',
      { class: 'preview' },
      h('legend', {}, t('manage.preview.title')),
      stay.entry.el,
      stay.exit.el,
      h('p', {}, h('span', { id: 'tariff-preview-label' }, t('manage.preview.fee')), ' ', fee),
    ),
    alert,
    readOnly ? h('p', { class: 'muted' }, t('manage.readOnly')) : save,
  );
  tariffForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(allFields(), alert);
    save.disabled = true;
    try {
      await ctx.call('PUT', `/v1/lots/${lot.id}/tariff`, typed());
      await ctx.changed(t('manage.tariff.saved', { name: lot.name }));
    } catch (err) {
      showError(allFields(), alert, err);
    } finally {
      save.disabled = false;
    }
  });
  renderBands();
  void preview();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-tariff-h', id: 'manage-tariff' },
    h('h3', { id: 'manage-tariff-h' }, t('manage.tariff.title', { lot: lot.name })),
    tariffForm,
  );
}
