import { baselineModels } from '@squid-ad/baselines';
import { type ModelPlugin, squidModel } from '@squid-ad/squid';

/** The models whose runs and bundles `squid-eval` scores: SQUID and the baselines. */
// biome-ignore lint/suspicious/noExplicitAny: plug-ins of any config type
export const MODELS: readonly ModelPlugin<any>[] = [squidModel, ...baselineModels];
