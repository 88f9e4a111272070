import { fromOfficialLayout, type StateEntry, TorchGenerator, tf } from '@squid-ad/backend';
import type { SquidModel } from './model.js';
import { officialShape, officialStateEntries } from './official-state.js';

/** How PyTorch initialises one tensor: the bounds of its `uniform_` draw, or none. */
type Draw = { bound: number; zeroAfter?: boolean } | null;

const fanIn = (officialWeightShape: number[]) => officialWeightShape.slice(1).reduce((a, b) => a * b, 1);

// torch.nn.init, computed in the same double-precision steps as PyTorch's Python code.
const kaimingUniformBound = (fan: number) => {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2.0 / (1 + a ** 2));
  return Math.sqrt(3.0) * (gain / Math.sqrt(fan));
};
const xavierUniformBound = (fanInOut: number) => Math.sqrt(3.0) * (1.0 * Math.sqrt(2.0 / fanInOut));

/**
 * The official construction order of the state: the state_dict order, except that the AE builds
 * `down_blocks.i` and `up_blocks.i` in one loop, and `nn.MultiheadAttention` initialises its
 * `out_proj` (as a Linear) before drawing `in_proj_weight`.
 */
function constructionOrder(entries: StateEntry[]): StateEntry[] {
  const block = /^generator\.(down|up)_blocks\.(\d+)\./;
  const blocks = entries.filter((e) => block.test(e.name));
  const level = (e: StateEntry) => {
    const [, kind, i] = block.exec(e.name) as RegExpExecArray;
    return 2 * Number(i) + (kind === 'down' ? 0 : 1);
  };
  const interleaved = blocks
    .map((e, i) => ({ e, i }))
    .sort((a, b) => level(a.e) - level(b.e) || a.i - b.i)
    .map(({ e }) => e);
  const ordered = entries.filter((e) => !block.test(e.name));
  ordered.splice(entries.indexOf(blocks[0] ?? entries[0]), 0, ...interleaved);
  const rank = (name: string) =>
    name.endsWith('attention.out_proj.weight') ? 0 : name.endsWith('attention.out_proj.bias') ? 1 : 2;
  const attention = ordered.filter((e) => /\.attention\./.test(e.name));
  if (attention.length > 0) {
    const at = ordered.indexOf(attention[0]);
    const sorted = [...attention].sort((a, b) => rank(a.name) - rank(b.name));
    ordered.splice(at, attention.length, ...sorted);
  }
  return ordered;
}

/** PyTorch's initialisation of `entry` (official shapes); null for tensors it sets without drawing. */
function drawOf(entry: StateEntry, byName: Map<string, StateEntry>): Draw {
  const shape = officialShape(entry.layout, entry.variable.shape);
  const { name } = entry;
  if (name.endsWith('memMatrix')) return { bound: 1 / Math.sqrt(shape[1]) }; // Memory, MemoryQueue
  if (name.endsWith('in_proj_weight')) return { bound: xavierUniformBound(shape[0] + shape[1]) };
  if (entry.kind !== 'parameter') return null;
  if (name.endsWith('.weight') && (entry.layout === 'conv' || entry.layout === 'linear'))
    return { bound: kaimingUniformBound(fanIn(shape)) };
  if (name.endsWith('.bias')) {
    const weight = byName.get(`${name.slice(0, -'bias'.length)}weight`);
    if (weight && (weight.layout === 'conv' || weight.layout === 'linear')) {
      const bound = 1 / Math.sqrt(fanIn(officialShape(weight.layout, weight.variable.shape)));
      // MultiheadAttention zeroes the out_proj bias after its Linear drew it.
      return { bound, zeroAfter: name.endsWith('attention.out_proj.bias') };
    }
  }
  return null; // BatchNorm, LayerNorm, in_proj_bias: constants
}

/**
 * Sets every randomly initialised tensor of `model` to exactly what the official code draws after
 * `torch.manual_seed(seed)` when it builds `AE(...)` and then `SimpleDiscriminator(...)` (PyTorch
 * 1.13, CPU): kaiming-uniform convs and linears, their biases, the attention's xavier projection,
 * the memories and queues, in construction order. Other state keeps its constant initial value.
 */
export function initLikePyTorch(model: SquidModel, seed: number): void {
  const entries = officialStateEntries(model);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const generator = new TorchGenerator(seed);
  for (const entry of constructionOrder(entries)) {
    const draw = drawOf(entry, byName);
    if (!draw) continue;
    const shape = officialShape(entry.layout, entry.variable.shape);
    const values = generator.uniform(entry.variable.size, -draw.bound, draw.bound);
    if (draw.zeroAfter) values.fill(0);
    tf.tidy(() => entry.variable.assign(fromOfficialLayout(entry.layout, tf.tensor(values, shape))));
  }
}
