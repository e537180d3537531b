/**
 * Merkle tree hashing for the append-only settlement log, exactly as
 * RFC 9162 (Certificate Transparency v2) section 2.1:
 *
 * - leaf hash  = SHA-256(0x00 || data)
 * - node hash  = SHA-256(0x01 || left || right)
 * - MTH({})    = SHA-256('')
 * - MTH(D[n])  = nodeHash(MTH(D[0:k]), MTH(D[k:n])) for n > 1, where k is the
 *                largest power of two smaller than n.
 *
 * Storage keeps every complete ("perfect") subtree: node(level, index) is the
 * MTH of leaves [index * 2^level, (index + 1) * 2^level), known once leaf
 * (index + 1) * 2^level - 1 has been appended. Roots, inclusion proofs and
 * consistency proofs are assembled from those nodes in O(log n) lookups.
 *
 * The `reference*` functions compute the same values naively from all leaf
 * hashes; they exist for tests and tiny trees.
 *
 * Sizes and indices are plain numbers (safe integers); no 32-bit bit
 * operations are used, so trees beyond 2^31 leaves work too. Hashes are
 * treated as immutable values.
 */
import { createHash, hash as oneShotHash, timingSafeEqual } from 'node:crypto';

export type Hash = Uint8Array;
export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** SHA-256(0x00 || data): the hash of one log entry. */
export function leafHash(data: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** leafHash of a text record's UTF-8 bytes, in one call (the 0x00 prefix is U+0000 in UTF-8); the hot path of verification. */
export function leafHashOfText(text: string): Hash {
  return oneShotHash('sha256', '\u0000' + text, 'buffer');
}

/** 0x01 || left || right, reused between calls (hashing is synchronous) */
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, NODE_PREFIX[0]);

/** SHA-256(0x01 || left || right): the hash of an interior node. */
export function nodeHash(left: Hash, right: Hash): Hash {
  if (!isHash(left) || !isHash(right)) {
    throw new RangeError(`nodeHash needs two ${HASH_SIZE}-byte hashes`);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return oneShotHash('sha256', nodeInput, 'buffer');
}

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Whether two hashes are byte-for-byte equal (constant time for equal lengths). */
export function hashesEqual(a: Hash, b: Hash): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function requireCount(n: number, what: string): void {
  if (!isCount(n)) throw new RangeError(`${what} must be a non-negative safe integer, got ${String(n)}`);
}

/** The largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** log2(n) when n is a power of two (n >= 1), else -1. */
function exactLog2(n: number): number {
  let level = 0;
  let p = 1;
  while (p < n) {
    p *= 2;
    level++;
  }
  return p === n ? level : -1;
}

function copy(h: Hash): Hash {
  return Buffer.from(h);
}

// ---------------------------------------------------------------------------
// Reference (naive) implementations: RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1
// ---------------------------------------------------------------------------

/** MTH computed recursively from all leaf hashes (O(n) hashing). */
export function referenceRoot(leafHashes: readonly Hash[]): Hash {
  const n = leafHashes.length;
  if (n === 0) return copy(EMPTY_ROOT);
  if (n === 1) return copy(leafHashes[0]!);
  const k = splitPoint(n);
  return nodeHash(referenceRoot(leafHashes.slice(0, k)), referenceRoot(leafHashes.slice(k)));
}

/** PATH(m, D[n]) of RFC 9162 2.1.3.1, computed naively. */
export function referenceInclusionProof(leafHashes: readonly Hash[], index: number): Hash[] {
  requireCount(index, 'index');
  if (index >= leafHashes.length) {
    throw new RangeError(`index ${index} is outside a tree of ${leafHashes.length} leaves`);
  }
  const path = (m: number, d: readonly Hash[]): Hash[] => {
    const n = d.length;
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...path(m, d.slice(0, k)), referenceRoot(d.slice(k))];
    return [...path(m - k, d.slice(k)), referenceRoot(d.slice(0, k))];
  };
  return path(index, leafHashes);
}

/** PROOF(m, D[n]) of RFC 9162 2.1.4.1, computed naively (1 <= oldSize <= n). */
export function referenceConsistencyProof(leafHashes: readonly Hash[], oldSize: number): Hash[] {
  requireCount(oldSize, 'oldSize');
  if (oldSize === 0 || oldSize > leafHashes.length) {
    throw new RangeError(`oldSize must be in 1..${leafHashes.length}, got ${oldSize}`);
  }
  const subproof = (m: number, d: readonly Hash[], b: boolean): Hash[] => {
    const n = d.length;
    if (m === n) return b ? [] : [referenceRoot(d)];
    const k = splitPoint(n);
    if (m <= k) return [...subproof(m, d.slice(0, k), b), referenceRoot(d.slice(k))];
    return [...subproof(m - k, d.slice(k), false), referenceRoot(d.slice(0, k))];
  };
  return subproof(oldSize, leafHashes, true);
}

// ---------------------------------------------------------------------------
// Stored complete subtrees
// ---------------------------------------------------------------------------

/** Where stored complete subtrees come from (SQLite or memory); synchronous. */
export interface SubtreeSource {
  /**
   * MTH of leaves [index * 2^level, (index + 1) * 2^level); level 0 holds the
   * leaf hashes. Must throw if the node is not complete or not known.
   */
  node(level: number, index: number): Hash;
}

/**
 * The nodes at level >= 1 that become complete when leaf `leafIndex`
 * (0-based) is appended, bottom-up: node(level, index) completes when leaf
 * (index + 1) * 2^level - 1 arrives, i.e. for every level with 2^level
 * dividing leafIndex + 1. A store writes the leaf (level 0) and then these.
 */
export function completedParents(leafIndex: number): Array<{ level: number; index: number }> {
  requireCount(leafIndex, 'leafIndex');
  const out: Array<{ level: number; index: number }> = [];
  let count = leafIndex + 1; // leaves covered so far, in units of 2^level
  let level = 0;
  while (count % 2 === 0) {
    count /= 2;
    level++;
    out.push({ level, index: count - 1 });
  }
  return out;
}

/** An in-memory incremental store of every complete subtree hash. */
export class MemorySubtrees implements SubtreeSource {
  /** levels[l][i] = node(l, i) */
  private readonly levels: Hash[][] = [[]];

  /** Appends a leaf hash (already `leafHash`ed) and computes the nodes it completes. */
  append(leaf: Hash): void {
    if (!isHash(leaf)) throw new RangeError(`a leaf hash must be ${HASH_SIZE} bytes`);
    const leafIndex = this.levels[0]!.length;
    this.levels[0]!.push(copy(leaf));
    for (const { level, index } of completedParents(leafIndex)) {
      const below = this.levels[level - 1]!;
      const hash = nodeHash(below[2 * index]!, below[2 * index + 1]!);
      (this.levels[level] ??= []).push(hash);
    }
  }

  /** Number of leaves appended. */
  get size(): number {
    return this.levels[0]!.length;
  }

  node(level: number, index: number): Hash {
    requireCount(level, 'level');
    requireCount(index, 'index');
    const hash = this.levels[level]?.[index];
    if (hash === undefined) {
      throw new RangeError(`node (${level}, ${index}) is not complete in a tree of ${this.size} leaves`);
    }
    return copy(hash);
  }
}

function readNode(src: SubtreeSource, level: number, index: number): Hash {
  const hash = src.node(level, index);
  if (!isHash(hash)) {
    throw new Error(`subtree source returned a malformed hash for node (${level}, ${index})`);
  }
  return hash;
}

function rangeHashUnchecked(src: SubtreeSource, start: number, end: number): Hash {
  const len = end - start;
  const level = exactLog2(len);
  if (level >= 0 && start % len === 0) return readNode(src, level, start / len);
  const k = splitPoint(len);
  return nodeHash(rangeHashUnchecked(src, start, start + k), rangeHashUnchecked(src, start + k, end));
}

function requireRange(start: number, end: number): void {
  requireCount(start, 'start');
  requireCount(end, 'end');
  if (start >= end) throw new RangeError(`empty or reversed range [${start}, ${end})`);
}

/**
 * MTH of leaves [start, end) (0 <= start < end <= size) from complete nodes.
 * When `start` is aligned to the split (always so for ranges from proofs and
 * roots) this takes O(log n) lookups; any other range is still correct.
 */
export function rangeHash(src: SubtreeSource, start: number, end: number): Hash {
  requireRange(start, end);
  return rangeHashUnchecked(src, start, end);
}

/** MTH of the first `size` leaves; EMPTY_ROOT for 0. */
export function treeRoot(src: SubtreeSource, size: number): Hash {
  requireCount(size, 'size');
  if (size === 0) return copy(EMPTY_ROOT);
  return rangeHashUnchecked(src, 0, size);
}

/** RFC 9162 PATH(index, D[0:size]): the audit path, bottom-up. */
export function inclusionProof(src: SubtreeSource, index: number, size: number): Hash[] {
  requireCount(index, 'index');
  requireCount(size, 'size');
  if (index >= size) throw new RangeError(`index ${index} is outside a tree of ${size} leaves`);
  // Walk from the root down to the leaf; the siblings come out top-down.
  const topDown: Hash[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      topDown.push(rangeHashUnchecked(src, start + k, end));
      end = start + k;
    } else {
      topDown.push(rangeHashUnchecked(src, start, start + k));
      start += k;
    }
  }
  return topDown.reverse();
}

/** RFC 9162 PROOF(oldSize, D[0:newSize]); [] when oldSize == newSize. */
export function consistencyProof(src: SubtreeSource, oldSize: number, newSize: number): Hash[] {
  requireCount(oldSize, 'oldSize');
  requireCount(newSize, 'newSize');
  if (oldSize === 0) throw new RangeError('no consistency proof from the empty tree (oldSize 0)');
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} is larger than newSize ${newSize}`);
  // SUBPROOF walked from the root down; the hashes come out top-down, with
  // the innermost subtree (if any) last.
  const topDown: Hash[] = [];
  let start = 0;
  let end = newSize;
  let m = oldSize; // relative to start
  let complete = true; // RFC's b: the subtree so far is the whole old tree
  for (;;) {
    const len = end - start;
    if (m === len) {
      if (!complete) topDown.push(rangeHashUnchecked(src, start, end));
      break;
    }
    const k = splitPoint(len);
    if (m <= k) {
      topDown.push(rangeHashUnchecked(src, start + k, end));
      end = start + k;
    } else {
      topDown.push(rangeHashUnchecked(src, start, start + k));
      start += k;
      m -= k;
      complete = false;
    }
  }
  return topDown.reverse();
}

// ---------------------------------------------------------------------------
// Verification: RFC 9162 2.1.3.2 and 2.1.4.2. Never throws.
// ---------------------------------------------------------------------------

function isProof(proof: unknown): proof is readonly Hash[] {
  return Array.isArray(proof) && proof.every(isHash);
}

/** RFC 9162 2.1.3.2: whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` leaves with `root`. */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!isHash(leaf) || !isHash(root) || !isProof(proof)) return false;
  if (!isCount(index) || !isCount(size) || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Hash = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hashesEqual(r, root);
}

/**
 * RFC 9162 2.1.4.2: whether `proof` shows the tree of `newSize` leaves with
 * `newRoot` extends the tree of `oldSize` leaves with `oldRoot`. When the
 * sizes are equal the proof must be empty and the roots equal.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Hash,
  newRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (!isHash(oldRoot) || !isHash(newRoot) || !isProof(proof)) return false;
  if (!isCount(oldSize) || !isCount(newSize) || oldSize === 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && hashesEqual(oldRoot, newRoot);
  if (proof.length === 0) return false;
  const path = exactLog2(oldSize) >= 0 ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Hash = path[0]!;
  let sr: Hash = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hashesEqual(fr, oldRoot) && hashesEqual(sr, newRoot);
}
