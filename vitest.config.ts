import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Worker-thread pools per test file: two cores, so keep file-level parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
  },
});
