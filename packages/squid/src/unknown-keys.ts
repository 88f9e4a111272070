import { closest, distance } from 'fastest-levenshtein';

/** A key of a config input that its schema does not know, and the closest key it does know. */
export interface UnknownKey {
  /** dotted path of the unknown key, e.g. `squid.train.batchsize` */
  path: string;
  /** the closest known key at the same place, when one is close enough to be a typo */
  suggestion?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Keys of `input` that the schema dropped: `parsed` is the schema's output for `input` (zod strips
 * unknown keys and fills defaults, so every key it knows at a place is in `parsed` there). A
 * misspelt key would otherwise be ignored without a word.
 */
export function unknownKeys(input: unknown, parsed: unknown, path = ''): UnknownKey[] {
  if (Array.isArray(input) && Array.isArray(parsed))
    return input.flatMap((v, i) => unknownKeys(v, parsed[i], `${path}[${i}]`));
  if (!isObject(input) || !isObject(parsed)) return [];
  const known = Object.keys(parsed);
  const out: UnknownKey[] = [];
  for (const [key, value] of Object.entries(input)) {
    const at = path ? `${path}.${key}` : key;
    if (key in parsed) {
      out.push(...unknownKeys(value, parsed[key], at));
      continue;
    }
    const near = known.length > 0 ? closest(key, known) : undefined;
    // A typo is a few edits away (or differs only in case); beyond that a suggestion misleads.
    const d = near === undefined ? Number.POSITIVE_INFINITY : distance(near, key);
    const typo =
      near !== undefined &&
      (near.toLowerCase() === key.toLowerCase() ||
        (d <= Math.max(2, key.length / 3) && d < Math.min(key.length, near.length)));
    out.push(typo ? { path: at, suggestion: near } : { path: at });
  }
  return out;
}

/** `  path: unknown key (did you mean X?)` lines for an error message. */
export function describeUnknownKeys(keys: readonly UnknownKey[]): string[] {
  return keys.map((k) => `  ${k.path}: unknown key${k.suggestion ? ` (did you mean ${k.suggestion}?)` : ''}`);
}
