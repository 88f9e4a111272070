/** Labels (0 = normal, 1 = anomalous) and scores (higher = more anomalous) of one evaluation. */
export type Labels = ArrayLike<number>;
export type Scores = ArrayLike<number>;

/**
 * Checks that labels are 0/1 and scores finite and of the same length; returns class counts.
 * `what` names the caller so the error says which metric got bad input.
 */
export function checkBinary(
  what: string,
  labels: Labels,
  scores: Scores,
): { positives: number; negatives: number } {
  if (labels.length !== scores.length) {
    throw new Error(`${what}: ${labels.length} labels but ${scores.length} scores`);
  }
  if (labels.length === 0) throw new Error(`${what}: no samples`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1)
      throw new Error(`${what}: label ${i} is ${y}, labels must be 0 (normal) or 1 (anomalous)`);
    if (!Number.isFinite(scores[i]))
      throw new Error(`${what}: score ${i} is ${scores[i]}, scores must be finite`);
    positives += y;
  }
  return { positives, negatives: labels.length - positives };
}

/** Throws the error scikit-learn raises when a ranking metric sees only one class. */
export function requireBothClasses(what: string, counts: { positives: number; negatives: number }): void {
  if (counts.positives === 0 || counts.negatives === 0) {
    const only = counts.positives === 0 ? 'normal (0)' : 'anomalous (1)';
    throw new Error(
      `${what}: only one class present in labels (all ${counts.positives + counts.negatives} are ${only}); ` +
        'the metric is not defined without both normal and anomalous samples',
    );
  }
}
