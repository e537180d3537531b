/**
 * Reconciliation of two copies of a ledger (ours and a partner's) by Merkle
 * roots, top-down: equal subtree roots mean every record below matches, so
 * only differing subtrees are opened, down to the records that differ.
 * With d differing records among n this takes O(d log n) hash comparisons.
 */
import type { Hash, SubtreeSource } from './merkle.js';
import { hashesEqual, rangeHash } from './merkle.js';

export interface ReconcileReport {
  /** records equal at the same index in both copies */
  matched: number;
  /** indices where our copy has a record the partner's lacks or holds differently */
  oursOnly: number[];
  theirsOnly: number[];
}

/** Compares leaves [0, min(ourSize, theirSize)) top-down, then reports the longer copy's tail. */
export function reconcile(
  ours: SubtreeSource,
  ourSize: number,
  theirs: SubtreeSource,
  theirSize: number,
): ReconcileReport {
  const report: ReconcileReport = { matched: 0, oursOnly: [], theirsOnly: [] };
  const common = Math.min(ourSize, theirSize);
  const visit = (start: number, end: number): void => {
    const a: Hash = rangeHash(ours, start, end);
    const b: Hash = rangeHash(theirs, start, end);
    if (hashesEqual(a, b)) {
      report.matched += end - start;
      return;
    }
    if (end - start === 1) {
      report.oursOnly.push(start);
      report.theirsOnly.push(start);
      return;
    }
    let k = 1;
    while (k * 2 < end - start) k *= 2;
    visit(start, start + k);
    visit(start + k, end);
  };
  if (common > 0) visit(0, common);
  for (let i = common; i < ourSize; i++) report.oursOnly.push(i);
  for (let i = common; i < theirSize; i++) report.theirsOnly.push(i);
  return report;
}
