import { isMainThread } from 'node:worker_threads';

/** A child process as its parent thread tracks it. */
export interface ChildRecord {
  readonly daemon: boolean;
  /** Resolves once the child has ended. */
  readonly exited: Promise<unknown>;
  terminate(): void;
}

const children = new Set<ChildRecord>();
/** Daemons already asked to stop as the program ends. */
const stopping = new WeakSet<ChildRecord>();
let stopsDaemonsAtExit = false;

/** Records a started child until it ends. */
export function trackChild(child: ChildRecord): void {
  children.add(child);
  void child.exited.then(() => children.delete(child));
  // A process thread deals with its children itself (finishChildren). In the program's main
  // thread a local daemon dies with the process anyway, but a remote one (an aws Process on a
  // worker) must be asked to stop, or it would run on after the program that started it.
  if (child.daemon && isMainThread && !stopsDaemonsAtExit) {
    stopsDaemonsAtExit = true;
    process.on('beforeExit', stopDaemons);
  }
}

/** Asks each daemon still running to stop; what that sends keeps the program alive until sent. */
function stopDaemons(): void {
  for (const child of children) {
    if (!child.daemon || stopping.has(child)) continue;
    stopping.add(child);
    child.terminate();
  }
}

/**
 * What a process does before it exits, as Python's `multiprocessing.util._exit_function`:
 * terminates its daemonic children, then waits for the others.
 *
 * @example
 * ```ts
 * await finishChildren();
 * process.exit(code);
 * ```
 */
export async function finishChildren(): Promise<void> {
  for (const child of children) if (child.daemon) child.terminate();
  await Promise.all([...children].map((child) => child.exited));
}
