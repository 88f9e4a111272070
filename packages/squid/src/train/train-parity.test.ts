import { Rng, tf, toOfficialLayout } from '@squid-ad/backend';
import {
  BACKEND_VARIANTS,
  type BackendVariant,
  type Fixture,
  fixtureTensor,
  loadFixture,
  nchwToNhwc,
  startVariant,
  toTensor,
  trainStepFixtureDir,
} from '@squid-ad/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromOfficialCheckpoint, officialStateEntries } from '../official.js';
import { SquidTrainer, type StepLosses } from './squid-trainer.js';

// Training parity with the official PyTorch SQUID: three official iterations (two-forward
// schedule) recorded in fixtures/squid-train-step/visible (or SQUID_TRAIN_FIXTURE_DIR) from the
// parity fixture's model, with every Bernoulli mask recorded and replayed here. See that
// fixture's README.

/** What one training run on the fixture records, all in the official layout and names. */
interface Recorded {
  losses: StepLosses[];
  /** Iteration 1: `generator.*` from L_G and `discriminator.*` from L_D, before the updates. */
  grads: Map<string, tf.Tensor>;
  /** Iteration 1: `d.recon`, `d.real_logits`, `d.fake_logits`, `g.recon`, `g.teacher_recon`, `g.fake_logits`. */
  outputs: Map<string, tf.Tensor>;
  /** Full state after each iteration, `generator.*` / `discriminator.*`. */
  states: Map<string, tf.Tensor>[];
  pointers: number[][];
  /** Which state entries the optimizers train (`generator.*` / `discriminator.*`). */
  parameters: Set<string>;
  /** Largest learning rate of the two optimizers. */
  lr: number;
  /** Tensors left behind by the run beyond the recorded ones. */
  leaked: number;
}

/** Runs the fixture's three iterations on a model loaded from the parity fixture. */
function runFixture(train: Fixture): Recorded {
  const tensorsBefore = tf.memory().numTensors;
  const parity = loadFixture();
  const model = fromOfficialCheckpoint({
    weights: parity.weightsPath,
    ae: parity.json.ae_constructor,
    discriminator: parity.json.discriminator_constructor,
  });
  const start: number[] = train.json.queue_ptr_start;
  tf.tidy(() => {
    for (const [i, q] of model.generator.inpaint.queues.entries()) q.ptr.assign(tf.scalar(start[i], 'int32'));
  });
  const trainer = new SquidTrainer(model, model.config, Rng.fromSeed(0), false);
  const { lrG, lrD } = trainer.setEpoch(0);
  const entries = officialStateEntries(model);
  const byVariable = new Map(entries.map((e) => [e.variable.name, e]));
  const rec: Recorded = {
    losses: [],
    grads: new Map(),
    outputs: new Map(),
    states: [],
    pointers: [],
    parameters: new Set(entries.filter((e) => e.kind === 'parameter').map((e) => e.name)),
    lr: Math.max(lrG, lrD),
    leaked: 0,
  };

  // The recorded masks, in call order, replace the Bernoulli draws.
  const masks: { name: string; shape: number[] }[] = train.json.masks;
  let nextMask = 0;
  const gen = model.generator;
  const forward = gen.forward.bind(gen);
  let iteration = 0;
  let phase = 0; // 0: discriminator step's forward, 1: generator step's forward
  gen.forward = (x, opts) => {
    const out = forward(x, {
      ...opts,
      masks: (shape) => {
        const m = masks[nextMask++];
        if (!m) throw new Error('more mask draws than the fixture recorded');
        const t = toTensor(train.tensors.get(m.name)!);
        // [B·N, 1, h, w] NCHW is [B·N, h, w, 1] NHWC as it stands.
        expect(shape, m.name).toEqual([m.shape[0], m.shape[2], m.shape[3], 1]);
        return tf.reshape(t, shape);
      },
    });
    if (iteration === 0) {
      const which = phase === 0 ? 'd' : 'g';
      rec.outputs.set(`${which}.recon`, tf.keep(tf.transpose(out.recon, [0, 3, 1, 2])));
      if (which === 'g')
        rec.outputs.set('g.teacher_recon', tf.keep(tf.transpose(out.teacherRecon, [0, 3, 1, 2])));
    }
    phase++;
    return out;
  };
  const disc = model.discriminator;
  const discForward = disc.forward.bind(disc);
  let discCall = 0;
  disc.forward = (x, opts) => {
    const logits = discForward(x, opts);
    if (iteration === 0) {
      const name = ['d.real_logits', 'd.fake_logits', 'g.fake_logits'][discCall++];
      if (name) rec.outputs.set(name, tf.keep(logits.clone()));
    }
    return logits;
  };
  const captureGrads = (opt: SquidTrainer['optG']) => {
    const update = opt.update.bind(opt);
    opt.update = (grads) => {
      if (iteration === 0) {
        for (const [name, g] of Object.entries(grads)) {
          const e = byVariable.get(name);
          if (e) rec.grads.set(e.name, tf.keep(toOfficialLayout(e.layout, g)));
        }
      }
      update(grads);
    };
  };
  captureGrads(trainer.optG);
  captureGrads(trainer.optD);

  try {
    for (let k = 1; k <= 3; k++) {
      phase = 0;
      const x = tf.tidy(() => nchwToNhwc(fixtureTensor(train, `batch${k}`)));
      rec.losses.push(trainer.step(x, k - 1, k - 1));
      x.dispose();
      rec.states.push(
        new Map(entries.map((e) => [e.name, tf.tidy(() => toOfficialLayout(e.layout, e.variable))])),
      );
      rec.pointers.push(gen.inpaint.queues.map((q) => q.pointer));
      iteration++;
    }
    expect(nextMask, 'mask draws').toBe(masks.length);
  } finally {
    trainer.dispose();
    model.dispose();
  }
  const recorded = rec.grads.size + rec.outputs.size + rec.states.reduce((n, s) => n + s.size, 0);
  rec.leaked = tf.memory().numTensors - tensorsBefore - recorded;
  return rec;
}

/** Per-tensor statistics the fixture gives: largest |value| and the float32-vs-float64 difference. */
type Meta = Record<string, { max_abs?: number; f64_diff?: number }>;

/** How far one of our tensors is from the official one. */
interface Deviation {
  name: string;
  size: number;
  /** Elements beyond `tol` but within `tol + slack`. */
  outliers: number;
  /** Elements beyond `tol + slack`. */
  failures: number;
  worst: string;
}

/**
 * Compares with the fixture's tolerance `tol = 10·f64_diff·roundoff + 1e-6·max_abs`. Elements
 * beyond it but within `tol + slack` are outliers, counted: float32 sums in another order move a
 * near-tie of the Gumbel top-k or the sign of a near-zero gradient (which Adam's first steps turn
 * into ±lr). Beyond `tol + slack` is a failure.
 *
 * `roundoff` is 1 in float32. With the bfloat16 kernels every convolution and product rounds its
 * operands to bfloat16, unit roundoff 2⁻⁹ instead of float32's 2⁻²⁴: first-order rounding error
 * grows by 2¹⁵, so the float32 criterion, 10 × the official float32 code's own error (f64_diff),
 * becomes 10 × 2¹⁵ × f64_diff. Measured on this fixture: the worst output or gradient reaches 0.32
 * of that, the worst loss 0.05; only parameters whose near-zero gradient flipped sign (±lr, the
 * slack below) exceed it.
 */
function deviation(
  name: string,
  ours: tf.Tensor,
  official: tf.Tensor,
  meta: Meta,
  slack: number,
  roundoff = 1,
): Deviation {
  const m = meta[name] ?? {};
  const tol = 10 * (m.f64_diff ?? 0) * roundoff + 1e-6 * (m.max_abs ?? 0);
  const a = ours.dataSync();
  const e = official.dataSync();
  if (a.length !== e.length)
    return { name, size: e.length, outliers: 0, failures: e.length, worst: `${a.length} elements` };
  let outliers = 0;
  let failures = 0;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    if (!(d <= tol + slack)) failures++;
    else if (d > tol) outliers++;
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      at = i;
    }
  }
  return {
    name,
    size: e.length,
    outliers,
    failures,
    worst: `|Δ| ${worst.toExponential(3)} vs tol ${tol.toExponential(2)} (ours ${a[at]}, official ${e[at]})`,
  };
}

// Every variant in float32, and the oneDNN kernels in bfloat16 (bf16 convolution and matmul
// operands, float32 accumulation, master weights, optimiser state and BatchNorm statistics).
const VARIANTS: BackendVariant[] = [
  ...BACKEND_VARIANTS.map((v) => ({ ...v, precision: 'float32' as const })),
  { backend: 'wasm', nativeKernels: true, precision: 'bfloat16' },
];

describe.each(VARIANTS)(
  'training parity on $backend (native kernels: $nativeKernels, precision: $precision)',
  ({ backend, nativeKernels, precision }) => {
    const bf16 = precision === 'bfloat16';
    let train: Fixture;
    let meta: Meta;
    let rec: Recorded;
    // Why this variant cannot run here (the oneDNN kernels are optional), or undefined.
    let unavailable: string | undefined;

    beforeAll(async () => {
      unavailable = await startVariant({ backend, nativeKernels, precision });
      if (unavailable) return;
      train = loadFixture(trainStepFixtureDir());
      meta = train.json.tensors;
      rec = runFixture(train);
    }, 600_000);

    afterAll(() => {
      if (!rec) return;
      tf.dispose([...rec.grads.values(), ...rec.outputs.values()]);
      for (const s of rec.states) tf.dispose([...s.values()]);
    });

    /**
     * Problems of a group of tensors against the fixture tensors of the same names: any failure,
     * or more outliers than `budget` (a fraction of the group's elements, at least one).
     */
    const against = (
      group: string,
      entries: Iterable<[string, tf.Tensor]>,
      slack: (name: string) => number,
      budget: number,
    ) => {
      const deviations: Deviation[] = [];
      for (const [name, ours] of entries) {
        const official = fixtureTensor(train, name);
        deviations.push(deviation(name, ours, official, meta, slack(name), bf16 ? 2 ** 15 : 1));
        official.dispose();
      }
      const problems = deviations
        .filter((d) => d.failures > 0)
        .map((d) => `${d.name}: ${d.failures}/${d.size} beyond tolerance, worst ${d.worst}`);
      const outliers = deviations.filter((d) => d.outliers > 0);
      const count = outliers.reduce((s, d) => s + d.outliers, 0);
      const size = deviations.reduce((s, d) => s + d.size, 0);
      const allowed = Math.max(1, Math.floor(budget * size));
      if (process.env.PARITY_VERBOSE)
        console.log(
          backend,
          nativeKernels,
          group,
          `${count} outliers of ${size} (allowed ${allowed})`,
          outliers.map((d) => `${d.name} ${d.outliers}/${d.size} ${d.worst}`),
        );
      if (count > allowed)
        problems.push(
          `${group}: ${count} outliers (allowed ${allowed} of ${size}): ${outliers.map((d) => `${d.name} ${d.outliers}/${d.size}, worst ${d.worst}`).join('; ')}`,
        );
      return problems;
    };
    const relative = (name: string) => 0.02 * (meta[name]?.max_abs ?? 0);

    it('losses of the three iterations', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const names: [keyof StepLosses, string][] = [
        ['d', 'd'],
        ['recon', 'recon'],
        ['adv', 'adv'],
        ['teacher', 'teacher'],
        ['dist', 'dist'],
        ['g', 'total'],
      ];
      const ours = rec.losses.flatMap((l, i) =>
        names.map(
          ([k, n]) => [`iter${i + 1}.loss.${n}`, tf.scalar(l[k] ?? Number.NaN)] as [string, tf.Tensor],
        ),
      );
      const failures = against('losses', ours, relative, 0.25);
      tf.dispose(ours.map(([, t]) => t));
      expect(failures).toEqual([]);
    });

    it('iteration 1: reconstructions, logits and every gradient of G (from L_G) and D (from L_D)', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const gradNames = [...train.tensors.keys()].filter((n) => n.startsWith('iter1.grad.'));
      const missing = gradNames.filter((n) => !rec.grads.has(n.slice('iter1.grad.'.length)));
      expect(missing).toEqual([]);
      expect(rec.grads.size).toBe(gradNames.length);
      const failures = against(
        'iteration 1',
        [
          ...[...rec.outputs].map(([n, t]) => [`iter1.${n}`, t] as [string, tf.Tensor]),
          ...[...rec.grads].map(([n, t]) => [`iter1.grad.${n}`, t] as [string, tf.Tensor]),
        ],
        relative,
        0.001,
      );
      expect(failures).toEqual([]);
    });

    it('state after each iteration: weights, BatchNorm statistics and counters, queues and pointers', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const failures: string[] = [];
      rec.states.forEach((state, i) => {
        const k = i + 1;
        const floats: [string, tf.Tensor][] = [];
        for (const [n, t] of state) {
          const name = `iter${k}.state.${n}`;
          if (!train.tensors.has(name)) continue;
          if (t.dtype === 'int32') {
            const official = fixtureTensor(train, name);
            const same = t.dataSync()[0] === official.dataSync()[0];
            if (!same) failures.push(`${name}: ${t.dataSync()[0]}, official ${official.dataSync()[0]}`);
            official.dispose();
          } else floats.push([name, t]);
        }
        const officialNames = [...train.tensors.keys()].filter((n) => n.startsWith(`iter${k}.state.`));
        const ours = new Set([...state.keys()].map((n) => `iter${k}.state.${n}`));
        for (const n of officialNames) if (!ours.has(n)) failures.push(`${n}: not in our state`);
        // Parameters: a near-zero gradient whose sign flips moves Adam's step by up to 2·lr per iteration.
        const prefix = `iter${k}.state.`.length;
        const slack = (name: string) =>
          rec.parameters.has(name.slice(prefix)) ? 2 * rec.lr * k : relative(name);
        failures.push(...against(`state after iteration ${k}`, floats, slack, 1e-4));
        expect(rec.pointers[i], `queue pointers after iteration ${k}`).toEqual(train.json.queue_ptr_after[i]);
      });
      expect(failures).toEqual([]);
      expect(rec.leaked, 'tensors left behind by training').toBe(0);
    });
  },
);
