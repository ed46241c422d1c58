/**
 * The client's connection to its AWS resources. Kept in a module of its own, imported on first
 * use, so that a program that never uses the aws backend never loads the AWS SDK.
 */
import { AwsConfigError } from '../../errors.js';
import { AwsClients } from './AwsClients.js';
import type { AwsConfig } from './AwsConfig.js';
import { PayloadStore } from './PayloadStore.js';
import type { RequestCounter } from './RequestCounter.js';
import { ResultTable } from './ResultTable.js';
import { TaskQueue } from './TaskQueue.js';

/** A pool's clients and the stores over them. */
export interface AwsConnection {
  clients: AwsClients;
  queue: TaskQueue;
  table: ResultTable;
  payloads: PayloadStore;
}

/**
 * Connects to the resources of `config`, finding the dead-letter queue from the task queue's
 * redrive policy when it is not configured.
 *
 * @example
 * ```ts
 * const { queue, table } = await connectAws(await resolveAwsConfig());
 * ```
 */
export async function connectAws(config: AwsConfig, counter?: RequestCounter): Promise<AwsConnection> {
  const clients = new AwsClients(config, counter);
  const queue = new TaskQueue(clients.sqs, config.queueUrl, config.deadLetterQueueUrl);
  try {
    await queue.discoverDeadLetterQueue();
  } catch (error) {
    clients.destroy();
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new AwsConfigError(
      `The aws backend cannot reach its task queue ${config.queueUrl} (region ${config.region}` +
        `${config.endpoints?.sqs ? `, endpoint ${config.endpoints.sqs}` : ''}): ${reason}`,
      [],
      error,
    );
  }
  return {
    clients,
    queue,
    table: new ResultTable(clients.dynamodb, config.table),
    payloads: new PayloadStore(clients.s3, config.bucket),
  };
}
