import { isMainThread, workerData } from 'node:worker_threads';
import { RuntimeError } from '../errors.js';
import { runningBundled } from './threadScripts.js';

/** What fanout puts in the `workerData` of the threads it starts, to tell them their role. */
interface ThreadRoleData {
  fanoutWorker?: unknown;
  fanoutProcess?: unknown;
  /** The thread's script: the bundle itself (a program's entry, or a Lambda's handler bundle). */
  fanoutScript?: unknown;
}

const role = workerData as ThreadRoleData | undefined;

/**
 * True in a thread that fanout started to run tasks (a pool worker) or a `Process` target. A
 * bundled program is its own threads' script, as a Python program is under `spawn`: guard its
 * main code with this, as a Python program guards it with `if __name__ == '__main__'`.
 *
 * @example
 * ```ts
 * import { Pool, isFanoutThread } from 'fanout';
 * import { square } from './tasks.js';
 *
 * if (!isFanoutThread()) {
 *   await using pool = new Pool(2);
 *   console.log(await pool.map(square, [1, 2, 3]));
 * }
 * ```
 */
export function isFanoutThread(): boolean {
  return !isMainThread && (role?.fanoutWorker === true || role?.fanoutProcess === true);
}

/** Settles once the bundle's entry script has finished evaluating in this thread. */
let bootstrapped: Promise<unknown> | undefined;
let bootstrapping = false;

/**
 * Refuses to start a pool or a process while a bundled program's thread is still evaluating the
 * entry script: that is the program's main code run again in a thread (a missing
 * {@link isFanoutThread} guard), and would start threads without end.
 *
 * @example
 * ```ts
 * assertNotBootstrapping('new Pool()');
 * ```
 */
export function assertNotBootstrapping(what: string): void {
  if (!bootstrapping) return;
  throw new RuntimeError(
    `${what} was called while this bundled program was starting as one of fanout's threads. A bundle is its own ` +
      "threads' script, so its main code runs again in each thread: guard it with `if (!isFanoutThread()) { ... }` " +
      "(import { isFanoutThread } from 'fanout'), as a Python program guards its main code with " +
      "`if __name__ == '__main__'`.",
  );
}

// A bundle is its threads' script: in such a thread, start the runtime its role asks for. Tasks
// register as the rest of the bundle evaluates; the runtime resolves them only once messages
// arrive, after that evaluation.
if (isFanoutThread() && runningBundled()) {
  // Importing the thread's own script gives the module being evaluated: it settles once that ends.
  const script = typeof role?.fanoutScript === 'string' ? role.fanoutScript : undefined;
  if (script) {
    bootstrapping = true;
    bootstrapped = import(script).finally(() => {
      bootstrapping = false;
    });
    bootstrapped.catch(() => {});
  }
  // Started once the entry has been evaluated: its tasks are registered by then, and an entry
  // that fails (main code without the guard) kills the thread before it reports ready, so the
  // pool fails with that error instead of replacing the thread again and again. The runtime is
  // imported only here, so that a program's main thread does not load it.
  const start =
    role?.fanoutWorker === true
      ? () => void import('./startWorkerThread.js').then(({ startWorkerThread }) => startWorkerThread())
      : () => void import('./startProcessThread.js').then(({ startProcessThread }) => startProcessThread());
  void (bootstrapped ?? Promise.resolve()).then(start, () => {});
}
