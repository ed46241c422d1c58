// The parts of a cold start, each alone in a fresh process (bench/package.ts runs them):
//
//   node startupParts.mjs boot                   performance.now() at the program's first statement
//   node startupParts.mjs import SPEC             ms an `await import(SPEC)` takes in the main thread
//   node startupParts.mjs thread [SPEC...]        ms from `new Worker` to the thread's first
//                                                 statement, then to each SPEC imported there in turn
//
// A SPEC is a bare package name or a file URL; bare names resolve from this file, as a user's
// program beside node_modules resolves them. Prints one JSON object.
const started = performance.now();
const [part, ...specs] = process.argv.slice(2);
const resolved = specs.map((spec) => import.meta.resolve(spec));

if (part === 'boot') {
  console.log(JSON.stringify({ ms: started }));
} else if (part === 'import') {
  const before = performance.now();
  for (const url of resolved) await import(url);
  console.log(JSON.stringify({ ms: performance.now() - before }));
} else if (part === 'thread') {
  const { Worker } = await import('node:worker_threads');
  // Absolute times (time origin + now), comparable across threads.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const first = performance.timeOrigin + performance.now();
    (async () => {
      const imported = [];
      for (const url of workerData) {
        await import(url);
        imported.push(performance.timeOrigin + performance.now());
      }
      parentPort.postMessage({ first, imported });
    })();`;
  const before = performance.timeOrigin + performance.now();
  const worker = new Worker(code, { eval: true, workerData: resolved });
  const { first, imported } = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  const importMs = imported.map((at, i) => at - (i === 0 ? first : imported[i - 1]));
  console.log(JSON.stringify({ ms: (imported.at(-1) ?? first) - before, startMs: first - before, importMs }));
} else {
  throw new RangeError(`startupParts.mjs: the part must be boot, import or thread, got ${part}`);
}
