// coldStart.mjs for a bundle (esbuild): fanout inside one program file, which is also its
// threads' script, so its main code is guarded as in a Python program under `spawn`.
import { Pool, isFanoutThread } from 'fanout';
import { addOne } from './tasks.mjs';

if (!isFanoutThread()) {
  const pool = new Pool(2);
  const result = await pool.map(addOne, [1, 2]);
  const ms = performance.now();
  if (result.join() !== '2,3') throw new Error(`coldStartBundled.mjs: wrong result ${result}`);
  console.log(JSON.stringify({ ms }));
  await pool.terminate();
}
