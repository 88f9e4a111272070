// Our own Redis keys beside BullMQ's (which live under `squid-ad:<queue>:…`).

/** BullMQ key prefix of every squid queue. */
export const PREFIX = 'squid-ad';
/** Set of the queue names of one kind of work, where workers look for work. */
export const registryKey = (kind: string): string => `${PREFIX}:queues:${kind}`;
/** JSON: what the queue's jobs need (the run, options) and its job list. */
export const metaKey = (queue: string): string => `${PREFIX}:meta:${queue}`;
/** Hash job id → JSON item counts of its result, for progress without reading every result. */
export const summaryKey = (queue: string): string => `${PREFIX}:summary:${queue}`;
