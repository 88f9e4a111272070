import type { Redis } from 'ioredis';
import { registryKey } from './keys.js';

/** What a Redis can tell about the work it should hold: since when it runs, whether it persists, whether it holds any of ours. */
export interface RedisState {
  /** when this Redis process started (INFO server uptime_in_seconds) */
  startedAt: Date;
  upSeconds: number;
  /** `appendonly yes` (INFO persistence aof_enabled): a restart keeps what was queued */
  appendOnly: boolean;
  /** whether any queue of squid's (of the kinds asked about) is registered in this database */
  ours: boolean;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/**
 * Reads {@link RedisState}: INFO, and whether a queue of the `kinds` (e.g. `score`, `train`) is
 * registered (only posting registers one; workers' own BullMQ keys do not count).
 */
export async function redisState(redis: Redis, kinds: readonly string[]): Promise<RedisState> {
  const server = await redis.info('server');
  const persistence = await redis.info('persistence');
  const upSeconds = Number(infoField(server, 'uptime_in_seconds') ?? 0);
  const ours = kinds.length > 0 && (await redis.exists(...kinds.map(registryKey))) > 0;
  return {
    startedAt: new Date(Date.now() - upSeconds * 1000),
    upSeconds,
    appendOnly: infoField(persistence, 'aof_enabled') === '1',
    ours,
  };
}

const ago = (s: number): string =>
  s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

/**
 * Why a queue is not there, in words that hold: whether this Redis holds nothing of ours at all,
 * since when it runs, and whether it keeps its data across a restart.
 */
export function describeMissingQueue(s: RedisState): string {
  const since = `${s.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}, ${ago(s.upSeconds)} ago`;
  if (s.appendOnly)
    return s.ours
      ? `this Redis (up since ${since}, appendonly yes) holds other squid work, not this`
      : `this Redis (up since ${since}, appendonly yes) holds nothing of squid's: nothing was posted here, or it was removed (collect --remove) or flushed`;
  return s.ours
    ? `this Redis (up since ${since}) holds other squid work, not this; it runs without persistence (appendonly no), so work posted before it started was lost`
    : `this Redis holds nothing of squid's and runs without persistence (appendonly no) since ${since}: work posted before then was lost with its restart (or nothing was posted here); post it again, and start Redis with --appendonly yes`;
}
