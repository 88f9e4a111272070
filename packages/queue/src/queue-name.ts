import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/**
 * The queue of a piece of work: `squid-<kind>-<16 hex>` from a hash of everything that defines
 * it (the run, the inputs, the options), so the same work lands in the same queue (enqueueing it
 * again adds nothing) and two users' work never mixes.
 */
export function queueName(kind: string, identity: unknown): string {
  if (!/^[a-z][a-z0-9-]*$/.test(kind))
    throw new Error(`queue kind "${kind}": use lowercase letters, digits, -`);
  const hash = createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
  return `squid-${kind}-${hash}`;
}
