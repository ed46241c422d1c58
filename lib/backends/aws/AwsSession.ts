/**
 * One connection to a stack's resources, shared by everything of the aws backend in a thread: the
 * pools of a backend, its locks, counters, queues and processes, and the worker runtime. Kept in
 * a module of its own, imported on first use, so that a program that never uses the aws backend
 * never loads the AWS SDK.
 */
import { AwsConfigError } from '../../errors.js';
import { AwsClients } from './AwsClients.js';
import type { AwsConfig } from './AwsConfig.js';
import { JobStore } from './JobStore.js';
import { PayloadStore } from './PayloadStore.js';
import { RequestCounter } from './RequestCounter.js';
import { ResultTable } from './ResultTable.js';
import { TaskQueue } from './TaskQueue.js';
import { expiresAtAfter } from './tableKeys.js';

/**
 * The SDK clients of one side (a program, a worker), the stores over them, and the table's
 * retention. Idle keep-alive sockets do not hold the event loop, so a session may outlive the
 * pools that use it; {@link close} frees its sockets at once.
 *
 * @example
 * ```ts
 * const session = await AwsSession.open(await resolveAwsConfig());
 * await session.table.putResult('run-1', { chunk: 0, status: 'ok' }, session.expiresAt());
 * session.close();
 * ```
 */
export class AwsSession {
  readonly clients: AwsClients;
  readonly queue: TaskQueue;
  readonly table: ResultTable;
  readonly payloads: PayloadStore;
  readonly jobs: JobStore;

  private constructor(clients: AwsClients, queue: TaskQueue) {
    this.clients = clients;
    this.queue = queue;
    this.table = new ResultTable(clients.dynamodb, clients.config.table);
    this.payloads = new PayloadStore(clients.s3, clients.config.bucket);
    this.jobs = new JobStore(clients.dynamodb, clients.config.table);
  }

  /**
   * Connects to the resources of `config`, finding the dead-letter queue from the task queue's
   * redrive policy when it is not configured. Rejects with {@link AwsConfigError} when the queue
   * cannot be reached.
   */
  static async open(config: AwsConfig, counter: RequestCounter = new RequestCounter()): Promise<AwsSession> {
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
    return new AwsSession(clients, queue);
  }

  get config(): AwsConfig {
    return this.clients.config;
  }

  /** Counts every request of the session. */
  get counter(): RequestCounter {
    return this.clients.counter;
  }

  /** The DynamoDB table's name. */
  get tableName(): string {
    return this.clients.config.table;
  }

  /** The TTL value of a record written now (the context's retention from now, in epoch seconds). */
  expiresAt(now: number = Date.now()): number {
    return expiresAtAfter(this.clients.config.retentionSeconds, now);
  }

  /** Closes the clients' sockets. */
  close(): void {
    this.clients.destroy();
  }
}
