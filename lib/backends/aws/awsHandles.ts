/**
 * Teaches this thread to re-bind the aws backend's shared objects when they arrive as handles
 * (task arguments and results, Process arguments): on a Lambda worker's thread as in the program
 * that made them. Each is bound to this thread's backend for the resources its handle names
 * (`AwsBackend.forConfig`), so it shares that backend's session. Imported for its effect by the
 * aws backend's install module; loads no AWS SDK.
 */
import { Barrier } from '../../api/Barrier.js';
import { BoundedSemaphore } from '../../api/BoundedSemaphore.js';
import { Condition } from '../../api/Condition.js';
import { Connection } from '../../api/Connection.js';
import { Event } from '../../api/Event.js';
import { Lock } from '../../api/Lock.js';
import { RLock } from '../../api/RLock.js';
import { Semaphore } from '../../api/Semaphore.js';
import { SharedArray } from '../../api/SharedArray.js';
import { queueOfFlavor } from '../../api/queueOfFlavor.js';
import { Value } from '../../api/Value.js';
import type { TaskRef } from '../../codec/protocol.js';
import { ProtocolError } from '../../errors.js';
import { registerHandleKind } from '../../runtime/handles.js';
import { AwsBarrier } from './AwsBarrier.js';
import { AwsChannelEngine } from './AwsChannelEngine.js';
import { AwsCondition } from './AwsCondition.js';
import { AwsEvent } from './AwsEvent.js';
import { AwsLock } from './AwsLock.js';
import { AwsQueueEngine, AWS_QUEUE_KIND } from './AwsQueueEngine.js';
import { AwsSemaphore } from './AwsSemaphore.js';
import { AwsSharedMemory } from './AwsSharedMemory.js';

type Fields = Record<string, unknown>;

function fieldsOf(kind: string, state: unknown): Fields {
  if (state === null || typeof state !== 'object') throw new ProtocolError(`An '${kind}' arrived without its state.`);
  return state as Fields;
}

/** The lock inside a handle's state (a Condition's, a Value's), already re-bound by the decoder. */
function lockOf(kind: string, lock: unknown, optional: boolean): Lock | RLock | undefined {
  if ((lock instanceof Lock || lock instanceof RLock) && lock.engine instanceof AwsLock) return lock;
  if (optional && lock === null) return undefined;
  throw new ProtocolError(`An '${kind}' arrived with an invalid lock in its state.`);
}

registerHandleKind('aws.lock', (state) => Lock.fromEngine(AwsLock.fromHandle(state)));
registerHandleKind('aws.rlock', (state) => RLock.fromEngine(AwsLock.fromHandle(state)));
registerHandleKind('aws.semaphore', (state) => {
  const engine = AwsSemaphore.fromHandle(state as Parameters<typeof AwsSemaphore.fromHandle>[0]);
  return engine.maxValue === undefined ? Semaphore.fromEngine(engine) : BoundedSemaphore.fromEngine(engine);
});
registerHandleKind('aws.event', (state) => Event.fromEngine(AwsEvent.fromHandle(state)));
registerHandleKind('aws.condition', (state) => {
  const fields = fieldsOf('aws.condition', state);
  const lock = lockOf('aws.condition', fields.lock, false)!;
  const engine = fieldsOf('aws.condition', fields.engine);
  if (typeof engine.id !== 'string') throw new ProtocolError("An 'aws.condition' arrived without its id.");
  // Over the lock that arrived with it, so that the condition and its lock share one hold.
  return Condition.fromEngine(new AwsCondition(lock.engine as AwsLock, engine.id), lock);
});
registerHandleKind('aws.barrier', (state) => {
  const { engine, action, timeout } = fieldsOf('aws.barrier', state) as {
    engine: unknown;
    action: TaskRef | null;
    timeout: number | null;
  };
  return Barrier.fromEngine(AwsBarrier.fromHandle(engine), { action, timeout });
});
for (const [kind, wrap] of [
  ['aws.value', Value.fromEngine],
  ['aws.array', SharedArray.fromEngine],
] as const) {
  registerHandleKind(kind, (state) => {
    const fields = fieldsOf(kind, state);
    const memory = AwsSharedMemory.fromHandle(fields.memory as Parameters<typeof AwsSharedMemory.fromHandle>[0]);
    return wrap(memory, lockOf(kind, fields.lock, true));
  });
}
registerHandleKind(AWS_QUEUE_KIND, (state) => {
  const fields = fieldsOf(AWS_QUEUE_KIND, state);
  const engine = AwsQueueEngine.fromHandle(fields as unknown as Parameters<typeof AwsQueueEngine.fromHandle>[0]);
  return queueOfFlavor(AWS_QUEUE_KIND, fields.flavor, engine);
});
registerHandleKind('aws.connection', (state) => {
  const { receiver, sender } = fieldsOf('aws.connection', state) as {
    receiver: { state: unknown; token?: string } | null;
    sender: { state: unknown; token?: string } | null;
  };
  const channel = (end: { state: unknown; token?: string } | null) =>
    end
      ? AwsChannelEngine.fromHandle(end.state as Parameters<typeof AwsChannelEngine.fromHandle>[0], undefined, end.token)
      : undefined;
  return new Connection(channel(receiver), channel(sender));
});
