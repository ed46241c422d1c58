import { InvalidArgumentError, NotSupportedError } from '../errors.js';
import type { Backend, BackendName } from './Backend.js';

type BackendFactory = () => Backend;
/** Makes a backend from the state a {@link ThreadBackend} carries. */
type BackendReviver = (state: unknown) => Backend;

/**
 * A thread's default backend as its starter hands it on (in `workerData`, so structured-cloneable):
 * the thread a Lambda worker starts for a task or a Process target makes its `new Queue()` and
 * `new Process()` on the aws backend that sent the work, not on the local one.
 */
export interface ThreadBackend {
  name: BackendName;
  /** What the backend's install module revives it from (the aws backend: its resources). */
  state: unknown;
}

/** Filled by the backends themselves as they are installed (see lib/backends/installBackends.ts). */
const factories = new Map<string, BackendFactory>();
const revivers = new Map<string, BackendReviver>();
const instances = new Map<string, Backend>();
/** This thread's default backend when its starter named one (see {@link adoptThreadBackend}). */
let adopted: { spec: ThreadBackend; backend: Backend | undefined } | undefined;

/**
 * Makes a backend available under `name`: each backend registers itself when its install module
 * loads, so that this generic layer imports none of them. `revive` makes one from a
 * {@link ThreadBackend}'s state, for threads started to work for it.
 *
 * @example
 * ```ts
 * registerBackend('aws', () => new AwsBackend(), (config) => AwsBackend.forConfig(config as AwsConfig));
 * ```
 */
export function registerBackend(name: BackendName, factory: BackendFactory, revive?: BackendReviver): void {
  factories.set(name, factory);
  if (revive) revivers.set(name, revive);
  else revivers.delete(name);
  instances.delete(name);
}

/**
 * Makes `spec`'s backend this thread's default, in place of `FANOUT_BACKEND`'s (a thread entry
 * calls it with what its starter passed); undefined keeps the environment's. Revived on first use.
 *
 * @example
 * ```ts
 * adoptThreadBackend((workerData as { threadBackend?: ThreadBackend }).threadBackend);
 * ```
 */
export function adoptThreadBackend(spec: ThreadBackend | undefined): void {
  adopted = spec ? { spec, backend: undefined } : undefined;
}

/**
 * What a thread this one starts should be told its default backend is: the one this thread
 * adopted, if any (threads inherit the environment, which covers the rest).
 *
 * @example
 * ```ts
 * new Worker(script, { workerData: { threadBackend: inheritedThreadBackend() } });
 * ```
 */
export function inheritedThreadBackend(): ThreadBackend | undefined {
  return adopted?.spec;
}

/** The backend called `name`, created once per process. */
export function backendNamed(name: string, where: string): Backend {
  let backend = instances.get(name);
  if (!backend) {
    const factory = factories.get(name);
    if (!factory) {
      if (factories.size === 0) {
        throw new NotSupportedError(
          "No fanout backend is installed in this thread: import 'fanout' (or lib/backends/installBackends.js) before creating objects.",
        );
      }
      throw new InvalidArgumentError(
        where,
        name,
        `the name of a backend: ${[...factories.keys()].map((n) => `'${n}'`).join(' or ')}`,
      );
    }
    backend = factory();
    instances.set(name, backend);
  }
  return backend;
}

/** The backend this thread was started for ({@link adoptThreadBackend}), else `FANOUT_BACKEND`'s, else the local one. */
export function defaultBackend(): Backend {
  if (adopted) return (adopted.backend ??= reviveThreadBackend(adopted.spec));
  const name = process.env.FANOUT_BACKEND;
  return backendNamed(name === undefined || name === '' ? 'local' : name, 'the FANOUT_BACKEND environment variable');
}

function reviveThreadBackend(spec: ThreadBackend): Backend {
  const revive = revivers.get(spec.name);
  if (revive) return revive(spec.state);
  // A backend with no state to carry is the same in every thread.
  return backendNamed(spec.name, "this thread's starter");
}
