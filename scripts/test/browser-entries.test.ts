// The browser entries of @squid-ad/squid and @squid-ad/datasets, as a user's bundler sees them:
// the built dist bundled by esbuild for the browser (the `browser` export condition), failing on
// any `node:` import reached, then the bundle run without Node's globals (no process, no
// require): it loads a bundle exported from a real run and scores like the Node package.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet } from '@squid-ad/datasets';
import {
  exportBundle,
  getPreset,
  loadRun,
  parseRunConfig,
  readBundleDir,
  trainRun,
  writeBundle,
} from '@squid-ad/squid';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'squid-browser-entry-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Bundles `contents` for the browser from a folder that depends on the packages; lists `node:` imports. */
async function bundleForBrowser(contents: string) {
  const nodeImports: string[] = [];
  const result = await build({
    stdin: { contents, resolveDir: join(root, 'apps/evaluator'), loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'entry',
    write: false,
    logLevel: 'silent',
    metafile: true,
    plugins: [
      {
        name: 'no-node-imports',
        setup(b) {
          b.onResolve({ filter: /^node:/ }, (args) => {
            nodeImports.push(`${args.path} (from ${args.importer.replace(root, '')})`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { code: result.outputFiles[0].text, nodeImports, inputs: Object.keys(result.metafile.inputs) };
}

describe('browser entries', () => {
  it('bundle for the browser without reaching a node: module, and only through the browser builds', async () => {
    const { nodeImports, inputs } = await bundleForBrowser(`
      export * as squid from '@squid-ad/squid';
      export * as datasets from '@squid-ad/datasets';
    `);
    expect(nodeImports).toEqual([]);
    const ours = inputs
      .filter((p) => /packages\/[a-z-]+\/dist\//.test(p))
      .map((p) => p.replace(/.*packages\//, ''));
    expect(ours).toContain('squid/dist/browser.js');
    expect(ours).toContain('datasets/dist/browser.js');
    expect(ours).toContain('backend/dist/browser.js');
    expect(ours.filter((p) => p.endsWith('/index.js') && /^(squid|datasets|backend)\//.test(p))).toEqual([]);
  }, 60_000);

  it('the bundled code, run without Node globals, scores a bundle like loadRun', async () => {
    // The run is trained on wasm: how it was trained does not matter here, and the cpu backend's
    // plain-JS convolutions made training take ~25 s instead of ~2 s.
    await initBackend({ backend: 'wasm' });
    const squid = getPreset('tiny');
    squid.train.epochs = 1;
    squid.train.iterationsPerEpoch = 1;
    squid.train.batchSize = 2;
    const runDir = join(tmp, 'run');
    const config = parseRunConfig(
      {
        squid,
        run: { normImages: 2, sampleEvery: 100, data: { trainLength: 4, valNormal: 2, valAbnormal: 2 } },
      },
      'test config',
    );
    await trainRun({ runDir, config });
    writeBundle(join(tmp, 'bundle'), exportBundle(runDir));
    const files = readBundleDir(join(tmp, 'bundle'));
    const images = digitAnatomyTestSet({ seed: 2, normal: 2, abnormal: 2, cell: 16 }).map((s) => s.image);

    // Scoring: TensorFlow.js's own CPU kernels on both sides (no oneDNN), so the numbers can match
    // bit for bit.
    await initBackend({ backend: 'cpu', nativeKernels: false });
    const run = await loadRun(runDir);
    const x = tf.tensor4d(Float32Array.from(images.flatMap((i) => Array.from(i))), [4, 48, 48, 1]);
    const expected = await run.score(x);
    x.dispose();
    run.dispose();

    const { code } = await bundleForBrowser(`
      import { tf } from '@squid-ad/backend';
      import { loadBundle } from '@squid-ad/squid';
      export async function score(files, images) {
        await tf.setBackend('cpu');
        const bundle = await loadBundle(files);
        const x = tf.tensor4d(Float32Array.from(images.flatMap((i) => Array.from(i))), [images.length, 48, 48, 1]);
        const out = await bundle.score(x);
        x.dispose();
        bundle.dispose();
        return { backend: tf.getBackend(), scores: Array.from(out.scores), raw: Array.from(out.raw) };
      }
    `);
    // A fresh global object: no process, require, Buffer or module; what a page has that tfjs and
    // the loader use (WebCrypto for the checksum, text codecs, timers).
    const sandbox: Record<string, unknown> = {
      console,
      crypto: globalThis.crypto,
      TextEncoder,
      TextDecoder,
      setTimeout,
      clearTimeout,
      queueMicrotask,
      performance,
    };
    sandbox.self = sandbox;
    sandbox.window = sandbox;
    // TensorFlow.js takes a global with a document for a browser page.
    sandbox.document = {};
    runInNewContext(code, sandbox);
    const entry = sandbox.entry as {
      score(
        files: unknown,
        images: Float32Array[],
      ): Promise<{ backend: string; scores: number[]; raw: number[] }>;
    };
    const got = await entry.score(files, images);
    expect(got.backend).toBe('cpu');
    expect(got.raw).toEqual(Array.from(expected.raw));
    expect(got.scores).toEqual(Array.from(expected.scores));
  }, 300_000);
});
