// A model plug-in small enough for any test of the run loop, the evaluator or bundles: a
// one-convolution auto-encoder. Training adds noise drawn from the run's Rng to its input, so a
// resume that loses the Rng state (or the optimiser's) shows up in the numbers.
import { prefixState, Rng, tf } from '@squid-ad/backend';
import { Adam, Conv2d } from '@squid-ad/gan-core';
import {
  baseConfigSchema,
  checkFinite,
  type ModelInstance,
  type ModelPlugin,
  PRESET_IMAGE_SIZE,
  recipeOf,
} from '@squid-ad/model-api';
import type { z } from 'zod';

const testConfigSchema = baseConfigSchema.extend({});
export type TestModelConfig = z.output<typeof testConfigSchema>;

/** recon = clip(conv(x), 0, 1), raw = mean (recon − x)² per image; trained on x + 0.05·ε. */
function createTestModel(seed: number): ModelInstance {
  const conv = new Conv2d({
    inChannels: 1,
    outChannels: 1,
    kernelSize: 3,
    padding: 1,
    rng: Rng.fromSeed(seed),
  });
  const state = () => prefixState('conv', conv.state());
  return {
    state,
    infer: (images) =>
      tf.tidy(() => {
        const recon = tf.clipByValue(conv.apply(images), 0, 1);
        return { recon, raw: tf.mean(tf.squaredDifference(recon, images), [1, 2, 3]) as tf.Tensor1D };
      }),
    createTrainer(rng) {
      const params = state().filter((e) => e.kind === 'parameter');
      const adam = new Adam(
        params.map((e) => ({ name: e.name, variable: e.variable })),
        { lr: 1e-2 },
      );
      return {
        state: () => prefixState('optimizer', adam.state()),
        setEpoch: () => ({ lr: adam.lr }),
        step(images, at) {
          const noisy = tf.tidy(() =>
            tf.add(images, tf.randomNormal(images.shape, 0, 0.05, 'float32', rng.tfSeed())),
          );
          const { value, grads } = tf.variableGrads(
            () => tf.mean(tf.squaredDifference(conv.apply(noisy as tf.Tensor4D), images)) as tf.Scalar,
            params.map((e) => e.variable),
          );
          noisy.dispose();
          const recon = value.dataSync()[0];
          value.dispose();
          try {
            checkFinite({ recon }, at.iteration);
            adam.update(grads);
          } finally {
            tf.dispose(grads);
          }
          return { recon };
        },
        dispose: () => adam.dispose(),
      };
    },
    dispose: () => conv.dispose(),
  };
}

/** The test plug-in (`test-ae`, score `test-error`): batch 2, 2 epochs of 2 iterations per preset. */
export const testModel: ModelPlugin<TestModelConfig> = {
  name: 'test-ae',
  title: 'One-convolution test auto-encoder (this test)',
  scoreName: 'test-error',
  configSchema: testConfigSchema,
  presetConfig: (preset) =>
    testConfigSchema.parse({
      preset,
      imageSize: PRESET_IMAGE_SIZE[preset],
      train: { batchSize: 2, epochs: 2, iterationsPerEpoch: 2 },
    }),
  recipe: recipeOf,
  create: (_config, seed) => createTestModel(seed),
};
