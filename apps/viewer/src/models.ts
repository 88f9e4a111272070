// The models whose bundles the page opens: the same list as squid-eval's (apps/evaluator/src/models.ts),
// from the packages' browser-safe entries.
import { baselineModels } from '@squid-ad/baselines';
import { type AnyModelPlugin, squidModel } from '@squid-ad/squid';

/** SQUID and the baselines: `loadBundle` builds whichever model a bundle names. */
export const MODELS: readonly AnyModelPlugin[] = [squidModel, ...baselineModels];
