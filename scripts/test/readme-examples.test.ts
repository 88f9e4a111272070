import { describe, expect, it } from 'vitest';
import { importedPackages, matchOutput, readmeExamples } from './readme-examples.js';

const fence = '```';
const readme = [
  '# pkg',
  `${fence}sh\nnpm install @squid-ad/a left-pad --save  # both\nnpx a-cli --fast \\\n  --out x\n# a comment\n${fence}`,
  'It prints:',
  `${fence}text\ndone: 3 images\n${fence}`,
  `${fence}js\n// example.mjs — run with: node example.mjs\nimport { a } from '@squid-ad/a/sub';\nimport fs from 'node:fs';\nconst b = await import('left-pad');\n${fence}`,
  `${fence}text\nloss 0.5000 -> 0.2500\n…took … ms\n${fence}`,
  `${fence}js\nconsole.log('not an example');\n${fence}`,
  `${fence}sh\npnpm build\n${fence}`,
].join('\n\n');

describe('readmeExamples', () => {
  it('finds the install block with its commands and the js example with its output', () => {
    const [sh, js, ...rest] = readmeExamples(readme);
    expect(rest).toEqual([]);
    expect(sh.installs).toEqual(['@squid-ad/a', 'left-pad']);
    expect(sh.commands).toEqual(['npx a-cli --fast    --out x']);
    expect(sh.expected).toEqual(['done: 3 images']);
    expect(js.file).toBe('example.mjs');
    expect(js.commands).toEqual(['node example.mjs']);
    expect(js.expected).toEqual(['loss 0.5000 -> 0.2500', '…took … ms']);
    expect(importedPackages(js.source ?? '')).toEqual(['@squid-ad/a', 'left-pad']);
  });
});

describe('matchOutput', () => {
  const expected = ['loss 0.5000 -> 0.2500', 'shape [16, 96, 96, 1]', '…took … ms'];
  it('accepts the lines in order, with other lines between and decimals that drift a little', () => {
    const out = 'backend wasm\nloss 0.5001 -> 0.2499\nnoise\nshape [16, 96, 96, 1]\nit took 12 ms\n';
    expect(matchOutput(expected, out)).toBeUndefined();
  });
  it('names the first line it cannot find', () => {
    expect(matchOutput(expected, 'loss 0.5000 -> 0.2600\nshape [16, 96, 96, 1]\ntook 1 ms')).toMatch(
      /matches: loss 0\.5000 -> 0\.2500/,
    );
    // Integers are exact: a batch of 14 is not a batch of 16.
    expect(matchOutput(expected, 'loss 0.5 -> 0.25\nshape [14, 96, 96, 1]\ntook 1 ms')).toMatch(/shape/);
    // Order matters.
    expect(matchOutput(expected, 'shape [16, 96, 96, 1]\nloss 0.5 -> 0.25\ntook 1 ms')).toMatch(/shape/);
    expect(matchOutput(['a 1.5e-3'], 'a 1.8e-3')).toBeDefined();
    expect(matchOutput(['a 1.5e-3'], 'a 1.51e-3')).toBeUndefined();
  });
});
