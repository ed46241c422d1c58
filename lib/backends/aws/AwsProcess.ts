import { leaseMs } from './leaseSettings.js';
import { randomBytes } from 'node:crypto';
import type { ProcessEngine, ProcessSpec } from '../../backend/ProcessEngine.js';
import { ProcessTooLongError, ProcessWorkerDiedError, RemoteError, SerializationError } from '../../errors.js';
import type { AwsBackend } from './AwsBackend.js';
import type { AwsSession } from './AwsSession.js';
import { INLINE_CHUNK_BYTES, processArgumentsKey, type ProcessMessage } from './chunkMessages.js';
import type { ProcessRecord, ProcessStore } from './ProcessStore.js';

/** Options of {@link AwsProcess}. */
export interface AwsProcessOptions {
  /**
   * The lease of the worker running the target, in ms: it renews it every fifth of that, and a
   * lease that goes by unrenewed means the worker died. @default `FANOUT_LEASE_MS`, else 10,000
   */
  leaseMs?: number;
}

/** The default lease of a worker running a target. */
/** The client's reads of the record back off from this... */
const FIRST_POLL_MS = 50;
/** ...doubling to this. */
const MAX_POLL_MS = 2_000;
const SIGTERM = 15;
const SIGKILL = 9;

let storeModule: Promise<typeof import('./ProcessStore.js')> | undefined;

/**
 * The store module, loaded on first use (it loads the AWS SDK).
 *
 * @example
 * ```ts
 * const { ProcessStore } = await loadProcessStore();
 * ```
 */
export function loadProcessStore(): Promise<typeof import('./ProcessStore.js')> {
  storeModule ??= import('./ProcessStore.js');
  return storeModule;
}

/**
 * A `Process` on the aws backend: `start` sends one message to the stack's task queue, and a
 * worker (the worker Lambda, or a `fanout worker` fleet) runs the target on a thread of its own
 * (see `ProcessRunner`). The process's record in the table says how it is doing: the worker
 * claims it once (a redelivered message never runs the target again), renews its lease while the
 * target runs, and writes the exit code; this engine reads the record with back-off (50 ms
 * doubling to 2 s) until then. `terminate()`/`kill()` write a stop request that the worker reads
 * at its next renewal, and stops the target's thread: -15 / -9, as on the local backend.
 *
 * Exit codes: 0, 1 when the target threw (its error is printed to stderr under
 * `Process <name>:`, as on the local backend, and kept in {@link error}), the code of
 * `process.exit`, -15 / -9 after terminate / kill, -1 when the worker died mid-run
 * ({@link ProcessWorkerDiedError}: its lease went unrenewed, judged by the record's version, never
 * by clocks of two machines), and -14 when it ran into the worker's function timeout
 * ({@link ProcessTooLongError}).
 *
 * @example
 * ```ts
 * const engine = new AwsProcess(new AwsBackend({ config }), spec);
 * const code = await engine.exited; // 0
 * ```
 */
export class AwsProcess implements ProcessEngine {
  /** The process's id (its record is `objectKey('process', id, 'state')`). */
  readonly id: string;
  readonly pid: number;
  readonly exited: Promise<number>;
  /** Once ended: why it failed (a RemoteError of the target's error, or why fanout ended it); else undefined. */
  error: Error | undefined;
  readonly leaseMs: number;
  private readonly sent: Promise<{ session: AwsSession; store: ProcessStore }>;
  private stopRequested = false;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(
    backend: AwsBackend,
    private readonly spec: ProcessSpec,
    options: AwsProcessOptions = {},
  ) {
    if (spec.attachments.length > 0 || spec.transfer.length > 0) {
      throw new SerializationError(
        `the arguments of process '${spec.name}'`,
        'they hold objects bound to one machine (shared memory, ports), which cannot cross the network',
      );
    }
    this.leaseMs = leaseMs(options.leaseMs);
    this.id = randomBytes(12).toString('hex');
    this.pid = Number.parseInt(this.id.slice(0, 7), 16);
    this.sent = this.send(backend);
    this.exited = this.watch();
  }

  terminate(): void {
    this.stop(SIGTERM);
  }

  kill(): void {
    this.stop(SIGKILL);
  }

  private stop(signal: number): void {
    if (this.ended || this.stopRequested) return;
    this.stopRequested = true;
    void this.sent.then(
      async (sent) => {
        if (this.ended) return;
        try {
          await sent.store.requestStop(this.id, signal, sent.session.expiresAt());
          this.wake?.();
        } catch (error) {
          this.stopRequested = false;
          process.stderr.write(`Process ${this.spec.name}: could not ask its worker to stop: ${text(error)}\n`);
        }
      },
      () => {
        // It was never sent: `exited` reports that.
      },
    );
  }

  private async send(backend: AwsBackend): Promise<{ session: AwsSession; store: ProcessStore }> {
    const session = await backend.session();
    const { ProcessStore } = await loadProcessStore();
    const store = new ProcessStore(session.clients.dynamodb, session.tableName);
    const { spec } = this;
    const message: ProcessMessage = {
      type: 'fanoutProcess',
      id: this.id,
      target: spec.target,
      name: spec.name,
      daemon: spec.daemon,
      identity: spec.identity,
      parent: spec.parent,
      leaseMs: this.leaseMs,
      expiresAt: session.expiresAt(),
    };
    if (spec.args.length > INLINE_CHUNK_BYTES) {
      const key = processArgumentsKey(this.id);
      await session.payloads.put(key, spec.args);
      message.argsKey = key;
    } else {
      message.args = Buffer.from(spec.args).toString('base64');
    }
    await store.send(session.queue, message);
    return { session, store };
  }

  /** Reads the record until it says the process ended; never rejects. */
  private async watch(): Promise<number> {
    let store: ProcessStore;
    try {
      ({ store } = await this.sent);
    } catch (error) {
      return this.finish(1, new Error(`The aws backend could not start process '${this.spec.name}': ${text(error)}`));
    }
    let delay = FIRST_POLL_MS;
    // The version last seen and when (this machine's clock only): unchanged over a lease, the holder is dead.
    let seen: { version: number; at: number } | undefined;
    for (;;) {
      let record: ProcessRecord | undefined;
      try {
        record = await store.read(this.id);
      } catch (error) {
        process.stderr.write(`Process ${this.spec.name}: could not read its record (trying again): ${text(error)}\n`);
      }
      if (record?.status === 'exited') return this.fromRecord(record);
      if (record?.status === 'started') {
        const now = performance.now();
        if (!seen || seen.version !== record.version) seen = { version: record.version, at: now };
        else if (now - seen.at >= (record.leaseMs ?? this.leaseMs)) {
          const reason = diedReason(this.spec.name, record.leaseMs ?? this.leaseMs);
          try {
            await store.markDied(this.id, record.version, reason, ProcessWorkerDiedError.exitCode);
            // Read again: whoever wrote the end (this write, or one that beat it), it is in the record.
            continue;
          } catch (error) {
            process.stderr.write(`Process ${this.spec.name}: could not record its worker's death: ${text(error)}\n`);
          }
        }
      }
      await this.sleep(delay);
      delay = Math.min(MAX_POLL_MS, delay * 2);
    }
  }

  /** The exit code and error a record of an ended process says. */
  private fromRecord(record: ProcessRecord): number {
    const code = record.code ?? 1;
    const name = this.spec.name;
    let error: Error | undefined;
    if (record.end === 'died')
      error = new ProcessWorkerDiedError(record.error ?? diedReason(name, this.leaseMs), {
        processName: name,
        leaseMs: record.leaseMs ?? this.leaseMs,
      });
    else if (record.end === 'tooLong')
      error = new ProcessTooLongError(record.error ?? `Process '${name}' ran too long.`, {
        processName: name,
        ranMs: record.ranMs ?? 0,
      });
    else if (record.error) error = remoteError(record.error, this.spec.target.name);
    return this.finish(code, error, record.end === 'error' ? record.error : undefined);
  }

  private finish(code: number, error: Error | undefined, printed?: string): number {
    this.ended = true;
    this.error = error;
    // As on the local backend: the target's error is printed under the process's name.
    if (printed !== undefined) process.stderr.write(`Process ${this.spec.name}:\n${printed}\n`);
    else if (error) process.stderr.write(`Process ${this.spec.name}:\n${error.name}: ${error.message}\n`);
    return code;
  }

  /** Waits `ms` (with jitter), or less when a stop request was just written. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms * (0.75 + Math.random() / 2));
      // A daemon never keeps the program alive (nor does its remote thread: it is not stopped at exit).
      if (this.spec.daemon) timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

/**
 * Why a process whose lease went unrenewed is reported dead (the text of its `ProcessWorkerDiedError`).
 *
 * @example
 * ```ts
 * diedReason('Process-1', 10_000); // "The worker running process 'Process-1' died ..."
 * ```
 */
export function diedReason(name: string, leaseMs: number): string {
  return (
    `The worker running process '${name}' died before its target ended: its lease of ${leaseMs.toLocaleString('en-US')} ms ` +
    'went by without a renewal (its Lambda environment or fleet process ended). The target is not run again.'
  );
}

/** The target's error as printed under `Process <name>:` (its stack), as a RemoteError. */
function remoteError(printed: string, taskName: string): RemoteError {
  const first = printed.split('\n', 1)[0] ?? '';
  const match = /^([A-Za-z_$][\w$]*): ([^]*)$/.exec(first);
  return new RemoteError({ name: match?.[1] ?? 'Error', message: match?.[2] ?? first, stack: printed }, taskName);
}

function text(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
