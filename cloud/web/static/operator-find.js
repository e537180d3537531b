// The console's "Find a car" tab: a plate (exact, or with the characters OCR confuses), in every car park or
// one; the stays found, newest first, with their images, decision and receipt (operator-find-hit.js), and
// older ones on request. Reads GET /v1/search/stays with the console's key.
import { api, h, say } from './ui.js';
import { t } from './i18n.js';
import { renderHit } from './operator-find-hit.js';
import './operator-find-messages.js';

const PAGE = 20;

export async function mount(panel, console) {
  const images = new Map(); // eventId -> object URL, or null when the image is gone
  const state = { plate: '', match: 'lookalike', lotId: '', lots: [], lotsError: '', result: null, error: null };

  const readLots = async () => {
    try {
      state.lots = (await api('GET', '/v1/lots', { secret: console.key() })).lots;
      state.lotsError = '';
    } catch (err) {
      if (err.status === 401 || err.status === 403) return console.signOutWith(err.message);
      state.lotsError = err.message;
    }
  };

  /** the first page for the form's query, or the next page appended to what is shown */
  const search = async (more) => {
    const q = new URLSearchParams({ plate: state.plate, match: state.match, limit: String(PAGE) });
    if (state.lotId) q.set('lotId', state.lotId);
    if (more) q.set('before', state.result.next);
    try {
      const page = await api('GET', `/v1/search/stays?${q}`, { secret: console.key() });
      state.result = more ? { ...page, hits: [...state.result.hits, ...page.hits] } : page;
      state.error = null;
    } catch (err) {
      if (err.status === 401) return console.signOutWith(err.message);
      state.error = err;
      if (!more) state.result = null;
    }
  };

  const render = (focus) => {
    const plateError = h('p', { class: 'message', role: 'alert', id: 'find-plate-error', hidden: true });
    const plate = h('input', {
      id: 'find-plate',
      name: 'plate',
      type: 'search',
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      maxlength: 40,
      value: state.plate,
      'aria-describedby': 'find-plate-hint find-plate-error',
    });
    const match = h(
      'select',
      { id: 'find-match', name: 'match' },
      h('option', { value: 'lookalike', selected: state.match === 'lookalike' }, t('find.match.lookalike')),
      h('option', { value: 'exact', selected: state.match === 'exact' }, t('find.match.exact')),
    );
    const lot = h(
      'select',
      { id: 'find-lot', name: 'lot' },
      h('option', { value: '' }, t('find.lot.all')),
      state.lots.map((l) => h('option', { value: l.id, selected: state.lotId === l.id }, l.name)),
    );
    const button = h('button', { type: 'submit', class: 'primary' }, t('find.search'));
    const form = h(
      'form',
      { class: 'card find-form', novalidate: true, role: 'search', 'aria-labelledby': 'find-h' },
      h('h2', { id: 'find-h' }, t('find.title')),
      h('p', { class: 'hint' }, t('find.intro')),
      h(
        'div',
        { class: 'find-fields' },
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'find-plate' }, t('find.plate')),
          plate,
          h('p', { class: 'hint', id: 'find-plate-hint' }, t('find.plate.hint')),
          plateError,
        ),
        h('div', { class: 'field' }, h('label', { for: 'find-match' }, t('find.match')), match),
        h('div', { class: 'field' }, h('label', { for: 'find-lot' }, t('find.lot')), lot),
        h('div', { class: 'find-submit' }, button),
      ),
      state.lotsError
        ? h('p', { class: 'message error', role: 'alert' }, t('find.lots.failed', { message: state.lotsError }))
        : null,
    );
    const fieldError = (text) => {
      say(plateError, text, 'error');
      plate.setAttribute('aria-invalid', 'true');
    };
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      state.plate = plate.value.trim();
      state.match = match.value;
      state.lotId = lot.value;
      if (!state.plate) {
        fieldError(t('find.plate.required'));
        plate.focus();
        return;
      }
      button.disabled = true;
      button.textContent = t('find.searching');
      await search(false);
      render(state.error?.code === 'INVALID_PLATE' ? 'plate' : 'results');
    });

    const results = h('section', { class: 'find-results', 'aria-labelledby': 'find-results-h', tabindex: '-1' });
    results.append(h('h2', { id: 'find-results-h', class: 'sr-only' }, t('find.results')));
    const status = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', id: 'find-status', hidden: true });
    results.append(status);
    if (state.error && state.error.code === 'INVALID_PLATE') {
      fieldError(state.error.message);
    } else if (state.error) {
      say(status, t('find.failed', { message: state.error.message }), 'error');
    }
    const r = state.result;
    if (r) {
      if (!state.error) {
        const n = r.hits.length;
        say(
          status,
          n === 0
            ? t('find.none', { plate: r.plate })
            : t(r.next ? 'find.count.more' : n === 1 ? 'find.count.one' : 'find.count', { n, plate: r.plate }),
        );
      }
      if (r.hits.length)
        results.append(
          h(
            'ol',
            { class: 'plain find-hits' },
            r.hits.map((hit) => renderHit(hit, console.key(), images)),
          ),
        );
      if (r.next) {
        const more = h('button', { type: 'button', class: 'secondary', id: 'find-more' }, t('find.more'));
        more.addEventListener('click', async () => {
          more.disabled = true;
          const shown = state.result.hits.length;
          await search(true);
          render(null);
          // keyboard users land on the first of the stays just added
          panel.querySelectorAll('.find-hit')[shown]?.querySelector('h3')?.setAttribute('tabindex', '-1');
          panel.querySelectorAll('.find-hit h3')[shown]?.focus();
        });
        results.append(more);
      }
    }
    panel.replaceChildren(form, results);
    if (focus === 'plate') plate.focus();
    else if (focus === 'results') results.focus();
  };

  window.addEventListener('languagechange', () => render(null));
  await readLots();
  render(null);
}
