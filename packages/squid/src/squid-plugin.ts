import { prefixState } from '@squid-ad/backend';
import type { ModelInstance, ModelPlugin } from '@squid-ad/model-api';
import { scoringState } from './bundle/scoring-state.js';
import { type SquidConfig, squidConfigSchema } from './config.js';
import { createSquidModel, type SquidModel } from './model.js';
import { getPreset } from './presets.js';
import { anomalyScores, type ScoreNorm, squidInfer } from './score.js';
import { SquidTrainer } from './train/squid-trainer.js';

/** SQUID's model instance: the generator/discriminator pair behind the plug-in interface. */
export function squidInstance(
  model: SquidModel,
  options: { scoreNorm?: ScoreNorm; reuseGeneratorForward?: boolean } = {},
): ModelInstance {
  const norm = options.scoreNorm ?? 'per-image';
  return {
    state: () => [
      ...prefixState('generator', model.generator.state()),
      ...prefixState('discriminator', model.discriminator.state()),
    ],
    scoringState: () => scoringState(model),
    // raw = the discriminator logit d = D(G_s(x)): higher = more normal (see `calibrated`).
    infer: squidInfer(model, norm),
    createTrainer(rng) {
      const trainer = new SquidTrainer(model, model.config, rng, options.reuseGeneratorForward ?? true);
      return {
        state: () => trainer.state(),
        setEpoch: (epoch) => {
          const { lrG, lrD } = trainer.setEpoch(epoch);
          return { g: lrG, d: lrD };
        },
        step: (images, at) => {
          const l = trainer.step(images, at.stepInEpoch, at.iteration);
          // The order of the log line and metrics.jsonl: D first, the generator's terms after.
          const named = { d: l.d, g: l.g, recon: l.recon, teacher: l.teacher, dist: l.dist, adv: l.adv };
          return Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined)) as Record<
            string,
            number
          >;
        },
        timings: trainer.timings as unknown as Record<string, number>,
        dispose: () => trainer.dispose(),
      };
    },
    dispose: () => model.dispose(),
  };
}

/** SQUID (Xiang et al., CVPR 2023) as a model plug-in: what `squid-train --model squid` trains. */
export const squidModel: ModelPlugin<SquidConfig> = {
  name: 'squid',
  title: 'SQUID (Xiang et al., CVPR 2023)',
  scoreName: 'discriminator',
  configSchema: squidConfigSchema as unknown as ModelPlugin<SquidConfig>['configSchema'],
  presetConfig: (preset) => getPreset(preset),
  recipe: (c) => ({ preset: c.preset, imageSize: c.model.imageSize, train: c.train }),
  // The official initial weights of torch.manual_seed(seed): a run starts where the official code's would.
  create: (config, seed, run = {}) =>
    squidInstance(createSquidModel(config, seed), {
      scoreNorm: run.scoreNorm as ScoreNorm | undefined,
      reuseGeneratorForward: run.reuseGeneratorForward as boolean | undefined,
    }),
  // The official score: A = 1 − sigmoid((d − μ)/σ), μ and σ over normal training images.
  calibrated: (raw, stats) => anomalyScores(raw, stats),
};
