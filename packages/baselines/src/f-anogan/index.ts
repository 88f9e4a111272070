// f-AnoGAN (Schlegl et al., Medical Image Analysis 2019) after the official TensorFlow code
// (github.com/tSchlegl/f-AnoGAN): WGAN-GP, then the izi_f encoder; the izi_f anomaly score.
export { type IzifTerms, izifScore, izifTerms } from './anomaly-score.js';
export { type FAnoGanConfig, fAnoGanConfigSchema, fAnoGanPresetConfig, ganIterations } from './config.js';
export { Critic } from './critic.js';
export { type CriticFn, type CriticLossTerms, criticLoss, gradientPenalty } from './critic-loss.js';
export { NET_SIZE } from './down-trunk.js';
export { Encoder } from './encoder.js';
export { Generator } from './generator.js';
export { FAnoGanModel } from './model.js';
export { fAnoGanPlugin } from './plugin.js';
export { type EncoderLossTerms, encoderLoss, generatorLoss } from './stage-losses.js';
export { FAnoGanTrainer } from './trainer.js';
