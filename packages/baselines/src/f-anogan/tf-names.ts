import type { StateEntry } from '@squid-ad/backend';
import type { BatchNorm2d, Conv2d, Linear } from '@squid-ad/gan-core';
import type { CriticLayerNorm } from './critic-layer-norm.js';

// The official checkpoints are TensorFlow's: variable names as tflib / tf.layers create them
// (`Generator.Res1.Conv1.Filters`, `Encoder.Res2.BN1/gamma` written with a dot here), and TF's
// layouts are ours (filters HWIO, dense weights [in, out]), hence layout 'raw' throughout.

const rename = (prefix: string, entries: StateEntry[], names: Record<string, string>): StateEntry[] =>
  entries.map((e) => ({ ...e, name: `${prefix}.${names[e.name] ?? e.name}`, layout: 'raw' }));

/** tflib Conv2D variables: `<prefix>.Filters`, `<prefix>.Biases`. */
export const convState = (prefix: string, conv: Conv2d): StateEntry[] =>
  rename(prefix, conv.state(), { weight: 'Filters', bias: 'Biases' });

/** tflib Linear variables: `<prefix>.W`, `<prefix>.b`. */
export const linearState = (prefix: string, linear: Linear): StateEntry[] =>
  rename(prefix, linear.state(), { weight: 'W', bias: 'b' });

/** tf.layers.batch_normalization variables (gamma, beta, moving_mean, moving_variance). */
export const batchNormState = (prefix: string, bn: BatchNorm2d): StateEntry[] =>
  rename(prefix, bn.state(), {
    weight: 'gamma',
    bias: 'beta',
    running_mean: 'moving_mean',
    running_var: 'moving_variance',
  }).map((e) => (e.name.endsWith('.num_batches_tracked') ? { ...e, official: false } : e));

/** tflib Layernorm variables (offset, scale). */
export const layerNormState = (prefix: string, ln: CriticLayerNorm): StateEntry[] =>
  rename(prefix, ln.state(), {});
