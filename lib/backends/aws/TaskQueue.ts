import {
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

/** An entry SQS refused in a batch, with its reason. */
export interface RefusedEntry {
  id: string;
  reason: string;
}

/**
 * The client's side of the task queue and its dead-letter queue: sending chunk messages in
 * batches, and reading back the ones that ended in the dead-letter queue.
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
