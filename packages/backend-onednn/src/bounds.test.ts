import { tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { convParams, nativeAvailable, oneDnn, planMatMul } from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

const GUARD = 4096;
const SENTINEL = -12345.5;

/**
 * A Float32Array of `n` elements inside a larger one whose margins hold a sentinel: on the wasm
 * heap, a write past an output's end would corrupt malloc's metadata, so every op must stay inside.
 */
function guarded(n: number): { view: Float32Array; intact(): boolean } {
  const whole = new Float32Array(n + 2 * GUARD).fill(SENTINEL);
  const view = whole.subarray(GUARD, GUARD + n);
  view.fill(0);
  return {
    view,
    intact: () => {
      for (let i = 0; i < GUARD; i++)
        if (whole[i] !== SENTINEL || whole[GUARD + n + i] !== SENTINEL) return false;
      return true;
    },
  };
}

describe('native ops write exactly their output', () => {
  it.skipIf(!available)(
    `conv forward/backward and matMul leave the bytes around their outputs alone${skip}`,
    () => {
      const addon = oneDnn();
      const geometries: [number[], number[], number, 'same' | 'valid'][] = [
        [[3, 9, 9, 5], [3, 3, 5, 7], 2, 'same'],
        [[2, 16, 16, 32], [3, 3, 32, 64], 1, 'same'],
        [[4, 12, 12, 16], [5, 5, 16, 17], 2, 'valid'],
        [[1, 8, 8, 64], [1, 1, 64, 128], 1, 'valid'],
        [[16, 7, 7, 1], [3, 3, 1, 8], 1, 'same'],
      ];
      let checked = 0;
      for (const [xs, ws, stride, pad] of geometries) {
        const info = tf.backend_util.computeConv2DInfo(
          xs as [number, number, number, number],
          ws as [number, number, number, number],
          stride,
          1,
          pad,
        );
        const size = (s: number[]) => tf.util.sizeFromShape(s);
        const x = guarded(size(xs));
        const w = guarded(size(ws));
        const dy = guarded(size(info.outShape));
        x.view.fill(0.5);
        w.view.fill(0.25);
        dy.view.fill(1);
        const y = guarded(size(info.outShape));
        const bias = guarded(ws[3]);
        addon.convForward(x.view, w.view, bias.view, y.view, convParams(info, 1, true), 0);
        const dx = guarded(size(xs));
        addon.convBackwardData(dy.view, w.view, dx.view, convParams(info));
        const dw = guarded(size(ws));
        addon.convBackwardWeights(x.view, dy.view, dw.view, convParams(info));
        for (const [name, g] of Object.entries({ x, w, dy, y, bias, dx, dw })) {
          expect(g.intact(), `${name} of ${JSON.stringify(xs)} * ${JSON.stringify(ws)}`).toBe(true);
        }
        // The outputs were written (all-positive inputs give positive sums everywhere it matters).
        expect(y.view.some((v) => v > 0)).toBe(true);
        expect(dw.view.every((v) => v > 0)).toBe(true);
        checked++;
      }
      for (const [as, bs, ta, tb] of [
        [[5, 7, 33], [5, 33, 9], false, false],
        [[1, 33, 7], [4, 9, 33], true, true],
        [[64, 17], [17, 3], false, false],
      ] as [number[], number[], boolean, boolean][]) {
        const plan = planMatMul(as, bs, ta, tb, 0, true);
        if (typeof plan === 'string') throw new Error(plan);
        const a = guarded(tf.util.sizeFromShape(as)).view.fill(1);
        const b = guarded(tf.util.sizeFromShape(bs)).view.fill(1);
        const n = plan.outShape[plan.outShape.length - 1];
        const bias = guarded(n);
        const out = guarded(tf.util.sizeFromShape(plan.outShape));
        addon.matMul(a, b, bias.view, out.view, plan.params, 0);
        expect(out.intact() && bias.intact()).toBe(true);
        const k = ta ? as[as.length - 2] : as[as.length - 1];
        expect(out.view.every((v) => v === k)).toBe(true);
        checked++;
      }
      expect(checked).toBe(8);
    },
  );

  it.skipIf(!available)(`rejects arrays shorter than the shape says, before touching them${skip}`, () => {
    const info = tf.backend_util.computeConv2DInfo([1, 4, 4, 2], [3, 3, 2, 2], 1, 1, 'same');
    const ok = new Float32Array(32);
    expect(() =>
      oneDnn().convForward(ok, new Float32Array(36), null, new Float32Array(31), convParams(info), 0),
    ).toThrow(/out has 31 elements, needs 32/);
    expect(() => oneDnn().convBackwardData(ok, new Float32Array(35), ok, convParams(info))).toThrow(
      /filter has 35 elements, needs 36/,
    );
  });
});
