import { availableParallelism } from 'node:os';
import type { Backend, BackendName } from '../backend/Backend.js';
import { backendNamed, defaultBackend } from '../backend/backends.js';
import { Pool, type PoolOptions } from './Pool.js';

/**
 * A set of fanout's classes bound to one backend, as Python's `multiprocessing.get_context()`.
 * Programs written against a context run unchanged on any backend.
 *
 * @example
 * ```ts
 * const mp = getContext('local');
 * await using pool = new mp.Pool(4);
 * ```
 */
export class Context {
  /** `Pool` bound to this context's backend. */
  readonly Pool: new (processesOrOptions?: number | PoolOptions) => Pool;

  constructor(readonly backend: Backend) {
    this.Pool = class extends Pool {
      constructor(processesOrOptions?: number | PoolOptions) {
        super(processesOrOptions, backend);
      }
    };
  }

  /** The backend's name: `'local'` or `'aws'`. */
  get name(): BackendName {
    return this.backend.name;
  }

  /** Number of CPUs of this machine, as Python's `cpu_count()`. */
  cpuCount(): number {
    return availableParallelism();
  }
}

const contexts = new Map<Backend, Context>();

/**
 * The context of a backend: `'local'` (worker threads) or `'aws'`. Without a name, the backend
 * named by the `FANOUT_BACKEND` environment variable (default `'local'`).
 *
 * @example
 * ```ts
 * const mp = getContext(process.env.CI ? 'local' : 'aws');
 * const results = await new mp.Pool().map(square, xs);
 * ```
 */
export function getContext(name?: BackendName): Context {
  const backend = name === undefined ? defaultBackend() : backendNamed(name, 'getContext(name)');
  let context = contexts.get(backend);
  if (!context) {
    context = new Context(backend);
    contexts.set(backend, context);
  }
  return context;
}
