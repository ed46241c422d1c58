/**
 * Every error fanout raises is a subclass of {@link FanoutError} with a stable `code`,
 * so callers can branch on `err.code` (or `instanceof`) without parsing messages.
 *
 * @example
 * ```ts
 * import { Pool, RemoteError } from 'fanout';
 * try {
 *   await pool.apply(parse, ['not json']);
 * } catch (err) {
 *   if (err instanceof RemoteError) console.error(err.remoteName, err.remoteStack);
 * }
 * ```
 */
export class FanoutError extends Error {
  /** A stable, machine-readable code such as `ERR_REMOTE`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A task raised an error in a worker. Carries the remote error's name, message and stack.
 *
 * @example
 * ```ts
 * const r = pool.applyAsync(fails, []);
 * await r.get().catch((e: RemoteError) => e.remoteMessage);
 * ```
 */
export class RemoteError extends FanoutError {
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string | undefined;
  /** Extra own properties of the remote error (for example its `code`), as sent. */
  readonly remoteProperties: Record<string, unknown>;
  readonly taskName: string;

  constructor(info: RemoteErrorInfo, taskName: string) {
    super('ERR_REMOTE', `Task '${taskName}' failed in a worker: ${info.name}: ${info.message}`);
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack;
    this.remoteProperties = info.properties ?? {};
    this.taskName = taskName;
    if (info.stack) this.stack = `${this.stack ?? ''}\n\nRemote stack (in the worker):\n${info.stack}`;
  }
}

/** The wire form of an error raised by a task; see {@link RemoteError}. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack?: string;
  properties?: Record<string, unknown>;
}

/**
 * A worker died while it ran a task: `process.exit`, an uncaught error in a timer, or
 * running out of memory. The worker has been replaced; other work goes on.
 *
 * @example
 * ```ts
 * await pool.apply(exitsTheWorker, []).catch((e) => e.code); // 'ERR_WORKER_CRASHED'
 * ```
 */
export class WorkerCrashedError extends FanoutError {
  readonly taskName: string | undefined;
  readonly exitCode: number | undefined;

  constructor(message: string, context: { taskName?: string; exitCode?: number; cause?: unknown }) {
    super('ERR_WORKER_CRASHED', message, { cause: context.cause });
    this.taskName = context.taskName;
    this.exitCode = context.exitCode;
  }
}

/**
 * A value could not be encoded to cross to a worker. The message says which argument (and
 * where inside it) and why.
 *
 * @example
 * ```ts
 * pool.applyAsync(square, [() => 1]); // throws SerializationError: argument 0 is a function ...
 * ```
 */
export class SerializationError extends FanoutError {
  /** Where the offending value sits, such as `the arguments[0].options.onDone`. */
  readonly path: string;
  /** Why it cannot be sent. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super('ERR_SERIALIZATION', `Cannot send ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }

  /** The same error for a value found at `prefix` + this error's path. */
  under(prefix: string): SerializationError {
    return new SerializationError(prefix + this.path, this.reason);
  }
}

/**
 * The pool no longer accepts work: it was closed or terminated.
 *
 * @example
 * ```ts
 * pool.close();
 * pool.applyAsync(square, [1]); // throws PoolClosedError
 * ```
 */
export class PoolClosedError extends FanoutError {
  constructor(message = 'The pool is closed: it accepts no new work (create a new Pool).') {
    super('ERR_POOL_CLOSED', message);
  }
}

/**
 * No task with that name is registered where the task was to run.
 *
 * @example
 * ```ts
 * err.code === 'ERR_UNKNOWN_TASK' && console.error(err.knownTasks);
 * ```
 */
export class UnknownTaskError extends FanoutError {
  readonly taskName: string;
  readonly knownTasks: string[];

  constructor(taskName: string, knownTasks: string[], hint = '') {
    const known = knownTasks.length ? knownTasks.map((n) => `'${n}'`).join(', ') : 'none';
    super('ERR_UNKNOWN_TASK', `Unknown task '${taskName}'. Known tasks here: ${known}.${hint ? ` ${hint}` : ''}`);
    this.taskName = taskName;
    this.knownTasks = knownTasks;
  }
}

/**
 * A task was defined in a way that cannot work: a duplicate name, an invalid name, or a
 * task defined in the entry script (which workers must never re-run).
 *
 * @example
 * ```ts
 * task('square', (x: number) => x * x);
 * task('square', (x: number) => x + x); // throws TaskDefinitionError (duplicate name)
 * ```
 */
export class TaskDefinitionError extends FanoutError {
  readonly taskName: string;

  constructor(taskName: string, message: string) {
    super('ERR_TASK_DEFINITION', message);
    this.taskName = taskName;
  }
}

/**
 * A module that defines tasks could not be imported in a worker.
 *
 * @example
 * ```ts
 * new Pool({ tasks: ['./missing.ts'] }); // the first call rejects with TaskModuleError
 * ```
 */
export class TaskModuleError extends FanoutError {
  readonly module: string;

  constructor(module: string, message: string, cause?: unknown) {
    super('ERR_TASK_MODULE', message, { cause });
    this.module = module;
  }
}

/**
 * An option or argument has a value that is not allowed. Names the option, the value and
 * its type, and what is allowed.
 *
 * @example
 * ```ts
 * new Pool({ processes: 0 }); // InvalidArgumentError: processes must be ...; got 0 (number)
 * ```
 */
export class InvalidArgumentError extends FanoutError {
  readonly option: string;

  constructor(option: string, value: unknown, allowed: string, hint?: string) {
    super('ERR_INVALID_ARGUMENT', `${option} must be ${allowed}; got ${describeValue(value)}.${hint ? ` ${hint}` : ''}`);
    this.option = option;
  }
}

/**
 * An operation was called at the wrong time, as Python's `ValueError` (for example
 * `pool.join()` before `close()`, or `successful()` before the result is ready).
 *
 * @example
 * ```ts
 * await pool.join(); // ValueError: Pool is still running; call close() or terminate() first
 * ```
 */
export class ValueError extends FanoutError {
  constructor(message: string) {
    super('ERR_VALUE', message);
  }
}

/**
 * A wait ran out of time. `AsyncResult.get(timeout)` raises it without cancelling the work;
 * a call's `timeout` option raises it and cancels the call's work.
 *
 * @example
 * ```ts
 * await pool.applyAsync(slow, [5000]).get(100); // throws TimeoutError
 * ```
 */
export class TimeoutError extends FanoutError {
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super('ERR_TIMEOUT', message);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A call's `signal` was aborted: the call's queued and running work was cancelled. `cause` is
 * the signal's reason (what `controller.abort(reason)` was given). Its `name` is `'AbortError'`,
 * as the DOM's, so `err.name === 'AbortError'` checks keep working.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const running = pool.map(slow, [1000, 1000], { signal: controller.signal });
 * controller.abort(new Error('user quit'));
 * await running.catch((e: AbortError) => [e.code, e.cause]); // ['ERR_ABORTED', Error('user quit')]
 * ```
 */
export class AbortError extends FanoutError {
  constructor(message: string, reason: unknown) {
    super('ERR_ABORTED', message, { cause: reason });
  }
}

/**
 * The pool's `initializer` failed in a worker, so no worker can be started; the pool's work fails.
 *
 * @example
 * ```ts
 * await pool.apply(square, [2]).catch((e) => e.code); // 'ERR_INITIALIZER'
 * ```
 */
export class InitializerError extends FanoutError {
  constructor(message: string, cause: unknown) {
    super('ERR_INITIALIZER', message, { cause });
  }
}

/**
 * A message between the parts of fanout was malformed or of an unknown protocol version.
 *
 * @example
 * ```ts
 * decodeFrame(new Uint8Array([1, 2, 3])); // throws ProtocolError
 * ```
 */
export class ProtocolError extends FanoutError {
  constructor(message: string) {
    super('ERR_PROTOCOL', message);
  }
}

/**
 * A queue had no item: `getNowait()`, `get({ block: false })`, or a `get` whose timeout passed
 * (Python's `queue.Empty`).
 *
 * @example
 * ```ts
 * await new Queue().getNowait(); // throws Empty
 * ```
 */
export class Empty extends FanoutError {
  constructor(message = 'The queue is empty.') {
    super('ERR_EMPTY', message);
  }
}

/**
 * A bounded queue had no room: `putNowait()`, `put(item, { block: false })`, or a `put` whose
 * timeout passed (Python's `queue.Full`).
 *
 * @example
 * ```ts
 * const q = new Queue(1);
 * await q.putNowait(1);
 * await q.putNowait(2); // throws Full
 * ```
 */
export class Full extends FanoutError {
  constructor(message = 'The queue is full.') {
    super('ERR_FULL', message);
  }
}

/**
 * `recv()` on a pipe whose other end is closed and that holds nothing more (Python's `EOFError`).
 *
 * @example
 * ```ts
 * const [a, b] = Pipe();
 * b.close();
 * await a.recv(); // throws EOFError
 * ```
 */
export class EOFError extends FanoutError {
  constructor(message = 'The other end of the pipe is closed and nothing is left to receive.') {
    super('ERR_EOF', message);
  }
}

/**
 * `send()` on a pipe whose receiving end is closed (Python's `BrokenPipeError`).
 *
 * @example
 * ```ts
 * const [a, b] = Pipe();
 * b.close();
 * await a.send(1); // throws BrokenPipeError
 * ```
 */
export class BrokenPipeError extends FanoutError {
  constructor(message = 'The receiving end of the pipe is closed.') {
    super('ERR_BROKEN_PIPE', message);
  }
}

/**
 * A `Process` was used in a way its state does not allow: started twice, joined before it was
 * started, a daemon starting children... (Python raises `AssertionError` or `ValueError` there).
 *
 * @example
 * ```ts
 * const p = new Process({ target: f });
 * await p.join(); // throws ProcessError: can only join a started process
 * ```
 */
export class ProcessError extends FanoutError {
  constructor(message: string) {
    super('ERR_PROCESS', message);
  }
}

/**
 * A shared object (a Queue, a Pipe end, a Lock...) of one backend was passed to work of another
 * backend, where it cannot exist: a local queue lives in this machine's memory.
 *
 * @example
 * ```ts
 * const q = new Queue(); // local
 * new (getContext('aws').Process)({ target: f, args: [q] }).start(); // throws BackendMismatchError
 * ```
 */
export class BackendMismatchError extends FanoutError {
  readonly objectBackend: string;
  readonly targetBackend: string;

  constructor(what: string, objectBackend: string, targetBackend: string) {
    super(
      'ERR_BACKEND_MISMATCH',
      `A ${what} of the '${objectBackend}' backend cannot be sent to work on the '${targetBackend}' backend. ` +
        `Create it from the same context: getContext('${targetBackend}').`,
    );
    this.objectBackend = objectBackend;
    this.targetBackend = targetBackend;
  }
}

/**
 * The backend does not offer this feature (yet).
 *
 * @example
 * ```ts
 * new (getContext('aws').Pipe)(); // throws NotSupportedError if the aws backend has no pipes
 * ```
 */
export class NotSupportedError extends FanoutError {
  constructor(message: string) {
    super('ERR_NOT_SUPPORTED', message);
  }
}

/**
 * A queue or pipe can no longer be used: its internal lock has stayed held far longer than any
 * operation takes, because a process was stopped (`terminate()`, `kill()`) while it used it.
 * Python documents the same hazard ("the queue is liable to become corrupted").
 *
 * @example
 * ```ts
 * await q.get().catch((e) => e.code); // 'ERR_BROKEN_QUEUE'
 * ```
 */
export class BrokenQueueError extends FanoutError {
  constructor(message: string) {
    super('ERR_BROKEN_QUEUE', message);
  }
}

/**
 * The aws backend could not find or use its AWS resources: a setting is missing, or the stack
 * named by `FANOUT_STACK` cannot be read. The message names what is missing and how to set it.
 *
 * @example
 * ```ts
 * await pool.map(square, [1]).catch((e) => e.code); // 'ERR_AWS_CONFIG' when FANOUT_QUEUE_URL is unset
 * ```
 */
export class AwsConfigError extends FanoutError {
  /** The settings (environment variables or stack outputs) that are missing. */
  readonly missing: string[];

  constructor(message: string, missing: string[] = [], cause?: unknown) {
    super('ERR_AWS_CONFIG', message, { cause });
    this.missing = missing;
  }
}

/**
 * A feature needs packages that fanout does not install for everyone (the emulators, the CDK
 * CLI), and they cannot be found. The message names the packages and the command that installs
 * them.
 *
 * @example
 * ```ts
 * await startEmulators().catch((e: MissingDependencyError) => e.install); // 'npm install --save-dev fauxqs@1.9.2 ...'
 * ```
 */
export class MissingDependencyError extends FanoutError {
  /** The packages that could not be found. */
  readonly packages: string[];
  /** The command that installs them. */
  readonly install: string;

  constructor(feature: string, packages: string[], install: string, cause?: unknown) {
    const names = packages.length === 1 ? packages[0]! : `${packages.slice(0, -1).join(', ')} and ${packages.at(-1)!}`;
    super(
      'ERR_MISSING_DEPENDENCY',
      `${feature} needs ${names}, which ${packages.length === 1 ? 'is' : 'are'} not installed. Install in your project: ${install}`,
      { cause },
    );
    this.packages = packages;
    this.install = install;
  }
}

/** A short, safe description of a value for error messages: `0 (number)`, `'x' (string)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}' (string)`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${String(value)} (${typeof value})`;
    case 'function':
      return `a function${value.name ? ` '${value.name}'` : ''}`;
    case 'symbol':
      return `${String(value)} (symbol)`;
    default:
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      return `an object of type ${(value as object).constructor?.name ?? 'Object'}`;
  }
}

/**
 * An operation was called in a state that does not allow it, as Python's `RuntimeError`: for
 * example releasing an `RLock` this thread does not own, or `Condition.wait()` without holding
 * the condition's lock.
 *
 * @example
 * ```ts
 * await new RLock().release(); // RuntimeError: cannot release un-acquired lock
 * ```
 */
export class RuntimeError extends FanoutError {
  constructor(message: string) {
    super('ERR_RUNTIME', message);
  }
}

/**
 * A `Barrier` is broken (aborted, reset, or a waiter timed out) or was broken while waiting,
 * as Python's `threading.BrokenBarrierError`.
 *
 * @example
 * ```ts
 * await barrier.wait(100).catch((e) => e.code); // 'ERR_BROKEN_BARRIER' when not all parties arrive
 * ```
 */
export class BrokenBarrierError extends FanoutError {
  constructor(message = 'The barrier is broken: it was aborted or reset, or a party timed out.') {
    super('ERR_BROKEN_BARRIER', message);
  }
}

/**
 * An index is outside a shared array, as Python's `IndexError`. Carries the index and the length.
 *
 * @example
 * ```ts
 * await new SharedArray('i', 3).get(5); // IndexError: index 5 is out of range for a SharedArray of length 3
 * ```
 */
export class IndexError extends FanoutError {
  readonly index: number;
  readonly length: number;

  constructor(message: string, index: number, length: number) {
    super('ERR_INDEX', message);
    this.index = index;
    this.length = length;
  }
}

/**
 * A synthesized stack could not be produced, read or emulated: `cdk synth` failed, the template
 * is not a CloudFormation template, or it uses something the emulation cannot provide (an
 * intrinsic function, a reference to a resource it does not create, a missing asset). The
 * message names the template, the resource or property, and what is supported.
 *
 * @example
 * ```ts
 * await provisionStack('cdk.out/Nope.template.json', endpoints).catch((e) => e.code); // 'ERR_STACK_TEMPLATE'
 * ```
 */
export class StackTemplateError extends FanoutError {
  /** The template (or the CDK app's directory, for a failed synth). */
  readonly templatePath: string;

  constructor(message: string, templatePath: string, cause?: unknown) {
    super('ERR_STACK_TEMPLATE', message, { cause });
    this.templatePath = templatePath;
  }
}

// ---------------------------------------------------------------------------------------------
// The aws backend's worker deadlines and waits (issue 8: deadline-aware worker, no silent waits).
// ---------------------------------------------------------------------------------------------

/**
 * A chunk cannot finish within one invocation of the worker function: it ran for nearly all the
 * time an invocation gives a chunk and did not finish. It is tried once, not redelivered: no
 * later delivery could give it more time. Make chunks smaller (`chunksize`) or raise the worker
 * function's timeout.
 *
 * @example
 * ```ts
 * await pool.map(slowTask, items, { chunksize: 1000 }).catch((e) => e.code); // 'ERR_CHUNK_TOO_LONG'
 * ```
 */
export class ChunkTooLongError extends FanoutError {
  /** The task whose chunk ran too long. */
  readonly taskName: string;
  /** How long the chunk ran before it was stopped, unfinished (a lower bound of what it needs). */
  readonly ranMs: number;
  /** The time an invocation of the worker function gives a chunk (its timeout less a reserve). */
  readonly timeoutMs: number;

  constructor(message: string, context: { taskName: string; ranMs: number; timeoutMs: number }) {
    super('ERR_CHUNK_TOO_LONG', message);
    this.taskName = context.taskName;
    this.ranMs = context.ranMs;
    this.timeoutMs = context.timeoutMs;
  }
}

/**
 * Nobody received a call's chunks: they sat on the task queue, with no message in flight, for
 * longer than the pool's `noWorkerTimeout` (`FANOUT_NO_WORKER_TIMEOUT_MS`). Start workers
 * (`npx fanout worker` against the emulators, or deploy the stack) and call again.
 *
 * @example
 * ```ts
 * await pool.map(square, [1, 2]).catch((e) => e.code); // 'ERR_NO_WORKERS' when no worker runs
 * ```
 */
export class NoWorkersError extends FanoutError {
  /** The task queue nobody received from. */
  readonly queueUrl: string;
  /** How long the call waited with nobody receiving. */
  readonly waitedMs: number;

  constructor(message: string, context: { queueUrl: string; waitedMs: number }) {
    super('ERR_NO_WORKERS', message);
    this.queueUrl = context.queueUrl;
    this.waitedMs = context.waitedMs;
  }
}

// ---------------------------------------------------------------------------------------------
// The aws backend's Semaphore (issue 9: leases per holder).
// ---------------------------------------------------------------------------------------------

/**
 * A Semaphore's permits were released by a holder whose lease had been taken over: it went
 * unrenewed for a whole lease (its process paused or froze, or lost the network), so a waiter
 * took its permits back and may have given them to someone else. The release adds nothing:
 * those permits are back already. Keep holders alive while they hold (a frozen Lambda is not),
 * or raise `FANOUT_LEASE_MS`.
 *
 * @example
 * ```ts
 * await semaphore.release().catch((e) => e.code); // 'ERR_SEMAPHORE_LEASE_LOST'
 * ```
 */
export class SemaphoreLeaseLostError extends FanoutError {
  /** The permits whose release was refused. */
  readonly permits: number;
  /** The lease, in ms, the holder failed to renew. */
  readonly leaseMs: number;

  constructor(message: string, context: { permits: number; leaseMs: number }) {
    super('ERR_SEMAPHORE_LEASE_LOST', message);
    this.permits = context.permits;
    this.leaseMs = context.leaseMs;
  }
}

// Process on the aws backend (issue 9, item 4).
// ---------------------------------------------------------------------------------------------

/**
 * The worker running a `Process` target on the aws backend died (its Lambda environment or fleet
 * process ended) before the target ended: its lease in the table was not renewed for a whole
 * lease. The target is not run again (a Process runs at most once); its exit code is
 * {@link ProcessWorkerDiedError.exitCode} (-1).
 *
 * @example
 * ```ts
 * await p.join(); // p.exitCode === -1, and stderr shows ProcessWorkerDiedError
 * ```
 */
export class ProcessWorkerDiedError extends FanoutError {
  /** The exit code of a Process whose worker died (as a process whose controlling process died: SIGHUP). */
  static readonly exitCode = -1;
  /** The process's name. */
  readonly processName: string;
  /** The lease, in ms, that went by without a renewal. */
  readonly leaseMs: number;

  constructor(message: string, context: { processName: string; leaseMs: number }) {
    super('ERR_PROCESS_WORKER_DIED', message);
    this.processName = context.processName;
    this.leaseMs = context.leaseMs;
  }
}

/**
 * A `Process` target on the aws backend ran until its worker's invocation was about to time out
 * (a Lambda runs at most its function timeout, 15 minutes at most; a `fanout worker` fleet
 * imitates that timeout): it was stopped there, and is not run again. Its exit code is
 * {@link ProcessTooLongError.exitCode} (-14). Run longer work as Pool chunks, or raise the
 * worker function's timeout.
 *
 * @example
 * ```ts
 * await p.join(); // p.exitCode === -14, and stderr shows ProcessTooLongError
 * ```
 */
export class ProcessTooLongError extends FanoutError {
  /** The exit code of a Process stopped at its worker's timeout (as a timer's SIGALRM). */
  static readonly exitCode = -14;
  /** The process's name. */
  readonly processName: string;
  /** How long the target ran before it was stopped. */
  readonly ranMs: number;

  constructor(message: string, context: { processName: string; ranMs: number }) {
    super('ERR_PROCESS_TOO_LONG', message);
    this.processName = context.processName;
    this.ranMs = context.ranMs;
  }
}

// ---------------------------------------------------------------------------------------------
// The aws backend's locks (issue 9: DynamoDB leases with fencing tokens).
// ---------------------------------------------------------------------------------------------

/**
 * A lock's holder lost it before releasing: its lease was taken over (its heartbeats did not
 * land for a whole lease, as when a Lambda is frozen or a process pauses), or, for a `Lock`,
 * another party released it and someone acquired it since. Whatever the holder did after it lost
 * the lock may have overlapped another holder: a resource guarded by the lock's fencing token
 * refuses the stale holder's writes. `currentToken` is the lock's token now (the newer holder's).
 *
 * @example
 * ```ts
 * await lock.release().catch((e) => e.code); // 'ERR_LOCK_LOST' after a takeover
 * ```
 */
export class LockLostError extends FanoutError {
  /** The lock's id (from its handle). */
  readonly lockId: string;
  /** The fencing token of the lost acquisition. */
  readonly token: number;
  /** The lock's fencing token now (`undefined` when it could not be read). */
  readonly currentToken: number | undefined;

  constructor(message: string, context: { lockId: string; token: number; currentToken: number | undefined }, cause?: unknown) {
    super('ERR_LOCK_LOST', message, { cause });
    this.lockId = context.lockId;
    this.token = context.token;
    this.currentToken = context.currentToken;
  }
}

/**
 * `connection.recvBytesInto(buffer, offset)` received a message longer than the room left in
 * `buffer` after `offset` (Python's `BufferTooShort`). The message is not lost: it is `data`.
 *
 * @example
 * ```ts
 * await writer.sendBytes(new Uint8Array(10));
 * await reader.recvBytesInto(new Uint8Array(4)).catch((e) => e.data.length); // 10
 * ```
 */
export class BufferTooShort extends FanoutError {
  /** The whole message that did not fit. */
  readonly data: Uint8Array;
  /** The room the buffer had after the offset, in bytes. */
  readonly room: number;

  constructor(data: Uint8Array, room: number) {
    super(
      'ERR_BUFFER_TOO_SHORT',
      `The message is ${data.length} bytes, but the buffer has room for ${room} after the offset; the message is in this error's data.`,
    );
    this.data = data;
    this.room = room;
  }
}

/**
 * `connection.recvBytes(maxlength)` received a message longer than `maxlength` (Python's
 * `OSError("bad message length")`). As in Python, the message is dropped and the connection can
 * no longer receive (a one-way reader is closed).
 *
 * @example
 * ```ts
 * await writer.sendBytes(new Uint8Array(10));
 * await reader.recvBytes(4).catch((e) => e.code); // 'ERR_MESSAGE_LENGTH'
 * ```
 */
export class MessageLengthError extends FanoutError {
  /** The message's length in bytes. */
  readonly length: number;
  readonly maxlength: number;

  constructor(length: number, maxlength: number) {
    super(
      'ERR_MESSAGE_LENGTH',
      `The message is ${length} bytes, longer than recvBytes(maxlength) allows (maxlength is ${maxlength}); ` +
        'it was dropped and this connection can no longer receive.',
    );
    this.length = length;
    this.maxlength = maxlength;
  }
}

/**
 * A job timeline was given a chunk record (or a job id, task name or record list) it cannot draw:
 * a field missing or of the wrong type, or a chunk that ends before it starts. `field` names the
 * field (`chunks[3].endMs`), `index` the record's position, `chunk` its chunk number when known.
 *
 * @example
 * ```ts
 * try {
 *   new ChunkTimeline({ jobId: 'j1', task: 'square', chunks: [{ ...record, endMs: record.startMs - 1 }] });
 * } catch (e) {
 *   (e as TimelineInputError).field; // 'chunks[0].endMs'
 * }
 * ```
 */
export class TimelineInputError extends FanoutError {
  /** The field that was wrong, with its path: `jobId`, `chunks`, `chunks[3].endMs`. */
  readonly field: string;
  /** The record's position in the list, or undefined when the fault is not in one record. */
  readonly index: number | undefined;
  /** The record's chunk number, when it has a valid one. */
  readonly chunk: number | undefined;
  /** The value found (undefined when the field is missing). */
  readonly value: unknown;

  constructor(message: string, context: { field: string; index?: number; chunk?: number; value: unknown }) {
    super('ERR_TIMELINE_INPUT', message);
    this.field = context.field;
    this.index = context.index;
    this.chunk = context.chunk;
    this.value = context.value;
  }
}

/**
 * No job has this id: it was never made, or its records have expired (the stack's retention).
 *
 * @example
 * ```ts
 * try {
 *   await Job.attach('no-such-job').status();
 * } catch (e) {
 *   if (e instanceof JobNotFoundError) console.error(e.jobId);
 * }
 * ```
 */
export class JobNotFoundError extends FanoutError {
  readonly jobId: string;

  constructor(jobId: string, where: string) {
    super(
      'ERR_JOB_NOT_FOUND',
      `No job '${jobId}' in ${where}: it was never made there, or its records expired (they are kept for the stack's retention).`,
    );
    this.jobId = jobId;
  }
}

/**
 * A job was cancelled (`job.cancel()`, `DELETE /jobs/{id}`, `fanout jobs cancel`) while a call
 * waited for its results.
 *
 * @example
 * ```ts
 * await pool.mapAsync(square, items).get().catch((e) => e instanceof JobCancelledError);
 * ```
 */
export class JobCancelledError extends FanoutError {
  readonly jobId: string;

  constructor(jobId: string, taskName: string) {
    super('ERR_JOB_CANCELLED', `Job '${jobId}' of task '${taskName}' was cancelled; its unfinished chunks were skipped.`);
    this.jobId = jobId;
  }
}

/**
 * A call's job was detached (`job.detach()`): this process stopped collecting its results, and
 * the job runs on; `Job.attach(id)` collects them from anywhere.
 *
 * @example
 * ```ts
 * const result = pool.mapAsync(square, items);
 * await result.job!.detach();
 * await result.get().catch((e) => e instanceof JobDetachedError); // true
 * ```
 */
export class JobDetachedError extends FanoutError {
  readonly jobId: string;

  constructor(jobId: string) {
    super('ERR_JOB_DETACHED', `Job '${jobId}' was detached from this process; collect its results with Job.attach('${jobId}').`);
    this.jobId = jobId;
  }
}

/**
 * The fanout HTTP API answered with an error (`{"error": {"code", "message"}}`): `status` is the
 * HTTP status, `apiCode` the body's `error.code` (`ERR_BAD_SIGNATURE`, `ERR_JOB_NOT_FOUND`...),
 * or undefined when the body was not a JSON error (a proxy's page, say).
 *
 * @example
 * ```ts
 * try {
 *   await client.status('01jcz0000000000000000000aa');
 * } catch (e) {
 *   if (e instanceof ApiError && e.status === 404) console.error('no such job');
 * }
 * ```
 */
export class ApiError extends FanoutError {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The body's `error.code`, when the body was a JSON error. */
  readonly apiCode: string | undefined;
  /** The body's `error.message` (or the start of a body that was not a JSON error). */
  readonly apiMessage: string;
  /** The request: `GET http://127.0.0.1:4010/jobs/...`. */
  readonly request: string;

  constructor(request: string, status: number, apiCode: string | undefined, apiMessage: string) {
    super('ERR_API', `${request} answered ${status}${apiCode ? ` ${apiCode}` : ''}: ${apiMessage}`);
    this.status = status;
    this.apiCode = apiCode;
    this.apiMessage = apiMessage;
    this.request = request;
  }
}

/**
 * The fanout HTTP API could not be reached: no answer from its URL (refused, reset, DNS, TLS, an
 * aborted or timed-out request). `cause` is the network error.
 *
 * @example
 * ```ts
 * await client.status(jobId).catch((e) => e instanceof ApiUnreachableError && e.url); // 'http://127.0.0.1:4010/jobs/...'
 * ```
 */
export class ApiUnreachableError extends FanoutError {
  /** The URL of the request that got no answer. */
  readonly url: string;

  constructor(method: string, url: string, cause: unknown) {
    super(
      'ERR_API_UNREACHABLE',
      `${method} ${url} got no answer: ${networkReason(cause)}. Is FANOUT_API_URL right, and the API running (npx fanout emulator serves it locally)?`,
      { cause },
    );
    this.url = url;
  }
}

/** `connect ECONNREFUSED 127.0.0.1:4010` from undici's `TypeError: fetch failed` and its cause. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const inner = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  if (!inner) return String(error);
  const code = (inner as { code?: unknown }).code;
  return typeof code === 'string' && !inner.message.includes(code) ? `${code}: ${inner.message}` : inner.message;
}
