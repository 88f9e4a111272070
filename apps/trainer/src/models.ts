import { baselineModels } from '@squid-ad/baselines';
import { type AnyModelPlugin, squidModel } from '@squid-ad/squid';

/** The models `squid-train --model` trains: SQUID first (the default), then the baselines. */
export const MODELS: readonly AnyModelPlugin[] = [squidModel, ...baselineModels];
