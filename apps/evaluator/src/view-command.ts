import type { CliDeps } from './deps.js';

/** Options of `squid-eval view`. */
export interface ViewCommandOptions {
  bundle: string;
  host: string;
  port: number;
}

/**
 * `squid-eval view`: checks the bundle, serves the viewer with it and prints the URL; runs until
 * interrupted (Ctrl-C), then exits 0.
 */
export async function viewCommand(opts: ViewCommandOptions, deps: Pick<CliDeps, 'stdout'>): Promise<number> {
  const { readBundleDir } = await import('@squid-ad/squid');
  // A missing or broken bundle is reported here, not as a blank page.
  readBundleDir(opts.bundle);
  const { startViewServer } = await import('./view-server.js');
  const view = await startViewServer({ bundleDir: opts.bundle, host: opts.host, port: opts.port });
  deps.stdout(`squid-eval view: open ${view.url} (images stay on this machine; Ctrl-C stops)`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void view.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
