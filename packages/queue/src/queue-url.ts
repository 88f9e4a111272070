import { z } from 'zod';

/** Where Redis is assumed to be when neither a flag nor `SQUID_QUEUE` says. */
export const DEFAULT_QUEUE_URL = 'redis://127.0.0.1:6379';

/** A bad or missing queue URL; the message names it and what is wrong. */
export class QueueUrlError extends Error {
  override name = 'QueueUrlError';
}

/** Where a queue lives: a Redis server and database. */
export interface QueueEndpoint {
  url: string;
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
}

const endpointSchema = z.object({
  host: z.string().min(1, 'no host'),
  port: z.number().int().min(1).max(65535),
  db: z.number().int().min(0).max(15),
});

/** The URL as it may be printed: any password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Reads `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS); errors name the URL
 * and what is wrong with it.
 */
export function parseQueueUrl(url: string): QueueEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(
      `queue URL "${url}" is not a URL; expected redis://HOST:PORT/DB, e.g. ${DEFAULT_QUEUE_URL}/0`,
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new QueueUrlError(`queue URL "${redactUrl(url)}": scheme ${u.protocol} is not redis: or rediss:`);
  const dbText = u.pathname.replace(/^\//, '');
  const parsed = endpointSchema.safeParse({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 6379 : Number(u.port),
    db: dbText === '' ? 0 : Number(dbText),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueueUrlError(`queue URL "${redactUrl(url)}": ${String(issue.path[0])}: ${issue.message}`);
  }
  return {
    url,
    ...parsed.data,
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/**
 * The queue URL to use: the flag's value, else env `SQUID_QUEUE`. `flag === true` (a bare
 * `--queue`) also means `SQUID_QUEUE`. Throws when neither gives one.
 */
export function resolveQueueUrl(
  flag: string | boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const url = typeof flag === 'string' && flag !== '' ? flag : env.SQUID_QUEUE;
  if (!url)
    throw new QueueUrlError(
      `no queue: give --queue redis://HOST:PORT/DB or set SQUID_QUEUE (e.g. SQUID_QUEUE=${DEFAULT_QUEUE_URL})`,
    );
  parseQueueUrl(url);
  return url;
}
