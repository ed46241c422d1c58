import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // Inside this repository `fanout` names the sources, as tsconfig.json's `paths` say for tsc and tsx.
  resolve: {
    alias: [
      { find: /^fanout$/, replacement: source('./lib/index.ts') },
      { find: /^fanout\/cdk$/, replacement: source('./infra/index.ts') },
      { find: /^fanout\/lambda$/, replacement: source('./functions/worker/handler.ts') },
    ],
  },
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
