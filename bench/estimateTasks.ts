import { task } from 'fanout';

/** Tasks of three shapes for the estimate's bench: tiny, waiting (I/O-like), and CPU-bound. */
export const estimateSquare = task('bench.estimate.square', (x: number) => x * x);

export const estimateSleep = task('bench.estimate.sleep', async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

export const estimateSpin = task('bench.estimate.spin', (ms: number) => {
  const end = performance.now() + ms;
  let spins = 0;
  while (performance.now() < end) spins++;
  return spins;
});
