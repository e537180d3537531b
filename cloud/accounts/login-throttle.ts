/**
 * Brute-force protection for driver sign-in, with two budgets.
 *
 * Per (email, client IP address) pair: within a window of LOGIN_WINDOW_MS,
 * a pair may make LOGIN_MAX_ATTEMPTS sign-in attempts that do not succeed;
 * the next attempt locks the pair for LOGIN_LOCKOUT_MS. A successful
 * sign-in clears the pair's count. Other IP addresses are not affected by a
 * pair's lockout (a victim can still sign in from their own network while
 * an attacker is locked out).
 *
 * Per client IP address, whatever the emails: LOGIN_MAX_ATTEMPTS_PER_ADDRESS
 * attempts that do not succeed within the same window, then the address is
 * locked for LOGIN_LOCKOUT_MS, so one address cannot try a few passwords on
 * each of many emails. A successful sign-in gives its own attempt back (so
 * many drivers behind one address can sign in), never more.
 *
 * Every attempt during a lockout is refused with 429 `LOGIN_RATE_LIMITED`
 * and a `Retry-After` header, whether or not its password is right (so
 * guessing cannot go on during a lockout) and before any password hash is
 * computed (so a flood costs no scrypt work).
 *
 * An attempt is counted when it starts, not when its password check fails,
 * so that many attempts sent at once cannot all get through before the
 * first failure is recorded. Unknown emails are counted exactly like known
 * ones, so the limit tells nothing about which emails exist.
 *
 * Time comes from the injected clock. State is kept in memory by the
 * process (a restart clears it), for at most LOGIN_MAX_TRACKED keys per
 * budget: when full, expired keys are dropped first, then the oldest, so a
 * flood of made-up emails or addresses cannot exhaust memory.
 */
import type { Clock } from '../../time/clock.js';
import { ApiError } from '../errors.js';

/** Attempts without success allowed per (email, IP) within the window. */
export const LOGIN_MAX_ATTEMPTS = 5;
/** Attempts without success allowed per IP, all emails together, within the window. */
export const LOGIN_MAX_ATTEMPTS_PER_ADDRESS = 50;
/** The window the attempts are counted in, from the first of them. */
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** How long a pair or an address that went over its limit is refused. */
export const LOGIN_LOCKOUT_MS = 15 * 60_000;
/** At most this many keys are tracked per budget. */
export const LOGIN_MAX_TRACKED = 100_000;

/** 429 with the seconds to wait; the error handler sends them as `Retry-After`. */
export class RateLimitedError extends ApiError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(429, 'LOGIN_RATE_LIMITED', message);
  }
}

interface Entry {
  /** attempts counted since windowStart */
  attempts: number;
  windowStart: number;
  /** refused until this time (0: not locked) */
  lockedUntil: number;
}

/** Attempts per key within a window, and a lockout for a key that goes over the limit. */
class AttemptBudget {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
  ) {}

  /** How long `key` is still locked, ms (0: not locked). */
  lockedFor(key: string): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.lockedUntil - this.clock.now()) : 0;
  }

  /** Counts an attempt; false when it goes over the limit (the key is then locked for LOGIN_LOCKOUT_MS). */
  count(key: string): boolean {
    const now = this.clock.now();
    let entry = this.entries.get(key);
    if (!entry || now - entry.windowStart >= LOGIN_WINDOW_MS) {
      entry = { attempts: 0, windowStart: now, lockedUntil: 0 };
      this.entries.delete(key); // re-insert: the map's order is the age order used when pruning
      this.prune(now);
      this.entries.set(key, entry);
    }
    if (entry.attempts >= this.limit) {
      entry.lockedUntil = now + LOGIN_LOCKOUT_MS;
      entry.attempts = 0;
      entry.windowStart = entry.lockedUntil;
      return false;
    }
    entry.attempts++;
    return true;
  }

  /** Gives one counted attempt back. */
  refund(key: string): void {
    const entry = this.entries.get(key);
    if (entry && entry.attempts > 0) entry.attempts--;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  private prune(now: number): void {
    if (this.entries.size < LOGIN_MAX_TRACKED) return;
    for (const [key, e] of this.entries) {
      if (e.lockedUntil <= now && now - e.windowStart >= LOGIN_WINDOW_MS) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size < LOGIN_MAX_TRACKED) break;
      this.entries.delete(key);
    }
  }
}

export class LoginThrottle {
  private readonly pairs: AttemptBudget;
  private readonly addresses: AttemptBudget;

  constructor(clock: Clock) {
    this.pairs = new AttemptBudget(clock, LOGIN_MAX_ATTEMPTS);
    this.addresses = new AttemptBudget(clock, LOGIN_MAX_ATTEMPTS_PER_ADDRESS);
  }

  /**
   * Call before checking a password. Throws RateLimitedError when the
   * address or the pair is locked, or this attempt goes over either limit;
   * otherwise counts it in both.
   */
  attempt(email: string, ip: string): void {
    const pair = `${email}\n${ip}`;
    const addressWait = this.addresses.lockedFor(ip);
    if (addressWait > 0) throw addressRefusal(addressWait);
    const pairWait = this.pairs.lockedFor(pair);
    if (pairWait > 0) throw pairRefusal(pairWait);
    if (!this.pairs.count(pair)) throw pairRefusal(LOGIN_LOCKOUT_MS);
    if (!this.addresses.count(ip)) throw addressRefusal(LOGIN_LOCKOUT_MS);
  }

  /** A successful sign-in: the pair starts afresh, and the address gets this attempt back. */
  succeeded(email: string, ip: string): void {
    this.pairs.forget(`${email}\n${ip}`);
    this.addresses.refund(ip);
  }
}

const seconds = (waitMs: number) => Math.max(1, Math.ceil(waitMs / 1000));

function pairRefusal(waitMs: number): RateLimitedError {
  const s = seconds(waitMs);
  return new RateLimitedError(s, `too many sign-in attempts for this email from this address; try again in ${s} s`);
}

function addressRefusal(waitMs: number): RateLimitedError {
  const s = seconds(waitMs);
  return new RateLimitedError(s, `too many sign-in attempts from this address; try again in ${s} s`);
}
