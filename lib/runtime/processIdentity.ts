import { isMainThread, threadId } from 'node:worker_threads';
import type { ProcessIdentity } from '../backend/ProcessEngine.js';

/**
 * Who the current thread is, in `multiprocessing` terms: the main process, a `Process` (set by
 * the process entry from what its parent sent), or a pool worker.
 */
let current: ProcessIdentity = isMainThread
  ? { name: 'MainProcess', pid: threadId, daemon: false, identity: [] }
  : // A pool worker: daemonic, as Python's pool workers are.
    { name: `PoolWorker-${threadId}`, pid: threadId, daemon: true, identity: [] };
let parent: ProcessIdentity | null = null;
let childCounter = 0;

/** Called once by a process's entry, before its target runs. */
export function setProcessIdentity(self: ProcessIdentity, parentIdentity: ProcessIdentity): void {
  current = self;
  parent = parentIdentity;
}

/** The current process (`currentProcess()`). */
export function currentIdentity(): ProcessIdentity {
  return current;
}

/** The process that started this one, or null in the main thread (`parentProcess()`). */
export function parentIdentity(): ProcessIdentity | null {
  return parent;
}

/** The identity of the next child made here: the current identity plus a counter, as Python's `_identity`. */
export function nextChildIdentity(): number[] {
  return [...current.identity, ++childCounter];
}
