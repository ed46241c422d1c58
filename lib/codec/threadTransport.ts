/**
 * How a frame travels between threads of one process. Small frames go as latin1 strings,
 * which structured clone copies several times faster than an ArrayBuffer; large ones as a
 * transferred ArrayBuffer (no copy). Attachments (SharedArrayBuffers, MessagePorts) ride along.
 */
import type { TransferListItem } from 'node:worker_threads';

/** Frames up to this size travel as strings. */
const STRING_FRAME_MAX_BYTES = 1024;

/** What one thread posts to another. */
export type PostedFrame = string | ArrayBuffer | { frame: string | ArrayBuffer; attachments: unknown[] };

/** Something with a `postMessage` like a Worker or a MessagePort. */
export interface FrameTarget {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
}

/**
 * Posts a frame (and attachments) to another thread.
 *
 * @example
 * ```ts
 * postFrame(worker, encodeFrame({ type: 'ready' }), [], []);
 * ```
 */
export function postFrame(
  target: FrameTarget,
  frame: Uint8Array,
  attachments: unknown[],
  transfer: readonly TransferListItem[],
): void {
  let body: string | ArrayBuffer;
  let transferList: TransferListItem[] | undefined;
  if (frame.length <= STRING_FRAME_MAX_BYTES) {
    body = Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString('latin1');
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

/**
 * Reads what {@link postFrame} sent: the frame bytes and the attachments.
 *
 * @example
 * ```ts
 * port.on('message', (posted) => { const { bytes } = receiveFrame(posted); });
 * ```
 */
export function receiveFrame(posted: PostedFrame): { bytes: Uint8Array; attachments: unknown[] } {
  if (typeof posted === 'string') return { bytes: Buffer.from(posted, 'latin1'), attachments: [] };
  if (posted instanceof ArrayBuffer) return { bytes: new Uint8Array(posted), attachments: [] };
  const frame = posted.frame;
  return {
    bytes: typeof frame === 'string' ? Buffer.from(frame, 'latin1') : new Uint8Array(frame),
    attachments: posted.attachments,
  };
}
