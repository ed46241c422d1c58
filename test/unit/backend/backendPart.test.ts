import { describe, expect, it } from 'vitest';
import {
  BackendMismatchError,
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  NotSupportedError,
  RLock,
  Semaphore,
  SharedArray,
  Value,
} from 'fanout';
import { encodingFor } from '../../../lib/api/handleTarget.js';
import { ValueEncoder } from '../../../lib/codec/ValueEncoder.js';
import type { Backend } from '../../../lib/backend/Backend.js';
import { backendPart } from '../../../lib/backend/Backend.js';
import { LocalBackend } from '../../../lib/backends/local/LocalBackend.js';

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
const local = new LocalBackend();
const otherBackend: Backend = {
  ...withoutSync,
  createLock: (recursive) => local.createLock(recursive),
  createCondition: (lock) => local.createCondition(lock),
  createSharedMemory: (typecode, items) => local.createSharedMemory(typecode, items),
};

describe('backendPart and cross-backend checks', () => {
  it('a backend without primitives refuses to make them, naming itself and the class', () => {
    expect(() => backendPart(withoutSync, 'createLock', 'Lock')).toThrow(NotSupportedError);
    expect(() => new Lock(withoutSync)).toThrow("The 'aws' backend does not provide Lock.");
    expect(() => new RLock(withoutSync)).toThrow("The 'aws' backend does not provide RLock.");
    expect(() => new Value('i', 0, {}, withoutSync)).toThrow("The 'aws' backend does not provide Value.");
    expect(() => new Event(withoutSync)).toThrow("The 'aws' backend does not provide Event.");
  });

  it('a backend may offer a subset: the parts it has work, the others refuse', () => {
    const lock = new Lock(otherBackend);
    expect(lock.engine.backend).toBe('local');
    expect(() => new Semaphore(1, otherBackend)).toThrow("The 'aws' backend does not provide Semaphore.");
  });

  it('a Condition or Value refuses a lock of another backend', () => {
    const localLock = new Lock();
    expect(() => new Condition(localLock, otherBackend)).toThrow(BackendMismatchError);
    expect(() => new Condition(localLock, otherBackend)).toThrow(
      "A Lock given to a Condition of the 'local' backend cannot be sent to work on the 'aws' backend.",
    );
    expect(() => new Value('i', 0, { lock: localLock }, otherBackend)).toThrow(BackendMismatchError);
  });

  it('a primitive refuses to be encoded for work of another backend, naming itself and both backends', () => {
    const encoder = new ValueEncoder();
    const primitives = [new Lock(), new RLock(), new Semaphore(), new BoundedSemaphore(), new Event(), new Condition()];
    const shared = [new Barrier(2), new Value('i', 0), new SharedArray('d', 2)];
    for (const primitive of [...primitives, ...shared]) {
      expect(() => encodingFor('aws', () => encoder.write([primitive], 'argument 0'))).toThrow(BackendMismatchError);
      expect(() => encodingFor('local', () => encoder.write([primitive], 'argument 0'))).not.toThrow();
    }
    expect(() => encodingFor('aws', () => encoder.write(new Value('i', 0), 'argument 0'))).toThrow(
      "A Value of the 'local' backend cannot be sent to work on the 'aws' backend. Create it from the same context: getContext('aws').",
    );
    expect(() => encodingFor('aws', () => encoder.write(new BoundedSemaphore(), 'argument 0'))).toThrow(/A BoundedSemaphore of/);
  });
});
