/**
 * Calls `handler` on the first SIGTERM or SIGINT (finish or release the current job, then
 * stop); a second one exits at once with code 1. Returns a function that unregisters it.
 */
export function onStopSignals(
  handler: (signal: NodeJS.Signals) => void,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): () => void {
  let count = 0;
  const h = (signal: NodeJS.Signals) => {
    if (++count > 1) process.exit(1);
    handler(signal);
  };
  for (const s of signals) process.on(s, h);
  return () => {
    for (const s of signals) process.off(s, h);
  };
}
