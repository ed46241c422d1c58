import type { TransferListItem } from 'node:worker_threads';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { decodeFrame, encodeFrame, encodeFrameForThread, type InitMessage, type RunMessage } from '../codec/protocol.js';
import { ValueDecoder } from '../codec/ValueDecoder.js';
import { adoptThreadBackend, type ThreadBackend } from '../backend/backends.js';
import { InitializerError } from '../errors.js';
import { ChunkRunner } from './ChunkRunner.js';
import { postFrame, receiveFrame, type PostedFrame } from '../codec/threadTransport.js';
import { TaskRegistry } from './TaskRegistry.js';
import { toFailureInfo, toRemoteErrorInfo } from './errorInfo.js';
import { reviveHandle } from './handles.js';
import { WAKE_COUNTER } from './workerSignals.js';

let started = false;

/**
 * The runtime of a worker thread: receives frames from the parent, runs chunks one after
 * another with a {@link ChunkRunner}, and sends the results back. `workerData` carries the
 * init frame, so the worker starts without a round trip. Called by a local worker thread's main
 * module, and by a Lambda bundle when it runs as one of the Lambda's worker threads.
 *
 * @example
 * ```ts
 * if (!isMainThread && workerData?.fanoutWorker) startWorkerThread();
 * ```
 */
export function startWorkerThread(): void {
  if (!parentPort) throw new Error('fanout: startWorkerThread() must run in a worker thread.');
  // Once per thread: a bundle that is its threads' script reaches this from more than one module.
  if (started) return;
  started = true;
  const port = parentPort;

  function post(frame: Uint8Array | string, attachments: unknown[], transfer: TransferListItem[]): void {
    postFrame(port, frame, attachments, transfer);
  }

  const data = workerData as { init: Uint8Array; attachments?: unknown[]; signals?: Int32Array; threadBackend?: ThreadBackend };
  adoptThreadBackend(data.threadBackend);
  const runner = new ChunkRunner<Uint8Array | string>(post, reviveHandle, undefined, data.signals, encodeFrameForThread);

  async function initialize(data: { init: Uint8Array; attachments?: unknown[] }): Promise<void> {
    const { message, payload } = decodeFrame(data.init);
    const init = message as InitMessage;
    try {
      const registry = TaskRegistry.current;
      for (const module of init.taskModules) await registry.load(module);
      if (init.initializer) {
        const entry = await registry.resolve(init.initializer);
        const args = new ValueDecoder(payload, data.attachments ?? [], reviveHandle).read() as unknown[];
        try {
          await entry.fn(...(args as never[]));
        } catch (thrown) {
          throw new InitializerError(`The pool's initializer '${init.initializer.name}' failed in a worker.`, thrown);
        }
      }
      post(encodeFrame({ type: 'ready' }), [], []);
    } catch (error) {
      const failure = toFailureInfo(error);
      if (error instanceof InitializerError) failure.cause = toRemoteErrorInfo(error.cause);
      post(encodeFrame({ type: 'ready', error: failure }), [], []);
      throw error;
    }
  }

  // Chunks run strictly one after another, in the order they were sent. While nothing is
  // pending, a chunk of synchronous tasks runs straight from the message, with no promise.
  let initFailed = false;
  const initialized: Promise<unknown> = initialize(data).then(
    () => {
      if (pending === initialized) pending = undefined;
    },
    () => {
      // After a failed init the worker refuses its chunks; the parent has already been told why.
      initFailed = true;
    },
  );
  let pending: Promise<unknown> | undefined = initialized;

  /** Runs (or queues) one posted chunk. Returns true if it left asynchronous work pending. */
  function handle(posted: PostedFrame): boolean {
    if (initFailed) return false;
    // Decoded at once unless chunks are pending, so the bytes may live in a reused buffer.
    const { bytes, attachments } = receiveFrame(posted, pending === undefined);
    const runChunk = (): void | Promise<void> => {
      const { message, payload } = decodeFrame(bytes);
      return runner.run(message as RunMessage, payload, attachments);
    };
    const running = pending ? pending.then(() => (initFailed ? undefined : runChunk())) : runChunk();
    if (!running) return false;
    pending = running;
    void running.then(() => {
      if (pending === running) pending = undefined;
    });
    return true;
  }

  /** How long an idle worker blocks waiting for the next chunk before it returns to its event loop. */
  const IDLE_BLOCK_MS = 5;

  /**
   * After a synchronous chunk, block briefly on the wake counter instead of returning to the
   * event loop: the next chunk is then taken at once, without an event-loop wake-up (several µs).
   * Timers and I/O of tasks wait at most IDLE_BLOCK_MS; asynchronous work never blocks here.
   */
  function idle(): void {
    const signals = data.signals;
    if (!signals) return;
    const deadline = performance.now() + IDLE_BLOCK_MS;
    for (;;) {
      const seen = Atomics.load(signals, WAKE_COUNTER);
      let received = receiveMessageOnPort(port);
      while (received !== undefined) {
        if (handle(received.message as PostedFrame)) return;
        received = receiveMessageOnPort(port);
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0 || Atomics.wait(signals, WAKE_COUNTER, seen, remaining) === 'timed-out') return;
    }
  }

  port.on('message', (posted: PostedFrame) => {
    if (!handle(posted)) idle();
  });
}
