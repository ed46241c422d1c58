import type { TransferListItem } from 'node:worker_threads';
/**
 * The main module of a local worker thread: receives frames from the parent, runs chunks one
 * after another with a {@link ChunkRunner}, and sends the results back.
 *
 * `workerData` carries the init frame, so the worker starts without a round trip.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFrame, encodeFrame, type InitMessage, type RunMessage } from '../codec/protocol.js';
import { ValueDecoder } from '../codec/ValueDecoder.js';
import { InitializerError } from '../errors.js';
import { ChunkRunner } from './ChunkRunner.js';
import { TaskRegistry } from './TaskRegistry.js';
import { toFailureInfo, toRemoteErrorInfo } from './errorInfo.js';
import { reviveHandle } from './handles.js';
import '../backends/local/handleKinds.js';

/** What the parent posts: a frame alone, or a frame with the attachments of its handles. */
export type PostedFrame = ArrayBuffer | { frame: ArrayBuffer; attachments: unknown[] };

if (!parentPort) throw new Error('fanout: workerThread.ts must run in a worker thread.');
const port = parentPort;

function post(frame: Uint8Array, attachments: unknown[], transfer: TransferListItem[]): void {
  const buffer = frame.buffer as ArrayBuffer;
  if (attachments.length === 0) port.postMessage(buffer, [buffer]);
  else port.postMessage({ frame: buffer, attachments }, [buffer, ...transfer]);
}

const runner = new ChunkRunner(post, reviveHandle);

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

// Chunks run strictly one after another, in the order they were sent.
let queue: Promise<unknown> = initialize(workerData as { init: Uint8Array; attachments?: unknown[] });
const failedInit = queue.then(
  () => false,
  () => true,
);

port.on('message', (data: PostedFrame) => {
  const bytes = new Uint8Array(data instanceof ArrayBuffer ? data : data.frame);
  const attachments = data instanceof ArrayBuffer ? [] : data.attachments;
  queue = queue.then(
    () => {
      const { message, payload } = decodeFrame(bytes);
      return runner.run(message as RunMessage, payload, attachments);
    },
    // After a failed init the worker refuses its chunks; the parent has already been told why.
    () => failedInit,
  );
});
