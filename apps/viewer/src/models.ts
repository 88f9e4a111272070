// The models whose bundles the page opens: the same list as squid-eval's (apps/evaluator/src/models.ts),
// from the packages' browser-safe entries.
import { baselineModels } from '@squid-ad/baselines';
import { type ModelPlugin, squidModel } from '@squid-ad/squid';

/** SQUID and the baselines: `loadBundle` builds whichever model a bundle names. */
// biome-ignore lint/suspicious/noExplicitAny: plug-ins of any config type
export const MODELS: readonly ModelPlugin<any>[] = [squidModel, ...baselineModels];
