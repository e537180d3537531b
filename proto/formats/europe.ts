/**
 * European plate formats: each country's current national series, and for
 * every country a generic rule (four to eight letters and digits) for its
 * older, personalised and special plates. Countries whose current series is
 * itself loose have the generic rule only: AT, HR, IE, NL, SI. Germany's
 * districts vary in length too, but its order does not: one to three
 * district letters, one or two letters, one to four digits, eight at most
 * (M AB 1234, B X 1); the seals between district and letters are not
 * characters, so a read with a digit among the letters (a seal read as 8)
 * does not fit it. Russia and Ukraine write their plates in the Cyrillic
 * letters that look like Latin ones; the formats hold the Latin twins (R and
 * K in plate-syntax.ts), and have no generic rule.
 */
import type { Country } from '../regions.js';
import type { PlateFormat } from './plate-format.js';
import { nationalFormat as specific } from './plate-format.js';

const europeSpecific: readonly PlateFormat[] = [
  specific('BE', 'NLLLNNN'), // 1ABC234
  specific('BG', 'LNNNNLL', '1 letter'), // A1234BC
  specific('BG', 'LLNNNNLL', '2 letters'), // AB1234CD
  specific('CY', 'LLLNNN'), // ABC123
  specific('CZ', 'NLXNNNN', '', 0), // 1A23456, 1AB2345
  specific('DK', 'LLNNNNN', '', 0), // AB12345
  specific('EE', 'NNNLLL'), // 123ABC
  specific('FI', 'LLLNNN'), // ABC123
  specific('FR', 'LLNNNLL', '', 0), // AB123CD
  specific('GR', 'LLLNNNN', '', 0), // ABC1234 (Latin look-alike letters)
  specific('HU', 'LLLNNN', 'old'), // ABC123
  specific('HU', 'LLLLNNN'), // AAAA123 (since 2022)
  specific('IT', 'LLNNNLL', '', 0), // AB123CD
  specific('LV', 'LLNNNN'), // AB1234
  specific('LT', 'LLLNNN'), // ABC123
  specific('LU', 'LLNNNN'), // AB1234
  specific('MT', 'LLLNNN'), // ABC123
  specific('PL', 'LLNNNNN', '', 0), // AB12345 (two-letter districts)
  specific('PT', 'LLNNLL'), // AB12CD (since 2020)
  specific('RO', 'LLNNLLL'), // AB12CDE
  specific('RO', 'LNNLLL', 'Bucharest 2 digits'), // B12ABC
  specific('RO', 'LNNNLLL', 'Bucharest 3 digits'), // B123ABC
  specific('SK', 'LLNNNLL', '', 0), // AB123CD
  specific('ES', 'NNNNLLL'), // 1234BCD
  specific('SE', 'LLLNNX'), // ABC123, ABC12D
  specific('GB', 'LLNNLLL'), // AB12CDE
  specific('NO', 'LLNNNNN', '', 0), // AB12345
  // Germany: two to five letters (district and recognition letters), then one to four digits, eight at most
  specific('DE', 'LLN{1,4}', '2 letters'),
  specific('DE', 'LLLN{1,4}', '3 letters'),
  specific('DE', 'LLLLN{1,4}', '4 letters'),
  specific('DE', 'LLLLLN{1,3}', '5 letters'),
  // canton and up to six digits (ZH123456)
  specific('CH', 'LLN{1,6}'),
  // province 01-81, then one letter and four or five digits, two and three or four, three and two or three
  specific('TR', 'NNLN{4,5}', '1 letter'),
  specific('TR', 'NNLLN{3,4}', '2 letters'),
  specific('TR', 'NNLLLN{2,3}', '3 letters'),
  // Cyrillic letters that have Latin twins, written with the twins: a letter, three digits, two letters, the region
  specific('RU', 'RNNNRRN{2,3}'), // A123BC77, A123BC777
  specific('UA', 'KKNNNNKK'), // AA1234BB
];

const europeanCountries: readonly Country[] = [
  ...['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE'],
  ...['IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'GB', 'NO', 'CH', 'TR'],
] as Country[];

export const europeFormats: readonly PlateFormat[] = [
  ...europeSpecific,
  ...europeanCountries.map((c): PlateFormat => ({
    countries: [c],
    name: `${c} generic`,
    pattern: 'X{4,8}',
    specific: false,
    extraPenalty: 1,
  })),
];
