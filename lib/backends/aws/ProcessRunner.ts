import type { SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { ThreadBackend } from '../../backend/backends.js';
import { ProcessTooLongError } from '../../errors.js';
import { threadExecArgv } from '../../runtime/threadScripts.js';
import { errorText } from '../../util/errorText.js';
import type { ProcessThreadData } from '../../runtime/ProcessThreadData.js';
import { diedReason } from './AwsProcess.js';
import { decodeProcessBody, type ProcessMessage } from './chunkMessages.js';
import { Heartbeat } from './Heartbeat.js';
import type { Invocation } from './Invocation.js';
import type { MessageReleaser } from './MessageReleaser.js';
import type { PayloadStore } from './PayloadStore.js';
import type { ProcessExit, ProcessStore } from './ProcessStore.js';

/** Options of {@link ProcessRunner}. */
export interface ProcessRunnerOptions {
  store: ProcessStore;
  payloads: PayloadStore;
  releaser: MessageReleaser;
  /** The script of a process thread (the local backend's, or a Lambda bundle that is its own threads' script). */
  script: URL;
  /** Find the target by name only (a Lambda bundle). */
  tasksByName: boolean;
  /** The task queue's visibility timeout in seconds (undefined when it could not be read). */
  visibilityTimeoutSeconds: () => Promise<number | undefined>;
  log: (line: string) => void;
  /** The targets' default backend: the aws backend of the worker's resources. */
  threadBackend: ThreadBackend;
}

/** The lease is renewed (and a stop request read) this many times per lease. */
const RENEWALS_PER_LEASE = 5;
/**
 * How often a running target's stop request is looked for between renewals: `terminate()` takes
 * effect within about this long. One GetItem (half a read unit, $0.0625 per million): 7,200 an
 * hour, under 0.1 cent, against about 8 cents an hour for a 1,769 MB arm64 Lambda.
 */
const STOP_POLL_MS = 500;
/** Tries of the exit record's write before the message is left for redelivery. */
const FINISH_TRIES = 4;
/** Characters of the target's stderr kept to find its error in. */
const STDERR_TAIL_CHARS = 64 * 1024;
/** Longest wait for the thread's stderr to end after it exited. */
const STDERR_DRAIN_MS = 1_000;

/**
 * The worker side of `Process` on the aws backend (see `AwsProcess`), for the chunk processor:
 * for each process message it claims the process's record (a conditional write, so the target
 * runs at most once however often the message is delivered), runs the target on a thread of its
 * own (the local backend's process thread), keeps the message hidden while it runs
 * ({@link Heartbeat}), renews its lease every fifth of it, looks for a stop request every half
 * second (terminate: the thread is ended, -15; kill: -9), and writes the exit: 0, 1 with what the target
 * printed under `Process <name>:` (its error), the `process.exit` code. The message is then done.
 *
 * A delivery that finds the process already claimed watches the record: an unchanged version
 * over a whole lease means its holder died, and it records that (exit -1,
 * `ProcessWorkerDiedError`) rather than run the target again; a changing one means the holder
 * lives, and the delivery is a duplicate, done at once. A target still running at the
 * invocation's stop time (the function timeout less a reserve) is stopped and recorded as too
 * long (exit -14, `ProcessTooLongError`): a Lambda cannot run it longer.
 *
 * @example
 * ```ts
 * const done = await runner.handle(record, invocation); // true: delete the message
 * ```
 */
export class ProcessRunner {
  private readonly threads = new Set<Worker>();

  constructor(private readonly options: ProcessRunnerOptions) {}

  /** Handles one process message; resolves to whether it is done with (to be deleted), never rejects. */
  async handle(record: SQSRecord, invocation: Invocation): Promise<boolean> {
    let message: ProcessMessage;
    try {
      message = decodeProcessBody(record.body);
    } catch (error) {
      // No client to report it to: redelivery takes it to the dead-letter queue.
      this.options.log(`fanout worker: message ${record.messageId} is not a fanout process: ${errorText(error)}`);
      return false;
    }
    const heartbeat = new Heartbeat(
      this.options.releaser,
      await this.options.visibilityTimeoutSeconds(),
      invocation.startedAt,
      () => [record.receiptHandle],
    );
    try {
      return await this.deliver(record, message, invocation);
    } catch (error) {
      this.options.log(`fanout worker: process '${message.name}' (${message.id}) will be redelivered: ${errorText(error)}`);
      await this.options.releaser.setVisibility(record.receiptHandle, 1);
      return false;
    } finally {
      heartbeat.stop();
    }
  }

  /** Stops the threads still running (the processor closes). */
  close(): void {
    for (const thread of this.threads) void thread.terminate();
  }

  private async deliver(record: SQSRecord, message: ProcessMessage, invocation: Invocation): Promise<boolean> {
    const { store } = this.options;
    const holder = `${record.messageId}/${randomUUID()}`;
    const claim = await store.claim(message.id, holder, message.leaseMs, message.expiresAt);
    if (!claim.claimed) return this.watchHolder(message, claim.record.status, claim.record.version, invocation, record);
    const args = message.argsKey
      ? await this.options.payloads.get(message.argsKey)
      : new Uint8Array(Buffer.from(message.args ?? '', 'base64'));
    const ran = await this.run(message, holder, args, invocation);
    if (ran.lost) {
      this.options.log(
        `fanout worker: process '${message.name}' (${message.id}) was ended elsewhere while it ran (its lease lapsed)`,
      );
      return true;
    }
    return this.finish(message, holder, ran);
  }

  /**
   * The process is claimed already: done if it ended, or if its holder renews its lease (a
   * duplicate delivery); if the version stays the same for a whole lease, its holder died.
   */
  private async watchHolder(
    message: ProcessMessage,
    status: 'started' | 'exited' | undefined,
    version: number,
    invocation: Invocation,
    record: SQSRecord,
  ): Promise<boolean> {
    if (status !== 'started') return true;
    const since = performance.now();
    const interval = message.leaseMs / RENEWALS_PER_LEASE;
    for (;;) {
      if (performance.now() + interval >= invocation.window.stopAt) {
        // No time left to judge it here: another delivery will.
        await this.options.releaser.setVisibility(record.receiptHandle, 0);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
      const now = await this.options.store.read(message.id);
      if (now.status !== 'started' || now.version !== version) return true;
      if (performance.now() - since >= message.leaseMs) {
        const reason = diedReason(message.name, message.leaseMs);
        if (await this.options.store.markDied(message.id, version, reason, -1)) this.options.log(`fanout worker: ${reason}`);
        return true;
      }
    }
  }

  /** Runs the target on a thread until it ends, is stopped, runs out of time, or loses its lease. */
  private run(
    message: ProcessMessage,
    holder: string,
    args: Uint8Array,
    invocation: Invocation,
  ): Promise<(ProcessExit & { lost?: false }) | { lost: true }> {
    const { script, store, log } = this.options;
    const data: ProcessThreadData = {
      fanoutProcess: true,
      fanoutScript: script.href,
      target: this.options.tasksByName ? { name: message.target.name } : message.target,
      args,
      attachments: [],
      name: message.name,
      daemon: message.daemon,
      identity: message.identity,
      parent: message.parent,
      // As the client numbers it (AwsProcess.pid), so that currentProcess().pid agrees.
      pid: Number.parseInt(message.id.slice(0, 7), 16),
      threadBackend: this.options.threadBackend,
    };
    const startedAt = performance.now();
    const thread = new Worker(script, { execArgv: threadExecArgv(), workerData: data, stdout: false, stderr: true });
    this.threads.add(thread);
    // The target's stderr goes on to the worker's, and its end is kept: the error it printed.
    let tail = '';
    const keep = (text: string) => {
      tail = (tail + text).slice(-STDERR_TAIL_CHARS);
    };
    thread.stderr.setEncoding('utf8');
    thread.stderr.on('data', (chunk: string) => {
      process.stderr.write(chunk);
      keep(chunk);
    });
    const drained = new Promise<void>((resolve) => {
      thread.stderr.once('end', resolve);
      thread.stderr.once('close', resolve);
    });
    thread.on('error', (error) => keep(`Process ${message.name}:\n${error.stack ?? String(error)}\n`));
    let stoppedBy: number | undefined;
    let lost = false;
    let tooLong = false;
    const renewal = setInterval(() => {
      store.renew(message.id, holder).then(
        (renewed) => {
          if (renewed.lost) {
            lost = true;
            void thread.terminate();
          } else if (renewed.stop !== undefined && stoppedBy === undefined) {
            stoppedBy = renewed.stop;
            void thread.terminate();
          }
        },
        // A lease renewal that failed: the next one may pass; if none does, the process is judged dead.
        (error: unknown) => log(`fanout worker: could not renew the lease of process '${message.name}': ${errorText(error)}`),
      );
    }, message.leaseMs / RENEWALS_PER_LEASE);
    let polling = false;
    const stopPoll = setInterval(() => {
      if (polling || stoppedBy !== undefined) return;
      polling = true;
      store.stopRequest(message.id).then(
        (signal) => {
          polling = false;
          if (signal !== undefined && stoppedBy === undefined) {
            stoppedBy = signal;
            void thread.terminate();
          }
        },
        // The renewals read the stop request too: a failed poll only delays a stop.
        () => (polling = false),
      );
    }, STOP_POLL_MS);
    const deadline = Number.isFinite(invocation.window.stopAt)
      ? setTimeout(
          () => {
            tooLong = true;
            void thread.terminate();
          },
          Math.max(0, invocation.window.stopAt - performance.now()),
        )
      : undefined;
    return new Promise((resolve) => {
      thread.once('exit', (exitCode) => {
        this.threads.delete(thread);
        clearInterval(renewal);
        clearInterval(stopPoll);
        clearTimeout(deadline);
        void Promise.race([drained, new Promise((wait) => setTimeout(wait, STDERR_DRAIN_MS))]).then(() => {
          if (lost) return resolve({ lost: true });
          const ranMs = performance.now() - startedAt;
          if (stoppedBy !== undefined) return resolve({ code: -stoppedBy, end: 'stopped', ranMs });
          if (tooLong) {
            const error = new ProcessTooLongError(
              `Process '${message.name}' (target '${message.target.name}') ran ${Math.round(ranMs).toLocaleString('en-US')} ms ` +
                `and was stopped: its worker's invocation was about to time out (the worker function's timeout of ` +
                // In seconds to a tenth: the time an invocation is left at its start is the timeout less a ms or two.
                `${((invocation.deadlineAt - invocation.startedAt) / 1000).toFixed(1)} s, less a reserve to record this). ` +
                "A Lambda cannot run a target longer: raise the worker function's timeout (the Fanout construct's " +
                'workerTimeout, at most 15 minutes), or split the work into Pool tasks.',
              { processName: message.name, ranMs },
            );
            log(`fanout worker: ${error.message}`);
            return resolve({ code: ProcessTooLongError.exitCode, end: 'tooLong', error: error.message, ranMs });
          }
          const header = `Process ${message.name}:\n`;
          const at = tail.lastIndexOf(header);
          if (exitCode === 1 && at >= 0) {
            return resolve({ code: 1, end: 'error', error: tail.slice(at + header.length).replace(/\n$/, ''), ranMs });
          }
          resolve({ code: exitCode, end: 'returned', ranMs });
        });
      });
    });
  }

  /** Writes the exit (tried a few times); false leaves the message for redelivery. */
  private async finish(message: ProcessMessage, holder: string, end: ProcessExit): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        // Refused: the record is no longer this holder's (judged dead meanwhile): its end stands.
        await this.options.store.finish(message.id, holder, end);
        return true;
      } catch (error) {
        if (attempt >= FINISH_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}
