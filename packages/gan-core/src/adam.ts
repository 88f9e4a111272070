import { type StateEntry, type Stateful, tf } from '@squid-ad/backend';

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
    // One tidy per parameter (a single tidy around the loop would keep every parameter's
    // temporaries alive until the end), and one per intermediate, so a large parameter (the
    // 12.6 M-entry attention projection) peaks at 7 copies of itself instead of 15.
    this.params.forEach((p, i) => {
      const g0 = grads[p.variable.name];
      if (!g0) return;
      tf.tidy(() => {
        const g = weightDecay !== 0 ? tf.tidy(() => tf.add(g0, tf.mul(p.variable, weightDecay))) : g0;
        const m = tf.tidy(() => tf.add(tf.mul(this.expAvg[i], beta1), tf.mul(g, 1 - beta1)));
        const v = tf.tidy(() => tf.add(tf.mul(this.expAvgSq[i], beta2), tf.mul(tf.mul(g, g), 1 - beta2)));
        if (g !== g0) g.dispose();
        // PyTorch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom.
        const step = tf.tidy(() => tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps)), stepSize));
        this.expAvg[i].assign(m);
        this.expAvgSq[i].assign(v);
        p.variable.assign(tf.tidy(() => tf.sub(p.variable, step)));
      });
    });
    tf.tidy(() => this.stepCount.assign(tf.scalar(t, 'int32')));
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
