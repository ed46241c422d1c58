/**
 * Teaches this thread to re-bind the local backend's primitives when they arrive as handles
 * (task arguments, results, Process arguments). Imported for its effect by every local worker
 * thread and by the package entry.
 */
import { Barrier } from '../../api/Barrier.js';
import { BoundedSemaphore } from '../../api/BoundedSemaphore.js';
import { Condition } from '../../api/Condition.js';
import { Event } from '../../api/Event.js';
import { Lock } from '../../api/Lock.js';
import { RLock } from '../../api/RLock.js';
import { Semaphore } from '../../api/Semaphore.js';
import { SharedArray } from '../../api/SharedArray.js';
import { Value } from '../../api/Value.js';
import { checkTypecode } from '../../api/typecodes.js';
import type { TaskRef } from '../../codec/protocol.js';
import { ProtocolError } from '../../errors.js';
import { registerHandleKind } from '../../runtime/handles.js';
import { LocalBarrier } from './LocalBarrier.js';
import { LocalCondition } from './LocalCondition.js';
import { LocalEvent } from './LocalEvent.js';
import { LocalLock } from './LocalLock.js';
import { LocalSemaphore } from './LocalSemaphore.js';
import { LocalSharedMemory } from './LocalSharedMemory.js';

/** The lock inside a handle's state (a Condition's, a Value's), already re-bound by the decoder. */
function lockOf(kind: string, lock: unknown, optional: boolean): Lock | RLock | undefined {
  if (lock instanceof Lock || lock instanceof RLock) {
    if (lock.engine instanceof LocalLock) return lock;
  } else if (optional && lock === null) {
    return undefined;
  }
  throw new ProtocolError(`A '${kind}' arrived with an invalid lock in its state.`);
}

function stateOf(kind: string, state: unknown): Record<string, unknown> {
  if (state === null || typeof state !== 'object') throw new ProtocolError(`A '${kind}' arrived without its state.`);
  return state as Record<string, unknown>;
}

registerHandleKind('local.lock', (_state, attachments) => Lock.fromEngine(LocalLock.fromHandle(false, attachments)));
registerHandleKind('local.rlock', (_state, attachments) => RLock.fromEngine(LocalLock.fromHandle(true, attachments)));
registerHandleKind('local.semaphore', (_state, attachments) => {
  const engine = LocalSemaphore.fromHandle(attachments);
  return engine.maxValue === undefined ? Semaphore.fromEngine(engine) : BoundedSemaphore.fromEngine(engine);
});
registerHandleKind('local.event', (_state, attachments) => Event.fromEngine(LocalEvent.fromHandle(attachments)));
registerHandleKind('local.condition', (state, attachments) => {
  const lock = lockOf('local.condition', stateOf('local.condition', state).lock, false)!;
  return Condition.fromEngine(LocalCondition.fromHandle(lock.engine as LocalLock, attachments), lock);
});
registerHandleKind('local.barrier', (state, attachments) => {
  const { action, timeout } = stateOf('local.barrier', state) as { action: TaskRef | null; timeout: number | null };
  return Barrier.fromEngine(LocalBarrier.fromHandle(attachments), { action, timeout });
});
for (const [kind, wrap] of [
  ['local.value', Value.fromEngine],
  ['local.array', SharedArray.fromEngine],
] as const) {
  registerHandleKind(kind, (state, attachments) => {
    const fields = stateOf(kind, state);
    checkTypecode(`the typecode of a '${kind}'`, fields.typecode);
    const lock = lockOf(kind, fields.lock, true);
    return wrap(LocalSharedMemory.fromHandle(kind, fields.typecode, attachments), lock);
  });
}
