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
import { MemoryMatrixBlock } from './memory-matrix-block.js';
import { MemoryMatrixBlockV3 } from './memory-matrix-block-v3.js';

const fixture: Fixture = loadFixture();
const kwargs = fixture.json.ae_constructor.kwargs;
const shrink: number = fixture.json.ae_constructor.positional.shrink_thres;
// biome-ignore lint/suspicious/noExplicitAny: fixture.json metadata
const stages = (fixture.json.derived_shapes.decoder_stages as any[]).filter((s) => s.memory_type);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`decoder memory blocks match the official model (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
    });
    afterAll(async () => {
      await initBackend({ backend: 'cpu' });
    });

    it('has decoder memory stages to check', () => {
      expect(stages.length).toBeGreaterThan(0);
    });

    for (const stage of stages) {
      it(`${stage.memory_block} (${stage.memory_type}) from gen.${stage.up_block}`, () => {
        const input = fixtureTensor(fixture, `gen.${stage.up_block}`);
        const [, channels, height, width] = input.shape;
        const options = {
          numMemory: stage.num_memory,
          slots: kwargs.mem_num_slots,
          channels,
          height,
          width,
          shrink,
          ratio: kwargs.ratio,
          rng: Rng.fromSeed(1),
        };
        const block =
          stage.memory_type === 'MemoryMatrixBlockV3'
            ? new MemoryMatrixBlockV3(options)
            : new MemoryMatrixBlock(options);
        expect(block.dim).toBe(stage.slot_dim);
        loadOfficialState(fixture, `generator.${stage.memory_block}`, block.state());
        const before = tf.memory().numTensors;
        const capture = new Map<string, tf.Tensor>();
        const errors = tf.tidy(() => {
          const y = block.apply(nchwToNhwc(input), { training: false, capture });
          return {
            maxAbsErr: expectClose(
              nhwcToNchw(y),
              fixtureTensor(fixture, `gen.${stage.memory_block}`),
              stage.memory_block,
            ),
            attentionMaxAbsErr: expectClose(
              capture.get('attention')!,
              fixtureTensor(fixture, `gen.${stage.memory_block}.attention`),
              `${stage.memory_block}.attention`,
            ),
          };
        });
        console.log(JSON.stringify({ backend, block: stage.memory_block, ...errors }));
        tf.dispose([...capture.values()]);
        expect(tf.memory().numTensors).toBe(before);
        input.dispose();
        block.dispose();
      });
    }
  });
}
