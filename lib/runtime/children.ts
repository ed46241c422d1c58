/** A child process as its parent thread tracks it. */
export interface ChildRecord {
  readonly daemon: boolean;
  /** Resolves once the child has ended. */
  readonly exited: Promise<unknown>;
  terminate(): void;
}

const children = new Set<ChildRecord>();

/** Records a started child until it ends. */
export function trackChild(child: ChildRecord): void {
  children.add(child);
  void child.exited.then(() => children.delete(child));
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
