import { describe, expect, it } from 'vitest';
import { BackendMismatchError, Condition, Lock, NotSupportedError, Value } from 'fanout';
import type { Backend } from '../../../lib/backend/Backend.js';
import { syncBackendOf } from '../../../lib/backend/SyncBackend.js';
import { LocalSyncBackend } from '../../../lib/backends/local/LocalSyncBackend.js';

/**
 * Stand-in backends (no second real backend exists in this branch): one without primitives, and
 * one named 'aws' that reuses local memory, to reach the cross-backend checks.
 */
const withoutSync: Backend = {
  name: 'aws',
  defaultProcesses: () => 1,
  createPoolEngine: () => {
    throw new Error('not used');
  },
};
const otherBackend: Backend = { ...withoutSync, sync: new LocalSyncBackend() };

describe('syncBackendOf and cross-backend checks', () => {
  it('a backend without primitives refuses to make them, naming itself and the class', () => {
    expect(() => syncBackendOf(withoutSync, 'Lock')).toThrow(NotSupportedError);
    expect(() => new Lock(withoutSync)).toThrow("The 'aws' backend does not provide Lock");
  });

  it('a Condition or Value refuses a lock of another backend', () => {
    const localLock = new Lock();
    expect(() => new Condition(localLock, otherBackend)).toThrow(BackendMismatchError);
    expect(() => new Condition(localLock, otherBackend)).toThrow(/belongs to the 'local' backend, the Condition to 'aws'/);
    expect(() => new Value('i', 0, { lock: localLock }, otherBackend)).toThrow(BackendMismatchError);
  });
});
