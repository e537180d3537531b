/**
 * Plates for the simulated car park: real plates, plausible synthetic ones
 * of the same formats, and near neighbours (a look-alike swapped, or one
 * character dropped or added), the plates that put a matcher to the test.
 * Seeded: the same seed gives the same plates.
 */
import { provinces } from '../../proto/plate-syntax.js';
import type { SeededRandom } from '../../scenes/seeded-random.js';

const LOOK_ALIKE_GROUPS = ['0ODQ', '1I', '8B', '5S', '2Z', '6G'];
const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function classOf(c: string): string {
  if (DIGITS.includes(c)) return DIGITS;
  if (LETTERS.includes(c)) return LETTERS;
  return provinces;
}

export class PlatePopulation {
  private readonly real: string[];

  /** `real`: the real plates to draw on (at least one). */
  constructor(
    real: readonly string[],
    private readonly rng: SeededRandom,
  ) {
    this.real = [...new Set(real)];
    if (this.real.length === 0) throw new RangeError('PlatePopulation needs at least one real plate');
  }

  /** A real plate. */
  realPlate(): string {
    return this.rng.pick(this.real);
  }

  /**
   * A plate of a real plate's pattern with every character redrawn from its
   * class (digit, letter), keeping a province character: a stranger of the
   * same format, as likely to collide with a misread as a real stranger is.
   */
  synthetic(): string {
    const chars = [...this.realPlate()];
    return chars.map((c) => (classOf(c) === provinces ? c : this.rng.pick(classOf(c)))).join('');
  }

  /** A plate one look-alike character away from `plate`, or (when it has none) one character off. */
  lookAlikeNeighbour(plate: string): string {
    const chars = [...plate];
    const places = chars.flatMap((c, i) => (LOOK_ALIKE_GROUPS.some((g) => g.includes(c)) ? [i] : []));
    if (places.length === 0) return this.oneOffNeighbour(plate);
    const at = this.rng.pick(places);
    const group = LOOK_ALIKE_GROUPS.find((g) => g.includes(chars[at]!))!;
    chars[at] = this.rng.pick([...group].filter((c) => c !== chars[at]));
    return chars.join('');
  }

  /** `plate` with one character dropped or one added (a character of a neighbouring class). */
  oneOffNeighbour(plate: string): string {
    const chars = [...plate];
    if (chars.length > 2 && this.rng.chance(0.5)) {
      chars.splice(this.rng.int(0, chars.length - 1), 1);
    } else {
      const at = this.rng.int(0, chars.length);
      const beside = chars[Math.min(at, chars.length - 1)]!;
      chars.splice(at, 0, this.rng.pick(classOf(beside)));
    }
    return chars.join('');
  }
}
