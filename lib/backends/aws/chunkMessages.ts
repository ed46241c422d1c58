/**
 * How chunks and their results are laid out on SQS, DynamoDB and S3: the limits that decide
 * between inline and claim check, the message attributes, and the object keys.
 */
import type { ProcessIdentity } from '../../backend/ProcessEngine.js';
import { decodeFrame, encodeFrame, type JobChunkMessage, type TaskRef } from '../../codec/protocol.js';
import { ProtocolError } from '../../errors.js';

/** SQS takes at most 1 MiB per message and per SendMessageBatch request, and 10 entries. */
export const SQS_MAX_REQUEST_BYTES = 1024 * 1024;
export const SQS_MAX_BATCH_ENTRIES = 10;
/**
 * Frames above this size go to S3. 192 KiB is 256 KiB of base64: four such messages still fit a
 * 1 MiB batch, and a message stays far under the 1 MiB limit whatever the attributes.
 */
export const INLINE_CHUNK_BYTES = 192 * 1024;
/** A chunk is split so that its message body fits one 64 KB SQS billing unit (when items allow). */
export const TARGET_MESSAGE_BYTES = 60 * 1024;
/** Result frames above this size go to S3 (a DynamoDB item holds at most 400 KB). */
export const INLINE_RESULT_BYTES = 350 * 1024;

/** Message attributes: let a dead-letter watcher see a message's run and chunk without decoding. */
export const RUN_ATTRIBUTE = 'fanoutRun';
export const CHUNK_ATTRIBUTE = 'fanoutChunk';
/**
 * On a fresh copy of a chunk message that a worker handed back (its receive count starts again):
 * how often the chunk was received before, so that workers still run it before newer chunks.
 */
export const RECEIVES_ATTRIBUTE = 'fanoutReceives';

/** The S3 key of a chunk's arguments. */
export function argumentsKey(run: string, chunk: number): string {
  return `runs/${run}/args/${chunk}`;
}

/** The S3 key of one attempt's results (unique per attempt: only the recorded attempt's object is read). */
export function resultsKey(run: string, chunk: number, attempt: string): string {
  return `runs/${run}/results/${chunk}-${attempt}`;
}

/** The SQS body of a chunk message: its frame in base64 (SQS bodies are text). */
export function encodeChunkBody(message: JobChunkMessage, payload: Uint8Array | undefined): string {
  return Buffer.from(encodeFrame(message, payload)).toString('base64');
}

/** Reads an SQS body made by {@link encodeChunkBody}. Throws `ProtocolError` if it is not one. */
export function decodeChunkBody(body: string): { message: JobChunkMessage; payload: Uint8Array } {
  const bytes = Buffer.from(body, 'base64');
  const { message, payload } = decodeFrame(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (message.type !== 'jobChunk')
    throw new ProtocolError(`Expected a 'jobChunk' message on the task queue, got '${message.type}'.`);
  return { message, payload };
}

/**
 * A `Process` to run on a worker (see `AwsProcess`). Its SQS body is JSON, which no chunk body
 * (base64) can be mistaken for: a chunk body never starts with `{`.
 */
export interface ProcessMessage {
  type: 'fanoutProcess';
  /** The process's id: its record is `objectKey('process', id, 'state')`. */
  id: string;
  target: TaskRef;
  /** The argument array, encoded as one value, in base64; or `argsKey`, its S3 key. */
  args?: string;
  argsKey?: string;
  name: string;
  daemon: boolean;
  identity: number[];
  parent: ProcessIdentity;
  /** The lease of the worker running it: renewed every fifth of it; unrenewed for a whole lease, it has died. */
  leaseMs: number;
  /** The TTL value of its records (epoch seconds). */
  expiresAt: number;
}

/**
 * The S3 key of a process's arguments too big for its message.
 *
 * @example
 * ```ts
 * processArgumentsKey('9f2c'); // 'processes/9f2c/args'
 * ```
 */
export function processArgumentsKey(id: string): string {
  return `processes/${id}/args`;
}

/**
 * The SQS body of a process message.
 *
 * @example
 * ```ts
 * await queue.sendBatch([{ Id: '0', MessageBody: encodeProcessBody(message) }]);
 * ```
 */
export function encodeProcessBody(message: ProcessMessage): string {
  return JSON.stringify(message);
}

/**
 * Whether an SQS body is a process message (else it is taken for a chunk).
 *
 * @example
 * ```ts
 * if (isProcessBody(record.body)) await runner.handle(record, invocation);
 * ```
 */
export function isProcessBody(body: string): boolean {
  return body.startsWith('{');
}

/**
 * Reads an SQS body made by {@link encodeProcessBody}. Throws `ProtocolError` if it is not one.
 *
 * @example
 * ```ts
 * const { id, target, leaseMs } = decodeProcessBody(record.body);
 * ```
 */
export function decodeProcessBody(body: string): ProcessMessage {
  let message: Partial<ProcessMessage>;
  try {
    message = JSON.parse(body) as Partial<ProcessMessage>;
  } catch (error) {
    throw new ProtocolError(`A process message on the task queue is not JSON: ${(error as Error).message}`);
  }
  if (
    message?.type !== 'fanoutProcess' ||
    typeof message.id !== 'string' ||
    typeof message.target?.name !== 'string' ||
    typeof message.name !== 'string' ||
    typeof message.leaseMs !== 'number' ||
    typeof message.expiresAt !== 'number' ||
    (typeof message.args !== 'string' && typeof message.argsKey !== 'string')
  ) {
    throw new ProtocolError(`Expected a 'fanoutProcess' message on the task queue, got ${body.slice(0, 200)}`);
  }
  return message as ProcessMessage;
}
