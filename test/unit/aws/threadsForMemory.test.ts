import { describe, expect, it } from 'vitest';
import { threadsForMemory } from '../../../lib/backends/aws/ChunkProcessor.js';

describe('threadsForMemory', () => {
  it('gives about one thread per 1,769 MB (a Lambda vCPU), at least 1 and at most 6', () => {
    expect([128, 1024, 1769, 2600, 3538, 5307, 8000, 10_240].map(threadsForMemory)).toEqual([1, 1, 1, 1, 2, 3, 5, 6]);
  });
});
