import type { EpochMetrics, TrainProgress } from '@squid-ad/squid';
import cliProgress from 'cli-progress';

/** Receives training progress and renders it. */
export interface ProgressView {
  step(p: TrainProgress): void;
  /** A whole line (epoch summary, notes) that must not be overwritten by the bar. */
  line(text: string): void;
  epoch(m: EpochMetrics): void;
  stop(): void;
}

const fmt = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(4));

function eta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** The first three loss terms, `D 0.0025 G 0.0467 recon 0.0299` (one-letter names in capitals). */
function describeLosses(losses: ReadonlyMap<string, number>): string {
  return [...losses]
    .slice(0, 3)
    .map(([name, v]) => `${name.length === 1 ? name.toUpperCase() : name} ${fmt(v)}`)
    .join(' ');
}

/** A progress bar with epoch, step, losses, images/s and ETA (for a TTY). */
export function barView(stream: NodeJS.WriteStream): ProgressView {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'epoch {ep} |{bar}| step {value}/{total} | {losses} | {ips} img/s | ETA {etaText}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let currentEpoch = -1;
  // The latest value of every loss term (SQUID's generator terms come every n_critic steps only).
  const latest = new Map<string, number>();
  return {
    step(p) {
      for (const [name, v] of Object.entries(p.losses)) latest.set(name, v);
      const payload = {
        ep: `${p.epoch + 1}/${p.epochs}`,
        losses: describeLosses(latest),
        ips: p.imagesPerSecond.toFixed(1),
        etaText: eta(p.etaSeconds),
      };
      if (!started || currentEpoch !== p.epoch) {
        if (started) bar.stop();
        bar.start(p.steps, p.step + 1, payload);
        started = true;
        currentEpoch = p.epoch;
      } else {
        bar.update(p.step + 1, payload);
      }
    },
    line(text) {
      if (started) {
        bar.stop();
        started = false;
        currentEpoch = -1;
      }
      stream.write(`${text}\n`);
    },
    epoch() {},
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** Plain lines for logs and pipes: every `everySeconds` at most, plus every line. */
export function plainView(write: (line: string) => void, everySeconds = 30): ProgressView {
  let last = 0;
  return {
    step(p) {
      const now = Date.now();
      if (now - last < everySeconds * 1000 && p.step + 1 !== p.steps) return;
      last = now;
      write(
        `epoch ${p.epoch + 1}/${p.epochs} step ${p.step + 1}/${p.steps} ${describeLosses(new Map(Object.entries(p.losses)))} ` +
          `${p.imagesPerSecond.toFixed(1)} img/s ETA ${eta(p.etaSeconds)}`,
      );
    },
    line: write,
    epoch() {},
    stop() {},
  };
}

/** Machine-readable: one JSON object per epoch on stdout, nothing else there. */
export function jsonView(write: (line: string) => void, log: (line: string) => void): ProgressView {
  return {
    step() {},
    line: log,
    epoch(m) {
      write(JSON.stringify({ type: 'epoch', ...m }));
    },
    stop() {},
  };
}
