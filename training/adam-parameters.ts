/**
 * The parameters a trainer moves, as one flat float64 array, with Adam's
 * moments (Kingma & Ba 2015) and an L2 pull of every parameter towards
 * where it started (the generic model: the training data is small and
 * narrow, and the plates the model will meet are not).
 *
 * The state is plain data (`state()` / `AdamParameters.restore`), so a run
 * saved after an epoch and resumed ends exactly where an uninterrupted one
 * does. The arithmetic is float64 in a fixed order: the same gradients give
 * the same parameters, bit for bit.
 */
export interface AdamState {
  params: number[];
  start: number[];
  m: number[];
  v: number[];
  step: number;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export class AdamParameters {
  private step = 0;

  private constructor(
    /** the parameters now; trainers read them in place */
    readonly values: Float64Array,
    private readonly start: Float64Array,
    private readonly m: Float64Array,
    private readonly v: Float64Array,
  ) {}

  /** a fresh run starting from `initial` */
  static from(initial: ArrayLike<number>): AdamParameters {
    const values = Float64Array.from(initial);
    return new AdamParameters(
      values,
      Float64Array.from(values),
      new Float64Array(values.length),
      new Float64Array(values.length),
    );
  }

  /** a saved run, resumed */
  static restore(state: AdamState): AdamParameters {
    const p = new AdamParameters(
      Float64Array.from(state.params),
      Float64Array.from(state.start),
      Float64Array.from(state.m),
      Float64Array.from(state.v),
    );
    p.step = state.step;
    return p;
  }

  get length(): number {
    return this.values.length;
  }

  state(): AdamState {
    return { params: [...this.values], start: [...this.start], m: [...this.m], v: [...this.v], step: this.step };
  }

  /**
   * One Adam step on the mean of `grad` over `n` samples plus the pull
   * towards the start; `rateOf(i)` is parameter i's learning rate.
   */
  update(grad: Float64Array, n: number, l2ToStart: number, rateOf: (index: number) => number): void {
    this.step++;
    const c1 = 1 - BETA1 ** this.step;
    const c2 = 1 - BETA2 ** this.step;
    const { values: p, start, m, v } = this;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! / n + l2ToStart * (p[i]! - start[i]!);
      m[i] = BETA1 * m[i]! + (1 - BETA1) * g;
      v[i] = BETA2 * v[i]! + (1 - BETA2) * g * g;
      p[i]! -= (rateOf(i) * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + EPSILON);
    }
  }
}
