import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { JobChunkMessage } from '../../codec/protocol.js';
import { CHUNK_ATTRIBUTE, RECEIVES_ATTRIBUTE, RUN_ATTRIBUTE, SQS_MAX_BATCH_ENTRIES } from './chunkMessages.js';
import type { TaskQueue, VisibilityChange } from './TaskQueue.js';
import { errorText } from '../../util/errorText.js';

interface PendingChange {
  receiptHandle: string;
  seconds: number;
  resolve(accepted: boolean): void;
}

interface PendingCopy {
  body: string;
  message: JobChunkMessage;
  receives: number;
  resolve(sent: boolean): void;
}

/**
 * The worker's changes to received messages, gathered over a tick and sent ten to a request:
 * visibility changes (ChangeMessageVisibilityBatch: handing a message back at once, releasing
 * it after a back-off, or keeping it hidden while its chunk runs) and fresh copies of messages
 * (SendMessageBatch) that replace ones handed back too often for their receive count.
 * A failed request resolves its entries to false; nothing here throws.
 *
 * @example
 * ```ts
 * const releaser = new MessageReleaser(queue);
 * await releaser.setVisibility(record.receiptHandle, 0); // true: visible again at once
 * ```
 */
export class MessageReleaser {
  private changes: PendingChange[] = [];
  private copies: PendingCopy[] = [];
  private scheduled = false;
  /** Receipt handles whose visibility change is in flight. */
  private readonly sending = new Set<string>();

  constructor(
    private readonly queue: TaskQueue,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  /** Makes a received message visible `seconds` from now; resolves to whether SQS accepted it. */
  setVisibility(receiptHandle: string, seconds: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.changes.push({ receiptHandle, seconds, resolve });
      this.schedule();
    });
  }

  /**
   * Sends a fresh copy of a chunk message (its receive count starts again), noting that the chunk
   * was received `receives` times before; resolves to whether it was sent.
   */
  sendCopy(body: string, message: JobChunkMessage, receives: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.copies.push({ body, message, receives, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // The last change of a message wins (a heartbeat and a hand-back in the same tick), and
      // waits for one still in flight: requests on different sockets may arrive out of order.
      const latest = new Map<string, PendingChange>();
      const later: PendingChange[] = [];
      for (const change of this.changes.splice(0)) {
        if (this.sending.has(change.receiptHandle)) {
          later.push(change);
          continue;
        }
        latest.get(change.receiptHandle)?.resolve(true);
        latest.delete(change.receiptHandle);
        latest.set(change.receiptHandle, change);
      }
      this.changes.push(...later);
      const changes = [...latest.values()];
      const copies = this.copies.splice(0);
      for (let start = 0; start < changes.length; start += SQS_MAX_BATCH_ENTRIES)
        void this.sendChanges(changes.slice(start, start + SQS_MAX_BATCH_ENTRIES));
      for (let start = 0; start < copies.length; start += SQS_MAX_BATCH_ENTRIES)
        void this.sendCopies(copies.slice(start, start + SQS_MAX_BATCH_ENTRIES));
    });
  }

  private async sendChanges(batch: PendingChange[]): Promise<void> {
    for (const change of batch) this.sending.add(change.receiptHandle);
    try {
      await this.sendChangeBatch(batch);
    } finally {
      for (const change of batch) this.sending.delete(change.receiptHandle);
      if (this.changes.length > 0) this.schedule();
    }
  }

  private async sendChangeBatch(batch: PendingChange[]): Promise<void> {
    const entries: VisibilityChange[] = batch.map((change, index) => ({
      id: String(index),
      receiptHandle: change.receiptHandle,
      seconds: change.seconds,
    }));
    let refused: Set<string>;
    try {
      const failed = await this.queue.changeVisibility(entries);
      refused = new Set(failed.map((entry) => entry.id));
      // A message received again elsewhere meanwhile refuses its old receipt handle: nothing to do.
      if (failed.length > 0) this.log(`fanout worker: SQS refused ${failed.length} visibility changes (${failed[0]!.reason})`);
    } catch (error) {
      this.log(`fanout worker: could not change the visibility of ${batch.length} messages: ${errorText(error)}`);
      refused = new Set(entries.map((entry) => entry.id));
    }
    batch.forEach((change, index) => change.resolve(!refused.has(String(index))));
  }

  private async sendCopies(batch: PendingCopy[]): Promise<void> {
    const entries: SendMessageBatchRequestEntry[] = batch.map(({ body, message, receives }, index) => ({
      Id: String(index),
      MessageBody: body,
      MessageAttributes: {
        [RUN_ATTRIBUTE]: { DataType: 'String', StringValue: message.job },
        [CHUNK_ATTRIBUTE]: { DataType: 'Number', StringValue: String(message.chunk) },
        [RECEIVES_ATTRIBUTE]: { DataType: 'Number', StringValue: String(receives) },
      },
    }));
    let refused: Set<string>;
    try {
      const failed = await this.queue.sendBatch(entries);
      refused = new Set(failed.map((entry) => entry.id));
      if (failed.length > 0) this.log(`fanout worker: SQS refused ${failed.length} message copies (${failed[0]!.reason})`);
    } catch (error) {
      this.log(`fanout worker: could not send ${batch.length} message copies: ${errorText(error)}`);
      refused = new Set(entries.map((entry) => entry.Id!));
    }
    batch.forEach((copy, index) => copy.resolve(!refused.has(String(index))));
  }
}
