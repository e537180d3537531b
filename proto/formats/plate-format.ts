/** What a plate format is; the formats themselves are listed per market beside this file. */
import type { Country } from '../regions.js';

export interface PlateFormat {
  /** the countries that issue this format (one in the data files; several once identical formats are merged) */
  countries: readonly Country[];
  /** e.g. "CN blue", "SK", "US generic" */
  name: string;
  /**
   * one position class letter per character (see positionClasses in
   * plate-syntax.ts); any other character (e.g. 警) stands for itself; a
   * trailing range {m,n} repeats the last class
   */
  pattern: string;
  /** true when the format describes one plate series exactly */
  specific: boolean;
  /** extra prior penalty (nats) on top of the generic one, for rules that fit too much */
  extraPenalty?: number;
  /** the series is issued on Mercosur plates, with the blue band across the top (edge/vision/mercosur-band.ts) */
  mercosur?: boolean;
}

/**
 * Prior penalty (nats) of the national series other than the four European
 * ones read longest (AB123CD, 1AB2345, AB12345, ABC1234): with some forty
 * Latin series, some read of almost any strip fits one of them (a US
 * EUS664 fits Hungary's AAAA123 once a stray stroke reads as a letter), so
 * each weighs less. Set on the dev sets (openalpr-us, openalpr-eu).
 */
export const NATIONAL = 2;

/** One country's national series: specific, weighed `NATIONAL` less unless told otherwise. */
export const nationalFormat = (country: Country, pattern: string, note = '', extraPenalty = NATIONAL): PlateFormat => ({
  countries: [country],
  name: note ? `${country} ${note}` : country,
  pattern,
  specific: true,
  extraPenalty,
});
