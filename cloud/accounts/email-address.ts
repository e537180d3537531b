/**
 * Drivers' email addresses. Stored trimmed and in lower case, so that one
 * address is one driver whatever its spelling. A new address must look
 * deliverable: a local part without spaces (letters of any script, digits
 * and the usual !#$%&'*+/=?^_`{|}~.- signs), `@`, and a domain of dotted
 * labels (ASCII letters, digits, inner hyphens; internationalised domains
 * in their xn-- form) ending in a top-level domain of 2+ letters. At most
 * 254 characters, 64 before the `@`.
 */
import { badRequest } from '../errors.js';

const LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]{1,64}$/u;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^(?:${LABEL}\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`);

/** The form an address is stored and looked up in. */
export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** A new driver's address, normalised; 400 INVALID_EMAIL when it cannot be an address. */
export function checkedEmail(value: string): string {
  const email = normaliseEmail(value);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, Math.max(at, 0));
  const domain = email.slice(at + 1);
  if (at < 0 || email.length > 254 || !LOCAL.test(local) || !DOMAIN.test(domain)) {
    throw badRequest(
      'INVALID_EMAIL',
      'email: expected an address such as name@example.com (no spaces; a domain with a dot and a top-level domain of 2 or more letters)',
    );
  }
  return email;
}
