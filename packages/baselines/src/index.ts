// Public API of @squid-ad/baselines: the detectors SQUID is compared with, each a
// `ModelPlugin` (see @squid-ad/model-api) that squid-train and squid-eval run like SQUID.
// Filled in as the models land: export each plug-in here and add it to `baselineModels`.
import type { ModelPlugin } from '@squid-ad/model-api';

// biome-ignore lint/suspicious/noExplicitAny: plug-ins of different config types in one list
export const baselineModels: ModelPlugin<any>[] = [];
