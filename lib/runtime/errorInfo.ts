import {
  FanoutError,
  InitializerError,
  RemoteError,
  SerializationError,
  TaskModuleError,
  UnknownTaskError,
  WorkerCrashedError,
  type RemoteErrorInfo,
} from '../errors.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import type { FailureInfo } from '../codec/protocol.js';

const probe = new ValueEncoder();

/** Describes whatever a task threw, for the trip back to the caller. */
export function toRemoteErrorInfo(thrown: unknown): RemoteErrorInfo {
  if (thrown instanceof Error) {
    const properties: Record<string, unknown> = {};
    for (const key of Object.keys(thrown)) {
      const value = (thrown as unknown as Record<string, unknown>)[key];
      try {
        probe.write(value, key);
        properties[key] = value;
      } catch {
        properties[key] = `[unsendable ${typeof value}]`;
      }
    }
    probe.finish();
    return { name: thrown.name, message: thrown.message, stack: thrown.stack, properties };
  }
  let message: string;
  try {
    message = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    message = String(thrown);
  }
  return { name: `thrown ${thrown === null ? 'null' : typeof thrown}`, message };
}

/** Describes a fanout error raised on the worker side (not by the task itself). */
export function toFailureInfo(error: unknown): FailureInfo {
  if (error instanceof UnknownTaskError) {
    return { code: error.code, message: error.message, taskName: error.taskName, knownTasks: error.knownTasks };
  }
  if (error instanceof TaskModuleError) {
    const cause = error.cause === undefined ? undefined : toRemoteErrorInfo(error.cause);
    return { code: error.code, message: error.message, module: error.module, ...(cause ? { cause } : {}) };
  }
  if (error instanceof SerializationError) return { code: error.code, message: error.message, module: error.path };
  if (error instanceof FanoutError) return { code: error.code, message: error.message };
  return { code: 'ERR_REMOTE', message: String(error), cause: toRemoteErrorInfo(error) };
}

/** Re-creates, on the caller's side, the error a worker described. */
export function fromFailureInfo(info: FailureInfo, taskName: string): Error {
  switch (info.code) {
    case 'ERR_UNKNOWN_TASK': {
      const error = new UnknownTaskError(info.taskName ?? taskName, info.knownTasks ?? []);
      error.message = info.message;
      return error;
    }
    case 'ERR_TASK_MODULE':
      return new TaskModuleError(info.module ?? '', info.message, info.cause ? new RemoteError(info.cause, taskName) : undefined);
    case 'ERR_SERIALIZATION': {
      const error = new SerializationError(info.module ?? 'a value', '');
      error.message = info.message;
      return error;
    }
    case 'ERR_INITIALIZER':
      return new InitializerError(info.message, info.cause ? new RemoteError(info.cause, taskName) : undefined);
    case 'ERR_WORKER_CRASHED':
      return new WorkerCrashedError(info.message, { taskName });
    default:
      return info.cause ? new RemoteError(info.cause, taskName) : new FanoutError(info.code, info.message);
  }
}
