// Manage tab: API keys, an admin's alone. The list (label, role, made, revoked), a new key with its role
// and label (its secret is shown once, with a copy button, until the admin dismisses it: the cloud keeps
// only a digest), and revoking a key after a confirmation (never the key in use).
import { h, say, time } from './ui.js';
import { t } from './i18n.js';
import { confirmButton, field, form, input, select } from './operator-manage-forms.js';

const ROLES = ['operator', 'auditor', 'admin'];

export function keysSection(ctx) {
  if (!ctx.isAdmin()) {
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'manage-keys-h', id: 'manage-keys' },
      h('h3', { id: 'manage-keys-h' }, t('manage.keys.title')),
      h('p', { class: 'muted' }, t('manage.keys.adminOnly')),
    );
  }
  const alert = h('p', { class: 'message', id: 'manage-keys-alert', role: 'alert', hidden: true });
  const label = field({
    label: t('manage.keys.label'),
    control: input('new-key-label', { autocomplete: 'off' }),
    names: ['label'],
  });
  const role = field({
    label: t('manage.keys.role'),
    control: select(
      'new-key-role',
      ROLES.map((r) => [r, t(`manage.keys.role.${r}`)]),
      'operator',
    ),
    names: ['role'],
  });
  const me = ctx.state.me;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'manage-keys-h', id: 'manage-keys' },
    h('h3', { id: 'manage-keys-h' }, t('manage.keys.title')),
    ctx.state.newKey ? secretOnce(ctx) : null,
    h(
      'ul',
      { class: 'plain' },
      ctx.state.keys.map((k) =>
        h(
          'li',
          { class: 'api-key', dataset: { key: k.id, revoked: String(k.revokedAt !== null) } },
          h('strong', {}, k.label),
          ' ',
          h('span', { class: 'badge neutral' }, t(`manage.keys.role.${k.role}`)),
          ' ',
          h(
            'span',
            { class: 'muted' },
            k.revokedAt === null
              ? t('manage.keys.made', { at: time(k.createdAt) })
              : t('manage.keys.revokedAt', { at: time(k.revokedAt) }),
          ),
          k.id === me.id ? h('span', { class: 'muted' }, ` · ${t('manage.keys.thisKey')}`) : null,
          k.revokedAt === null && k.id !== me.id
            ? h(
                'div',
                { class: 'actions' },
                confirmButton({
                  id: `revoke-key-${k.id}`,
                  label: t('manage.keys.revoke', { label: k.label }),
                  question: t('manage.keys.revokeQuestion', { label: k.label }),
                  yes: t('manage.keys.revokeYes'),
                  alert,
                  onConfirm: async () => {
                    await ctx.call('DELETE', `/v1/keys/${k.id}`);
                    await ctx.changed(t('manage.keys.revokedNotice', { label: k.label }));
                  },
                }),
              )
            : null,
        ),
      ),
    ),
    alert,
    form({
      id: 'new-key-form',
      fields: [label, role],
      submitLabel: t('manage.keys.create'),
      onSubmit: async () => {
        const made = await ctx.call('POST', '/v1/keys', { label: label.control.value, role: role.control.value });
        ctx.state.newKey = { label: made.key.label, secret: made.secret };
        await ctx.changed(t('manage.keys.created', { label: made.key.label }));
        document.getElementById('new-key-secret')?.focus();
      },
    }),
  );
}

function secretOnce(ctx) {
  const { label, secret } = ctx.state.newKey;
  const copied = h('p', { class: 'message', id: 'new-key-copied', role: 'status', hidden: true });
  return h(
    'div',
    { class: 'secret-once', id: 'new-key' },
    h('p', {}, h('strong', {}, t('manage.keys.secretTitle', { label }))),
    h('p', { class: 'hint', id: 'new-key-secret-hint' }, t('manage.keys.secretHint')),
    h('label', { for: 'new-key-secret' }, t('manage.keys.secret')),
    h('input', {
      id: 'new-key-secret',
      class: 'mono',
      readonly: true,
      value: secret,
      'aria-describedby': 'new-key-secret-hint',
      onfocus: (event) => event.target.select(),
    }),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: 'new-key-copy',
          onclick: async () => {
            try {
              await window.navigator.clipboard.writeText(secret);
              say(copied, t('manage.keys.copied'), 'ok');
            } catch {
              document.getElementById('new-key-secret').select();
              say(copied, t('manage.keys.copyByHand'), 'info');
            }
          },
        },
        t('manage.keys.copy'),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          id: 'new-key-done',
          onclick: () => {
            ctx.state.newKey = null;
            ctx.render();
            document.getElementById('new-key-label')?.focus();
          },
        },
        t('manage.keys.saved'),
      ),
    ),
    copied,
  );
}
