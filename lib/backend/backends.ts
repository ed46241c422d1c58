import { InvalidArgumentError } from '../errors.js';
import { LocalBackend } from '../backends/local/LocalBackend.js';
import { AwsBackend } from '../backends/aws/AwsBackend.js';
import type { Backend, BackendName } from './Backend.js';

type BackendFactory = () => Backend;

const factories = new Map<string, BackendFactory>([
  ['local', () => new LocalBackend()],
  // The aws backend loads the AWS SDK only when a pool first uses it.
  ['aws', () => new AwsBackend()],
]);
const instances = new Map<string, Backend>();

/**
 * Makes a backend available under `name` (the aws backend registers itself this way).
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
