/** One evaluated image: its file, ground truth (0 normal, 1 anomalous), scores and anomaly type. */
export interface ScoredItem {
  path: string;
  label: 0 | 1;
  /** the model's own anomaly score (SQUID: the discriminator's; thresholds apply to it), higher = more anomalous */
  score: number;
  /** `recon-l1`: mean |reconstruction − input|, higher = more anomalous */
  reconL1?: number;
  /** `recon-l1-worst-cell`: largest per-cell mean |reconstruction − input| */
  reconL1WorstCell?: number;
  /** kind of anomaly (e.g. "missing", "swap"); undefined for normals or untyped data */
  type?: string;
}

/** An image with its reconstruction, both `[S, S]` row-major grey in [0, 1]. */
export interface ImagePair {
  size: number;
  input: Float32Array;
  recon: Float32Array;
}
