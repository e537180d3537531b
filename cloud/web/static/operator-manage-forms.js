// The Manage tab's forms and formats. Every input has a label and, next to it, an error region
// (role=alert, tied to the input by aria-describedby); an error that names a field (the API's `field`, or
// the page's own check of what was typed) is shown at that field, anything else at the form. Amounts are
// typed in the currency's major units ("5.00") and sent as integer minor units; times are typed and shown
// in the lot's local time (its tariff's UTC offset): the formatting lives here, in one place.
import { h, money, say } from './ui.js';
import { t } from './i18n.js';

/** An error about one input field, found by the page before anything is sent. */
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/**
 * A labelled input with its error region. `names` are the field paths the API may name for it
 * (e.g. ['tariff.unitPrice']); `control` is an <input> or <select> with an id.
 */
export function field({ label, control, hint = null, names = [] }) {
  const id = control.id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '));
  const el = h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl, error);
  return {
    el,
    control,
    names: [...names, id],
    show(message) {
      error.textContent = message;
      error.hidden = false;
      control.setAttribute('aria-invalid', 'true');
    },
    clear() {
      error.textContent = '';
      error.hidden = true;
      control.removeAttribute('aria-invalid');
    },
  };
}

export const input = (id, attrs = {}) => h('input', { id, name: id, ...attrs });

export function select(id, options, value) {
  return h(
    'select',
    { id, name: id },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
  );
}

/**
 * A form of `fields` (from `field`) whose submit runs `onSubmit()`; while it runs the submit button is
 * disabled, and a failure is shown at the field it names (focused), else in the form's own alert.
 */
export function form({ id, fields, submitLabel, onSubmit, before = [], after = [] }) {
  const alert = h('p', { class: 'message', id: `${id}-alert`, role: 'alert', hidden: true });
  // an id, so that the focus stays on it across the re-render that follows a change
  const submit = h('button', { type: 'submit', class: 'primary', id: `${id}-submit` }, submitLabel);
  const el = h(
    'form',
    { id, class: 'manage-form', novalidate: true },
    before,
    fields.map((f) => f.el),
    after,
    alert,
    submit,
  );
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(fields, alert);
    submit.disabled = true;
    try {
      await onSubmit();
    } catch (err) {
      showError(fields, alert, err);
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

export function clearErrors(fields, alert) {
  for (const f of fields) f.clear();
  say(alert, '');
}

/** Shows `err` at the field it names, or in `alert`; true when a field took it. */
export function showError(fields, alert, err) {
  const at = err && err.field ? fields.find((f) => f.names.includes(err.field)) : null;
  if (at) {
    at.show(err.message);
    at.control.focus();
    return true;
  }
  say(alert, err && err.message ? err.message : String(err), 'error');
  return false;
}

/** A change button that asks first: the question with "yes" and "cancel" in place of the button. */
export function confirmButton({ id, label, question, yes, onConfirm, alert }) {
  const holder = h('span', { class: 'confirm' });
  const button = h('button', { type: 'button', class: 'secondary', id }, label);
  button.addEventListener('click', () => {
    const yesButton = h('button', { type: 'button', class: 'danger', id: `${id}-yes` }, yes);
    const cancel = h('button', { type: 'button', class: 'secondary', id: `${id}-cancel` }, t('manage.cancel'));
    cancel.addEventListener('click', () => {
      holder.replaceChildren(button);
      button.focus();
    });
    yesButton.addEventListener('click', async () => {
      yesButton.disabled = true;
      try {
        await onConfirm();
      } catch (err) {
        say(alert, err.message, 'error');
        holder.replaceChildren(button);
      }
    });
    holder.replaceChildren(
      h('span', { class: 'question', role: 'group', 'aria-label': question }, question, ' ', yesButton, ' ', cancel),
    );
    yesButton.focus();
  });
  holder.append(button);
  return holder;
}

// ---- formats: money in major units, times in the lot's local time ----

function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** "12.5" in CNY -> 1250; throws FieldError(`name`) for anything that is not an amount */
export function minorFromText(text, currency, name) {
  const digits = fractionDigits(currency);
  const m = /^(\d{1,12})(?:[.,](\d*))?$/.exec(String(text).trim());
  if (!m || (m[2] ?? '').length > digits) throw new FieldError(name, t('manage.error.amount', { digits }));
  return Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padEnd(digits, '0') || 0);
}

/** 1250 in CNY -> "12.50" (for an input's value) */
export function textFromMinor(minor, currency) {
  const digits = fractionDigits(currency);
  const whole = Math.floor(minor / 10 ** digits);
  const part = String(minor % 10 ** digits).padStart(digits, '0');
  return digits ? `${whole}.${part}` : String(whole);
}

/** a whole number typed in an input, or FieldError(`name`) */
export function wholeFromText(text, name) {
  const s = String(text).trim();
  if (!/^-?\d{1,9}$/.test(s)) throw new FieldError(name, t('manage.error.whole'));
  return Number(s);
}

export const amount = (minor, currency) => money(minor, currency);

/** "UTC+8", "UTC-3:30" */
export function offsetLabel(offsetMinutes) {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const minutes = abs % 60;
  return `UTC${sign}${Math.floor(abs / 60)}${minutes ? `:${String(minutes).padStart(2, '0')}` : ''}`;
}

/** an instant as the lot's local date and time, "2026-03-02 08:30" */
export function lotTime(ms, offsetMinutes) {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 16).replace('T', ' ');
}

/** an instant as a datetime-local input's value in the lot's local time */
export const lotInputValue = (ms, offsetMinutes) => lotTime(ms, offsetMinutes).replace(' ', 'T');

/** a datetime-local input's value read as the lot's local time -> ms, or FieldError(`name`) */
export function msFromLotInput(value, offsetMinutes, name) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(String(value).trim());
  if (!m) throw new FieldError(name, t('manage.error.time'));
  const [, y, mo, d, hh, mm] = m.map(Number);
  return Date.UTC(y, mo - 1, d, hh, mm) - offsetMinutes * 60_000;
}
