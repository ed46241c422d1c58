/**
 * What the emulators accept, in a module of its own without the AWS SDK, so that the CLI can
 * check `fanout emulator`'s arguments before loading anything.
 */
import { isIP } from 'node:net';

/**
 * The rule for resource-name prefixes (`provisionResources`' `name`): 2–41 lower-case letters,
 * digits and dashes, not starting with a dash.
 *
 * @example
 * ```ts
 * RESOURCE_NAME_PATTERN.test('fanout-dev'); // true
 * ```
 */
export const RESOURCE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,40}$/;

/**
 * Whether `host` is a loopback address, the only kind the emulators listen on: they accept any
 * credentials, so nothing beyond this machine may reach them.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('0.0.0.0');   // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
