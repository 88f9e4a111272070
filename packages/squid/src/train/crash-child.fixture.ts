// Child process of the kill -9 test: trains the tiny preset into argv[2] for many epochs and
// prints a line after every checkpoint, until the parent kills it.
import { initBackend } from '@squid-ad/backend';
import { trainRun } from '../train/train-run.js';
import { tinyRunConfig } from './test-config.fixture.js';

await initBackend({ backend: 'wasm' });
const runDir = process.argv[2];
await trainRun({
  runDir,
  config: tinyRunConfig({ epochs: 1000 }),
  onEpoch: (m) => process.stdout.write(`epoch ${m.epoch}\n`),
});
