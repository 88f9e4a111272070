import { describe, expect, it } from 'vitest';
import { scoringPrecision } from './real-deps.js';

describe('scoringPrecision', () => {
  it('is the flag, else what SQUID_ONEDNN_PRECISION says (left to the kernels), else auto', () => {
    expect(scoringPrecision('float32', {})).toBe('float32');
    expect(scoringPrecision('bfloat16', { SQUID_ONEDNN_PRECISION: 'float32' })).toBe('bfloat16');
    expect(scoringPrecision(undefined, { SQUID_ONEDNN_PRECISION: 'float32' })).toBeUndefined();
    expect(scoringPrecision(undefined, {})).toBe('auto');
    expect(scoringPrecision(undefined, { SQUID_ONEDNN_PRECISION: '' })).toBe('auto');
  });
});
