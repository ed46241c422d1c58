/**
 * Registers how this backend's queues and pipe ends are re-bound when they arrive in a thread
 * (as arguments of a Process or a pool task). Imported by every thread that may receive them:
 * the package entry, pool workers and process threads.
 */
import { Connection } from '../../api/Connection.js';
import { queueOfFlavor } from '../../api/queueOfFlavor.js';
import { registerHandleKind } from '../../runtime/handles.js';
import { LocalChannelEngine } from './LocalChannelEngine.js';
import { LOCAL_QUEUE_KIND, LocalQueueEngine } from './LocalQueueEngine.js';

interface QueueState {
  maxsize: number;
  joinable: boolean;
  flavor: 'queue' | 'joinable' | 'simple';
}

registerHandleKind(LOCAL_QUEUE_KIND, (state, attachments) => {
  const queueState = state as QueueState;
  const engine = LocalQueueEngine.fromHandle(queueState, attachments);
  return queueOfFlavor(LOCAL_QUEUE_KIND, queueState.flavor, engine);
});

interface ConnectionState {
  receiver: { attachments: number } | null;
  sender: object | null;
}

registerHandleKind('local.connection', (state, attachments) => {
  const { receiver, sender } = state as ConnectionState;
  const split = receiver?.attachments ?? 0;
  return new Connection(
    receiver ? LocalChannelEngine.fromHandle(attachments.slice(0, split)) : undefined,
    sender ? LocalChannelEngine.fromHandle(attachments.slice(split)) : undefined,
  );
});
