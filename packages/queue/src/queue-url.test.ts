import { describe, expect, it } from 'vitest';
import { chunk, chunkId } from './chunks.js';
import { queueName } from './queue-name.js';
import { parseQueueUrl, redactUrl, resolveQueueUrl } from './queue-url.js';

describe('queue URLs, names and chunks', () => {
  it('reads redis URLs with defaults and names what is wrong with a bad one', () => {
    expect(parseQueueUrl('redis://h')).toMatchObject({ host: 'h', port: 6379, db: 0, tls: false });
    expect(parseQueueUrl('rediss://u:p%40ss@10.0.0.2:6380/3')).toMatchObject({
      host: '10.0.0.2',
      port: 6380,
      db: 3,
      tls: true,
      username: 'u',
      password: 'p@ss',
    });
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/scheme localhost: is not redis:/);
    expect(() => parseQueueUrl('redis://h/x')).toThrow('queue URL "redis://h/x": db: ');
    expect(() => parseQueueUrl('nope')).toThrow(/"nope" is not a URL; expected redis:\/\/HOST:PORT\/DB/);
    expect(redactUrl('redis://u:secret@h:1/2')).toBe('redis://u:***@h:1/2');
  });

  it('takes the flag, else SQUID_QUEUE, else says how to give one', () => {
    expect(resolveQueueUrl('redis://a', { SQUID_QUEUE: 'redis://b' })).toBe('redis://a');
    expect(resolveQueueUrl(true, { SQUID_QUEUE: 'redis://b' })).toBe('redis://b');
    expect(resolveQueueUrl(undefined, { SQUID_QUEUE: 'redis://b' })).toBe('redis://b');
    expect(() => resolveQueueUrl(undefined, {})).toThrow(
      /give --queue redis:\/\/HOST:PORT\/DB or set SQUID_QUEUE/,
    );
  });

  it('derives the queue name from everything that defines the work, whatever the key order', () => {
    const a = queueName('score', { run: '/r', files: ['a', 'b'], opts: { x: 1, y: 2 } });
    expect(a).toMatch(/^squid-score-[0-9a-f]{16}$/);
    expect(queueName('score', { opts: { y: 2, x: 1 }, files: ['a', 'b'], run: '/r' })).toBe(a);
    expect(queueName('score', { run: '/r', files: ['b', 'a'], opts: { x: 1, y: 2 } })).not.toBe(a);
    expect(queueName('train', { run: '/r', files: ['a', 'b'], opts: { x: 1, y: 2 } })).not.toBe(a);
  });

  it('chunks keep order and number in sortable ids', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunkId(7)).toBe('chunk-000007');
    expect(() => chunk([1], 0)).toThrow(/positive integer/);
  });
});
