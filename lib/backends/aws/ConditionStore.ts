/**
 * The DynamoDB calls of the aws condition variables (see {@link AwsCondition}), loaded on first
 * use so that creating a condition never loads the AWS SDK.
 */
import { batchWriteAll } from './batchWrite.js';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { AwsSession } from './AwsSession.js';
import { isConditionalCheckFailed, objectKey, objectPartition, type ItemKey } from './tableKeys.js';

const WAITER_PREFIX = 'w#';

/**
 * A condition's waiters, one item each in the condition's partition (`sk` = `w#<the waiter's
 * fencing token, zero-padded>#<random>`, so a query lists them first come first). A waiter
 * registers while it holds the lock; a notify deletes the items of the waiters it wakes; a
 * waiter polls for its item's absence, and at its deadline deletes the item itself, learning
 * from what the delete returned whether a notify got there first.
 *
 * @example
 * ```ts
 * const store = ConditionStore.forSession(await backend.session());
 * const waiter = await store.register('c1', 7);
 * await store.notify('c1', 1); // 1
 * await store.present(waiter); // false: notified
 * ```
 */
export class ConditionStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly expiresAt: () => number,
  ) {}

  static forSession(session: AwsSession): ConditionStore {
    return new ConditionStore(session.clients.dynamodb, session.tableName, () => session.expiresAt());
  }

  /** Writes a waiter's item; resolves to its key. */
  async register(conditionId: string, token: number, random: string): Promise<ItemKey> {
    const key = objectKey('cond', conditionId, `${WAITER_PREFIX}${String(token).padStart(16, '0')}#${random}`);
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...key, expiresAt: { N: String(this.expiresAt()) } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return key;
  }

  /** Whether a waiter's item is still there (not notified yet). */
  async present(key: ItemKey): Promise<boolean> {
    const output = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'pk',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return output.Item !== undefined;
  }

  /** Deletes a waiter's item; resolves true if it was there (so no notify took it). */
  async withdraw(key: ItemKey): Promise<boolean> {
    const output = await this.dynamodb.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: key, ReturnValues: 'ALL_OLD', ReturnConsumedCapacity: 'TOTAL' }),
    );
    return output.Attributes !== undefined;
  }

  /**
   * Wakes up to `n` waiters, first registered first: deletes their items, each conditionally so
   * that a waiter withdrawing at its deadline is not counted. Resolves to how many it woke.
   */
  async notify(conditionId: string, n: number): Promise<number> {
    let woken = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.query(conditionId, Math.min(100, n - woken), start);
      for (const item of page.items) {
        if (woken >= n) break;
        try {
          await this.dynamodb.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: { pk: item.pk!, sk: item.sk! } as ItemKey,
              ConditionExpression: 'attribute_exists(pk)',
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          woken++;
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
        }
      }
      start = page.next;
    } while (start && woken < n);
    return woken;
  }

  /** Wakes every waiter registered now: deletes their items, 25 to a request. Resolves to how many. */
  async notifyAll(conditionId: string): Promise<number> {
    let woken = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.query(conditionId, undefined, start);
      const deletes: WriteRequest[] = page.items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk!, sk: item.sk! } } }));
      await batchWriteAll(this.dynamodb, this.tableName, deletes);
      woken += deletes.length;
      start = page.next;
    } while (start);
    return woken;
  }

  private async query(
    conditionId: string,
    limit: number | undefined,
    start: Record<string, AttributeValue> | undefined,
  ): Promise<{ items: Array<Record<string, AttributeValue>>; next: Record<string, AttributeValue> | undefined }> {
    const output = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':pk': { S: objectPartition('cond', conditionId) }, ':w': { S: WAITER_PREFIX } },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
        ...(limit === undefined ? {} : { Limit: limit }),
        ...(start ? { ExclusiveStartKey: start } : {}),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return { items: output.Items ?? [], next: output.LastEvaluatedKey };
  }
}
