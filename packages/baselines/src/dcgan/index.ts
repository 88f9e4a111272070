// GANomaly's DCGAN encoder and decoder (samet-akcay/ganomaly lib/networks.py), shared by the
// GANomaly plug-in and the AE / VAE baselines built on the same conv stack.
export { DcganDecoder } from './decoder.js';
export { checkDcganSize, type DcganApplyOptions, DcganEncoder, type DcganOptions } from './encoder.js';
export { dcganInit } from './init.js';
export { cropTo, nextPowerOfTwo, padToPowerOfTwo } from './pad.js';
