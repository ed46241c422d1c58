import { pathToFileURL } from 'node:url';
import { TaskDefinitionError, TaskModuleError, UnknownTaskError } from '../errors.js';
import type { TaskRef } from '../codec/protocol.js';
import { ensureTypeScriptLoader } from './typeScriptLoader.js';

const REGISTRY = Symbol.for('fanout.taskRegistry');

/** A registered task: its function and the module (file: URL) that defined it. */
export interface TaskEntry {
  name: string;
  fn: (...args: never[]) => unknown;
  module: string | undefined;
}

/**
 * The tasks known in this thread, by name. Each thread (the main thread, every worker, a
 * Lambda) has one; a worker fills it by importing the modules that define the tasks it is
 * asked to run.
 *
 * @example
 * ```ts
 * const entry = await TaskRegistry.current.resolve({ name: 'square', module: 'file:///app/tasks.ts' });
 * entry.fn(3);
 * ```
 */
export class TaskRegistry {
  /**
   * The registry of this thread, kept under a global symbol: two copies of fanout in one program
   * (a bundle beside an installed package) share it, so tasks defined through either are found.
   */
  static readonly current: TaskRegistry = ((globalThis as { [REGISTRY]?: TaskRegistry })[REGISTRY] ??= new TaskRegistry());

  private readonly tasks = new Map<string, TaskEntry>();
  private readonly loads = new Map<string, Promise<void>>();
  /** Names registered in the current synchronous turn: one module evaluation. */
  private readonly definedThisTurn = new Set<string>();
  private entryScript: string | undefined;

  /**
   * Registers a task. Throws {@link TaskDefinitionError} when the name is taken by another
   * module, or twice by one module. A module evaluated again later (a test runner re-importing
   * it) replaces its own entries.
   */
  register(entry: TaskEntry): void {
    const existing = this.tasks.get(entry.name);
    if (existing && existing.fn !== entry.fn) {
      if (existing.module !== entry.module) {
        throw new TaskDefinitionError(
          entry.name,
          `Task name '${entry.name}' is already taken by a task defined in ${existing.module ?? 'an unknown module'}` +
            ` (this one is in ${entry.module ?? 'an unknown module'}). Task names must be unique: rename one.`,
        );
      }
      if (this.definedThisTurn.has(entry.name)) {
        throw new TaskDefinitionError(
          entry.name,
          `Task name '${entry.name}' is defined twice in ${entry.module ?? 'one module'}. Task names must be unique.`,
        );
      }
    }
    if (this.definedThisTurn.size === 0) queueMicrotask(() => this.definedThisTurn.clear());
    this.definedThisTurn.add(entry.name);
    this.tasks.set(entry.name, entry);
  }

  /** The task registered under `name`, if any. */
  get(name: string): TaskEntry | undefined {
    return this.tasks.get(name);
  }

  /** Names of every registered task, sorted. */
  names(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** Marks a module as the program's entry script, where tasks must not be defined. */
  setEntryScript(module: string | undefined): void {
    this.entryScript = module;
  }

  /** The entry script, as set by the CLI or read from `process.argv[1]`. */
  getEntryScript(): string | undefined {
    if (this.entryScript !== undefined) return this.entryScript;
    const script = process.argv[1];
    return script ? pathToFileURL(script).href : undefined;
  }

  /**
   * Imports a module that defines tasks, once per thread (a TypeScript module after making sure
   * this thread has a loader for it). Rejects with {@link TaskModuleError} naming the module when
   * it cannot be imported.
   */
  load(module: string, forTask?: string): Promise<void> {
    let loading = this.loads.get(module);
    if (!loading) {
      loading = ensureTypeScriptLoader(module)
        .then(() => import(module))
        .then(
          () => undefined,
          (cause: unknown) => {
            const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
            throw new TaskModuleError(
              module,
              `Could not import task module ${module}${forTask ? ` (for task '${forTask}')` : ''}: ${reason}`,
              cause,
            );
          },
        );
      this.loads.set(module, loading);
    }
    return loading;
  }

  /**
   * Finds a task by reference, importing its module first if the name is not known yet.
   * Rejects with {@link UnknownTaskError} naming the task and the known ones.
   */
  async resolve(ref: TaskRef): Promise<TaskEntry> {
    const known = this.tasks.get(ref.name);
    if (known) return known;
    if (ref.module) {
      await this.load(ref.module, ref.name);
      const loaded = this.tasks.get(ref.name);
      if (loaded) return loaded;
      throw new UnknownTaskError(ref.name, this.names(), `Its module ${ref.module} was imported but does not define it.`);
    }
    throw new UnknownTaskError(ref.name, this.names(), 'Define it with task(name, fn) in a module the worker imports.');
  }
}
