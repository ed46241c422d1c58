/**
 * Python's `Queue.Empty` and `Queue.Full`: non-blocking (or timed) calls on an empty or full queue
 * throw instead of waiting.
 *
 *   npx tsx examples/empty-full.ts
 */
import { Empty, Full, Queue } from 'fanout';

const jobs = new Queue<string>(2);
await jobs.put('job 1');
await jobs.put('job 2', { block: false });

try {
  await jobs.put('job 3', { block: false });
} catch (error) {
  if (!(error instanceof Full)) throw error;
  console.log(`put(block: false) on a full queue: ${error.name} (${error.code})`);
}
try {
  await jobs.putNowait('job 3');
} catch (error) {
  if (!(error instanceof Full)) throw error;
  console.log(`putNowait on a full queue: ${error.name}`);
}
try {
  await jobs.put('job 3', { timeout: 50 });
} catch (error) {
  if (!(error instanceof Full)) throw error;
  console.log(`put(timeout: 50) on a full queue: ${error.name}`);
}

console.log('got', await jobs.get());
console.log('got', await jobs.getNowait());

try {
  await jobs.get({ block: false });
} catch (error) {
  if (!(error instanceof Empty)) throw error;
  console.log(`get(block: false) on an empty queue: ${error.name} (${error.code})`);
}
try {
  await jobs.get({ timeout: 50 });
} catch (error) {
  if (!(error instanceof Empty)) throw error;
  console.log(`get(timeout: 50) on an empty queue: ${error.name}`);
}
