import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
};

/**
 * The built viewer page: `dist/viewer` of this package (the build copies `apps/viewer/dist`
 * there, so it ships in the npm tarball), else `apps/viewer/dist` of the repository when running
 * from source; env `SQUID_VIEWER_DIR` overrides both.
 */
export function locateViewer(): string {
  const candidates = [
    process.env.SQUID_VIEWER_DIR,
    fileURLToPath(new URL('./viewer/', import.meta.url)),
    fileURLToPath(new URL('../../viewer/dist/', import.meta.url)),
  ].filter((d): d is string => !!d);
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found)
    throw new Error(
      `the viewer page is not built (looked in ${candidates.join(', ')}); build it with pnpm --filter @squid-ad/viewer build`,
    );
  return found;
}

/** A running `squid-eval view` server. */
export interface ViewServer {
  /** The page with the bundle opened: `http://HOST:PORT/?bundle=bundle/`. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A file under `root` for a URL path, or undefined (nothing outside `root` is ever served). */
function fileUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const path = resolve(root, `.${normalize(`/${decoded}`)}`);
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  return existsSync(path) && statSync(path).isFile() ? path : undefined;
}

/**
 * Serves the viewer at `/` and the bundle folder at `/bundle/` on `host:port` (port 0: any free
 * one). Nothing else is served: no directory listings, nothing outside those two folders.
 */
export async function startViewServer(o: {
  bundleDir: string;
  viewerDir?: string;
  host?: string;
  port?: number;
}): Promise<ViewServer> {
  const viewer = resolve(o.viewerDir ?? locateViewer());
  const bundle = resolve(o.bundleDir);
  const host = o.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file =
      req.method !== 'GET' && req.method !== 'HEAD'
        ? undefined
        : path.startsWith('/bundle/')
          ? fileUnder(bundle, path.slice('/bundle/'.length))
          : fileUnder(viewer, path === '/' ? 'index.html' : path);
    const headers = { 'Cache-Control': 'no-store' };
    if (!file) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      ...headers,
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/?bundle=bundle/`,
    server,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
