import { tf } from '@squid-ad/backend';
import { imageFromBytes } from '@squid-ad/datasets';
import type { SquidBundle } from '@squid-ad/squid';
import type { ResultRow } from './results.js';

/** A file the user dropped or picked. */
export interface InputFile {
  name: string;
  bytes(): Promise<Uint8Array>;
}

/** One image's result with its pictures (`[S·S]` in [0, 1]); no pictures for an unreadable file. */
export interface Scored {
  row: ResultRow;
  input?: Float32Array;
  recon?: Float32Array;
}

/**
 * Scores files one by one with the bundle, preprocessed as `squid-eval score` does (decode, grey,
 * resize to S×S), reporting each result as it comes so the page can show progress. A file that
 * cannot be decoded becomes a row with its error; the others are still scored.
 */
export async function scoreFiles(
  bundle: SquidBundle,
  files: readonly InputFile[],
  onResult: (scored: Scored, done: number, total: number) => void,
): Promise<Scored[]> {
  const S = bundle.imageSize;
  const out: Scored[] = [];
  for (const [i, file] of files.entries()) {
    let scored: Scored;
    try {
      const input = imageFromBytes(await file.bytes(), file.name, { size: S });
      // [1, S, S, 1]
      const x = tf.tensor4d(input, [1, S, S, 1]);
      try {
        const s = await bundle.score(x);
        const score = s.scores[0];
        scored = {
          row: {
            name: file.name,
            score,
            logit: s.raw[0],
            flagged: bundle.threshold === undefined ? null : score >= bundle.threshold,
            reconL1: s.reconL1[0],
            reconL1WorstCell: s.reconL1WorstCell[0],
          },
          input,
          recon: s.recon[0],
        };
      } finally {
        x.dispose();
      }
    } catch (err) {
      const message = (err as Error).message;
      // BadImageError messages start with the file name; the table already shows it.
      const reason = message.startsWith(file.name)
        ? message.slice(file.name.length).replace(/^:\s*/, '')
        : message;
      scored = { row: { name: file.name, error: reason } };
    }
    out.push(scored);
    onResult(scored, i + 1, files.length);
    // Let the page paint the progress bar between images.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return out;
}
