// float32 against bfloat16 oneDNN convolutions; the benchmark itself is ./bf16-body.ts.
// `pnpm bench` runs this file from the package directory, where tsconfig.json maps no paths, so
// tsx would load @squid-ad/backend's built dist (missing or stale while it is being developed).
// Re-running under the root tsconfig makes the benchmark use the sources, like the tests do.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (process.env.TSX_TSCONFIG_PATH) {
  await import('./bf16-body.js');
} else {
  const res = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)),
      },
    },
  );
  process.exit(res.status ?? 1);
}
