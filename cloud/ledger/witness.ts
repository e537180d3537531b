/**
 * A witness (a partner bank's cosigner): it cosigns a checkpoint only if
 * the checkpoint is signed by the log, and extends the last checkpoint the
 * witness signed, proven by a consistency proof. It refuses rollbacks (a
 * smaller tree) and forks (another root for a size it signed, or a tree
 * that does not extend its last one).
 *
 * Its state is one small JSON file (origin, size, root), replaced
 * atomically (write, fsync, rename) before a cosignature is returned, so a
 * crash never lets it sign two different trees for one size.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../time/clock.js';
import type { Hash } from './merkle.js';
import { hashesEqual, verifyConsistency } from './merkle.js';
import type { NoteKey, NoteSigningKey } from './signed-note.js';
import { cosignatureLine, verifyCheckpointNote } from './signed-note.js';

export interface WitnessState {
  origin: string;
  size: number;
  /** base64 root hash of the last cosigned checkpoint */
  root: string;
}

export type WitnessRefusal = 'BAD_SIGNATURE' | 'WRONG_ORIGIN' | 'SIZE_MISMATCH' | 'ROLLBACK' | 'FORK';

export class WitnessError extends Error {
  constructor(
    readonly code: WitnessRefusal,
    message: string,
    /** the size this witness last cosigned, so a log can send the right proof */
    readonly witnessSize: number,
  ) {
    super(message);
  }
}

export class Witness {
  private current: WitnessState | null;

  constructor(
    private readonly key: NoteSigningKey,
    private readonly logKey: NoteKey,
    readonly origin: string,
    private readonly statePath: string,
    private readonly clock: Clock,
  ) {
    this.current = existsSync(statePath) ? parseState(readFileSync(statePath, 'utf8'), statePath) : null;
  }

  get state(): WitnessState | null {
    return this.current;
  }

  /**
   * Cosigns `note` if it extends the last checkpoint this witness signed.
   * `oldSize` is the size the consistency proof starts from; it must be the
   * witness's own (0 before the first cosignature).
   */
  cosign(note: string, oldSize: number, proof: readonly Hash[]): string {
    const size = this.current?.size ?? 0;
    let verified;
    try {
      verified = verifyCheckpointNote(note, this.logKey, []);
    } catch (err) {
      throw new WitnessError(
        'BAD_SIGNATURE',
        `the checkpoint is not signed by the log: ${(err as Error).message}`,
        size,
      );
    }
    const { checkpoint, body } = verified;
    if (checkpoint.origin !== this.origin) {
      throw new WitnessError('WRONG_ORIGIN', `this witness cosigns "${this.origin}", not "${checkpoint.origin}"`, size);
    }
    if (oldSize !== size) {
      throw new WitnessError(
        'SIZE_MISMATCH',
        `the proof starts at size ${oldSize}; this witness last cosigned size ${size}`,
        size,
      );
    }
    if (this.current) {
      const lastRoot = Buffer.from(this.current.root, 'base64');
      if (checkpoint.size < size) {
        throw new WitnessError('ROLLBACK', `size ${checkpoint.size} is smaller than the cosigned size ${size}`, size);
      }
      if (checkpoint.size === size) {
        if (!hashesEqual(checkpoint.root, lastRoot)) {
          throw new WitnessError(
            'FORK',
            `a different root for size ${size}, which this witness already cosigned`,
            size,
          );
        }
      } else if (size > 0 && !verifyConsistency(size, checkpoint.size, lastRoot, checkpoint.root, proof)) {
        // (every tree extends the empty one)
        throw new WitnessError(
          'FORK',
          `size ${checkpoint.size} does not extend the cosigned size ${size} (bad consistency proof)`,
          size,
        );
      }
    }
    this.save({ origin: this.origin, size: checkpoint.size, root: Buffer.from(checkpoint.root).toString('base64') });
    return cosignatureLine(body, this.key, Math.floor(this.clock.now() / 1000));
  }

  private save(state: WitnessState): void {
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 });
    const fd = openSync(tmp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.statePath);
    const dir = openSync(dirname(this.statePath), 'r');
    fsyncSync(dir);
    closeSync(dir);
    this.current = state;
  }
}

function parseState(text: string, path: string): WitnessState {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new Error(`witness state ${path} is not valid JSON`);
  }
  const s = o as Partial<WitnessState>;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.origin !== 'string' ||
    !Number.isSafeInteger(s.size) ||
    (s.size as number) < 0 ||
    typeof s.root !== 'string' ||
    Buffer.from(s.root, 'base64').length !== 32
  ) {
    throw new Error(`witness state ${path}: expected {"origin", "size", "root"}`);
  }
  return { origin: s.origin, size: s.size as number, root: s.root };
}
