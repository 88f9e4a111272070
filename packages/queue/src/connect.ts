import { Redis } from 'ioredis';
import { parseQueueUrl, redactUrl } from './queue-url.js';

/** Redis cannot be reached (or refused us); the message is one line naming the URL and what to do. */
export class QueueConnectionError extends Error {
  override name = 'QueueConnectionError';
}

/** Whether `err` is a lost connection (said once by {@link connectRedis}'s `onLine`, not per command). */
export function isConnectionError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable/.test(err.message)
  );
}

/** How to get a Redis at `url` going, for error messages. */
export function startRedisHint(url: string): string {
  const { host, port } = parseQueueUrl(url);
  const local = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  return local
    ? `start one with \`redis-server --port ${port}\` (Debian: apt-get install redis-server), or point --queue / SQUID_QUEUE at yours`
    : `check that redis-server runs on ${host} and listens on port ${port} for this machine (bind / protected-mode), or point --queue / SQUID_QUEUE at another`;
}

/** Options of {@link connectRedis}. */
export interface ConnectOptions {
  /** give up the first connection after this long (default 5000 ms) */
  timeoutMs?: number;
  /** receives one line when an established connection drops and again when it is back */
  onLine?: (line: string) => void;
}

/**
 * Connects to the Redis at `url`, or fails fast with a {@link QueueConnectionError}. Once
 * connected, a dropped connection is retried for ever (workers outlive a Redis restart); BullMQ
 * needs `maxRetriesPerRequest: null` so its commands wait for the reconnect instead of failing.
 */
export async function connectRedis(url: string, options: ConnectOptions = {}): Promise<Redis> {
  const ep = parseQueueUrl(url);
  const shown = redactUrl(url);
  let established = false;
  let lastError: Error | undefined;
  let down = false;
  const redis = new Redis({
    host: ep.host,
    port: ep.port,
    db: ep.db,
    ...(ep.username ? { username: ep.username } : {}),
    ...(ep.password ? { password: ep.password } : {}),
    ...(ep.tls ? { tls: {} } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: null,
    connectTimeout: options.timeoutMs ?? 5000,
    // Before the first connection: no retry, so a wrong URL is one clear error, not a hang.
    retryStrategy: (times) => (established ? Math.min(times * 200, 5000) : null),
  });
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  // Once per outage, however many retries it takes; a Redis back at once (restarted in a blink)
  // gives no error at all, only this event.
  redis.on('reconnecting', () => {
    if (!established || down) return;
    down = true;
    const why = lastError ? ` (${lastError.message})` : '';
    options.onLine?.(`lost Redis at ${shown}${why}; reconnecting…`);
  });
  redis.on('ready', () => {
    if (down) options.onLine?.(`Redis at ${shown} is back`);
    down = false;
    lastError = undefined;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const e = (lastError ?? err) as NodeJS.ErrnoException;
    const why = e.code === 'ECONNREFUSED' ? 'connection refused' : e.message.replace(/\s+/g, ' ');
    throw new QueueConnectionError(`cannot reach Redis at ${shown} (${why}); ${startRedisHint(url)}`);
  }
  established = true;
  return redis;
}
