/**
 * The main module of a local worker thread (see {@link startWorkerThread}).
 */
import { startWorkerThread } from './startWorkerThread.js';

startWorkerThread();
