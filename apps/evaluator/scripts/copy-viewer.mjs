// Ships the built viewer page (apps/viewer, built first by turbo) inside this package's dist, so
// `squid-eval view` works from the npm tarball.
import { cpSync, existsSync, rmSync } from 'node:fs';

const from = new URL('../../viewer/dist/', import.meta.url);
const to = new URL('../dist/viewer/', import.meta.url);
if (!existsSync(new URL('index.html', from))) {
  console.error('copy-viewer: apps/viewer/dist is not built (pnpm --filter @squid-ad/viewer build)');
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
