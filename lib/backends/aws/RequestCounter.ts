import { AsyncLocalStorage } from 'node:async_hooks';
import type { InitializeHandler, InitializeHandlerArguments, InitializeMiddleware, HandlerExecutionContext } from '@smithy/types';

import type { RequestCounts } from './RequestCounts.js';

export type { RequestCounts };

const SQS_BILLING_UNIT = 64 * 1024;

/** The counter that requests made inside {@link RequestCounter.attribute} also count into. */
const attributedTo = new AsyncLocalStorage<RequestCounter>();

/**
 * Counts AWS requests by kind with an SDK middleware, for cost accounting. One counter can
 * watch several clients (a pool's SQS, DynamoDB and S3 clients, or a worker fleet's).
 * Counts are per command (an SDK retry of a command is not counted again). Clients are shared by
 * everything of a session; a pool also counts its own requests apart with {@link attribute}.
 *
 * @example
 * ```ts
 * const counter = new RequestCounter();
 * counter.watch(sqsClient, 'SQS');
 * counter.snapshot().requests['SQS.SendMessageBatch'];
 * ```
 */
export class RequestCounter {
  private readonly requests = new Map<string, number>();
  private sqsUnits = 0;
  private readUnits = 0;
  private writeUnits = 0;

  /** Adds the counting middleware to a client of the AWS SDK v3. */
  watch(
    client: { middlewareStack: { add(middleware: InitializeMiddleware<object, object>, options: object): void } },
    service: string,
  ): void {
    const middleware: InitializeMiddleware<object, object> =
      (next: InitializeHandler<object, object>, context: HandlerExecutionContext) =>
      async (args: InitializeHandlerArguments<object>) => {
        const command = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const also = attributedTo.getStore();
        const counters = also && also !== this ? [this, also] : [this];
        for (const counter of counters) counter.countRequest(`${service}.${command}`);
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(args);
        } catch (error) {
          // A write refused by its condition still consumes a write unit.
          if (service === 'DynamoDB') {
            for (const counter of counters) counter.account(service, command, {}, { ConsumedCapacity: { CapacityUnits: 1 } });
          }
          throw error;
        }
        for (const counter of counters) {
          counter.account(service, command, args.input as Record<string, unknown>, result.output as Record<string, unknown>);
        }
        return result;
      };
    client.middlewareStack.add(middleware, { step: 'initialize', name: 'fanoutRequestCounter', override: true });
  }

  /**
   * Runs `work` so that the requests it makes (and everything it starts, awaits or schedules)
   * also count here, whichever counter watches the clients.
   *
   * @example
   * ```ts
   * await poolCounter.attribute(() => session.queue.sendBatch(entries));
   * ```
   */
  attribute<T>(work: () => T): T {
    return attributedTo.run(this, work);
  }

  /** The counts so far. */
  snapshot(): RequestCounts {
    const requests = Object.fromEntries([...this.requests].sort(([a], [b]) => a.localeCompare(b)));
    let total = 0;
    for (const count of this.requests.values()) total += count;
    return {
      requests,
      total,
      sqsBilledRequests: this.sqsUnits,
      dynamoReadUnits: this.readUnits,
      dynamoWriteUnits: this.writeUnits,
    };
  }

  private countRequest(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  private account(service: string, command: string, input: Record<string, unknown>, output: Record<string, unknown>): void {
    if (service === 'SQS') {
      let bytes = 0;
      if (command === 'SendMessageBatch') {
        for (const entry of (input.Entries as Array<{ MessageBody?: string }> | undefined) ?? [])
          bytes += entry.MessageBody?.length ?? 0;
      } else if (command === 'SendMessage') {
        bytes = (input.MessageBody as string | undefined)?.length ?? 0;
      } else if (command === 'ReceiveMessage') {
        for (const message of (output.Messages as Array<{ Body?: string }> | undefined) ?? []) bytes += message.Body?.length ?? 0;
      }
      this.sqsUnits += Math.max(1, Math.ceil(bytes / SQS_BILLING_UNIT));
    } else if (service === 'DynamoDB') {
      const consumed = output.ConsumedCapacity as
        | { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }
        | Array<{ ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }>
        | undefined;
      const writes =
        command === 'PutItem' || command === 'BatchWriteItem' || command === 'UpdateItem' || command === 'DeleteItem';
      for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const units = entry.CapacityUnits ?? (writes ? entry.WriteCapacityUnits : entry.ReadCapacityUnits) ?? 0;
        if (writes) this.writeUnits += units;
        else this.readUnits += units;
      }
      // A write refused by its condition still costs a write unit; one without a report counts one.
      if (!consumed) {
        if (writes) this.writeUnits += 1;
        else this.readUnits += 1;
      }
    }
  }
}
