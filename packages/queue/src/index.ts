// Public API of @squid-ad/queue: squid's work on a BullMQ job queue (Redis). Knows nothing of
// TensorFlow.js or of the model; the apps wire it.

// A processor throws this for a job that retrying cannot fix (it fails at once, no more attempts).
export { UnrecoverableError } from 'bullmq';
export { chunk, chunkId } from './chunks.js';
export {
  type ConnectOptions,
  connectRedis,
  isConnectionError,
  QueueConnectionError,
  startRedisHint,
} from './connect.js';
export {
  type BoardJob,
  JobBoard,
  type JobOutcome,
  type JobSummary,
  listQueues,
  type PostOptions,
  readMeta,
  type StoredMeta,
} from './job-board.js';
export { finished, formatProgress, itemsPerSecond, type QueueProgress } from './progress.js';
export { canonicalJson, queueName } from './queue-name.js';
export {
  DEFAULT_QUEUE_URL,
  parseQueueUrl,
  type QueueEndpoint,
  QueueUrlError,
  redactUrl,
  resolveQueueUrl,
} from './queue-url.js';
export {
  QueueWorker,
  type QueueWorkerHandlers,
  RELEASE,
  type WorkerEvent,
  type WorkerOptions,
  type WorkerOptionsInput,
  type WorkJob,
  workerOptionsSchema,
} from './queue-worker.js';
export { describeMissingQueue, type RedisState, redisState } from './redis-state.js';
export { onStopSignals } from './signals.js';
