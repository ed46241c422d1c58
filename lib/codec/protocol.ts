/**
 * The wire protocol: every message that crosses a thread or network boundary is one of the
 * typed messages below, framed by {@link encodeFrame} and encoded by the one codec.
 *
 * A frame is `[0xFA, version, u32 header length (LE), header, payload]`. The header is a
 * message object encoded with {@link ValueEncoder}; the payload is a sequence of encoded values
 * (task arguments or results) kept apart so that it can be built once at submit time and
 * passed along (to a thread, an SQS message or S3) without re-encoding.
 */
import { ProtocolError, type RemoteErrorInfo } from '../errors.js';
import { ValueDecoder } from './ValueDecoder.js';
import { ValueEncoder } from './ValueEncoder.js';

export const PROTOCOL_VERSION = 1;
const MAGIC = 0xfa;
const PREFIX_BYTES = 6;

/** Names a task, and the module that defines it (a file: URL) when it is known. */
export interface TaskRef {
  name: string;
  module?: string;
}

/** Parent → worker, once, when a local worker starts. */
export interface InitMessage {
  type: 'init';
  /** Modules to import before any task runs (the pool's `tasks` option). */
  taskModules: string[];
  /** Run once with the payload's single value (an argument array) before the first task. */
  initializer?: TaskRef;
}

/**
 * Run a chunk: the payload holds `count` encoded values, each an argument array (`spread`) or a
 * single argument.
 */
export interface RunMessage {
  type: 'run';
  chunk: number;
  task: TaskRef;
  count: number;
  spread: boolean;
}

/** Worker → parent: the worker finished its init (or failed it). */
export interface ReadyMessage {
  type: 'ready';
  error?: FailureInfo;
}

/**
 * Worker → parent: results for items `from .. from + count - 1` of a chunk (a chunk may report
 * in several parts). The payload holds `count` encoded results; a failed item's slot holds
 * `undefined` and its error is in `errors`.
 */
export interface ResultsMessage {
  type: 'results';
  chunk: number;
  from: number;
  count: number;
  errors: Array<[index: number, error: ItemError]>;
  /** True on the chunk's last part. */
  final: boolean;
  /** Milliseconds the worker spent running this part's items. */
  busyMs: number;
}

/** Worker → parent: the whole chunk could not run (unknown task, module failed to load). */
export interface ChunkFailedMessage {
  type: 'chunkFailed';
  chunk: number;
  error: FailureInfo;
}

/** Why one item failed: the task threw (`remote`), or fanout could not handle it (`failure`). */
export type ItemError = { remote: RemoteErrorInfo } | { failure: FailureInfo };

/** A fanout error raised in a worker, re-created on the parent side by its code. */
export interface FailureInfo {
  code: string;
  message: string;
  taskName?: string;
  module?: string;
  knownTasks?: string[];
  cause?: RemoteErrorInfo;
}

/**
 * Client → worker over the network (aws backend): one chunk of a pool's work. The payload is
 * the chunk's encoded items (as in {@link RunMessage}), unless `payloadKey` names the object
 * in the payload bucket that holds them (a claim check for chunks too big for a message).
 */
export interface JobChunkMessage {
  type: 'jobChunk';
  /** The pool run the chunk belongs to: the partition its result is written to. */
  job: string;
  /** The chunk's number within the run: its result's key. */
  chunk: number;
  task: TaskRef;
  count: number;
  spread: boolean;
  /** Epoch seconds after which the chunk's records may be deleted (the table's TTL). */
  expiresAt: number;
  payloadKey?: string;
  /** How the worker's thread pool for this run is set up (the Pool's options). */
  setup?: JobSetup;
  /** The job the chunk belongs to (a map call's, or the API's): workers skip chunks of a cancelled job. */
  jobId?: string;
  /** The position of the chunk's first item in its job's input, recorded with its result. */
  item?: number;
  /** A speculative copy of a straggling chunk (the Pool's `speculate`): recorded with its run, if it wins. */
  copy?: boolean;
}

/** The Pool options a worker needs to run a run's chunks as the local backend would. */
export interface JobSetup {
  taskModules: string[];
  initializer?: TaskRef;
  /** The initializer's encoded argument array. */
  initArgs?: Uint8Array;
  maxTasksPerChild?: number;
}

export type WorkerBoundMessage = InitMessage | RunMessage | JobChunkMessage;
export type ParentBoundMessage = ReadyMessage | ResultsMessage | ChunkFailedMessage;
export type Message = WorkerBoundMessage | ParentBoundMessage;

/** A decoded frame: the message and a view of its payload. */
export interface Frame<M extends Message = Message> {
  message: M;
  payload: Uint8Array;
}

/**
 * Each message type's fields, in wire order. A header travels as an array
 * `[type index, ...field values]` rather than as an object: no key strings to encode and
 * decode on the hot path. Append new message types and new (optional) fields at the end.
 */
const schemas = {
  init: ['taskModules', 'initializer'],
  run: ['chunk', 'task', 'count', 'spread'],
  ready: ['error'],
  results: ['chunk', 'from', 'count', 'errors', 'final', 'busyMs'],
  chunkFailed: ['chunk', 'error'],
  jobChunk: ['job', 'chunk', 'task', 'count', 'spread', 'expiresAt', 'payloadKey', 'setup', 'jobId', 'item', 'copy'],
} as const satisfies { [T in Message['type']]: ReadonlyArray<keyof Extract<Message, { type: T }>> };

const typeNames = Object.keys(schemas) as Array<Message['type']>;
const typeIndex = new Map<string, number>(typeNames.map((name, index) => [name, index]));
const frameEncoder = new ValueEncoder();
const prefixPlaceholder = new Uint8Array(PREFIX_BYTES);
/** Payloads up to this size are framed in the encoder's buffer; larger ones in their own. */
const SINGLE_BUFFER_MAX_PAYLOAD = 64 * 1024;

/**
 * Frames a message with its payload into one byte array.
 *
 * @example
 * ```ts
 * const bytes = encodeFrame({ type: 'ready' });
 * decodeFrame(bytes).message.type; // 'ready'
 * ```
 */
export function encodeFrame(message: Message, payload?: Uint8Array): Uint8Array {
  const payloadLength = payload?.length ?? 0;
  if (payloadLength <= SINGLE_BUFFER_MAX_PAYLOAD) {
    writeFrame(message, payload);
    return frameEncoder.finish();
  }
  // A large payload is copied once, into a frame of its own size.
  writeFrame(message, undefined);
  const head = frameEncoder.finish();
  const frame = new Uint8Array(head.length + payloadLength);
  frame.set(head);
  frame.set(payload!, head.length);
  return frame;
}

/**
 * Frames a message for another thread of this process: a latin1 string when the frame is small
 * (cheaper to post than bytes, see threadTransport.ts), otherwise bytes.
 *
 * @example
 * ```ts
 * port.postMessage(encodeFrameForThread({ type: 'ready' }));
 * ```
 */
export function encodeFrameForThread(message: Message, payload?: Uint8Array): string | Uint8Array {
  if ((payload?.length ?? 0) > STRING_FRAME_MAX_BYTES) return encodeFrame(message, payload);
  writeFrame(message, payload);
  if (frameEncoder.length > STRING_FRAME_MAX_BYTES) return frameEncoder.finish();
  return frameEncoder.finishAsLatin1();
}

/** Frames up to this size travel between threads as latin1 strings. */
export const STRING_FRAME_MAX_BYTES = 1024;

/** Writes prefix, header and (optionally) payload into the frame encoder. */
function writeFrame(message: Message, payload: Uint8Array | undefined): void {
  const index = typeIndex.get(message.type);
  if (index === undefined) throw new ProtocolError(`Unknown message type '${String(message.type)}'.`);
  const fields = schemas[message.type] as readonly string[];
  const tuple = new Array<unknown>(fields.length + 1);
  tuple[0] = index;
  for (let i = 0; i < fields.length; i++) tuple[i + 1] = (message as unknown as Record<string, unknown>)[fields[i]!];
  const encoder = frameEncoder;
  encoder.writeRaw(prefixPlaceholder);
  try {
    encoder.write(tuple, () => `the '${message.type}' message`);
  } catch (error) {
    encoder.reset();
    throw error;
  }
  const headerLength = encoder.length - PREFIX_BYTES;
  encoder.setByte(0, MAGIC);
  encoder.setByte(1, PROTOCOL_VERSION);
  encoder.setByte(2, headerLength & 0xff);
  encoder.setByte(3, (headerLength >>> 8) & 0xff);
  encoder.setByte(4, (headerLength >>> 16) & 0xff);
  encoder.setByte(5, headerLength >>> 24);
  if (payload) encoder.writeRaw(payload);
}

/**
 * Reads a frame made by {@link encodeFrame}. The payload is a view into `bytes`, not a copy.
 *
 * @example
 * ```ts
 * const { message, payload } = decodeFrame(bytes);
 * ```
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < PREFIX_BYTES || bytes[0] !== MAGIC) {
    throw new ProtocolError('Not a fanout message (bad magic byte or too short).');
  }
  if (bytes[1] !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `fanout protocol version ${String(bytes[1])} cannot be read by this version (which speaks ${PROTOCOL_VERSION}); ` +
        'run the same fanout version on both sides.',
    );
  }
  const headerLength = (bytes[2]! | (bytes[3]! << 8) | (bytes[4]! << 16)) + bytes[5]! * 0x1000000;
  const payloadStart = PREFIX_BYTES + headerLength;
  if (payloadStart > bytes.length) throw new ProtocolError('Truncated fanout message header.');
  const tuple = new ValueDecoder(bytes.subarray(PREFIX_BYTES, payloadStart)).read();
  const type = Array.isArray(tuple) ? typeNames[tuple[0] as number] : undefined;
  if (type === undefined) throw new ProtocolError('fanout message header has no known type.');
  const fields = schemas[type] as readonly string[];
  const message: Record<string, unknown> = { type };
  for (let i = 0; i < fields.length; i++) {
    const value = (tuple as unknown[])[i + 1];
    if (value !== undefined) message[fields[i]!] = value;
  }
  return { message: message as unknown as Message, payload: bytes.subarray(payloadStart) };
}
