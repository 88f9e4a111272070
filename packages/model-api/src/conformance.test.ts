import { initBackend, Rng, type StateEntry, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkModelPlugin } from './conformance.js';
import {
  type BaseModelConfig,
  type ModelPlugin,
  PRESET_IMAGE_SIZE,
  recipeOf,
  trainScheduleSchema,
} from './model-plugin.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const schema = z.object({
  preset: z.enum(['digitanatomy', 'zhanglab', 'chexpert', 'tiny']),
  imageSize: z.number(),
  train: trainScheduleSchema,
});

/** A one-weight "model": recon = w · x, raw = mean |recon − x|; `flaws` breaks one rule each. */
function scale(
  flaws: { unseeded?: boolean; batchDependent?: boolean; leak?: boolean } = {},
): ModelPlugin<BaseModelConfig> {
  return {
    name: 'scale',
    title: 'scale',
    scoreName: 'l1',
    configSchema: schema as z.ZodType<BaseModelConfig>,
    recipe: recipeOf,
    presetConfig: (preset) => schema.parse({ preset, imageSize: PRESET_IMAGE_SIZE[preset], train: {} }),
    create(_config, seed) {
      const init = flaws.unseeded ? Math.random() : Rng.fromSeed(seed).next();
      const w = tf.variable(tf.scalar(init));
      const state = (): StateEntry[] => [{ name: 'w', variable: w, kind: 'parameter', layout: 'raw' }];
      return {
        state,
        infer(x) {
          return tf.tidy(() => {
            const recon = tf.mul(x, w) as tf.Tensor4D;
            let raw = tf.mean(tf.abs(tf.sub(recon, x)), [1, 2, 3]) as tf.Tensor1D;
            if (flaws.batchDependent) raw = tf.add(raw, tf.mean(x)) as tf.Tensor1D;
            if (flaws.leak) tf.keep(tf.ones([1]));
            return { recon, raw };
          });
        },
        createTrainer() {
          return {
            state: () => [],
            setEpoch: () => ({ lr: 0.1 }),
            step(x) {
              const loss = tf.tidy(() => {
                const { value, grads } = tf.variableGrads(
                  () => tf.mean(tf.square(tf.sub(tf.mul(x, w), x))) as tf.Scalar,
                  [w],
                );
                w.assign(tf.sub(w, tf.mul(0.1, grads[w.name])));
                return value.dataSync()[0];
              });
              return { recon: loss };
            },
            dispose() {},
          };
        },
        dispose: () => w.dispose(),
      };
    },
  };
}

describe('checkModelPlugin', () => {
  const config = scale().presetConfig('tiny');
  it('passes a plug-in that keeps the contract, and reports its first losses', () => {
    const r = checkModelPlugin(scale(), { ...config, imageSize: 8 });
    expect(r.problems).toEqual([]);
    expect(Object.keys(r.losses)).toEqual(['recon']);
    expect(r.losses.recon).toBeGreaterThan(0);
  });
  it('names each broken rule', () => {
    const small = { ...config, imageSize: 8 };
    expect(checkModelPlugin(scale({ unseeded: true }), small).problems).toEqual([
      'create(config, 3) twice: w differs (initialisation is not seeded)',
    ]);
    expect(checkModelPlugin(scale({ batchDependent: true }), small).problems[0]).toMatch(
      /^infer: image 0 scores .* alone but .* in a batch of 4$/,
    );
    expect(checkModelPlugin(scale({ leak: true }), small).problems).toContain('infer leaks 1 tensors');
  });
});
