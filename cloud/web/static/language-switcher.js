// The language switcher in the header of both pages: a labelled <select> (keyboard usable as any select),
// each language named in itself. Choosing one calls setLanguage, which re-translates the page in place.
import { addMessages, language, LANGUAGES, setLanguage, t } from './i18n.js';
import { h } from './ui.js';

addMessages({
  en: { 'language.label': 'Language' },
  'zh-CN': { 'language.label': '语言' },
});

/** each language in its own words, whatever the page's language is */
const NAMES = { en: 'English', 'zh-CN': '简体中文' };

/** Puts the switcher first in `container` (the header's tools) and keeps its label in the page's language. */
export function mountLanguageSwitcher(container) {
  const label = h('label', { for: 'language', class: 'language-label' }, t('language.label'));
  const select = h(
    'select',
    { id: 'language', name: 'language' },
    LANGUAGES.map((lang) => h('option', { value: lang, lang }, NAMES[lang])),
  );
  select.value = language();
  select.addEventListener('change', () => setLanguage(select.value));
  window.addEventListener('languagechange', () => {
    label.textContent = t('language.label');
    select.value = language();
  });
  container.prepend(h('div', { class: 'language' }, label, select));
}
