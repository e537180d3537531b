/**
 * Matching an exit plate read to the open parking session it belongs to.
 * Pure: no I/O, no clock, no randomness.
 *
 * INVARIANT: `matchExit` returns a session (kind 'exact' or 'tolerant') only
 * when exactly one open session fits. Charging the wrong driver is far worse
 * than sending the exit to a human, so we never guess between two: whenever
 * more than one session could be the car, the answer is 'ambiguous' and
 * nobody is charged.
 *
 * Precisely, a session "fits" a read when `plateDistanceKind(read, plate)` is
 * not null (exact, or off by look-alike characters, or by one lost or one
 * spurious character). The single exception to "only one fits" is a read
 * that equals exactly one stored plate AND is confident: an exact,
 * high-confidence read is trusted over its confusable neighbours. So:
 *   - 'exact'    => exactly one session's plate equals the read, and either
 *                   no other session fits or the read is confident;
 *   - 'tolerant' => no session's plate equals the read, exactly one session
 *                   fits, and the read is confident.
 *
 * Plates are normalised strings (A-Z, 0-9, province characters such as 皖)
 * and are compared code point by code point. Look-alike groups come from
 * proto/look-alikes.ts (0ODQ, 1I, 8B, 5S, 2Z, 6G).
 */
import { areLookAlikes, differsOnlyByLookAlikes } from '../../proto/look-alikes.js';

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
  /** A read with confidence >= this is "confident". In [0, 1]. */
  minConfidence: number;
}

export const defaultMatchOptions: MatchOptions = Object.freeze({ minConfidence: 0.9 });

export type MatchResult =
  | { kind: 'exact'; sessionId: string }
  | { kind: 'tolerant'; sessionId: string; difference: 'look-alike' | 'missing' | 'extra' }
  /** Session ids that fit (sorted); never charge. */
  | { kind: 'ambiguous'; candidates: string[] }
  /** Exactly one tolerant candidate, but the read is not confident; never charge. */
  | { kind: 'low-confidence'; candidates: string[] }
  | { kind: 'none' };

export type PlateDistanceKind = 'exact' | 'look-alike' | 'missing' | 'extra';

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
 * - null         none of these.
 * Throws TypeError on an empty plate.
 */
export function plateDistanceKind(read: string, stored: string): PlateDistanceKind | null {
  assertPlate(read, 'read plate');
  assertPlate(stored, 'stored plate');
  if (read === stored) return 'exact';
  const r = [...read];
  const s = [...stored];
  if (r.length === s.length) return differsOnlyByLookAlikes(read, stored) ? 'look-alike' : null;
  if (oneRemovedMatches(s, r)) return 'missing';
  if (oneRemovedMatches(r, s)) return 'extra';
  return null;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Find the open session an exit read belongs to. Returns a session only when
 * exactly one open session fits (see the invariant in the header); otherwise
 * 'ambiguous', 'low-confidence' or 'none', none of which may be charged.
 *
 * Sessions are treated as distinct entries even if they carry the same plate
 * (only possible by data error): two open sessions with the read plate give
 * 'ambiguous'. Candidate lists are sorted, so the result does not depend on
 * the order of `open`.
 *
 * Throws TypeError on a confidence or minConfidence outside [0, 1] or NaN,
 * and on an empty plate (read or stored).
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
  if (!Array.isArray(open)) throw new TypeError('open must be an array');
  for (const session of open) {
    if (session === null || typeof session !== 'object') throw new TypeError('open session must be an object');
    if (typeof session.id !== 'string') throw new TypeError('open session id must be a string');
    assertPlate(session.plate, `plate of open session ${session.id}`);
  }

  const exact: string[] = [];
  const tolerant: Array<{ id: string; difference: 'look-alike' | 'missing' | 'extra' }> = [];
  for (const session of open) {
    const kind = plateDistanceKind(read.plate, session.plate);
    if (kind === 'exact') exact.push(session.id);
    else if (kind !== null) tolerant.push({ id: session.id, difference: kind });
  }

  const confident = read.confidence >= options.minConfidence;
  const allCandidates = (): string[] => [...exact, ...tolerant.map((t) => t.id)].sort(byCodeUnits);

  if (exact.length >= 2) return { kind: 'ambiguous', candidates: allCandidates() };
  if (exact.length === 1) {
    if (tolerant.length === 0 || confident) return { kind: 'exact', sessionId: exact[0]! };
    return { kind: 'ambiguous', candidates: allCandidates() };
  }
  if (tolerant.length === 0) return { kind: 'none' };
  if (tolerant.length === 1) {
    const only = tolerant[0]!;
    if (confident) return { kind: 'tolerant', sessionId: only.id, difference: only.difference };
    return { kind: 'low-confidence', candidates: [only.id] };
  }
  return { kind: 'ambiguous', candidates: allCandidates() };
}
