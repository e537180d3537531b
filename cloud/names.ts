/**
 * Names, labels and reasons people type: a driver's name, a wallet's
 * label, a lot's, lane's or gate's name, an API key's label, the reason of
 * a refund or a plate dispute. Stored trimmed; the text must keep at least
 * one character after trimming, at most a limit of them, and no control
 * or text-direction characters (which would hide or reorder what an
 * operator reads on a page) nor lone UTF-16 surrogates (which no stored
 * text can hold: SQLite kept their bytes and gave back U+FFFD).
 */
import { badRequest } from './errors.js';

export const MAX_NAME_LENGTH = 100;

/** control, lone surrogate, line and paragraph separator, bidirectional embedding, override and isolate */
const FORBIDDEN = /[\p{Cc}\p{Cs}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** True when `text` holds a character no typed text may (see above). */
export function hasForbiddenCharacters(text: string): boolean {
  return FORBIDDEN.test(text);
}

/**
 * `value` trimmed, or 400 `code` naming `field`: blank (with `blank` as the
 * message), longer than `maxLength` characters, or holding a forbidden one.
 */
export function checkedText(
  value: string,
  field: string,
  code: string,
  maxLength: number,
  blank = 'must not be blank',
): string {
  const text = value.trim();
  if (text.length === 0) throw badRequest(code, `${field}: ${blank}`, field);
  if ([...text].length > maxLength) throw badRequest(code, `${field}: at most ${maxLength} characters`, field);
  if (hasForbiddenCharacters(text)) {
    throw badRequest(code, `${field}: must not hold control or text-direction characters`, field);
  }
  return text;
}

/** `value` trimmed, or 400 INVALID_NAME naming `field` (e.g. "name", "label"). */
export function checkedName(value: string, field: string): string {
  return checkedText(value, field, 'INVALID_NAME', MAX_NAME_LENGTH);
}
