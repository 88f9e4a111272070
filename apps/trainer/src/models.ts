import { baselineModels } from '@squid-ad/baselines';
import { type ModelPlugin, squidModel } from '@squid-ad/squid';

/** The models `squid-train --model` trains: SQUID first (the default), then the baselines. */
// biome-ignore lint/suspicious/noExplicitAny: plug-ins of any config type
export const MODELS: readonly ModelPlugin<any>[] = [squidModel, ...baselineModels];
