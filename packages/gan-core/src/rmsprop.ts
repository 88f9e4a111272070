import { type StateEntry, type Stateful, tf } from '@squid-ad/backend';

/** RMSProp hyper-parameters, TensorFlow 1.x names; defaults are `tf.train.RMSPropOptimizer`'s. */
export interface RMSpropOptions {
  lr: number;
  /** Discount of the mean square (TF `decay`, Keras `rho`, PyTorch `alpha`). */
  decay: number;
  momentum: number;
  /** Added inside the square root (TF), not outside it (PyTorch). */
  epsilon: number;
}

const DEFAULTS: RMSpropOptions = { lr: 1e-3, decay: 0.9, momentum: 0, epsilon: 1e-10 };

/** A parameter the optimizer updates; `name` keys its slots in checkpoints. */
export interface RMSpropParam {
  name: string;
  variable: tf.Variable;
}

/**
 * TensorFlow 1.x `tf.train.RMSPropOptimizer` (uncentered), as its `ApplyRMSProp` kernel computes:
 * `ms += (g² − ms)·(1 − decay)`, `mom = momentum·mom + lr·g / √(ms + ε)`, `var −= mom`. The mean
 * square starts at ONE (TF 1.x's slot initialiser; Keras and PyTorch start at zero), so the first
 * steps are small (≈ lr·g instead of ≈ 3·lr·sign g). Slots are variables exposed through
 * {@link state}, so a checkpoint restores the optimizer exactly.
 */
export class RMSprop implements Stateful {
  /** Current learning rate; a scheduler sets it between steps. */
  lr: number;
  readonly options: RMSpropOptions;
  private readonly params: RMSpropParam[];
  private readonly ms: tf.Variable[];
  private readonly mom: tf.Variable[];

  constructor(params: RMSpropParam[], options: Partial<RMSpropOptions> = {}) {
    const o = { ...DEFAULTS, ...options };
    const bad = (what: string) => new Error(`RMSprop: ${what}`);
    if (!(o.lr > 0)) throw bad(`lr must be positive, got ${o.lr}`);
    if (!(o.decay >= 0 && o.decay < 1)) throw bad(`decay must lie in [0, 1), got ${o.decay}`);
    if (!(o.momentum >= 0)) throw bad(`momentum must be non-negative, got ${o.momentum}`);
    if (!(o.epsilon >= 0)) throw bad(`epsilon must be non-negative, got ${o.epsilon}`);
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw bad(`parameter name "${p.name}" appears twice`);
      names.add(p.name);
    }
    this.options = o;
    this.lr = o.lr;
    this.params = params;
    this.ms = params.map((p) => tf.tidy(() => tf.variable(tf.onesLike(p.variable), false)));
    this.mom = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
  }

  /**
   * One update. `grads` maps a variable's tf name (as returned by `tf.variableGrads`) to its
   * gradient; parameters without a gradient are left untouched.
   */
  update(grads: tf.NamedTensorMap): void {
    const { decay, momentum, epsilon } = this.options;
    this.params.forEach((p, i) => {
      const g = grads[p.variable.name];
      if (!g) return;
      tf.tidy(() => {
        const ms = tf.add(this.ms[i], tf.mul(tf.sub(tf.square(g), this.ms[i]), 1 - decay));
        const scaled = tf.div(tf.mul(g, this.lr), tf.sqrt(tf.add(ms, epsilon)));
        const mom = momentum !== 0 ? tf.add(tf.mul(this.mom[i], momentum), scaled) : scaled;
        this.ms[i].assign(ms);
        this.mom[i].assign(mom);
        p.variable.assign(tf.sub(p.variable, mom));
      });
    });
  }

  /** Slots as `rms.<param>` (the mean square) and `momentum.<param>` buffers (TF slot names). */
  state(): StateEntry[] {
    return this.params.flatMap((p, i): StateEntry[] => [
      { name: `rms.${p.name}`, variable: this.ms[i], kind: 'buffer', layout: 'raw' },
      { name: `momentum.${p.name}`, variable: this.mom[i], kind: 'buffer', layout: 'raw' },
    ]);
  }

  dispose(): void {
    for (const v of [...this.ms, ...this.mom]) v.dispose();
  }
}
