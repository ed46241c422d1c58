/**
 * How a frame travels between threads of one process. Small frames go as latin1 strings,
 * which structured clone copies several times faster than an ArrayBuffer; large ones as a
 * transferred ArrayBuffer (no copy). Attachments (SharedArrayBuffers, MessagePorts) ride along.
 */
import type { TransferListItem } from 'node:worker_threads';
import { STRING_FRAME_MAX_BYTES } from './protocol.js';

/** Buffer's native latin1 encoder, which works on any Uint8Array (no Buffer object per frame). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice;

/** What one thread posts to another. */
export type PostedFrame = string | ArrayBuffer | { frame: string | ArrayBuffer; attachments: unknown[] };

/** Something with a `postMessage` like a Worker or a MessagePort. */
export interface FrameTarget {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
}

/**
 * Posts a frame (and attachments) to another thread. A frame already made a string by
 * `encodeFrameForThread` is posted as it is. A frame already made a string by
 * `encodeFrameForThread` is posted as it is.
 *
 * @example
 * ```ts
 * postFrame(worker, encodeFrame({ type: 'ready' }), [], []);
 * ```
 */
export function postFrame(
  target: FrameTarget,
  frame: Uint8Array | string,
  attachments: unknown[],
  transfer: readonly TransferListItem[],
): void {
  let body: string | ArrayBuffer;
  let transferList: TransferListItem[] | undefined;
  if (typeof frame === 'string') {
    body = frame;
  } else if (frame.length <= STRING_FRAME_MAX_BYTES) {
    body = latin1Slice.call(frame, 0, frame.length) as string;
  } else {
    // Transfer the frame's own buffer when it is exactly the frame; otherwise copy it out once.
    const own = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength;
    body = (own ? frame.buffer : frame.slice().buffer) as ArrayBuffer;
    transferList = [body];
  }
  if (attachments.length === 0) {
    target.postMessage(body, transferList);
  } else {
    target.postMessage({ frame: body, attachments }, [...(transferList ?? []), ...transfer]);
  }
}

const noAttachments: unknown[] = [];
let scratch = new Uint8Array(STRING_FRAME_MAX_BYTES);
const latin1Write = (Buffer.prototype as unknown as { latin1Write(text: string, offset: number, length: number): number })
  .latin1Write;

/** A string frame's bytes in a buffer reused by the next call: for frames decoded at once. */
function toScratch(frame: string): Uint8Array {
  if (frame.length > scratch.length) scratch = new Uint8Array(frame.length);
  latin1Write.call(scratch, frame, 0, frame.length);
  return scratch.subarray(0, frame.length);
}

/**
 * Reads what {@link postFrame} sent: the frame bytes and the attachments. With `transient`, the
 * bytes of a small frame are only valid until the next call (no allocation): for a frame that is
 * decoded at once.
 *
 * @example
 * ```ts
 * port.on('message', (posted) => { const { bytes } = receiveFrame(posted); });
 * ```
 */
export function receiveFrame(posted: PostedFrame, transient = false): { bytes: Uint8Array; attachments: unknown[] } {
  if (typeof posted === 'string')
    return { bytes: transient ? toScratch(posted) : Buffer.from(posted, 'latin1'), attachments: noAttachments };
  if (posted instanceof ArrayBuffer) return { bytes: new Uint8Array(posted), attachments: [] };
  const frame = posted.frame;
  return {
    bytes: typeof frame === 'string' ? Buffer.from(frame, 'latin1') : new Uint8Array(frame),
    attachments: posted.attachments,
  };
}
