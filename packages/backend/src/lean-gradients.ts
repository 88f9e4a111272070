// Backprop that frees memory as it goes, replacing `engine.gradients` of the pinned tfjs-core
// 4.22.0 (which every tf.grad/grads/variableGrads/valueAndGrads goes through).
//
// Why: tfjs-core's backward pass frees nothing until it ends. Every tensor a kernel saved for
// its gradient, and the gradient of every intermediate tensor, stay alive until the last node
// is processed, so the peak is (all saved activations + all their gradients), about twice what
// PyTorch needs. A SQUID training step at batch 16 then passes the 4 GiB wasm heap. Here each
// node's saved tensors are released once its gradient has run, and each intermediate gradient
// once the node that produced the tensor has consumed it (every consumer of a tensor comes
// later on the tape, so its gradient is complete by then). The arithmetic is tfjs's own: same
// nodes, same order, same accumulation, so the gradients are bit-identical.
//
// Only the outermost backward pass frees early; a backward pass inside another tape (a
// gradient of a gradient, or a step nested in another step's tape) keeps tfjs's behaviour,
// since the outer tape may still refer to those tensors.
import * as tf from '@tensorflow/tfjs';

/** A node of tfjs's gradient tape (tfjs-core `TapeNode`, not in its public typings). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The tfjs-core engine internals this module relies on (checked by its tests against 4.22.0). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: tf.Tensor[] };
}

const engine = () => tf.engine() as unknown as EngineInternals;
let stock: EngineInternals['gradients'] | undefined;

/** Installs the memory-lean backward pass on the tfjs engine (idempotent). */
export function installLeanGradients(): void {
  const e = engine();
  if (stock) return;
  stock = e.gradients;
  e.gradients = function leanGradients(this: EngineInternals, f, xs, dy, allowNoGradients = false) {
    if (this.state.gradientDepth > 0) return stock!.call(this, f, xs, dy, allowNoGradients);
    return gradients(this, f, xs, dy, allowNoGradients);
  };
}

/** Restores tfjs's own backward pass (for comparisons). */
export function uninstallLeanGradients(): void {
  if (!stock) return;
  engine().gradients = stock;
  stock = undefined;
}

/** Whether {@link installLeanGradients} is in effect. */
export const leanGradientsInstalled = (): boolean => stock !== undefined;

/** tfjs-core 4.22.0 `Engine.gradients`, outermost-tape case, with early frees. */
function gradients(
  e: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy: tf.Tensor | undefined,
  allowNoGradients: boolean,
): { value: tf.Tensor; grads: tf.Tensor[] } {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32')
    throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = e.scopedRun(
    () => e.startTape(),
    () => e.endTape(),
    () => e.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = e.state.activeTape ?? [];
  const filtered = filteredNodesXToY(tape, xs, y);
  if (!allowNoGradients && filtered.length === 0 && xs.length > 0) {
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
    );
  }
  return e.tidy('backward', () => {
    const grads = new GradientMap(xs, dy);
    grads.set(y.id, dy ?? tf.onesLike(y));
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i];
      const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
      if (node.gradient == null) {
        throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      }
      const gradient = node.gradient;
      // All of the node's input gradients in one tidy: a custom op's gradient function
      // (tf.customGrad) computes them eagerly inside node.gradient, and tfjs would keep its
      // temporaries to the end of the backward pass.
      const inputGrads = e.tidy(() => {
        const fns = gradient(dys);
        const out: Record<string, tf.Tensor> = {};
        for (const inputName in node.inputs) {
          if (!(inputName in fns)) {
            throw new Error(
              `Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(fns)}.`,
            );
          }
          out[inputName] = fns[inputName]();
        }
        return out;
      });
      for (const inputName in node.inputs) {
        const dx = inputGrads[inputName];
        if (dx.dtype !== 'float32') {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`,
          );
        }
        const x = node.inputs[inputName];
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
          );
        }
        grads.accumulate(x.id, dx);
      }
      // Gradients added into an existing sum, and this node's saved tensors and its outputs'
      // gradients (it was their last user), are no longer needed.
      for (const dx of Object.values(inputGrads)) grads.disposeUnheld(dx);
      for (const t of node.saved ?? []) grads.disposeUnheld(t);
      for (const o of node.outputs) grads.release(o.id);
    }
    const result = xs.map((x) => grads.get(x.id) as tf.Tensor);
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    e.state.activeTape = null;
    return { value: y, grads: result };
  });
}

/**
 * Accumulated gradient per tensor id. A gradient function may hand back a tensor it was given
 * (or the same tensor for two inputs), so one tensor can sit under several ids: it is disposed
 * only when no id holds it any more, and never when it is the caller's `dy` or a result.
 */
class GradientMap {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly holders = new Map<tf.Tensor, number>();
  private readonly resultIds: Set<number>;

  constructor(
    xs: tf.Tensor[],
    private readonly callerDy: tf.Tensor | undefined,
  ) {
    this.resultIds = new Set(xs.map((x) => x.id));
  }

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  holds(t: tf.Tensor): boolean {
    return this.holders.has(t);
  }

  set(id: number, t: tf.Tensor): void {
    this.byId.set(id, t);
    this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
  }

  accumulate(id: number, dx: tf.Tensor): void {
    const current = this.byId.get(id);
    if (current === undefined) {
      this.set(id, dx);
      return;
    }
    const sum = tf.add(current, dx);
    this.release(id, true);
    this.set(id, sum);
  }

  /** Disposes `t` unless an id holds it or it is the caller's `dy`. */
  disposeUnheld(t: tf.Tensor): void {
    if (!this.holders.has(t) && t !== this.callerDy) t.dispose();
  }

  /** Drops `id`'s gradient, disposing the tensor when nothing else holds it. */
  release(id: number, force = false): void {
    if (!force && this.resultIds.has(id)) return;
    const t = this.byId.get(id);
    if (t === undefined) return;
    this.byId.delete(id);
    const left = (this.holders.get(t) ?? 1) - 1;
    if (left > 0) {
      this.holders.set(t, left);
      return;
    }
    this.holders.delete(t);
    if (t !== this.callerDy) t.dispose();
  }
}

/**
 * The tape nodes on a path from some `xs` to `y`, inputs pruned to those that depend on `xs`
 * (tfjs-core 4.22.0 `getFilteredNodesXToY`).
 */
function filteredNodesXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const inputName in node.inputs) {
      if (fromX.has(node.inputs[inputName].id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const leadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadToY.has(o.id))) {
      for (const inputName in node.inputs) {
        leadToY.add(node.inputs[inputName].id);
        nodesToY.add(node.id);
      }
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const inputName in node.inputs) {
      if (fromX.has(node.inputs[inputName].id)) inputs[inputName] = node.inputs[inputName];
    }
    // A copy, as tfjs makes: `saved` is shared with the tape node through the array object.
    filtered.push({ ...node, inputs, outputs: node.outputs });
  }
  return filtered;
}
