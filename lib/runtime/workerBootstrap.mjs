// Entry of a local worker thread when fanout runs from its TypeScript sources: registers the
// TypeScript loader in this thread (workers do not inherit a test runner's loader), then
// starts the worker runtime. A bundled build points workers at its own compiled entry instead.
import { register } from 'tsx/esm/api';

if (!globalThis.__fanoutTsxRegistered) {
  globalThis.__fanoutTsxRegistered = true;
  register();
}
await import('./workerThread.ts');
