import type { CliDeps } from './deps.js';

/** Options of `squid-eval view`. */
export interface ViewCommandOptions {
  bundle: string;
  host: string;
  port: number;
}

/**
 * `squid-eval view`: checks the bundle (readable, of a model in `deps.models`), serves the viewer
 * with it and prints the URL; runs until interrupted (Ctrl-C), then exits 0.
 */
export async function viewCommand(
  opts: ViewCommandOptions,
  deps: Pick<CliDeps, 'stdout' | 'models'>,
): Promise<number> {
  const { parseBundleManifest, readBundleDir } = await import('@squid-ad/squid');
  // A missing or broken bundle, or one of a model the page cannot build, is reported here, not as a blank page.
  const files = readBundleDir(opts.bundle);
  const { model } = parseBundleManifest(files.manifest, files.manifestName);
  const { defaultModels } = await import('./real-deps.js');
  const models = await (deps.models ?? defaultModels)();
  const plugin = models.find((m) => m.name === model);
  if (!plugin)
    throw new Error(
      `${files.manifestName}: a bundle of model ${model}; squid-eval knows ${models.map((m) => m.name).join(', ')}`,
    );
  const { startViewServer } = await import('./view-server.js');
  const view = await startViewServer({ bundleDir: opts.bundle, host: opts.host, port: opts.port });
  deps.stdout(
    `squid-eval view: open ${view.url} (${plugin.title}, score ${plugin.scoreName}; images stay on this machine; Ctrl-C stops)`,
  );
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
