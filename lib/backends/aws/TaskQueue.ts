import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Seconds a received dead letter stays hidden from other clients. */
const DEAD_LETTER_VISIBILITY_SECONDS = 2;

/** What a worker needs to know of the task queue. */
export interface QueueSettings {
  /** The queue's visibility timeout, in seconds. */
  visibilityTimeoutSeconds: number;
  /** Receives before SQS moves a message to the dead-letter queue; undefined without a redrive policy. */
  maxReceiveCount: number | undefined;
}

/** A received message whose visibility to change: `seconds` from now (0: visible at once). */
export interface VisibilityChange {
  id: string;
  receiptHandle: string;
  seconds: number;
}

/** An entry SQS refused in a batch, with its reason. */
export interface RefusedEntry {
  id: string;
  reason: string;
}

/**
 * The task queue and its dead-letter queue. The client's side: sending chunk messages in
 * batches, watching whether anyone receives them, and reading back the ones that ended in the
 * dead-letter queue. The worker's side: the queue's settings, and changing the visibility of
 * received messages (handing them back, or keeping them hidden while they run).
 *
 * @example
 * ```ts
 * const queue = new TaskQueue(clients.sqs, config.queueUrl, config.deadLetterQueueUrl);
 * const refused = await queue.sendBatch(entries);
 * ```
 */
export class TaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    readonly url: string,
    public deadLetterUrl: string | undefined,
  ) {}

  /** Sends up to ten messages; resolves to the entries SQS refused. */
  async sendBatch(entries: SendMessageBatchRequestEntry[]): Promise<RefusedEntry[]> {
    const response = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.url, Entries: entries }));
    return (response.Failed ?? []).map((entry) => ({
      id: entry.Id ?? '',
      reason: `${entry.Code ?? 'error'}: ${entry.Message ?? ''}`,
    }));
  }

  /** Changes the visibility of up to ten received messages; resolves to the entries SQS refused. */
  async changeVisibility(changes: readonly VisibilityChange[]): Promise<RefusedEntry[]> {
    const response = await this.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: this.url,
        Entries: changes.map((change) => ({
          Id: change.id,
          ReceiptHandle: change.receiptHandle,
          VisibilityTimeout: change.seconds,
        })),
      }),
    );
    return (response.Failed ?? []).map((entry) => ({
      id: entry.Id ?? '',
      reason: `${entry.Code ?? 'error'}: ${entry.Message ?? ''}`,
    }));
  }

  /** The queue's visibility timeout and the redrive policy's receive limit (one request). */
  async readSettings(): Promise<QueueSettings> {
    const attributes = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.url, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
    );
    const policy = attributes.Attributes?.RedrivePolicy;
    const maxReceiveCount = policy ? Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount) : NaN;
    return {
      visibilityTimeoutSeconds: Number(attributes.Attributes?.VisibilityTimeout ?? 30),
      maxReceiveCount: Number.isInteger(maxReceiveCount) && maxReceiveCount > 0 ? maxReceiveCount : undefined,
    };
  }

  /** Messages waiting to be received, and messages received and not yet deleted (SQS's approximations). */
  async depth(): Promise<{ waiting: number; inFlight: number }> {
    const attributes = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      waiting: Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** Long-polls the dead-letter queue (until `signal` aborts). */
  async receiveDeadLetters(signal: AbortSignal): Promise<Message[]> {
    if (!this.deadLetterUrl) return [];
    const response = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.deadLetterUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 20,
        // Short: a message of another run (left alone) shows again soon for its own client.
        VisibilityTimeout: DEAD_LETTER_VISIBILITY_SECONDS,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: signal },
    );
    return response.Messages ?? [];
  }

  /** Deletes a message received from the dead-letter queue. */
  async deleteDeadLetter(message: Message): Promise<void> {
    if (!this.deadLetterUrl || !message.ReceiptHandle) return;
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.deadLetterUrl, ReceiptHandle: message.ReceiptHandle }));
  }

  /** Finds the dead-letter queue from the task queue's redrive policy when it was not configured. */
  async discoverDeadLetterQueue(): Promise<string | undefined> {
    if (this.deadLetterUrl) return this.deadLetterUrl;
    const attributes = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.url, AttributeNames: ['RedrivePolicy'] }),
    );
    const policy = attributes.Attributes?.RedrivePolicy;
    if (!policy) return undefined;
    const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    const [, , , , account, name] = arn?.split(':') ?? [];
    if (!name) return undefined;
    const response = await this.sqs.send(
      new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
    );
    this.deadLetterUrl = response.QueueUrl;
    return this.deadLetterUrl;
  }
}
