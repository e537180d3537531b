/** Identifiers for stored things: a short type prefix and 128 random bits, e.g. `drv_3f9c...`. */
import { randomBytes } from 'node:crypto';

export type IdPrefix =
  | 'drv'
  | 'acc'
  | 'lnk'
  | 'dsp'
  | 'key'
  | 'lot'
  | 'lan'
  | 'gat'
  | 'ses'
  | 'pay'
  | 'rev'
  | 'stl'
  | 'jrn'
  | 'top'
  | 'pmt'
  | 'chg'
  | 'rfd';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}
