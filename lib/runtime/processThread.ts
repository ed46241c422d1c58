/**
 * The main module of a local process thread (see {@link startProcessThread}).
 */
// The backends, so that the locks, queues and values passed to the target are re-bound here.
import '../backends/installBackends.js';
import { startProcessThread } from './startProcessThread.js';

startProcessThread();
