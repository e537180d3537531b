/**
 * Independent verification of a ledger, from an export folder or a
 * service's HTTP endpoints, trusting only the keys it is given:
 *
 * 1. every checkpoint carries a valid log signature, names the same origin,
 *    grows strictly in size, and has at least `quorum` valid witness
 *    cosignatures;
 * 2. every record's leaf hash is re-derived (and compared with the served
 *    leaf hash, which names the exact record that was changed, dropped or
 *    moved);
 * 3. the root of the records up to each checkpoint's size is re-derived and
 *    must equal the checkpoint's root; since all roots come from one record
 *    sequence, each checkpoint is consistent with the one before;
 * 4. the records must reach the last checkpoint's size (no truncation).
 *
 * It keeps only O(log n) hashes in memory (a compact range of the tree).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { Hash } from './merkle.js';
import { hashesEqual, leafHashOfText, nodeHash } from './merkle.js';
import type { LedgerKeys } from './ledger-export.js';
import { readExportFile, splitCheckpointNotes } from './ledger-export.js';
import type { Checkpoint } from './signed-note.js';
import { verifyCheckpointNote } from './signed-note.js';

/** A ledger to verify; records and leaves come in chunks of lines (whole lines, in order). */
export interface LedgerSource {
  checkpoints(): Promise<string[]>;
  records(): AsyncIterable<string[]>;
  /** served leaf hashes (hex), if the source has them */
  leaves(): AsyncIterable<string[]> | null;
}

/** Reads chunks of lines one at a time, as an iterator of single lines for a synchronous consumer. */
class LineCursor {
  private chunk: string[] = [];
  private at = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<string[]>) {}
  /** the next line if it is already read, without waiting */
  nextReady(): string | undefined {
    return this.at < this.chunk.length ? this.chunk[this.at++] : undefined;
  }
  async next(): Promise<string | null> {
    while (this.at >= this.chunk.length) {
      if (this.done) return null;
      const r = await this.source.next();
      if (r.done) {
        this.done = true;
        return null;
      }
      this.chunk = r.value;
      this.at = 0;
    }
    return this.chunk[this.at++]!;
  }
}

export type VerifyResult =
  | { ok: true; records: number; checkpoints: number; size: number; cosignedBy: string[] }
  | { ok: false; problem: string; recordIndex: number | null; checkpointIndex: number | null; records: number };

/** The right edge of a Merkle tree: one perfect subtree per set bit of the size. */
class CompactRange {
  private readonly hashes: Hash[] = [];
  private readonly sizes: number[] = [];
  size = 0;

  push(leaf: Hash): void {
    let hash = leaf;
    let size = 1;
    while (this.sizes.length && this.sizes[this.sizes.length - 1] === size) {
      hash = nodeHash(this.hashes.pop()!, hash);
      this.sizes.pop();
      size *= 2;
    }
    this.hashes.push(hash);
    this.sizes.push(size);
    this.size++;
  }

  root(): Hash {
    let acc = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) acc = nodeHash(this.hashes[i]!, acc);
    return acc;
  }
}

export async function verifyLedger(
  source: LedgerSource,
  keys: LedgerKeys,
  onProgress: (records: number) => void = () => undefined,
): Promise<VerifyResult> {
  const fail = (problem: string, recordIndex: number | null, checkpointIndex: number | null, records: number) =>
    ({ ok: false, problem, recordIndex, checkpointIndex, records }) as const;

  const notes = await source.checkpoints();
  const checkpoints: Checkpoint[] = [];
  let cosignedBy: string[] = [];
  for (const [k, note] of notes.entries()) {
    let verified;
    try {
      verified = verifyCheckpointNote(note, keys.log, keys.witnesses);
    } catch (err) {
      return fail(`checkpoint ${k}: ${(err as Error).message}`, null, k, 0);
    }
    const c = verified.checkpoint;
    if (k > 0) {
      const prev = checkpoints[k - 1]!;
      if (c.origin !== prev.origin)
        return fail(`checkpoint ${k}: origin "${c.origin}" differs from "${prev.origin}"`, null, k, 0);
      if (c.size === prev.size) {
        return fail(
          hashesEqual(c.root, prev.root)
            ? `checkpoint ${k}: repeats size ${c.size}`
            : `checkpoint ${k}: a second root for size ${c.size} (fork)`,
          null,
          k,
          0,
        );
      }
      if (c.size < prev.size)
        return fail(`checkpoint ${k}: size ${c.size} is smaller than ${prev.size} (rollback)`, null, k, 0);
    }
    if (verified.cosignedBy.length < keys.quorum) {
      return fail(
        `checkpoint ${k} (size ${c.size}): ${verified.cosignedBy.length} valid cosignatures, quorum is ${keys.quorum}`,
        null,
        k,
        0,
      );
    }
    cosignedBy = verified.cosignedBy;
    checkpoints.push(c);
  }

  const range = new CompactRange();
  const servedLeaves = source.leaves();
  const leaves = servedLeaves ? new LineCursor(servedLeaves[Symbol.asyncIterator]()) : null;
  let next = 0; // next checkpoint to reach
  while (next < checkpoints.length && checkpoints[next]!.size === 0) next++;
  let index = 0;
  for await (const chunk of source.records())
    for (const line of chunk) {
      const leaf = leafHashOfText(line);
      if (leaves) {
        const served = leaves.nextReady() ?? (await leaves.next());
        if (served === null) return fail(`record ${index}: no leaf hash served for it`, index, null, index);
        if (!hashesEqual(Buffer.from(served, 'hex'), leaf) || served.length !== 64) {
          return fail(`record ${index}: does not match its leaf hash (changed, dropped or moved)`, index, null, index);
        }
      }
      range.push(leaf);
      index++;
      if (index % 65536 === 0) onProgress(index);
      if (next < checkpoints.length && index === checkpoints[next]!.size) {
        if (!hashesEqual(range.root(), checkpoints[next]!.root)) {
          const from = next > 0 ? checkpoints[next - 1]!.size : 0;
          return fail(
            `checkpoint ${next} (size ${index}): its root does not match records ${from}..${index - 1}; the first bad record is in that range`,
            from,
            next,
            index,
          );
        }
        next++;
      }
    }
  onProgress(index);
  if (next < checkpoints.length) {
    return fail(
      `records end at index ${index}, but checkpoint ${next} covers ${checkpoints[next]!.size}: records from ${index} on are missing`,
      index,
      next,
      index,
    );
  }
  const size = checkpoints.length ? checkpoints[checkpoints.length - 1]!.size : 0;
  return { ok: true, records: index, checkpoints: checkpoints.length, size, cosignedBy };
}

/** The lines of a file in chunks (each chunk ends at a line break). */
async function* fileLines(path: string): AsyncIterable<string[]> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + (chunk as string)).split('\n');
    rest = lines.pop()!;
    yield lines;
  }
  if (rest !== '') yield [rest];
}

export function directorySource(dir: string): LedgerSource {
  return {
    checkpoints: async () => splitCheckpointNotes(await readExportFile(dir, 'checkpoints')),
    records: () => fileLines(join(dir, 'records')),
    leaves: () => fileLines(join(dir, 'leaves')),
  };
}

/** Reads a running service's ledger endpoints (`/v1/ledger/...`) with an auditor's API key. */
export function httpSource(baseUrl: string, apiKey: string | null, pageSize = 10_000): LedgerSource {
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(baseUrl.replace(/\/$/, '') + path, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  let size: number | null = null;
  const checkpoints = async () => {
    const body = (await get('/v1/ledger/checkpoints')) as { checkpoints: Array<{ note: string; size: number }> };
    size = body.checkpoints.length ? body.checkpoints[body.checkpoints.length - 1]!.size : 0;
    return body.checkpoints.map((c) => c.note);
  };
  async function* paged(kind: 'records' | 'leaves'): AsyncIterable<string[]> {
    const total = size ?? 0;
    for (let start = 0; start < total; start += pageSize) {
      const body = (await get(`/v1/ledger/${kind}?start=${start}&end=${Math.min(total, start + pageSize)}`)) as {
        records?: Array<{ record: string }>;
        leaves?: string[];
      };
      yield kind === 'records' ? (body.records ?? []).map((r) => r.record) : (body.leaves ?? []);
    }
  }
  return { checkpoints, records: () => paged('records'), leaves: () => paged('leaves') };
}
