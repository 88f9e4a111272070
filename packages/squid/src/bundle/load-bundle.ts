import { tf } from '@squid-ad/backend';
import type { AnyModelPlugin } from '@squid-ad/model-api';
import { type NormStats, type RunScores, type ScoreNorm, scorer } from '../score.js';
import { squidModel } from '../squid-plugin.js';
import { BUNDLE_MANIFEST, type BundleManifest, parseBundleManifest } from './manifest.js';
import { decodeSafetensors } from './safetensors-bytes.js';

/** The two files of a bundle, as text/bytes (from disk, `fetch`, or a file picker). */
export interface BundleFiles {
  /** `bundle.json`: its text or parsed value. */
  manifest: string | unknown;
  /** The weights file the manifest names. */
  weights: Uint8Array;
  /** Where the files came from, for error messages (default `bundle.json` and the manifest's file name). */
  manifestName?: string;
  weightsName?: string;
}

/** A model loaded from an inference bundle: scores images exactly as `loadRun(...).score` does. */
export interface SquidBundle {
  manifest: BundleManifest;
  /** The bundle's model: plug-in name, title and the name of its score. */
  model: Pick<AnyModelPlugin, 'name' | 'title' | 'scoreName'>;
  /** The model's config, parsed by its plug-in (SQUID: a SquidConfig). */
  config: unknown;
  /** Image side the model scores, in pixels. */
  imageSize: number;
  norm: NormStats;
  scoreNorm: ScoreNorm;
  /** The run's validation threshold, if it picked one. */
  threshold?: number;
  reconCell: number;
  /** `images` `[B, S, S, 1]` in [0, 1] → scores per image (1 = anomalous) and reconstructions. */
  score(images: tf.Tensor4D, options?: { reconCell?: number }): Promise<RunScores>;
  dispose(): void;
}

/** Options of {@link loadBundle}. */
export interface LoadBundleOptions {
  /** Check the weights' SHA-256 against the manifest (default true; skipped where no WebCrypto). */
  verify?: boolean;
  /** The models a bundle may hold (default: SQUID alone). */
  models?: readonly AnyModelPlugin[];
}

async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = (
    globalThis as { crypto?: { subtle?: { digest(a: string, d: Uint8Array): Promise<ArrayBuffer> } } }
  ).crypto?.subtle;
  // WebCrypto exists in Node ≥ 19 and in browsers' secure contexts (https, localhost) only.
  if (!subtle) return undefined;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Builds the scoring model from a bundle's manifest and weights. Errors name the file and what is
 * wrong with it (not a bundle, wrong version, damaged or truncated weights, a missing tensor).
 */
export async function loadBundle(files: BundleFiles, options: LoadBundleOptions = {}): Promise<SquidBundle> {
  const manifestName = files.manifestName ?? BUNDLE_MANIFEST;
  const manifest = parseBundleManifest(files.manifest, manifestName);
  const weightsName = files.weightsName ?? manifest.weights.file;
  const { weights } = files;
  if (weights.length !== manifest.weights.bytes)
    throw new Error(
      `${weightsName}: ${weights.length} bytes, ${manifestName} says ${manifest.weights.bytes} (truncated or from another bundle)`,
    );
  if (options.verify ?? true) {
    const hash = await sha256Hex(weights);
    if (hash !== undefined && hash !== manifest.weights.sha256)
      throw new Error(
        `${weightsName}: its SHA-256 does not match ${manifestName} (damaged, or from another bundle)`,
      );
  }
  const { tensors } = decodeSafetensors(weights, weightsName);
  const models = options.models ?? [squidModel];
  const plugin = models.find((m) => m.name === manifest.model);
  if (!plugin)
    throw new Error(
      `${manifestName}: a ${manifest.model} model; this program knows ${models.map((m) => m.name).join(', ')}`,
    );
  const parsed = plugin.configSchema.safeParse(manifest.config);
  if (!parsed.success)
    throw new Error(
      `${manifestName}: invalid ${manifest.model} config\n${parsed.error.issues.map((i) => `  config.${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  const config = parsed.data;
  const recipe = plugin.recipe(config);
  // Initial values are overwritten below (SQUID's teacher decoder is never read): any seed will do.
  const model = plugin.create(config, recipe.train.seed, { scoreNorm: manifest.score.scoreNorm });
  try {
    const entries = model.scoringState?.() ?? model.state();
    for (const e of entries) {
      const t = tensors.get(e.name);
      if (!t) throw new Error(`${weightsName}: missing tensor ${e.name}`);
      if (t.shape.length !== e.variable.shape.length || t.shape.some((d, i) => d !== e.variable.shape[i]))
        throw new Error(
          `${weightsName}: ${e.name} has shape [${t.shape}], the model expects [${e.variable.shape}]`,
        );
      const wantInt = e.variable.dtype === 'int32';
      if (wantInt !== (t.dtype === 'I32'))
        throw new Error(
          `${weightsName}: ${e.name} is stored as ${t.dtype}, the model holds ${e.variable.dtype}`,
        );
    }
    for (const e of entries) {
      const t = tensors.get(e.name)!;
      tf.tidy(() =>
        e.variable.assign(tf.tensor(t.data, t.shape, e.variable.dtype === 'int32' ? 'int32' : 'float32')),
      );
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  const { norm, scoreNorm, reconCell, threshold } = manifest.score;
  return {
    manifest,
    model: { name: plugin.name, title: plugin.title, scoreName: plugin.scoreName },
    config,
    imageSize: recipe.imageSize,
    norm,
    scoreNorm,
    ...(threshold !== null ? { threshold } : {}),
    reconCell,
    // loadRun().score's code path, so a float32 bundle scores bit for bit like its run.
    score: scorer(model, plugin, { imageSize: recipe.imageSize, norm, reconCell }),
    dispose() {
      model.dispose();
    },
  };
}

/** A `fetch`-like function (the global one by default). */
export type FetchLike = (
  url: string,
) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string> }>;

/**
 * Fetches and loads a bundle: `url` is its `bundle.json` or the folder holding it (ending in `/`);
 * the weights are fetched from beside the manifest.
 */
export async function fetchBundle(
  url: string,
  options: LoadBundleOptions & { fetch?: FetchLike } = {},
): Promise<SquidBundle> {
  const get = options.fetch ?? (globalThis as unknown as { fetch: FetchLike }).fetch;
  const manifestUrl = url.endsWith('/') ? `${url}${BUNDLE_MANIFEST}` : url;
  const load = async (u: string) => {
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await get(u);
    } catch (err) {
      throw new Error(`${u}: cannot fetch (${(err as Error).message})`);
    }
    if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
    return res;
  };
  const manifestText = await (await load(manifestUrl)).text();
  const manifest = parseBundleManifest(manifestText, manifestUrl);
  const weightsUrl = new URL(manifest.weights.file, new URL(manifestUrl, 'http://localhost/')).href;
  // Keep a relative manifest URL relative (fetch resolves it against the page).
  const weightsRel = /^[a-z]+:/i.test(manifestUrl)
    ? weightsUrl
    : manifestUrl.replace(/[^/]*$/, manifest.weights.file);
  const weights = new Uint8Array(await (await load(weightsRel)).arrayBuffer());
  return loadBundle(
    { manifest: manifestText, weights, manifestName: manifestUrl, weightsName: weightsRel },
    options,
  );
}
