/**
 * Currency codes: the ISO 4217 codes of currencies in circulation, as the
 * runtime's ICU data lists them (`Intl.supportedValuesOf('currency')`: CNY,
 * EUR, USD, ... but not XXX, XTS or ZZZ). Amounts are integers in each
 * currency's minor units everywhere; a code outside this list would be
 * stored and charged in a currency no payment provider knows.
 */
const inCirculation = new Set(Intl.supportedValuesOf('currency'));

/** What a currency must be, for the errors that refuse one (tariffs, wallets, the config's default). */
export const CURRENCY_EXPECTED = 'the ISO 4217 code of a currency in circulation, such as CNY';

/** True when `code` is the ISO 4217 code of a currency in circulation. */
export function isCurrencyCode(code: unknown): code is string {
  return typeof code === 'string' && inCirculation.has(code);
}
