import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

/** BatchWriteItem takes at most 25 writes. */
const BATCH_WRITE_ITEMS = 25;

/**
 * Writes every request (puts or deletes) to `tableName`, 25 to a BatchWriteItem, sending again
 * what DynamoDB leaves unprocessed (throttling) after a growing pause, until all of it is done.
 * The one BatchWriteItem loop of the aws backend: run cancellations, condition wake-ups, sharded
 * values.
 *
 * @example
 * ```ts
 * await batchWriteAll(dynamodb, table, keys.map((Key) => ({ DeleteRequest: { Key } })));
 * ```
 */
export async function batchWriteAll(dynamodb: DynamoDBClient, tableName: string, writes: readonly WriteRequest[]): Promise<void> {
  for (let start = 0; start < writes.length; start += BATCH_WRITE_ITEMS) {
    let pending: WriteRequest[] | undefined = writes.slice(start, start + BATCH_WRITE_ITEMS);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      const response: BatchWriteItemCommandOutput = await dynamodb.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
      );
      pending = response.UnprocessedItems?.[tableName];
    }
  }
}
