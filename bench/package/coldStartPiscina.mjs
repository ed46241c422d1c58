// piscina's side of the cold start: from process start to the first result of `run` on a pool
// of 2 threads (bench/piscinaWorker.mjs, the tiny task). Prints { ms } as coldStart.mjs does.
import { Piscina } from 'piscina';

const filename = new URL('../piscinaWorker.mjs', import.meta.url).href;
const piscina = new Piscina({ filename, minThreads: 2, maxThreads: 2 });
const result = await piscina.run(1);
const ms = performance.now();
if (result !== 2) throw new Error(`coldStartPiscina.mjs: wrong result ${result}`);
console.log(JSON.stringify({ ms }));
await piscina.destroy();
