/**
 * The runtime of a local process thread (`Process`): takes on the identity its parent sent,
 * finds the target task (importing its module, as Python's spawn imports the function's module),
 * runs it with its arguments, waits for what the target left running (until its event loop is
 * empty), and exits with Python's exit code: 0 when the target returned, 1 when it threw (the
 * error printed to stderr under `Process <name>:`, as Python prints its traceback), or the code
 * the target passed to `process.exit`.
 */
import { threadId, workerData } from 'node:worker_threads';
import { adoptThreadBackend } from '../backend/backends.js';
import type { ProcessThreadData } from './ProcessThreadData.js';
import { ValueDecoder } from '../codec/ValueDecoder.js';
import { TaskRegistry } from './TaskRegistry.js';
import { finishChildren } from './children.js';
import { reviveHandle } from './handles.js';
import { setProcessIdentity } from './processIdentity.js';

let started = false;

/**
 * Starts the process runtime in this thread (once: a bundled program's entry may be reached twice).
 * Called by the process thread's main module, and by a bundled program that runs itself as its
 * process threads' script.
 *
 * @example
 * ```ts
 * if (!isMainThread && workerData?.fanoutProcess) startProcessThread();
 * ```
 */
export function startProcessThread(): void {
  if (started) return;
  started = true;
  const data = workerData as ProcessThreadData;
  adoptThreadBackend(data.threadBackend);
  setProcessIdentity({ name: data.name, pid: data.pid ?? threadId, daemon: data.daemon, identity: data.identity }, data.parent);

  function report(error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : `Uncaught ${String(error)}`;
    process.stderr.write(`Process ${data.name}:\n${text}\n`);
  }

  // An error thrown later by something the target started (a timer, a stray promise) ends the
  // process as an uncaught error in the target would.
  process.on('uncaughtException', (error) => {
    report(error);
    process.exit(1);
  });

  async function run(): Promise<number> {
    try {
      const entry = await TaskRegistry.current.resolve(data.target);
      const args = new ValueDecoder(data.args, data.attachments, reviveHandle).read() as unknown[];
      await entry.fn(...(args as never[]));
      return 0;
    } catch (error) {
      report(error);
      return 1;
    }
  }

  // As a Python process waits for its non-daemon threads once its target is done, the thread
  // ends when what the target left running (timers, pending promises) has finished too: Node
  // empties the event loop, then emits 'beforeExit'. Then the children are dealt with, and the
  // code is the target's. A `process.exit(n)` anywhere still ends the thread at once.
  void run().then((code) => {
    let finishing = false;
    process.on('beforeExit', () => {
      if (finishing) return;
      finishing = true;
      void finishChildren().then(() => process.exit(code));
    });
  });
}
