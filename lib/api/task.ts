import { isMainThread } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, TaskDefinitionError } from '../errors.js';
import { TaskRegistry } from '../runtime/TaskRegistry.js';
import type { TaskRef } from '../codec/protocol.js';
import { runningBundled } from '../runtime/threadScripts.js';

/**
 * A task: a plain function registered under a stable name, so that a worker anywhere can find
 * it. Calling the handle runs the function here, in this thread.
 */
export interface Task<A extends unknown[] = never[], R = unknown> {
  (...args: A): R;
  /** The name the task is registered under. */
  readonly taskName: string;
  /** The module (a file: URL) that defined the task; workers import it on first use. */
  readonly module: string | undefined;
}

/** The arguments a task takes. */
export type TaskArgs<T> = T extends Task<infer A, unknown> ? A : never;
/** What a task's promise, or value, resolves to. */
export type TaskResult<T> = T extends Task<never, infer R> ? Awaited<R> : never;

const TASK_NAME = /^[A-Za-z0-9_.:/@-]{1,200}$/;
/**
 * Every task handle, with its wire reference (made once, not per call). Kept under a global
 * symbol, so a task made by another copy of fanout in this program is a task here too.
 */
const HANDLES = Symbol.for('fanout.taskHandles');
const taskHandles: WeakMap<object, TaskRef> = ((globalThis as { [HANDLES]?: WeakMap<object, TaskRef> })[HANDLES] ??=
  new WeakMap());

/**
 * Defines a task. Define tasks in a module of their own (not in the entry script), export
 * them, and import them where you use a pool: a worker imports the same module to find them.
 *
 * @example
 * ```ts
 * // tasks.ts
 * import { task } from 'fanout';
 * export const square = task('square', (x: number) => x * x);
 *
 * // main.ts
 * import { Pool } from 'fanout';
 * import { square } from './tasks.js';
 * await using pool = new Pool(4);
 * await pool.map(square, [1, 2, 3]); // [1, 4, 9]
 * ```
 */
export function task<A extends unknown[], R>(name: string, fn: (...args: A) => R): Task<A, R> {
  if (typeof name !== 'string' || !TASK_NAME.test(name)) {
    throw new InvalidArgumentError(
      'task(name, fn): name',
      name,
      'a non-empty string of at most 200 letters, digits and _ . : / @ -',
    );
  }
  if (typeof fn !== 'function') throw new InvalidArgumentError(`task('${name}', fn): fn`, fn, 'a function');
  const module = callerModule();
  // A bundled program defines its tasks in its entry script by design: it is also its threads'
  // script, and they find tasks by name (see threadScript).
  if (isMainThread && module !== undefined && !runningBundled() && module === TaskRegistry.current.getEntryScript()) {
    throw new TaskDefinitionError(
      name,
      `Task '${name}' is defined in the entry script ${module}. A worker imports a task's module to find it, ` +
        'which would run your whole program again in every worker. Move the task into a module of its own ' +
        '(for example tasks.ts), export it, and import it from here.',
    );
  }
  TaskRegistry.current.register({ name, fn: fn as (...args: never[]) => unknown, module });
  const handle = ((...args: A) => fn(...args)) as Task<A, R>;
  Object.defineProperties(handle, {
    taskName: { value: name, enumerable: true },
    module: { value: module, enumerable: true },
    name: { value: name },
  });
  taskHandles.set(handle, module === undefined ? { name } : { name, module });
  return handle;
}

/** True if `value` is a handle made by {@link task}. */
export function isTask(value: unknown): value is Task<never[], unknown> {
  return typeof value === 'function' && taskHandles.has(value);
}

/**
 * Checks that `value` is a task handle and returns its wire reference (shared: do not change
 * it). `where` names the call for the error message.
 */
export function taskRef(value: unknown, where: string): TaskRef {
  if (!isTask(value)) {
    const hint =
      typeof value === 'function'
        ? ' Plain functions cannot cross to a worker: define it with task(name, fn) in a module of its own and pass that.'
        : '';
    throw new InvalidArgumentError(`${where}: task`, value, 'a task made by task(name, fn)', hint.trim());
  }
  return taskHandles.get(value)!;
}

/** The module that called `task()`, from the V8 call sites of a captured stack. */
function callerModule(): string | undefined {
  const original = Error.prepareStackTrace;
  let file: string | null | undefined;
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, task);
    file = holder.stack?.[0]?.getFileName();
  } finally {
    Error.prepareStackTrace = original;
  }
  if (!file) return undefined;
  if (/^(file|data|https?):/.test(file)) return file;
  if (file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file)) return pathToFileURL(file).href;
  return undefined;
}
