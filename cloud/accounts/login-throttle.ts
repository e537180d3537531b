/**
 * Brute-force protection for driver sign-in.
 *
 * Attempts are counted per (email, client IP address) pair. Within a window
 * of LOGIN_WINDOW_MS, a pair may make LOGIN_MAX_ATTEMPTS sign-in attempts
 * that do not succeed; the next attempt locks the pair for LOGIN_LOCKOUT_MS
 * and every attempt during the lockout is refused with 429
 * `LOGIN_RATE_LIMITED` and a `Retry-After` header, whether or not its
 * password is right (so guessing cannot go on during a lockout) and before
 * any password hash is computed (so a flood costs no scrypt work). A
 * successful sign-in clears the pair's count.
 *
 * An attempt is counted when it starts, not when its password check fails,
 * so that many attempts sent at once cannot all get through before the
 * first failure is recorded. Unknown emails are counted exactly like known
 * ones, so the limit tells nothing about which emails exist. Other IP
 * addresses are not affected by a lockout (a victim can still sign in from
 * their own network while an attacker is locked out).
 *
 * Time comes from the injected clock. State is kept in memory by the
 * process (a restart clears it), for at most LOGIN_MAX_TRACKED pairs: when
 * full, expired pairs are dropped first, then the oldest, so a flood of
 * made-up emails cannot exhaust memory.
 */
import type { Clock } from '../../time/clock.js';
import { ApiError } from '../errors.js';

/** Attempts without success allowed per (email, IP) within the window. */
export const LOGIN_MAX_ATTEMPTS = 5;
/** The window the attempts are counted in, from the first of them. */
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** How long a pair that went over the limit is refused. */
export const LOGIN_LOCKOUT_MS = 15 * 60_000;
/** At most this many (email, IP) pairs are tracked. */
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

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  /**
   * Call before checking a password. Throws RateLimitedError when the pair
   * is locked or this attempt goes over the limit; otherwise counts it.
   */
  attempt(email: string, ip: string): void {
    const key = `${email}\n${ip}`;
    const now = this.clock.now();
    let entry = this.entries.get(key);
    if (entry && entry.lockedUntil > now) throw this.refusal(entry.lockedUntil - now);
    if (!entry || now - entry.windowStart >= LOGIN_WINDOW_MS) {
      entry = { attempts: 0, windowStart: now, lockedUntil: 0 };
      this.entries.delete(key); // re-insert: the map's order is the age order used when pruning
      this.prune(now);
      this.entries.set(key, entry);
    }
    if (entry.attempts >= LOGIN_MAX_ATTEMPTS) {
      entry.lockedUntil = now + LOGIN_LOCKOUT_MS;
      entry.attempts = 0;
      entry.windowStart = entry.lockedUntil;
      throw this.refusal(LOGIN_LOCKOUT_MS);
    }
    entry.attempts++;
  }

  /** A successful sign-in: the pair starts afresh. */
  succeeded(email: string, ip: string): void {
    this.entries.delete(`${email}\n${ip}`);
  }

  private refusal(waitMs: number): RateLimitedError {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new RateLimitedError(
      seconds,
      `too many sign-in attempts for this email from this address; try again in ${seconds} s`,
    );
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
