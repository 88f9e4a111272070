// The one TensorFlow.js namespace every squid package uses. Importing core alone does not
// add the chained methods (`x.sum()`), so they are registered here once.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

export { tf };
