/**
 * Plate formats of Asia and Oceania written in Latin letters: India,
 * Indonesia, Malaysia, the Philippines, Vietnam, Kazakhstan, Australia and
 * New Zealand. Only the current national series are listed; none of these
 * countries has a generic rule (a vanity plate there fits no format).
 * Several series are another country's too (Malaysia's ABC1234 is Brazil's
 * old series); the gate merges identical formats into one.
 */
import type { PlateFormat } from './plate-format.js';
import { nationalFormat as specific } from './plate-format.js';

export const asiaPacificFormats: readonly PlateFormat[] = [
  // state, district, series, number (MH 12 AB 1234); Delhi's districts carry a category letter (DL 3C AB 1234)
  specific('IN', 'LLNNLLNNNN'), // MH12AB1234
  specific('IN', 'LLNNLNNNN', '1 series letter'), // MH12A1234
  specific('IN', 'LLNNLLLNNNN', '3 series letters'), // DL10CAB1234
  specific('IN', 'LLNLLLNNNN', 'Delhi'), // DL3CAB1234
  // region (one or two letters), four digits, two or three letters (B 1234 ABC); the older one-letter
  // suffixes are left out: with them a Slovak BA302OZ misread BA3020Z fits Indonesia's series and is kept
  specific('ID', 'LNNNNL{2,3}', '1 region letter'), // B1234ABC
  specific('ID', 'LLNNNNL{2,3}', '2 region letters'), // AB1234CD
  specific('MY', 'LLLNNNN', '', 0), // WXY1234 (as Brazil's and Greece's)
  specific('PH', 'LLLNNNN', '', 0), // ABC1234 (since 2014)
  specific('PH', 'LLLNNN', 'old'), // ABC123
  // province code, series letter, four or five digits (51A-123.45)
  specific('VN', 'NNLNNNN', '4 digits'), // 51A1234
  specific('VN', 'NNLNNNNN', '5 digits'), // 51A12345
  specific('KZ', 'NNNLLLNN'), // 123ABC02
  specific('AU', 'LLLNNL', 'NSW'), // ABC12D
  specific('AU', 'NLLNLL', 'Victoria'), // 1AB2CD
  specific('AU', 'NNNLLL', 'Queensland'), // 123ABC
  specific('AU', 'LLLNNN'), // ABC123
  specific('NZ', 'LLLNNN'), // ABC123
];
