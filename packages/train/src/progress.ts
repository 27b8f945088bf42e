/**
 * Throughput and time left for a run that started at step `start` of `total`: call it after each
 * finished step with that step's tokens. The pace is this run's own (a resumed run does not count
 * the steps it did not do).
 */
export function progressClock(start: number, total: number) {
  const began = performance.now();
  let tokens = 0;
  return (done: number, stepTokens: number) => {
    tokens += stepTokens;
    const elapsedSeconds = (performance.now() - began) / 1000;
    const perStep = elapsedSeconds / Math.max(1, done - start);
    return {
      tokensPerSecond: tokens / Math.max(elapsedSeconds, 1e-9),
      elapsedSeconds,
      etaSeconds: perStep * (total - done),
    };
  };
}
