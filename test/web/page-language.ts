/**
 * The pages' language in the browser tests: switch it through the header's
 * switcher (as a reader does, with the keyboard), and ask the page which
 * message keys one language has and the other lacks (every module the page
 * loaded has registered its catalogue by then).
 */
import type { Page } from 'playwright-core';

export type Language = 'en' | 'zh-CN';

/** The switcher's label in either language: the select is found whichever language the page is in. */
const SWITCHER = '#language';

/** Chooses `lang` in the header's switcher with the keyboard, and waits for the page to be in it. */
export async function switchLanguage(page: Page, lang: Language): Promise<void> {
  const select = page.locator(SWITCHER);
  await select.focus();
  await select.selectOption(lang);
  await page.locator(`html[lang="${lang}"]`).waitFor();
}

/** Keys present in one language's catalogue and not the other's, over all modules the page has loaded. */
export async function missingMessages(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    // the page's own module instance (same URL), so its catalogue is the one the page filled
    const i18n = (await import('/web/static/i18n.js' as string)) as { missingMessages(): string[] };
    return i18n.missingMessages();
  });
}
