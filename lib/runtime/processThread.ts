/**
 * The main module of a local process thread (see {@link startProcessThread}).
 */
import { startProcessThread } from './startProcessThread.js';

startProcessThread();
