import type { OfficialLayout, StateEntry } from '@squid-ad/backend';
import type { SquidModel } from './model.js';

// Apart from official.ts (which reads and writes files) so that model construction, which
// initialises like PyTorch through these names, loads in a browser.

/** Shape of a tensor of ours in the official layout. */
export function officialShape(layout: OfficialLayout, shape: number[]): number[] {
  switch (layout) {
    case 'conv':
      return [shape[3], shape[2], shape[0], shape[1]];
    case 'linear':
      return [shape[1], shape[0]];
    case 'raw':
      return shape;
  }
}

/** The model's state under the official checkpoint names (`generator.` / `discriminator.` prefixes). */
export function officialStateEntries(model: SquidModel): StateEntry[] {
  return [
    ...model.generator.state().map((e) => ({ ...e, name: `generator.${e.name}` })),
    ...model.discriminator.state().map((e) => ({ ...e, name: `discriminator.${e.name}` })),
  ];
}
