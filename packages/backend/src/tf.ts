// The one TensorFlow.js namespace every squid package uses. We import the union package
// because tfjs-core's Node build registers neither the gradients nor the chained tensor methods
// (`x.sum()`); @tensorflow/tfjs does both, on the same tfjs-core instance.
import * as tf from '@tensorflow/tfjs';

export { tf };
