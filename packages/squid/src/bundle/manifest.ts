import { z } from 'zod';

/** Name of the manifest inside a bundle folder. */
export const BUNDLE_MANIFEST = 'bundle.json';
/** Default name of the weights file inside a bundle folder. */
export const BUNDLE_WEIGHTS = 'weights.safetensors';
export const BUNDLE_FORMAT = 'squid-bundle';
export const BUNDLE_VERSION = 1;

// JSON has no Infinity: a threshold of +∞ ("flag nothing") is written as the string "Infinity".
const thresholdSchema = z
  .union([z.number(), z.enum(['Infinity', '-Infinity'])])
  .nullable()
  .transform((v) => (v === null ? null : Number(v)));

/** What `bundle.json` holds: everything scoring needs besides the weights, and where they came from. */
export const bundleManifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  /** Storage precision of the float weights (always computed in float32). */
  precision: z.enum(['float32', 'float16']),
  /** The model's plug-in name (`squid`, `ganomaly`, …); bundles from before baselines are SQUID's. */
  model: z.string().default('squid'),
  /** The model's config (SQUID: the recipe; `config.model.imageSize` is the side images are resized to), checked by the model's plug-in on load. */
  config: z.record(z.string(), z.unknown()),
  score: z.strictObject({
    /** μ, σ of the raw score on normal images (SQUID: of the discriminator logit, A = 1 − sigmoid((d − μ)/σ)). */
    norm: z.strictObject({ mu: z.number(), sigma: z.number().positive(), count: z.number().int().min(0) }),
    /** How the discriminator normalises while scoring. */
    scoreNorm: z.enum(['per-image', 'running']),
    /** Cell side of `recon-l1-worst-cell`. */
    reconCell: z.number().int().positive(),
    /** Flag an image at score ≥ threshold; null: the run picked none. */
    threshold: thresholdSchema,
    /** How the threshold was picked: on the validation split with `method`, at `epoch`. */
    thresholdOrigin: z
      .strictObject({ split: z.literal('validation'), method: z.string(), epoch: z.number().int() })
      .nullable(),
  }),
  provenance: z.strictObject({
    /** The run folder as given to `export`. */
    run: z.string(),
    /** `best`, `last`, or `epoch-N` (a checkpoint kept by `run.keepEvery`). */
    checkpoint: z.union([z.enum(['best', 'last']), z.templateLiteral(['epoch-', z.number().int()])]),
    epoch: z.number().int(),
    iteration: z.number().int(),
    /** Validation AUC of that checkpoint. */
    auc: z.number().nullable(),
    /** SHA-256 (hex) of the checkpoint file the weights came from. */
    checkpointSha256: z.string().regex(/^[0-9a-f]{64}$/),
    exportedAt: z.string(),
  }),
  weights: z.strictObject({
    /** File name relative to the manifest. */
    file: z.string().regex(/^[^/\\]+$/, 'a file name in the bundle folder, no path'),
    bytes: z.number().int().positive(),
    /** SHA-256 (hex) of the weights file, checked on load where the platform can hash. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    tensors: z.number().int().positive(),
  }),
});
export type BundleManifest = z.output<typeof bundleManifestSchema>;
export type BundleManifestInput = z.input<typeof bundleManifestSchema>;

/** Parses `bundle.json` text or an object; errors name `file` and every problem with its path. */
export function parseBundleManifest(input: string | unknown, file = BUNDLE_MANIFEST): BundleManifest {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new Error(`${file}: not JSON (${(err as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object' || (value as { format?: unknown }).format !== BUNDLE_FORMAT)
    throw new Error(`${file}: not a squid bundle manifest (no "format": "${BUNDLE_FORMAT}")`);
  const version = (value as { version?: unknown }).version;
  if (version !== BUNDLE_VERSION)
    throw new Error(`${file}: bundle version ${String(version)}, this squid reads version ${BUNDLE_VERSION}`);
  const result = bundleManifestSchema.safeParse(value);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file}: invalid bundle manifest\n${lines.join('\n')}`);
  }
  return result.data;
}

/** The manifest as JSON text (a non-finite threshold written as a string). */
export function stringifyBundleManifest(manifest: BundleManifest): string {
  const t = manifest.score.threshold;
  const score = { ...manifest.score, threshold: t === null || Number.isFinite(t) ? t : String(t) };
  return `${JSON.stringify({ ...manifest, score }, null, 2)}\n`;
}
