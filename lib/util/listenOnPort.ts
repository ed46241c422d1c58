import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/**
 * The port option of a local server: a whole number from 0 to 65535, 0 (the default) for any
 * free port.
 *
 * @example
 * ```ts
 * const port = portOption('EmulatorGateway.start(options): port', options.port);
 * ```
 */
export function portOption(option: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new InvalidArgumentError(option, value, 'a port number from 0 to 65535 (0 picks a free port)');
  }
  return value;
}

/**
 * Starts `server` listening on `host`:`port` and resolves with its address; a port in use is an
 * `InvalidArgumentError` naming `option`, not a bare EADDRINUSE.
 *
 * @example
 * ```ts
 * const address = await listenOnPort(server, 0, '127.0.0.1', 'FunctionUrlAdapter.start(options): port');
 * ```
 */
export function listenOnPort(server: Server, port: number, host: string, option: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new InvalidArgumentError(option, port, 'a free port', 'It is in use; choose another, or 0.')
          : error,
      ),
    );
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}
