import { tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { activationCode, convParams, planMatMul } from './params.js';
import { defaultThreads } from './threads.js';

describe('addon parameters (no addon needed)', () => {
  it('convParams carries the TF padding of a stride-2 same conv (asymmetric) and of PyTorch pad 1', () => {
    const same = tf.backend_util.computeConv2DInfo([2, 8, 8, 3], [3, 3, 3, 5], 2, 1, 'same');
    // TF same, stride 2, even input: total pad 1, all of it at the bottom/right.
    expect(Array.from(convParams(same))).toEqual([2, 8, 8, 3, 3, 3, 5, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0]);
    const torch = tf.backend_util.computeConv2DInfo([2, 8, 8, 3], [3, 3, 3, 5], 2, 1, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    expect(Array.from(convParams(torch, 2, true)).slice(7)).toEqual([4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1]);
  });

  it('planMatMul flattens batches, allows one-sided broadcast and refuses mixed broadcast', () => {
    const p = planMatMul([2, 3, 4, 5], [2, 3, 6, 5], false, true);
    expect(typeof p).toBe('object');
    if (typeof p === 'string') return;
    expect(Array.from(p.params)).toEqual([6, 6, 4, 5, 6, 0, 1, 0, 0]);
    expect(p.outShape).toEqual([2, 3, 4, 6]);
    const b = planMatMul([5, 4], [3, 5, 7], true, false);
    expect(typeof b === 'string' ? b : Array.from(b.params)).toEqual([1, 3, 4, 5, 7, 1, 0, 0, 0]);
    expect(planMatMul([2, 1, 3, 4], [1, 3, 4, 5], false, false)).toMatch(/mixed batch broadcast/);
    expect(planMatMul([3, 4], [5, 6], false, false)).toMatch(/inner dims differ/);
  });

  it('maps the activations oneDNN can fuse and only those', () => {
    expect([undefined, 'linear', 'relu', 'leakyrelu', 'relu6'].map(activationCode)).toEqual([0, 0, 1, 2, 3]);
    expect(activationCode('sigmoid')).toBeUndefined();
    expect(activationCode('prelu')).toBeUndefined();
  });

  it('gives oneDNN the cores the wasm thread pool leaves free', () => {
    const saved = process.env.SQUID_ONEDNN_THREADS;
    delete process.env.SQUID_ONEDNN_THREADS;
    try {
      expect(defaultThreads(1, 2)).toBe(2);
      expect(defaultThreads(2, 2)).toBe(1);
      expect(defaultThreads(4, 2)).toBe(1);
      expect(defaultThreads(2, 8)).toBe(7);
      process.env.SQUID_ONEDNN_THREADS = '3';
      expect(defaultThreads(1, 2)).toBe(3);
    } finally {
      if (saved === undefined) delete process.env.SQUID_ONEDNN_THREADS;
      else process.env.SQUID_ONEDNN_THREADS = saved;
    }
  });
});
