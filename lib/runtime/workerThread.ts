/**
 * The main module of a local worker thread (see {@link startWorkerThread}).
 */
// The backends, so that the locks, queues and values passed to tasks are re-bound here.
import '../backends/installBackends.js';
import { startWorkerThread } from './startWorkerThread.js';

startWorkerThread();
