// A throw-away redis-server for tests and benches: a free local port, a temp dir, no persistence
// unless asked (`appendOnly`). No vitest import, so bench scripts use it under plain tsx.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server started by {@link startRedisServer}. */
export interface RedisServer {
  url: string;
  port: number;
  /** its data folder (the AOF lives here) */
  dir: string;
  /** the current server process (a new one after {@link restart}) */
  process: ChildProcess;
  /** Kills the server with SIGKILL, a crash: no save on the way out. Keeps its folder. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and folder (after {@link kill}); with AOF it reloads its data. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder (idempotent). */
  stop(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** `--appendonly yes`: every write is logged to the folder's AOF and survives a kill and restart */
  appendOnly?: boolean;
}

/** Why Redis tests cannot run here (no `redis-server` on PATH), or undefined when they can. */
export function redisUnavailable(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0
    ? 'redis-server is not installed (Debian: apt-get install -y redis-server; .ci/run installs it)'
    : undefined;
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns redis-server; resolves with the process once it accepts connections, or with its last line. */
async function spawnRedis(
  port: number,
  dir: string,
  appendOnly: boolean,
): Promise<{ child: ChildProcess } | { failed: string }> {
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      ...['--appendonly', appendOnly ? 'yes' : 'no'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const ready = await new Promise<boolean>((resolve) => {
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Ready to accept connections')) resolve(true);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => resolve(false));
    child.on('error', () => resolve(false));
  });
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  // Keep draining, or a full pipe would block the server.
  child.stdout?.resume();
  child.stderr?.resume();
  return ready ? { child } : { failed: output.trim().split('\n').at(-1) ?? '' };
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.on('exit', () => resolve());
      child.kill('SIGKILL');
    }
  });
}

/** Starts `redis-server` on a free 127.0.0.1 port; resolves once it accepts connections. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const appendOnly = options.appendOnly ?? false;
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'squid-redis-'));
    const started = await spawnRedis(port, dir, appendOnly);
    if ('child' in started) {
      let stopped: Promise<void> | undefined;
      const server: RedisServer = {
        url: `redis://127.0.0.1:${port}`,
        port,
        dir,
        process: started.child,
        kill: () => killHard(server.process),
        restart: async () => {
          await killHard(server.process);
          // The port was ours a moment ago; a few tries cover its release after the kill.
          for (let i = 0; ; i++) {
            const again = await spawnRedis(port, dir, appendOnly);
            if ('child' in again) {
              server.process = again.child;
              return;
            }
            if (i >= 20) throw new Error(`redis-server did not restart on port ${port}: ${again.failed}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        },
        stop: () => {
          stopped ??= killHard(server.process).then(() => rmSync(dir, { recursive: true, force: true }));
          return stopped;
        },
      };
      return server;
    }
    rmSync(dir, { recursive: true, force: true });
    // Another process took the port between the probe and the start: try another.
    if (attempt >= 3) throw new Error(`redis-server did not start: ${started.failed}`);
  }
}
