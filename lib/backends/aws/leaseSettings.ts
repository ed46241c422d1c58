import { InvalidArgumentError } from '../../errors.js';

/** The lease of a holder when neither an option nor `FANOUT_LEASE_MS` sets one. */
export const DEFAULT_LEASE_MS = 10_000;
/** Shorter leases would need heartbeats faster than a DynamoDB round trip can be trusted to take. */
const MIN_LEASE_MS = 100;

/**
 * The lease length of the aws backend's leased primitives (a Semaphore's holders): `leaseMs` if
 * given, else the `FANOUT_LEASE_MS` environment variable, else 10 s. A holder renews its lease
 * every third of it; a waiter takes a holder's permits back after seeing its lease unrenewed for
 * a whole lease on its own clock.
 *
 * @example
 * ```ts
 * leaseMs(undefined); // 10000, or FANOUT_LEASE_MS
 * leaseMs(2000);      // 2000
 * ```
 */
export function leaseMs(option: number | undefined, environment: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) return checkLease('the leaseMs option', option);
  const text = environment.FANOUT_LEASE_MS;
  if (text === undefined || text.trim() === '') return DEFAULT_LEASE_MS;
  return checkLease('the FANOUT_LEASE_MS environment variable', Number(text), text);
}

/** How often a holder renews a lease of `lease` ms: a third of it, so two beats may fail in a row. */
export function heartbeatInterval(lease: number): number {
  return lease / 3;
}

function checkLease(where: string, value: number, shown: unknown = value): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_LEASE_MS) {
    throw new InvalidArgumentError(where, shown, `a whole number of milliseconds ≥ ${MIN_LEASE_MS}`);
  }
  return value;
}
