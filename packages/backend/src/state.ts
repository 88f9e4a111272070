import { tf } from './tf.js';

/**
 * How a tensor is laid out in the official PyTorch state_dict compared with ours:
 * - `conv`: official OIHW, ours HWIO (what `tf.conv2d` takes);
 * - `linear`: official `[out, in]`, ours `[in, out]` (so that `y = x · W`);
 * - `raw`: identical.
 */
export type OfficialLayout = 'conv' | 'linear' | 'raw';

/** One named tensor of a module's state: a trainable parameter or a buffer. */
export interface StateEntry {
  /** Official PyTorch name relative to the module, e.g. `conv1.0.weight`. */
  name: string;
  variable: tf.Variable;
  /** `parameter` is trained by the optimizer; `buffer` is state (BN statistics, queues, counters). */
  kind: 'parameter' | 'buffer';
  layout: OfficialLayout;
  /** False for state the official model does not save (e.g. a queue's write pointer). Default true. */
  official?: boolean;
}

/** Anything that owns named state: layers, blocks, whole models. */
export interface Stateful {
  state(): StateEntry[];
}

/** Prefixes every entry name with `prefix.` (the way PyTorch nests module names). */
export function prefixState(prefix: string, entries: StateEntry[]): StateEntry[] {
  return entries.map((e) => ({ ...e, name: `${prefix}.${e.name}` }));
}

/** Converts a tensor from the official layout to ours. */
export function fromOfficialLayout(layout: OfficialLayout, official: tf.Tensor): tf.Tensor {
  switch (layout) {
    case 'conv':
      return tf.transpose(official, [2, 3, 1, 0]);
    case 'linear':
      return tf.transpose(official, [1, 0]);
    case 'raw':
      return official.clone();
  }
}

/** Converts a tensor from our layout to the official one. */
export function toOfficialLayout(layout: OfficialLayout, ours: tf.Tensor): tf.Tensor {
  switch (layout) {
    case 'conv':
      return tf.transpose(ours, [3, 2, 0, 1]);
    case 'linear':
      return tf.transpose(ours, [1, 0]);
    case 'raw':
      return ours.clone();
  }
}
