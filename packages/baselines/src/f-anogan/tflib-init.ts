import { type Rng, tf } from '@squid-ad/backend';
import { Conv2d, Linear } from '@squid-ad/gan-core';

/** tflib's `uniform(stdev, size)`: U(−stdev·√3, +stdev·√3), i.e. a uniform law of that std. */
export function tflibUniform(shape: number[], stdev: number, rng: Rng): tf.Tensor {
  const bound = stdev * Math.sqrt(3);
  return tf.randomUniform(shape, -bound, bound, 'float32', rng.tfSeed());
}

/**
 * tflib's Conv2D (tflib/ops/conv2d.py), stride 1 and 'SAME' padding (odd kernels): filters
 * uniform with std √(4/(fan_in+fan_out)) (He) or √(2/(fan_in+fan_out)) (Glorot),
 * fan_in = in·k², fan_out = out·k²; biases zero. A gan-core Conv2d with its weights replaced.
 */
export function tflibConv2d(
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  o: { heInit: boolean; bias: boolean; rng: Rng },
): Conv2d {
  const conv = new Conv2d({
    inChannels,
    outChannels,
    kernelSize,
    padding: (kernelSize - 1) / 2,
    bias: o.bias,
    rng: o.rng,
  });
  const fanIn = inChannels * kernelSize * kernelSize;
  const fanOut = outChannels * kernelSize * kernelSize;
  const stdev = Math.sqrt((o.heInit ? 4 : 2) / (fanIn + fanOut));
  tf.tidy(() => {
    conv.weight.assign(tflibUniform(conv.weight.shape, stdev, o.rng));
    conv.bias?.assign(tf.zerosLike(conv.bias));
  });
  return conv;
}

/**
 * tflib's Linear with its default ('glorot') initialisation (tflib/ops/linear.py): weights
 * uniform with std √(2/(in+out)), bias zero.
 */
export function tflibLinear(inFeatures: number, outFeatures: number, rng: Rng): Linear {
  const linear = new Linear(inFeatures, outFeatures, rng);
  tf.tidy(() => {
    linear.weight.assign(tflibUniform(linear.weight.shape, Math.sqrt(2 / (inFeatures + outFeatures)), rng));
    linear.bias?.assign(tf.zerosLike(linear.bias));
  });
  return linear;
}
