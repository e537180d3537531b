/**
 * The open sessions of one simulated car park, filed under the cloud's
 * candidate keys (cloud/sessions/plate-keys.ts), so that an exit is matched
 * against the sessions its read's keys find, as the cloud matches it. No
 * I/O; plates in the lot are distinct (two open sessions with one plate is
 * a data error the cloud never creates).
 */
import { readKeys, sessionKeys } from '../../cloud/sessions/plate-keys.js';
import { plateDistanceKind } from '../../cloud/sessions/plate-matching.js';
import type { OpenSessionRef } from '../../cloud/sessions/plate-matching.js';
import type { SeededRandom } from '../../scenes/seeded-random.js';

/** What happened in the lot, in order (the end-to-end pass replays it through the cloud). */
export type LotChange = { op: 'open'; id: string; plate: string } | { op: 'close'; id: string };

export class SimulatedLot {
  /** `onChange`: told of every session opened and closed, in order */
  constructor(private readonly onChange?: (change: LotChange) => void) {}

  private readonly ids: string[] = [];
  private readonly position = new Map<string, number>();
  private readonly plates = new Map<string, string>();
  private readonly byPlate = new Map<string, string>();
  /** key -> the one session filed under it, or the several (most keys have one) */
  private readonly byKey = new Map<string, string | Set<string>>();
  /** session -> its keys, computed once */
  private readonly keysOf = new Map<string, string[]>();
  private counter = 0;

  get size(): number {
    return this.ids.length;
  }

  /** The open session of this plate, if any. */
  sessionOf(plate: string): string | undefined {
    return this.byPlate.get(plate);
  }

  plateOf(id: string): string {
    const plate = this.plates.get(id);
    if (plate === undefined) throw new RangeError(`no open session ${id}`);
    return plate;
  }

  open(plate: string): string {
    if (this.byPlate.has(plate)) throw new RangeError(`plate ${plate} is already open`);
    const id = `s${++this.counter}`;
    this.position.set(id, this.ids.length);
    this.ids.push(id);
    this.plates.set(id, plate);
    this.byPlate.set(plate, id);
    const keys = sessionKeys(plate);
    this.keysOf.set(id, keys);
    for (const key of keys) {
      const held = this.byKey.get(key);
      if (held === undefined) this.byKey.set(key, id);
      else if (typeof held === 'string') this.byKey.set(key, new Set([held, id]));
      else held.add(id);
    }
    this.onChange?.({ op: 'open', id, plate });
    return id;
  }

  close(id: string): void {
    const plate = this.plateOf(id);
    const at = this.position.get(id)!;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[at] = last;
      this.position.set(last, at);
    }
    this.position.delete(id);
    this.plates.delete(id);
    this.byPlate.delete(plate);
    for (const key of this.keysOf.get(id)!) {
      const held = this.byKey.get(key)!;
      if (typeof held === 'string') this.byKey.delete(key);
      else {
        held.delete(id);
        if (held.size === 1) this.byKey.set(key, held.values().next().value!);
      }
    }
    this.keysOf.delete(id);
    this.onChange?.({ op: 'close', id });
  }

  /** A uniformly random open session other than `except`. */
  randomSession(rng: SeededRandom, except?: string): string {
    if (this.ids.length === 0 || (this.ids.length === 1 && this.ids[0] === except))
      throw new RangeError('no session to pick');
    for (;;) {
      const id = this.ids[rng.int(0, this.ids.length - 1)]!;
      if (id !== except) return id;
    }
  }

  /** The open sessions the read's candidate keys find: a superset of those that fit it. */
  candidates(read: string): OpenSessionRef[] {
    const found = new Set<string>();
    for (const key of readKeys(read)) {
      const held = this.byKey.get(key);
      if (typeof held === 'string') found.add(held);
      else if (held) for (const id of held) found.add(id);
    }
    return [...found].map((id) => ({ id, plate: this.plates.get(id)! }));
  }

  /** Every open session (the baseline: what the cloud compared each exit with before the keys). */
  all(): OpenSessionRef[] {
    return this.ids.map((id) => ({ id, plate: this.plates.get(id)! }));
  }

  /**
   * Shares of open sessions with a near neighbour in the lot: `lookAlike`,
   * another session differing only by look-alike characters; `oneOff`, another
   * session one character longer or shorter (look-alike tolerant).
   */
  neighbourShares(): { lookAlike: number; oneOff: number } {
    let lookAlike = 0;
    let oneOff = 0;
    for (const [id, plate] of this.plates) {
      const same = this.byKey.get(this.keysOf.get(id)!.find((k) => k.startsWith('='))!)!;
      if (typeof same !== 'string') lookAlike++;
      const near = this.candidates(plate).filter(
        (s) =>
          s.id !== id &&
          (plateDistanceKind(plate, s.plate) === 'missing' || plateDistanceKind(plate, s.plate) === 'extra'),
      );
      if (near.length > 0) oneOff++;
    }
    const n = Math.max(1, this.plates.size);
    return { lookAlike: lookAlike / n, oneOff: oneOff / n };
  }
}
