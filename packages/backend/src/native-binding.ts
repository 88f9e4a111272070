// Checks whether tfjs-node / tfjs-node-gpu can work *before* importing them. Importing a
// broken one is not harmless: its index registers ~200 'tensorflow' kernels first and only then
// throws on the missing binding, so trying the next package prints one "kernel already
// registered" warning per kernel. Probing the binding file directly avoids all of that.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type NativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

export type NativeProbe =
  | { ok: true; packageDir: string; bindingPath: string }
  | { ok: false; reason: string };

interface PreGypBinary {
  module_name: string;
  module_path: string;
  napi_versions?: number[];
}

const require = createRequire(import.meta.url);

/** The package's directory, or undefined when it is not installed. */
function packageDirOf(pkg: NativePackage): string | undefined {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/** Where node-pre-gyp would look for the binding: the highest N-API version both sides support. */
function bindingCandidates(packageDir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { binary?: PreGypBinary };
  const binary = pkg.binary ?? {
    module_name: 'tfjs_binding',
    module_path: './lib/napi-v{napi_build_version}',
  };
  const runtime = Number(process.versions.napi ?? 0);
  const versions = (binary.napi_versions ?? []).filter((v) => v <= runtime).sort((a, b) => b - a);
  const file = `${binary.module_name}.node`;
  const preferred = versions.map((v) =>
    join(packageDir, binary.module_path.replace('{napi_build_version}', String(v)), file),
  );
  // Also accept a binding built for any other N-API version present.
  const lib = join(packageDir, 'lib');
  const others = existsSync(lib)
    ? readdirSync(lib)
        .filter((d) => d.startsWith('napi-v'))
        .map((d) => join(lib, d, file))
    : [];
  return [...new Set([...preferred, ...others])];
}

/**
 * Whether `pkg` is installed and its native binding loads (and, with `gpu`, sees a CUDA device),
 * without importing the package. `packageDir` overrides resolution (tests).
 */
export function probeNativeBinding(
  pkg: NativePackage,
  options: { gpu?: boolean; packageDir?: string } = {},
): NativeProbe {
  const packageDir = options.packageDir ?? packageDirOf(pkg);
  if (!packageDir || !existsSync(join(packageDir, 'package.json')))
    return { ok: false, reason: 'not installed' };
  let candidates: string[];
  try {
    candidates = bindingCandidates(packageDir);
  } catch (err) {
    return { ok: false, reason: `unreadable package.json in ${packageDir} (${(err as Error).message})` };
  }
  const bindingPath = candidates.find((p) => existsSync(p));
  if (!bindingPath) {
    return {
      ok: false,
      reason:
        `native binding missing (no ${candidates[0] ?? 'lib/napi-v*/tfjs_binding.node'}: its install script ` +
        'did not run or could not download libtensorflow; see @squid-ad/backend README)',
    };
  }
  let binding: { isUsingGpuDevice?: () => boolean };
  try {
    binding = require(bindingPath);
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    return { ok: false, reason: `native binding failed to load (${first})` };
  }
  if (options.gpu) {
    let gpu = false;
    try {
      gpu = binding.isUsingGpuDevice?.() === true;
    } catch {}
    if (!gpu)
      return {
        ok: false,
        reason:
          'no GPU (TensorFlow found no CUDA device, or the CUDA 11.2 / cuDNN 8.1 libraries libtensorflow 2.9.1 needs are missing)',
      };
  }
  return { ok: true, packageDir, bindingPath };
}
