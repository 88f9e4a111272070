import { describe, expect, it } from 'vitest';
import { parseSquidConfig } from './config.js';
import { presets } from './presets.js';
import { parseRunConfig } from './train/run-config.js';
import { unknownKeys } from './unknown-keys.js';

describe('unknown config keys', () => {
  it('are found at any depth, with the closest known key when it looks like a typo', () => {
    const input = { a: 1, nested: { batchsize: 2, epochs: 3, whatever: 1 }, list: [{ x: 1, y: 2 }] };
    const parsed = { a: 1, nested: { batchSize: 4, epochs: 3 }, list: [{ x: 1 }] };
    expect(unknownKeys(input, parsed)).toEqual([
      { path: 'nested.batchsize', suggestion: 'batchSize' },
      { path: 'nested.whatever' },
      { path: 'list[0].y' },
    ]);
  });

  it('make a SQUID config and a run config invalid, naming the key and the fix', () => {
    expect(() =>
      parseSquidConfig({ ...presets.tiny, train: { ...presets.tiny.train, batchsize: 2 } }, 'my.json'),
    ).toThrow('my.json: invalid SQUID config\n  train.batchsize: unknown key (did you mean batchSize?)');
    expect(() => parseRunConfig({ squid: presets.tiny, run: { validateEvry: 2 } }, 'cfg')).toThrow(
      /run\.validateEvery|run\.validateEvry: unknown key \(did you mean validateEvery\?\)/,
    );
  });

  it('leave valid configs alone, and strict: false reads old files as before', () => {
    expect(parseSquidConfig(presets.digitanatomy)).toEqual(presets.digitanatomy);
    const old = { squid: presets.tiny, run: { droppedLongAgo: true } };
    expect(parseRunConfig(old, 'config.json', { strict: false }).squid).toEqual(presets.tiny);
  });
});
