// The one TensorFlow.js namespace every squid package uses. We import the union package
// because tfjs-core's Node build registers neither the gradients nor the chained tensor methods
// (`x.sum()`); @tensorflow/tfjs does both, on the same tfjs-core instance.
import * as tf from '@tensorflow/tfjs';
import { installLeanGradients } from './lean-gradients.js';
import { installMeanGradient } from './mean-gradient.js';
import { installResizeBilinearGrad } from './resize-bilinear-grad.js';

// Backprop that frees as it goes (about half the peak memory of a training step); the same
// gradients bit for bit. SQUID_LEAN_GRADIENTS=0 keeps tfjs's own, e.g. to compare.
// (`process` is undefined in a browser, where this module is also loaded.)
if (globalThis.process?.env?.SQUID_LEAN_GRADIENTS !== '0') installLeanGradients();

// TF.js's own ignores halfPixelCenters (wrong gradients for PyTorch-style upsampling).
installResizeBilinearGrad();

// A loss's mean spreads dy / n without a ones tensor: the same values, one pass.
installMeanGradient();

export { tf };
