import type { QueueEngine } from '../backend/QueueEngine.js';
import { ProtocolError } from '../errors.js';
import { JoinableQueue } from './JoinableQueue.js';
import { Queue } from './Queue.js';
import { SimpleQueue } from './SimpleQueue.js';

/**
 * The public queue a handle's `flavor` names, over `engine`: how every backend re-binds a queue
 * that arrived in a thread. `kind` names the handle in the error for an unknown flavor.
 *
 * @example
 * ```ts
 * registerHandleKind('local.queue', (state, attachments) =>
 *   queueOfFlavor('local.queue', (state as { flavor: unknown }).flavor, LocalQueueEngine.fromHandle(state, attachments)));
 * ```
 */
export function queueOfFlavor(kind: string, flavor: unknown, engine: QueueEngine): Queue | JoinableQueue | SimpleQueue {
  switch (flavor) {
    case 'queue':
      return Queue.fromEngine(engine);
    case 'joinable':
      return JoinableQueue.fromEngine(engine);
    case 'simple':
      return SimpleQueue.fromEngine(engine);
    default:
      throw new ProtocolError(`A '${kind}' of unknown flavor '${String(flavor)}' arrived.`);
  }
}
