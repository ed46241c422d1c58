// Entry of a local process thread when fanout runs from its TypeScript sources: registers the
// TypeScript loader in this thread (threads do not inherit a test runner's loader), then starts
// the process runtime. A bundled build points processes at its own compiled entry instead.
import { register } from 'tsx/esm/api';

if (!globalThis.__fanoutTsxRegistered) {
  globalThis.__fanoutTsxRegistered = true;
  register();
}
await import('./processThread.ts');
