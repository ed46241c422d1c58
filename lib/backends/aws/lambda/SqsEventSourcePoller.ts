import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { batchVerdict } from './batchResponse.js';
import type { InvocationRecord } from './invocation.js';
import type { SqsEventSourceSpec } from '../stackTemplate.js';
import { errorText } from '../../../util/errorText.js';
import { sleep } from '../../../util/sleep.js';
import { toSqsRecord } from '../sqsRecord.js';

/** Options of {@link SqsEventSourcePoller}. */
export interface SqsEventSourcePollerOptions {
  source: SqsEventSourceSpec;
  sqs: SQSClient;
  region: string;
  /** Pollers, each with at most one invocation in flight. */
  pollers: number;
  /** Long-poll wait of each receive, 0–20 s (Lambda's pollers wait 20 s). */
  waitTimeSeconds: number;
  /** Invokes the function with a batch; undefined when the function was stopped before it could. */
  invoke: (event: SQSEvent) => Promise<InvocationRecord | undefined>;
  log: (line: string) => void;
}

/** What an event source has done. */
export interface SqsEventSourceStats {
  /** Invocations made with a batch. */
  batches: number;
  messagesReceived: number;
  /** Messages deleted after their invocation succeeded for them. */
  messagesDeleted: number;
  /** Messages left to come back after the visibility timeout (failed items, failed invocations). */
  messagesFailed: number;
}

/** SQS allows 10 entries per batch request. */
const SQS_BATCH_LIMIT = 10;

/**
 * Lambda's SQS event source for one mapping: pollers long-poll the queue (with the queue's own
 * visibility timeout, as Lambda does), gather up to `BatchSize` messages (for at most
 * `MaximumBatchingWindowInSeconds`), invoke the function with them as an SQS event, then delete
 * the messages that succeeded — all of them, or all but the `batchItemFailures` with
 * `ReportBatchItemFailures`. Failed messages are left alone: they come back when their visibility
 * timeout ends, and go to the dead-letter queue after `maxReceiveCount` receives. FIFO ordering
 * by message group is not emulated.
 *
 * @example
 * ```ts
 * const poller = new SqsEventSourcePoller({ source, sqs, region, pollers: 2, waitTimeSeconds: 20, invoke, log });
 * poller.start();
 * await poller.stop();
 * ```
 */
export class SqsEventSourcePoller {
  private readonly abort = new AbortController();
  private readonly statistics: SqsEventSourceStats = { batches: 0, messagesReceived: 0, messagesDeleted: 0, messagesFailed: 0 };
  private running: Promise<void> | undefined;

  constructor(private readonly options: SqsEventSourcePollerOptions) {}

  /** Starts the pollers. */
  start(): void {
    if (this.running) return;
    this.running = Promise.all(Array.from({ length: this.options.pollers }, () => this.poll())).then(() => {});
  }

  /** Stops receiving (long polls end at once) and waits for the invocations in flight to end. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  stats(): SqsEventSourceStats {
    return { ...this.statistics };
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async poll(): Promise<void> {
    const { source, log } = this.options;
    while (!this.stopping) {
      let messages: Message[];
      try {
        messages = await this.receiveBatch();
      } catch (error) {
        if (this.stopping) break;
        log(`event source ${source.logicalId}: receive failed (${errorText(error)}); retrying in 1 s`);
        await sleep(1000, this.abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      if (this.stopping) {
        // Received as the runner stopped: hand them back now rather than after the visibility timeout.
        await this.release(messages);
        break;
      }
      this.statistics.messagesReceived += messages.length;
      const event: SQSEvent = {
        Records: messages.map((message) => toSqsRecord(message, this.options.source.queueArn, this.options.region)),
      };
      let record: InvocationRecord | undefined;
      try {
        record = await this.options.invoke(event);
      } catch (error) {
        // Not an outcome of the function: the runner could not invoke it. The messages come back.
        log(
          `event source ${source.logicalId}: could not invoke the function (${errorText(error)}); ${messages.length} messages left to the visibility timeout`,
        );
        this.statistics.messagesFailed += messages.length;
        continue;
      }
      if (!record) {
        await this.release(messages);
        break;
      }
      this.statistics.batches++;
      const ids = messages.map((message) => message.MessageId ?? '');
      const verdict = batchVerdict(record.outcome, ids, source.reportBatchItemFailures);
      this.statistics.messagesFailed += verdict.failedIds.size;
      if (verdict.wholeBatchReason) {
        log(
          `event source ${source.logicalId}: ${messages.length} messages left to the visibility timeout: ${verdict.wholeBatchReason}`,
        );
      }
      await this.delete(messages.filter((message) => !verdict.failedIds.has(message.MessageId ?? '')));
    }
  }

  /** One batch: a long poll, then more receives within the batching window. */
  private async receiveBatch(): Promise<Message[]> {
    const { batchSize, maximumBatchingWindowSeconds } = this.options.source;
    const messages = await this.receive(Math.min(SQS_BATCH_LIMIT, batchSize), this.options.waitTimeSeconds);
    if (messages.length === 0 || maximumBatchingWindowSeconds === 0) return messages;
    const windowEnds = Date.now() + maximumBatchingWindowSeconds * 1000;
    while (messages.length < batchSize && !this.stopping) {
      const remainingMs = windowEnds - Date.now();
      if (remainingMs <= 0) break;
      // Long polls wait whole seconds: the last fraction of the window is short polls.
      const waitSeconds = Math.min(20, Math.floor(remainingMs / 1000));
      if (waitSeconds === 0) await sleep(Math.min(remainingMs, 100), this.abort.signal);
      messages.push(...(await this.receive(Math.min(SQS_BATCH_LIMIT, batchSize - messages.length), waitSeconds)));
    }
    return messages;
  }

  private async receive(max: number, waitTimeSeconds: number): Promise<Message[]> {
    try {
      const received = await this.options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.source.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.abort.signal },
      );
      return received.Messages ?? [];
    } catch (error) {
      if (this.stopping) return [];
      throw error;
    }
  }

  private async delete(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
      const slice = messages.slice(start, start + SQS_BATCH_LIMIT);
      try {
        const deleted = await this.options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.source.queueUrl,
            Entries: slice.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
          }),
        );
        this.statistics.messagesDeleted += deleted.Successful?.length ?? 0;
        for (const failure of deleted.Failed ?? []) {
          this.options.log(`event source ${this.options.source.logicalId}: delete failed (${failure.Code}: ${failure.Message})`);
        }
      } catch (error) {
        this.options.log(
          `event source ${this.options.source.logicalId}: delete failed (${errorText(error)}); the messages will come back`,
        );
      }
    }
  }

  private async release(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
      await this.options.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.source.queueUrl,
            Entries: messages
              .slice(start, start + SQS_BATCH_LIMIT)
              .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })),
          }),
        )
        .catch(() => {});
    }
  }
}
