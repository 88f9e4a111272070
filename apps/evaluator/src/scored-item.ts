/** One evaluated image: its file, ground truth (0 normal, 1 anomalous), score and anomaly type. */
export interface ScoredItem {
  path: string;
  label: 0 | 1;
  /** anomaly score, higher = more anomalous */
  score: number;
  /** kind of anomaly (e.g. "missing", "swap"); undefined for normals or untyped data */
  type?: string;
}

/** An image with its reconstruction, both `[S, S]` row-major grey in [0, 1]. */
export interface ImagePair {
  size: number;
  input: Float32Array;
  recon: Float32Array;
}
