/**
 * Plate voting: a lane reads several camera frames of the same car and
 * combines the best read of each frame into one plate. Pure: no I/O, no clock.
 *
 * Rules
 * - Reads are grouped by (length in code points, format). The winning group
 *   has the largest confidence mass: the sum over its reads of the read's mean
 *   character confidence. Ties (masses within 1e-9): more reads, then longer text, then the format
 *   name (code-unit order).
 * - Within the winning group, each position is voted separately: every read
 *   adds its confidence for that position to its character there. The
 *   character with the largest total wins (ties: lowest code point).
 * - A winning character's combined confidence is its weight share at that
 *   position (winner weight / total weight there) times the highest single
 *   confidence among the reads that voted for it, so one read at 0.6 stays
 *   at 0.6 and dissent lowers it. (0 when every read there had confidence 0.)
 * - `confidence` is the lowest combined character confidence; `frames` counts
 *   every read (reads of other groups too); `agreeing` counts reads whose whole
 *   text equals the winner (in any format).
 * - `confident` (the lane may stop reading): at least one read agrees and
 *   either `agreeing >= minAgreeing` and `confidence >= confident`, or
 *   `confidence >= singleFrameConfident` (one very sure read with no real
 *   dissent is enough on its own).
 * - Look-alikes (8/B, 0/O, ...) are not merged: they are the usual
 *   disagreement, and the per-position vote settles them by confidence.
 * - Text is handled as code points ([...text]), since Chinese plates start
 *   with a province character.
 *
 * Invariants
 * - The result depends only on the multiset of reads, never on their order:
 *   reads are put in a canonical order before any floating-point sum.
 * - 0 <= confidence <= 1, and every charConfidence too.
 * - The text has the winning group's length and every character at a
 *   position was read there by at least one read of the group.
 * - All reads agreeing: the text is theirs and each character's confidence is
 *   the highest confidence read for it.
 * - Adding a read that agrees with the winner (same text and format) never
 *   changes the winner and never lowers `agreeing`.
 * - No reads: text '', confidence 0, not confident.
 *
 * Input is validated: text must be non-empty, charConfidences must have one
 * finite value in [0, 1] per code point; otherwise RangeError. Options must
 * be in range (thresholds in [0, 1], minAgreeing a non-negative integer).
 */

/** One read of one frame (the best read of that frame). */
export interface VoteInput {
  text: string;
  charConfidences: number[];
  format: string;
}

export interface VoteOptions {
  /** stop early once the winner's combined confidence reaches this (0..1) */
  confident: number;
  /** and at least this many frames agree on the whole text */
  minAgreeing: number;
  /** a single read at or above this confidence is enough on its own */
  singleFrameConfident: number;
}

export const defaultVoteOptions: VoteOptions = Object.freeze({
  confident: 0.9,
  minAgreeing: 2,
  singleFrameConfident: 0.97,
});

export interface VoteResult {
  /** the voted plate ('' when there were no reads) */
  text: string;
  /** the winning group's format ('' when there were no reads) */
  format: string;
  /** 0..1, the lowest combined character confidence of the winner */
  confidence: number;
  charConfidences: number[];
  /** reads considered */
  frames: number;
  /** reads whose whole text equals the winner */
  agreeing: number;
  /** whether the lane may stop reading (see VoteOptions) */
  confident: boolean;
}

interface Read {
  chars: string[];
  text: string;
  confs: number[];
  format: string;
}

/** Combines reads one at a time; `add` returns the vote so far. */
export class PlateVote {
  private readonly options: VoteOptions;
  private readonly reads: Read[] = [];
  private current: VoteResult;

  constructor(options: Partial<VoteOptions> = {}) {
    this.options = resolveOptions(options);
    this.current = vote(this.reads, this.options);
  }

  add(read: VoteInput): VoteResult {
    this.reads.push(checkRead(read, this.reads.length));
    this.current = vote(this.reads, this.options);
    return this.result;
  }

  get result(): VoteResult {
    return { ...this.current, charConfidences: [...this.current.charConfidences] };
  }
}

export function votePlates(reads: VoteInput[], options: Partial<VoteOptions> = {}): VoteResult {
  const resolved = resolveOptions(options);
  return vote(
    reads.map((r, i) => checkRead(r, i)),
    resolved,
  );
}

function resolveOptions(options: Partial<VoteOptions>): VoteOptions {
  const o: VoteOptions = { ...defaultVoteOptions, ...options };
  for (const key of ['confident', 'singleFrameConfident'] as const) {
    if (!(o[key] >= 0 && o[key] <= 1)) throw new RangeError(`vote option ${key} must be in [0, 1], got ${o[key]}`);
  }
  if (!(Number.isInteger(o.minAgreeing) && o.minAgreeing >= 0)) {
    throw new RangeError(`vote option minAgreeing must be a non-negative integer, got ${o.minAgreeing}`);
  }
  return o;
}

/** Validates one read and copies it, so later changes by the caller cannot reach the vote. */
function checkRead(read: VoteInput, index: number): Read {
  if (typeof read?.text !== 'string' || typeof read.format !== 'string' || !Array.isArray(read.charConfidences)) {
    throw new RangeError(`read ${index}: text and format must be strings and charConfidences an array`);
  }
  const chars = [...read.text];
  if (chars.length === 0) throw new RangeError(`read ${index}: empty text`);
  if (read.charConfidences.length !== chars.length) {
    throw new RangeError(
      `read ${index}: ${read.charConfidences.length} char confidences for ${chars.length} characters of "${read.text}"`,
    );
  }
  for (let i = 0; i < chars.length; i++) {
    const c: unknown = read.charConfidences[i];
    if (typeof c !== 'number' || !(c >= 0 && c <= 1)) {
      throw new RangeError(`read ${index}: char confidence ${i} of "${read.text}" is ${String(c)}, not in [0, 1]`);
    }
  }
  return { chars, text: read.text, confs: [...read.charConfidences], format: read.format };
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A total order on reads; identical reads compare equal, so any sort gives the same sequence. */
function compareReads(a: Read, b: Read): number {
  const byKey = cmpStr(a.format, b.format) || cmpStr(a.text, b.text);
  if (byKey) return byKey;
  for (let i = 0; i < a.confs.length; i++) {
    const d = a.confs[i]! - b.confs[i]!;
    if (d) return d;
  }
  return 0;
}

const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);

interface Group {
  length: number;
  format: string;
  reads: Read[];
  mass: number;
}

/** Masses closer than this are a tie: sums of equal confidences differ by rounding with the read length. */
const MASS_EPSILON = 1e-9;
const massDifference = (a: Group, b: Group): number => (Math.abs(a.mass - b.mass) > MASS_EPSILON ? a.mass - b.mass : 0);

function vote(unordered: readonly Read[], options: VoteOptions): VoteResult {
  const frames = unordered.length;
  if (frames === 0) {
    return { text: '', format: '', confidence: 0, charConfidences: [], frames: 0, agreeing: 0, confident: false };
  }
  const reads = [...unordered].sort(compareReads);

  const groups = new Map<string, Group>();
  for (const r of reads) {
    const key = `${r.chars.length}\u0000${r.format}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { length: r.chars.length, format: r.format, reads: [], mass: 0 }));
    g.reads.push(r);
  }
  for (const g of groups.values()) g.mass = sum(g.reads.map((r) => sum(r.confs) / r.confs.length));
  const best = [...groups.values()].reduce((a, b) => {
    const d =
      massDifference(b, a) || b.reads.length - a.reads.length || b.length - a.length || cmpStr(a.format, b.format);
    return d > 0 ? b : a;
  });

  const chars: string[] = [];
  const charConfidences: number[] = [];
  for (let p = 0; p < best.length; p++) {
    const weight = new Map<string, number>();
    const top = new Map<string, number>();
    for (const r of best.reads) {
      const c = r.chars[p]!;
      const conf = r.confs[p]!;
      weight.set(c, (weight.get(c) ?? 0) + conf);
      top.set(c, Math.max(top.get(c) ?? 0, conf));
    }
    const candidates = [...weight.keys()].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    let winner = candidates[0]!;
    for (const c of candidates) if (weight.get(c)! > weight.get(winner)!) winner = c;
    const total = sum(candidates.map((c) => weight.get(c)!));
    const share = total > 0 ? weight.get(winner)! / total : 0;
    chars.push(winner);
    charConfidences.push(Math.min(1, share * top.get(winner)!));
  }

  const text = chars.join('');
  const confidence = Math.min(...charConfidences);
  const agreeing = reads.filter((r) => r.text === text).length;
  const confident =
    agreeing >= 1 &&
    ((agreeing >= options.minAgreeing && confidence >= options.confident) ||
      confidence >= options.singleFrameConfident);
  return { text, format: best.format, confidence, charConfidences, frames, agreeing, confident };
}
