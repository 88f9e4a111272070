import {
  type FusedAdamKernel,
  float32Storage,
  fusedAdamKernel,
  type StateEntry,
  type Stateful,
  tf,
} from '@squid-ad/backend';

/** Adam hyper-parameters, PyTorch names; defaults are PyTorch's. */
export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  /** L2 penalty added to the gradient (PyTorch `Adam`, not decoupled `AdamW`). */
  weightDecay: number;
}

const DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };

function checkOptions(o: AdamOptions): AdamOptions {
  const bad = (what: string) => new Error(`Adam: ${what}`);
  if (!(o.lr > 0)) throw bad(`lr must be positive, got ${o.lr}`);
  for (const b of o.betas) if (!(b >= 0 && b < 1)) throw bad(`betas must lie in [0, 1), got ${o.betas}`);
  if (!(o.eps >= 0)) throw bad(`eps must be non-negative, got ${o.eps}`);
  if (!(o.weightDecay >= 0)) throw bad(`weightDecay must be non-negative, got ${o.weightDecay}`);
  return o;
}

/** A parameter the optimizer updates; `name` keys its moments in checkpoints. */
export interface AdamParam {
  name: string;
  variable: tf.Variable;
}

/**
 * PyTorch's `torch.optim.Adam` (single parameter group, amsgrad off): weight decay is added to
 * the gradient, bias correction per step, eps added outside the square root, the same order of
 * float32 operations. Moments and the step count are variables exposed through {@link state},
 * so a checkpoint restores the optimizer exactly.
 */
export class Adam implements Stateful {
  /** Current learning rate; a scheduler sets it between steps. */
  lr: number;
  readonly options: AdamOptions;
  private readonly params: AdamParam[];
  private readonly expAvg: tf.Variable[];
  private readonly expAvgSq: tf.Variable[];
  /** int32 scalar: number of steps taken (PyTorch keeps one per parameter; all are equal). */
  private readonly stepCount: tf.Variable;

  constructor(params: AdamParam[], options: Partial<AdamOptions> = {}) {
    this.options = checkOptions({ ...DEFAULTS, ...options });
    this.lr = this.options.lr;
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new Error(`Adam: parameter name "${p.name}" appears twice`);
      names.add(p.name);
    }
    this.params = params;
    // Inside tidy: tf.variable keeps its initial value alive as a separate tensor otherwise.
    const zeros = (v: tf.Variable) => tf.tidy(() => tf.variable(tf.zerosLike(v), false));
    this.expAvg = params.map((p) => zeros(p.variable));
    this.expAvgSq = params.map((p) => zeros(p.variable));
    this.stepCount = tf.tidy(() => tf.variable(tf.scalar(0, 'int32'), false));
  }

  /** Steps taken so far. */
  get step(): number {
    return this.stepCount.dataSync()[0];
  }

  /**
   * One update. `grads` maps a variable's tf name (`variable.name`, as returned by
   * `tf.variableGrads`) to its gradient; parameters without a gradient are left untouched, as
   * PyTorch skips parameters whose `.grad` is None.
   */
  update(grads: tf.NamedTensorMap): void {
    const t = this.step + 1;
    const [beta1, beta2] = this.options.betas;
    const { eps, weightDecay } = this.options;
    const bc1 = 1 - beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const stepSize = this.lr / bc1;
    const k: AdamConstants = {
      beta1,
      oneMinusBeta1: 1 - beta1,
      beta2,
      oneMinusBeta2: 1 - beta2,
      weightDecay,
      bc2Sqrt,
      eps,
      stepSize,
    };
    const kernel = fusedAdamKernel();
    // The kernel's arguments, in its order (Float32Array rounds them as TF.js scalars do).
    const packed =
      kernel && Float32Array.of(beta1, 1 - beta1, beta2, 1 - beta2, weightDecay, bc2Sqrt, eps, stepSize);
    this.params.forEach((p, i) => {
      const g = grads[p.variable.name];
      if (!g) return;
      const done =
        kernel && packed && fusedUpdate(kernel, packed, p.variable, this.expAvg[i], this.expAvgSq[i], g);
      if (!done) this.tensorUpdate(p.variable, this.expAvg[i], this.expAvgSq[i], g, k);
    });
    tf.tidy(() => this.stepCount.assign(tf.scalar(t, 'int32')));
  }

  /**
   * The update as tensor ops, for backends whose memory a loop cannot reach (and for buffers
   * that other tensors share). One tidy per intermediate, so a large parameter (the 12.6
   * M-entry attention projection) peaks at 7 copies of itself instead of 15.
   */
  private tensorUpdate(
    p: tf.Variable,
    expAvg: tf.Variable,
    expAvgSq: tf.Variable,
    g0: tf.Tensor,
    k: AdamConstants,
  ): void {
    tf.tidy(() => {
      const g = k.weightDecay !== 0 ? tf.tidy(() => tf.add(g0, tf.mul(p, k.weightDecay))) : g0;
      const m = tf.tidy(() => tf.add(tf.mul(expAvg, k.beta1), tf.mul(g, k.oneMinusBeta1)));
      const v = tf.tidy(() => tf.add(tf.mul(expAvgSq, k.beta2), tf.mul(tf.mul(g, g), k.oneMinusBeta2)));
      if (g !== g0) g.dispose();
      // PyTorch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom.
      const step = tf.tidy(() => tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), k.bc2Sqrt), k.eps)), k.stepSize));
      expAvg.assign(m);
      expAvgSq.assign(v);
      p.assign(tf.tidy(() => tf.sub(p, step)));
    });
  }

  /** Moments as `exp_avg.<param>` / `exp_avg_sq.<param>` buffers plus the `step` counter. */
  state(): StateEntry[] {
    const entries: StateEntry[] = [];
    this.params.forEach((p, i) => {
      entries.push({ name: `exp_avg.${p.name}`, variable: this.expAvg[i], kind: 'buffer', layout: 'raw' });
      entries.push({
        name: `exp_avg_sq.${p.name}`,
        variable: this.expAvgSq[i],
        kind: 'buffer',
        layout: 'raw',
      });
    });
    entries.push({ name: 'step', variable: this.stepCount, kind: 'buffer', layout: 'raw', official: false });
    return entries;
  }

  dispose(): void {
    for (const v of [...this.expAvg, ...this.expAvgSq, this.stepCount]) v.dispose();
  }
}

/**
 * The constants of one update, computed in double as PyTorch does; both paths use them as float32
 * (TF.js scalars, the kernel's Float32Array).
 */
interface AdamConstants {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  weightDecay: number;
  bc2Sqrt: number;
  eps: number;
  stepSize: number;
}

/**
 * The update by the native fused kernel (`@squid-ad/backend-onednn`), in place: one pass over
 * memory instead of ~15 elementwise kernels (~1 s of a 4 s DigitAnatomy training step on wasm,
 * 84 ms fused). It computes the same float32 operations in the same order, so both paths give
 * identical bits. Returns false when the buffers cannot be written in place.
 */
function fusedUpdate(
  kernel: FusedAdamKernel,
  constants: Float32Array,
  p: tf.Variable,
  expAvg: tf.Variable,
  expAvgSq: tf.Variable,
  grad: tf.Tensor,
): boolean {
  // No tensor is created between taking the views and the call (wasm heap growth detaches them).
  const P = float32Storage(p, { writable: true });
  const M = float32Storage(expAvg, { writable: true });
  const V = float32Storage(expAvgSq, { writable: true });
  const G = float32Storage(grad);
  if (!P || !M || !V || !G || G.length !== P.length) return false;
  kernel(P, M, V, G, constants);
  return true;
}
