/**
 * Candidate keys: how an exit read finds the open sessions it may belong to
 * without comparing it with every session of the lot. Pure: no I/O.
 *
 * Each open session is filed under the keys of its plate (`sessionKeys`);
 * an exit read looks up the keys of `readKeys`. The keys are built so that
 *
 * INVARIANT (completeness): whenever `plateDistanceKind(read, plate)` is not
 * null (exact, look-alike, one character missing or one extra, or one
 * character different; see plate-matching.ts), `readKeys(read)` and
 * `sessionKeys(plate)` share a key.
 *
 * So `matchExit` over the sessions found by key gives the same answer as over
 * every open session (it ignores sessions that do not fit). Keys may also
 * find sessions that do not fit; `matchExit` drops those. Why it holds, with
 * fold = foldLookAlikes (proto/look-alikes.ts) and `p - i` = p without its
 * i-th character:
 *   - exact or look-alike: fold(read) = fold(plate): key "=" + fold(read);
 *   - missing (plate - i fits read): fold(plate - i) = fold(read): the
 *     session holds "-" + fold(plate - i) for every i, the read looks up
 *     "-" + fold(read);
 *   - extra (read - i fits plate): fold(read - i) = fold(plate): the read
 *     looks up "=" + fold(read - i) for every i;
 *   - one character different (at i): fold(read) and fold(plate) agree but
 *     at i: both are filed under "~" + fold(p) with its i-th character
 *     replaced by "?", for every i.
 * A plate of n characters has 2n + 1 keys, a read 2n + 2.
 */
import { foldLookAlikes } from '../../proto/look-alikes.js';

function withoutEach(chars: readonly string[]): string[] {
  return chars.map((_, skip) => chars.filter((_, i) => i !== skip).join(''));
}

/** The keys an open session with this plate is filed under (distinct, sorted). */
export function sessionKeys(plate: string): string[] {
  const folded = [...foldLookAlikes(plate)];
  return distinctSorted(['=' + folded.join(''), ...withoutEach(folded).map((k) => '-' + k), ...blankedEach(folded)]);
}

/** The keys an exit read looks up (distinct, sorted). */
export function readKeys(read: string): string[] {
  const folded = [...foldLookAlikes(read)];
  const whole = folded.join('');
  return distinctSorted(['=' + whole, '-' + whole, ...withoutEach(folded).map((k) => '=' + k), ...blankedEach(folded)]);
}

/** "~" + the folded plate with each character in turn replaced by "?" (never a plate character). */
function blankedEach(chars: readonly string[]): string[] {
  return chars.map((_, at) => '~' + chars.map((c, i) => (i === at ? '?' : c)).join(''));
}

function distinctSorted(keys: string[]): string[] {
  return [...new Set(keys)].sort();
}
