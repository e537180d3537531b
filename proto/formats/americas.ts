/**
 * Plate formats of the Americas: the US states' series (M and U: no O or Q,
 * see plate-syntax.ts) with vanity plates as a generic rule, the Latin
 * American national series, and Canada's two most populous provinces'.
 */
import type { PlateFormat } from './plate-format.js';
import { NATIONAL, nationalFormat } from './plate-format.js';

/**
 * Prior penalty (nats) of the less common US series against the four most
 * widely issued ones: with sixteen US series, some read of almost any strip
 * fits one of them, so each weighs a little less.
 */
const LESS_COMMON = 0.3;

export const usFormats: readonly PlateFormat[] = [
  { countries: ['US'], name: 'US 7 (AAA1234)', pattern: 'MMMNNNN', specific: true },
  { countries: ['US'], name: 'US 7 (1ABC234)', pattern: 'NMMMNNN', specific: true },
  { countries: ['US'], name: 'US 6 (ABC123)', pattern: 'MMMNNN', specific: true },
  { countries: ['US'], name: 'US 6 (123ABC)', pattern: 'NNNMMM', specific: true },
  // further current state series (e.g. Missouri AB1C2D, Colorado AB1234, Illinois A123456, California trucks 1A23456)
  { countries: ['US'], name: 'US 6 (AB1C2D)', pattern: 'MMNMNM', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 6 (AB1234)', pattern: 'MMNNNN', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 6 (1AB234)', pattern: 'NMMNNN', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 6 (ABCD12)', pattern: 'MMMMNN', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 6 (A123BC)', pattern: 'MNNNMM', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 7 (A123456)', pattern: 'MNNNNNN', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 7 (1A23456)', pattern: 'NMNNNNN', specific: true, extraPenalty: LESS_COMMON },
  { countries: ['US'], name: 'US 7 (12345A1)', pattern: 'NNNNNMN', specific: true, extraPenalty: LESS_COMMON },
  // vanity plates: four to eight letters and digits
  { countries: ['US'], name: 'US generic', pattern: 'U{4,8}', specific: false },
];

export const latinAmericaFormats: readonly PlateFormat[] = [
  { countries: ['BR'], name: 'BR Mercosur', pattern: 'LLLNLNN', specific: true, mercosur: true }, // ABC1D23
  { countries: ['BR'], name: 'BR old', pattern: 'LLLNNNN', specific: true }, // ABC1234
  { countries: ['AR'], name: 'AR Mercosur', pattern: 'LLNNNLL', specific: true, mercosur: true }, // AB123CD
  { countries: ['AR'], name: 'AR old', pattern: 'LLLNNN', specific: true, extraPenalty: NATIONAL }, // ABC123
  { countries: ['CL'], name: 'CL', pattern: 'LLLLNN', specific: true, extraPenalty: NATIONAL }, // BCDF12 (since 2007)
  { countries: ['CL'], name: 'CL old', pattern: 'LLNNNN', specific: true, extraPenalty: NATIONAL }, // AB1234
  { countries: ['CO'], name: 'CO', pattern: 'LLLNNN', specific: true, extraPenalty: NATIONAL }, // ABC123
  { countries: ['PE'], name: 'PE', pattern: 'LXLNNN', specific: true, extraPenalty: NATIONAL }, // A1B234 (since 2010), ABC123 before
  // Mexico's series differ from state to state: its generic rule
  { countries: ['MX'], name: 'MX generic', pattern: 'X{4,8}', specific: false, extraPenalty: 1 },
];

/** Canada: Ontario's ABCD123 (as Hungary's) and Alberta's ABC1234 (as Brazil's old series); no generic rule. */
export const canadaFormats: readonly PlateFormat[] = [
  nationalFormat('CA', 'LLLLNNN', 'Ontario'), // ABCD123
  nationalFormat('CA', 'LLLNNNN', 'Alberta', 0), // ABC1234
];
