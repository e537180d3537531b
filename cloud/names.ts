/**
 * Names and labels people give things: a driver's name, a wallet's label,
 * a lot's, lane's or gate's name, an API key's label. Stored trimmed; a
 * name must keep at least one character after trimming, at most
 * MAX_NAME_LENGTH of them, and no control or text-direction characters
 * (which would hide or reorder what an operator reads on a page).
 */
import { badRequest } from './errors.js';

export const MAX_NAME_LENGTH = 100;

const FORBIDDEN = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** `value` trimmed, or 400 INVALID_NAME naming `field` (e.g. "name", "label"). */
export function checkedName(value: string, field: string): string {
  const name = value.trim();
  if (name.length === 0) throw badRequest('INVALID_NAME', `${field}: must not be blank`, field);
  if ([...name].length > MAX_NAME_LENGTH) {
    throw badRequest('INVALID_NAME', `${field}: at most ${MAX_NAME_LENGTH} characters`, field);
  }
  if (FORBIDDEN.test(name)) {
    throw badRequest('INVALID_NAME', `${field}: must not hold control or text-direction characters`, field);
  }
  return name;
}
