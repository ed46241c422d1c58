import { InvalidArgumentError, NotSupportedError } from '../errors.js';
import type { Backend, BackendName } from './Backend.js';

type BackendFactory = () => Backend;

/** Filled by the backends themselves as they are installed (see lib/backends/installBackends.ts). */
const factories = new Map<string, BackendFactory>();
const instances = new Map<string, Backend>();

/**
 * Makes a backend available under `name`: each backend registers itself when its install module
 * loads, so that this generic layer imports none of them.
 *
 * @example
 * ```ts
 * registerBackend('aws', () => new AwsBackend());
 * ```
 */
export function registerBackend(name: BackendName, factory: BackendFactory): void {
  factories.set(name, factory);
  instances.delete(name);
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

/** The backend named by `FANOUT_BACKEND`, or the local one. */
export function defaultBackend(): Backend {
  const name = process.env.FANOUT_BACKEND;
  return backendNamed(name === undefined || name === '' ? 'local' : name, 'the FANOUT_BACKEND environment variable');
}
