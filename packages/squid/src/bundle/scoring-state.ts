import type { StateEntry } from '@squid-ad/backend';
import { prefixState } from '@squid-ad/backend';
import type { SquidModel } from '../model.js';

/**
 * The state scoring reads, under the checkpoint names (`generator.…`, `discriminator.…`):
 * everything but the teacher decoder (only training distils into it) and BatchNorm's batch
 * counters (eval mode never reads them). Export and load both take their list from here.
 */
export function scoringState(model: SquidModel): StateEntry[] {
  return [
    ...prefixState('generator', model.generator.state()),
    ...prefixState('discriminator', model.discriminator.state()),
  ].filter((e) => !e.name.startsWith('generator.teacher_') && !e.name.endsWith('.num_batches_tracked'));
}
