import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import type { ProcessEngine, ProcessIdentity } from '../backend/ProcessEngine.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { InvalidArgumentError, NotSupportedError, ProcessError, ValueError } from '../errors.js';
import { collectEndCopies } from './Connection.js';
import { trackChild } from '../runtime/children.js';
import { currentIdentity, nextChildIdentity, parentIdentity } from '../runtime/processIdentity.js';
import { checkOptions, checkTimeout } from './checks.js';
import { encodingFor } from './handleTarget.js';
import { taskRef, type Task } from './task.js';

/** Options of {@link Process}. */
export interface ProcessOptions<A extends unknown[]> {
  /** The task the process runs, with `args`. */
  target: Task<A, unknown>;
  /** Arguments of the target; queues, pipes and other shared objects may be among them. @default [] */
  args?: A;
  /** @default `Process-N` (`Process-1:2` for the second child of `Process-1`) */
  name?: string;
  /** A daemon is stopped when its parent ends, and never keeps the program alive. @default false */
  daemon?: boolean;
}

/** What `currentProcess()` and `parentProcess()` describe. */
export interface ProcessInfo {
  readonly name: string;
  /** A stable identifier (on the local backend, the thread id; 0 for the main thread). */
  readonly pid: number;
  readonly daemon: boolean;
}

/** Longest single timer; a longer join waits again. */
const KEEP_ALIVE_MS = 2 ** 30;
const PROCESS_OPTIONS = ['target', 'args', 'name', 'daemon'] as const;
const children = new Set<Process<never[]>>();

/**
 * A process running one task, as Python's `multiprocessing.Process`: `start()` it, `join()` it,
 * read its `exitCode`. On the local backend each process is a worker thread of its own, which
 * imports the target's module to find it.
 *
 * Exit codes follow Python: 0 when the target returns, 1 when it throws (the error is printed to
 * stderr under `Process <name>:`), the code given to `process.exit(code)` inside it, and -15 / -9
 * after `terminate()` / `kill()`.
 *
 * @example
 * ```ts
 * // tasks.ts: export const f = task('f', (name: string) => console.log('hello', name));
 * import { Process } from 'fanout';
 * import { f } from './tasks.js';
 *
 * const p = new Process({ target: f, args: ['bob'] });
 * p.start();
 * await p.join(); // prints "hello bob"; p.exitCode === 0
 * ```
 */
export class Process<A extends unknown[] = unknown[]> {
  #name: string;
  #daemon: boolean;
  readonly #target: Task<A, unknown>;
  readonly #args: A;
  readonly #backend: Backend;
  readonly #identity: number[];
  #engine: ProcessEngine | undefined;
  #exitCode: number | null = null;
  #closed = false;

  constructor(options: ProcessOptions<A>, backend: Backend = defaultBackend()) {
    checkOptions('new Process(options)', options, PROCESS_OPTIONS);
    if (options === undefined) throw new InvalidArgumentError('new Process(options)', options, 'an options object with a target');
    taskRef(options.target, 'new Process(options): target');
    const args = options.args ?? ([] as unknown[] as A);
    if (!Array.isArray(args)) throw new InvalidArgumentError('new Process(options): args', args, 'an array of arguments');
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new InvalidArgumentError('new Process(options): name', options.name, 'a string');
    }
    if (options.daemon !== undefined && typeof options.daemon !== 'boolean') {
      throw new InvalidArgumentError('new Process(options): daemon', options.daemon, 'true or false');
    }
    this.#target = options.target;
    this.#args = args;
    this.#backend = backend;
    this.#identity = nextChildIdentity();
    this.#name = options.name ?? `Process-${this.#identity.join(':')}`;
    this.#daemon = options.daemon ?? false;
  }

  /** The process's name (may be changed at any time; the process sees the name it had at `start`). */
  get name(): string {
    return this.#name;
  }

  set name(name: string) {
    if (typeof name !== 'string') throw new InvalidArgumentError('process.name', name, 'a string');
    this.#name = name;
  }

  /** Whether the process is a daemon; may be set only before `start()`. */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(daemon: boolean) {
    if (typeof daemon !== 'boolean') throw new InvalidArgumentError('process.daemon', daemon, 'true or false');
    if (this.#engine) throw new ProcessError('process has already started: daemon can only be set before start().');
    this.#daemon = daemon;
  }

  /** The process's identifier once started, else null. */
  get pid(): number | null {
    this.#checkNotClosed();
    return this.#engine?.pid ?? null;
  }

  /** null until the process has ended, then its exit code. */
  get exitCode(): number | null {
    this.#checkNotClosed();
    return this.#exitCode;
  }

  /**
   * Starts the process. Throws `ProcessError` if it was started before, or if the current
   * process is a daemon (daemons may not have children), and `SerializationError` if an argument
   * cannot be sent.
   *
   * @example
   * ```ts
   * p.start();
   * ```
   */
  start(): void {
    this.#checkNotClosed();
    if (this.#engine) throw new ProcessError('cannot start a process twice');
    const self = currentIdentity();
    if (self.daemon) throw new ProcessError(`daemonic processes are not allowed to have children (${self.name} is a daemon)`);
    const backend = this.#backend;
    if (!backend.startProcess) throw new NotSupportedError(`The '${backend.name}' backend cannot start processes.`);
    const encoder = new ValueEncoder();
    const args = this.#args;
    // A shared object of another backend refuses to be encoded (BackendMismatchError). The pipe
    // ends among the arguments become copies of their own, which the process holds until it ends.
    const endCopies = collectEndCopies(() => encodingFor(backend.name, () => encoder.write(args, 'the arguments')));
    const releaseEndCopies = () => {
      for (const release of endCopies) release();
    };
    const { attachments, transfer } = encoder.takeAttachments();
    let engine: ProcessEngine;
    try {
      engine = backend.startProcess({
        target: taskRef(this.#target, 'process.start()'),
        args: encoder.finish(),
        attachments,
        transfer,
        name: this.#name,
        daemon: this.#daemon,
        identity: this.#identity,
        parent: { ...self },
      });
    } catch (error) {
      releaseEndCopies();
      throw error;
    }
    this.#engine = engine;
    children.add(this as unknown as Process<never[]>);
    void engine.exited.then((code) => {
      // Before join() returns: after it, the parent sees the ends the process held as closed.
      releaseEndCopies();
      this.#exitCode = code;
      children.delete(this as unknown as Process<never[]>);
    });
    trackChild({ daemon: this.#daemon, exited: engine.exited, terminate: () => engine.terminate() });
  }

  /**
   * Waits until the process ends, or at most `timeout` ms (then `exitCode` is still null).
   * Throws `ProcessError` if the process was never started.
   *
   * @example
   * ```ts
   * await p.join();
   * await p.join(1000); // gives up after 1 s
   * ```
   */
  async join(timeout?: number): Promise<void> {
    this.#checkNotClosed();
    checkTimeout('process.join(timeout): timeout', timeout);
    const engine = this.#engine;
    if (!engine) throw new ProcessError('can only join a started process');
    // The timer also keeps the program alive while it waits, as Python's join blocks: a daemon's
    // thread alone would not.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = timeout ?? KEEP_ALIVE_MS;
    await Promise.race([engine.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, limit)))]);
    clearTimeout(timer);
    if (timeout === undefined && this.#exitCode === null) await this.join();
  }

  /**
   * Whether the process has started and not yet ended.
   *
   * @example
   * ```ts
   * p.isAlive(); // true while it runs
   * ```
   */
  isAlive(): boolean {
    this.#checkNotClosed();
    return this.#engine !== undefined && this.#exitCode === null;
  }

  /**
   * Stops the process (Python: SIGTERM); `exitCode` becomes -15 once it has ended. Like Python's,
   * it does not let the target clean up: a queue or pipe it was using at that moment may be left
   * unusable.
   *
   * @example
   * ```ts
   * p.terminate();
   * await p.join();
   * ```
   */
  terminate(): void {
    this.#checkNotClosed();
    if (!this.#engine) throw new ProcessError('can only terminate a started process');
    this.#engine.terminate();
  }

  /**
   * Python's repr: `<Process name='Process-1' pid=3 started>`, `... stopped exitcode=0>`.
   *
   * @example
   * ```ts
   * console.log(String(p)); // <Process name='Process-1' pid=3 stopped exitcode=0>
   * ```
   */
  toString(): string {
    if (this.#closed) return `<Process name='${this.#name}' closed${this.#daemon ? ' daemon' : ''}>`;
    const state = !this.#engine ? 'initial' : this.#exitCode === null ? 'started' : 'stopped';
    const pid = this.#engine ? ` pid=${this.#engine.pid}` : '';
    const exit = this.#exitCode === null ? '' : ` exitcode=${this.#exitCode}`;
    return `<Process name='${this.#name}'${pid} ${state}${exit}${this.#daemon ? ' daemon' : ''}>`;
  }

  /** Shown by `console.log` (private fields are not). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /**
   * Stops the process (Python: SIGKILL); `exitCode` becomes -9 once it has ended.
   *
   * @example
   * ```ts
   * p.kill();
   * ```
   */
  kill(): void {
    this.#checkNotClosed();
    if (!this.#engine) throw new ProcessError('can only kill a started process');
    this.#engine.kill();
  }

  /**
   * Releases the Process object, as Python's `close()`: afterwards `start`, `join`, `isAlive`,
   * `terminate`, `kill`, `exitCode` and `pid` raise `ValueError`. Raises `ValueError` if the
   * process is still running (join or terminate it first). Closing twice does nothing.
   *
   * @example
   * ```ts
   * await p.join();
   * p.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    if (this.#engine && this.#exitCode === null) {
      throw new ValueError('Cannot close a process while it is still running: join() or terminate() it first.');
    }
    this.#closed = true;
    this.#engine = undefined;
    children.delete(this as unknown as Process<never[]>);
  }

  #checkNotClosed(): void {
    if (this.#closed) throw new ValueError(`The Process object '${this.#name}' is closed: close() was called on it.`);
  }
}

/**
 * The process this code runs in: `MainProcess` in the main thread, the `Process` inside one.
 *
 * @example
 * ```ts
 * console.log(currentProcess().name); // 'MainProcess', or 'Process-1' inside a process
 * ```
 */
export function currentProcess(): ProcessInfo {
  return describe(currentIdentity());
}

/**
 * The process that started this one, or null in the main thread (and in pool workers).
 *
 * @example
 * ```ts
 * parentProcess()?.name; // 'MainProcess' inside a process started by the main thread
 * ```
 */
export function parentProcess(): ProcessInfo | null {
  const parent = parentIdentity();
  return parent === null ? null : describe(parent);
}

/**
 * The processes started from this thread that are still running.
 *
 * @example
 * ```ts
 * for (const p of activeChildren()) p.terminate();
 * ```
 */
export function activeChildren(): Array<Process<never[]>> {
  return [...children].filter((child) => child.isAlive());
}

function describe(identity: ProcessIdentity): ProcessInfo {
  return Object.freeze({ name: identity.name, pid: identity.pid, daemon: identity.daemon });
}
