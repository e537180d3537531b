/**
 * Matching an exit plate read to the open parking session it belongs to.
 * Pure: no I/O, no clock, no randomness.
 *
 * INVARIANT: `matchExit` returns a session (kind 'exact' or 'tolerant') only
 * when exactly one open session fits the read, and the read is sure enough.
 * Charging the wrong driver is far worse than sending the exit to a human,
 * so we never guess: whenever more than one session could be the car, the
 * answer is 'ambiguous' and nobody is charged, however confident the read.
 * (A confident read equal to one plate is no proof: the bench measured the
 * reader confidently reading 4BO4979 as 4B04979 and ZA834CO as ZA834CD, so
 * a car whose look-alike twin is parked would be charged to the twin.)
 *
 * A session "fits" a read when `plateDistanceKind(read, plate)` is exact,
 * look-alike, missing or extra (off by look-alike characters, or by one
 * lost or one spurious character). A session is "near" a read when they
 * differ in one character that is not a look-alike ('different'): it could
 * be the car, misread in one place (AJK7551 read as AJK7557 at 0.61), so
 * it is never charged, and unless the read is confident (`minConfidence`)
 * it forbids charging any other session: the exiting car is in the lot,
 * and when an unsure read is one character off its plate, a stranger that
 * the read happens to equal must not pay. (A confident read is trusted over
 * near plates: fleets park cars with consecutive numbers.) With exactly one
 * session fitting, and no near one or a confident read:
 *   - 'exact'    => its plate equals the read, and the read's confidence is
 *                   at least `minExactConfidence`;
 *   - 'tolerant' => it fits by tolerance, and the read's confidence is at
 *                   least `minConfidence`;
 *   - otherwise 'low-confidence'.
 * With no session fitting but some near: 'near' (a human looks at them).
 *
 * Plates are normalised strings (A-Z, 0-9, province characters such as 皖)
 * and are compared code point by code point. Look-alike groups come from
 * proto/look-alikes.ts (0ODQ, 1I, 8B, 5S, 2Z, 6G). The sessions given may be
 * the whole lot or those its candidate keys find (plate-keys.ts): sessions
 * that do not fit change nothing.
 */
import { areLookAlikes } from '../../proto/look-alikes.js';

export interface OpenSessionRef {
  id: string;
  plate: string;
}

/** A plate read at the exit gate; `confidence` in [0, 1] is the minimum per-character confidence. */
export interface ExitRead {
  plate: string;
  confidence: number;
}

export interface MatchOptions {
  /** A tolerant match (look-alikes, one character missing or extra) needs a read at least this confident. In [0, 1]. */
  minConfidence: number;
  /** An exact match needs a read at least this confident. In [0, 1]. */
  minExactConfidence: number;
}

export const defaultMatchOptions: MatchOptions = Object.freeze({ minConfidence: 0.9, minExactConfidence: 0.7 });

export type MatchResult =
  | { kind: 'exact'; sessionId: string }
  | { kind: 'tolerant'; sessionId: string; difference: 'look-alike' | 'missing' | 'extra' }
  /** Session ids that fit (sorted); never charge. */
  | { kind: 'ambiguous'; candidates: string[] }
  /** Exactly one session fits, but the read is not confident enough; never charge. */
  | { kind: 'low-confidence'; candidates: string[] }
  /** No session fits, but these differ from the read in one character (sorted); never charge. */
  | { kind: 'near'; candidates: string[] }
  | { kind: 'none' };

export type PlateDistanceKind = 'exact' | 'look-alike' | 'missing' | 'extra' | 'different';

function assertPlate(plate: unknown, what: string): asserts plate is string {
  if (typeof plate !== 'string' || plate.length === 0) {
    throw new TypeError(`${what} must be a non-empty string`);
  }
}

function assertUnitInterval(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > 1) {
    throw new TypeError(`${what} must be a number in [0, 1], got ${String(value)}`);
  }
}

/** True if `longer` with exactly one code point removed equals `shorter`, look-alike tolerant. */
function oneRemovedMatches(longer: readonly string[], shorter: readonly string[]): boolean {
  if (longer.length !== shorter.length + 1) return false;
  for (let skip = 0; skip < longer.length; skip++) {
    let ok = true;
    for (let i = 0, j = 0; i < longer.length; i++) {
      if (i === skip) continue;
      if (!areLookAlikes(longer[i]!, shorter[j]!)) {
        ok = false;
        break;
      }
      j++;
    }
    if (ok) return true;
  }
  return false;
}

/**
 * How the exit `read` relates to a `stored` (entry) plate:
 * - 'exact'      the strings are equal;
 * - 'look-alike' same length, at least one position differs, and every
 *                differing position is a look-alike pair;
 * - 'missing'    the read lacks exactly one character of stored (stored with
 *                one character removed equals read, look-alike tolerant);
 * - 'extra'      the read has exactly one spurious character (read with one
 *                character removed equals stored, look-alike tolerant);
 * - 'different'  same length, and exactly one position holds two characters
 *                that are not look-alikes (the others are look-alikes);
 * - null         none of these.
 * Throws TypeError on an empty plate.
 */
export function plateDistanceKind(read: string, stored: string): PlateDistanceKind | null {
  assertPlate(read, 'read plate');
  assertPlate(stored, 'stored plate');
  if (read === stored) return 'exact';
  const r = [...read];
  const s = [...stored];
  if (r.length === s.length) {
    let unlike = 0;
    for (let i = 0; i < r.length && unlike < 2; i++) if (!areLookAlikes(r[i]!, s[i]!)) unlike++;
    return unlike === 0 ? 'look-alike' : unlike === 1 ? 'different' : null;
  }
  if (oneRemovedMatches(s, r)) return 'missing';
  if (oneRemovedMatches(r, s)) return 'extra';
  return null;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Find the open session an exit read belongs to. Returns a session only when
 * exactly one open session fits and the read is confident enough (see the
 * invariant in the header); otherwise 'ambiguous', 'low-confidence' or
 * 'none', none of which may be charged.
 *
 * Sessions are treated as distinct entries even if they carry the same plate
 * (only possible by data error): two open sessions with the read plate give
 * 'ambiguous'. Candidate lists are sorted, so the result does not depend on
 * the order of `open`.
 *
 * Throws TypeError on a confidence or threshold outside [0, 1] or NaN, and
 * on an empty plate (read or stored).
 */
export function matchExit(
  read: ExitRead,
  open: readonly OpenSessionRef[],
  options: MatchOptions = defaultMatchOptions,
): MatchResult {
  if (read === null || typeof read !== 'object') throw new TypeError('read must be an object');
  assertPlate(read.plate, 'read plate');
  assertUnitInterval(read.confidence, 'read confidence');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  assertUnitInterval(options.minConfidence, 'minConfidence');
  assertUnitInterval(options.minExactConfidence, 'minExactConfidence');
  if (!Array.isArray(open)) throw new TypeError('open must be an array');
  for (const session of open) {
    if (session === null || typeof session !== 'object') throw new TypeError('open session must be an object');
    if (typeof session.id !== 'string') throw new TypeError('open session id must be a string');
    assertPlate(session.plate, `plate of open session ${session.id}`);
  }

  const fits: Array<{ id: string; kind: Exclude<PlateDistanceKind, 'different'> }> = [];
  const near: string[] = [];
  for (const session of open) {
    const kind = plateDistanceKind(read.plate, session.plate);
    if (kind === 'different') near.push(session.id);
    else if (kind !== null) fits.push({ id: session.id, kind });
  }
  if (fits.length === 0)
    return near.length > 0 ? { kind: 'near', candidates: near.sort(byCodeUnits) } : { kind: 'none' };
  if (fits.length >= 2 || (near.length > 0 && read.confidence < options.minConfidence))
    return { kind: 'ambiguous', candidates: [...fits.map((f) => f.id), ...near].sort(byCodeUnits) };
  const only = fits[0]!;
  if (only.kind === 'exact') {
    if (read.confidence >= options.minExactConfidence) return { kind: 'exact', sessionId: only.id };
  } else if (read.confidence >= options.minConfidence) {
    return { kind: 'tolerant', sessionId: only.id, difference: only.kind };
  }
  return { kind: 'low-confidence', candidates: [only.id] };
}
