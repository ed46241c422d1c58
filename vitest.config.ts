import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // AWS emulators (fauxqs, dynalite) for the aws backend's tests, on free local ports.
    globalSetup: ['test/integration/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Worker-thread pools per test file: two cores, so keep file-level parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
  },
});
