import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { beginProcessIdentity, currentOwner } from '../../../lib/runtime/ownerIdentity.js';

describe('ownerIdentity', () => {
  it('is this thread plus a non-zero process identity, stable until a new process begins', () => {
    const owner = currentOwner();
    expect(owner.thread).toBe(threadId + 1);
    expect(owner.process).toBeGreaterThan(0);
    expect(currentOwner()).toBe(owner);
    const next = beginProcessIdentity();
    expect(next.thread).toBe(owner.thread);
    expect(next.process).not.toBe(owner.process);
    expect(currentOwner()).toBe(next);
  });
});
