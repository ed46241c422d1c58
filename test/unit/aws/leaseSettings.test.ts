import { describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_MS, heartbeatInterval, leaseMs } from '../../../lib/backends/aws/leaseSettings.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

describe('leaseSettings', () => {
  it('takes the option, else FANOUT_LEASE_MS, else 10 s; beats every third of a lease', () => {
    expect(leaseMs(undefined, {})).toBe(DEFAULT_LEASE_MS);
    expect(DEFAULT_LEASE_MS).toBe(10_000);
    expect(leaseMs(undefined, { FANOUT_LEASE_MS: '2500' })).toBe(2500);
    expect(leaseMs(700, { FANOUT_LEASE_MS: '2500' })).toBe(700);
    expect(heartbeatInterval(3000)).toBe(1000);
  });

  it('refuses a lease that is not a whole number of ms ≥ 100, naming where it came from', () => {
    expect(() => leaseMs(undefined, { FANOUT_LEASE_MS: 'soon' })).toThrow(InvalidArgumentError);
    expect(() => leaseMs(undefined, { FANOUT_LEASE_MS: '50' })).toThrow(
      /FANOUT_LEASE_MS environment variable must be a whole number of milliseconds ≥ 100; got '50'/,
    );
    expect(() => leaseMs(1.5)).toThrow(/the leaseMs option/);
  });
});
