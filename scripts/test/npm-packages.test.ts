// Every publishable package as a user gets it: packed with `pnpm pack`, installed with plain npm
// into a project outside the repository, and each README example run exactly as the README says,
// its output checked against the output the README shows.
//
// What counts as an example (readme-examples.ts):
// - a ```sh block starting with `npm install …`: the packages a reader installs; the rest of the
//   block is run line by line in the project;
// - a ```js block whose first line is `// FILE — run with: COMMAND`: saved as FILE and run;
// - the ```text block right after either one: lines the run must print, in order.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importedPackages, matchOutput, readmeExamples } from './readme-examples.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Workspace packages that are published (not `private`), as [dir, package.json]. */
function publishable(): { dir: string; name: string }[] {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((d) => join(root, group, d))
      .filter((dir) => existsSync(join(dir, 'package.json')))
      .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
      .filter(({ pkg }) => !pkg.private)
      .map(({ dir, pkg }) => ({ dir, name: pkg.name as string })),
  );
}

const packages = publishable();

/**
 * A user's shell: without what pnpm, vitest and our own switches put in the environment
 * (npm warns about pnpm's npm_config_* keys; SQUID_* would change what the examples print).
 */
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^(npm_|pnpm_|squid_|vitest|node_options$|test$)/i.test(key),
  ),
);
let work: string;
let project: string;
// The queue package's example needs a Redis at SQUID_QUEUE, as its README says.
let redis: RedisServer | undefined;

beforeAll(async () => {
  // The dist files are built by the global setup (scripts/test/build-packages.ts).
  if (!redisUnavailable()) {
    redis = await startRedisServer();
    userEnv.SQUID_QUEUE = redis.url;
  }
  work = mkdtempSync(join(tmpdir(), 'squid-npm-'));
  const packs = join(work, 'packs');
  project = join(work, 'project');
  mkdirSync(packs);
  mkdirSync(project);
  // One recursive pack (~1.5 s) instead of one pnpm process per package (~13 s).
  execFileSync(
    'pnpm',
    ['-r', ...packages.flatMap(({ name }) => ['--filter', name]), 'pack', '--pack-destination', packs],
    { cwd: root, stdio: 'pipe' },
  );
  expect(readdirSync(packs)).toHaveLength(packages.length);
  writeFileSync(join(project, 'package.json'), '{ "name": "squid-user-project", "private": true }\n');
  // One install of every tarball stands in for each README's `npm install` line (which the
  // test checks names what the examples import); plain npm, nothing from the workspace.
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
    cwd: project,
    stdio: 'pipe',
    env: userEnv,
  });
}, 600_000);

afterAll(async () => {
  await redis?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('README examples, run from the npm tarballs', () => {
  it('every publishable package has a README with an npm install line naming itself', () => {
    expect(packages.length).toBeGreaterThanOrEqual(10);
    for (const { dir, name } of packages) {
      const examples = readmeExamples(readFileSync(join(dir, 'README.md'), 'utf8'));
      const installs = examples.flatMap((e) => e.installs);
      expect(installs, `${name}/README.md`).toContain(name);
    }
  });

  for (const { dir, name } of packages) {
    it(`${name}: each example runs as its README says and prints what it shows`, () => {
      const examples = readmeExamples(readFileSync(join(dir, 'README.md'), 'utf8'));
      const installs = new Set(examples.flatMap((e) => e.installs));
      const runnable = examples.filter((e) => e.commands.length > 0);
      expect(runnable.length, `${name}/README.md has no runnable example`).toBeGreaterThan(0);
      for (const example of runnable) {
        for (const dep of importedPackages(example.source ?? '')) {
          expect(installs, `${name}/README.md: ${example.file} imports ${dep}`).toContain(dep);
        }
        if (example.file) writeFileSync(join(project, example.file), example.source ?? '');
        let output = '';
        for (const command of example.commands) {
          const res = spawnSync('sh', ['-c', `${command} 2>&1`], {
            cwd: project,
            encoding: 'utf8',
            timeout: 120_000,
            env: userEnv,
          });
          output += res.stdout;
          expect(res.status, `${name}/README.md: \`${command}\` failed:\n${res.stdout}`).toBe(0);
        }
        const problem = matchOutput(example.expected, output);
        expect(problem, `${name}/README.md: output of ${example.label}:\n${output}`).toBeUndefined();
      }
    }, 300_000);
  }
});
