/** What picking examples by class needs of an item: its label (0 normal, 1 anomalous) and anomaly type. */
export interface ClassedItem {
  label: 0 | 1;
  /** kind of anomaly (e.g. "missing"); undefined for normals and untyped data */
  type?: string;
}

/**
 * Index of the first normal item and of the first item of each anomaly type, in that order
 * (types in order of first appearance); none without types. The paper's Figure 6 rows, as
 * `evaluate`'s "One of each class" grid section and `figure` pick them.
 */
export function firstOfEachClass(items: readonly ClassedItem[]): number[] {
  if (!items.some((it) => it.type !== undefined)) return [];
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const key = it.label === 0 ? '' : (it.type ?? 'anomalous');
    if (!seen.has(key)) seen.set(key, i);
  });
  const normal = seen.get('');
  seen.delete('');
  return [...(normal !== undefined ? [normal] : []), ...seen.values()];
}

/** Indices of the first `n` normal items, then of the first `n` anomalous ones (fewer if the split has fewer). */
export function firstOfEachLabel(items: readonly ClassedItem[], n: number): number[] {
  const first = (label: 0 | 1) => items.flatMap((it, i) => (it.label === label ? [i] : [])).slice(0, n);
  return [...first(0), ...first(1)];
}
