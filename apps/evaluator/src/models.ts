import { baselineModels } from '@squid-ad/baselines';
import { type AnyModelPlugin, squidModel } from '@squid-ad/squid';

/** The models whose runs and bundles `squid-eval` scores: SQUID and the baselines. */
export const MODELS: readonly AnyModelPlugin[] = [squidModel, ...baselineModels];
