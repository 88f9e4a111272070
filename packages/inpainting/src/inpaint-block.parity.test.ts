import { initBackend, Rng, tf } from '@squid-ad/backend';
import {
  expectClose,
  type Fixture,
  fixtureTensor,
  loadFixture,
  loadOfficialState,
  nchwToNhwc,
  nhwcToNchw,
} from '@squid-ad/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InpaintBlock } from './inpaint-block.js';

const fixture: Fixture = loadFixture();
const { kwargs, positional } = fixture.json.ae_constructor;
const level: number = kwargs.level;
const INTERNALS = [
  'bottleneck_conv1',
  'queue_in',
  'queue_attention',
  'queue_out',
  'attention.query',
  'attention.key',
  'attention.out',
  'attention.weights',
  'attn_norm1',
  'ff',
  'attn_norm2',
  'bottleneck_conv2_in',
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`InpaintBlock matches the official model (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
    });
    afterAll(async () => {
      await initBackend({ backend: 'cpu' });
    });

    it(`reproduces gen.inpaint_block and its internals from gen.down_blocks.${level - 1}`, () => {
      const input = fixtureTensor(fixture, `gen.down_blocks.${level - 1}`);
      const [, channels, height, width] = input.shape;
      const block = new InpaintBlock({
        channels,
        numPatch: kwargs.num_patch,
        height,
        width,
        slots: kwargs.num_slots,
        shrink: positional.shrink_thres,
        ratio: kwargs.ratio,
        drop: kwargs.drop,
        rng: Rng.fromSeed(7),
      });
      expect(block.dim).toBe(kwargs.memory_channel);
      loadOfficialState(fixture, 'generator.inpaint_block', block.state());
      const before = tf.memory().numTensors;
      const capture = new Map<string, tf.Tensor>();
      const errors: Record<string, number> = {};
      tf.tidy(() => {
        const y = block.apply(nchwToNhwc(input), { training: false, capture });
        for (const name of INTERNALS) {
          const official = `gen.inpaint_block.${name}`;
          if (!fixture.tensors.has(official)) continue;
          expect(capture.has(name), name).toBe(true);
          errors[name] = expectClose(capture.get(name)!, fixtureTensor(fixture, official), official);
        }
        errors.output = expectClose(
          nhwcToNchw(y),
          fixtureTensor(fixture, 'gen.inpaint_block'),
          'gen.inpaint_block',
        );
      });
      console.log(JSON.stringify({ backend, maxAbsErr: errors }));
      expect(Object.keys(errors).length).toBeGreaterThanOrEqual(8);
      // Captured tensors belong to the caller; once disposed, nothing else is left behind.
      expect(tf.memory().numTensors).toBe(before + capture.size);
      tf.dispose([...capture.values()]);
      expect(tf.memory().numTensors).toBe(before);
      input.dispose();
      block.dispose();
    });
  });
}
