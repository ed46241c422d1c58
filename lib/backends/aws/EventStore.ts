import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AwsSession } from './AwsSession.js';
import { objectKey } from './tableKeys.js';

/** What an event's item says: the flag, and how many times `set()` was called. */
export interface EventState {
  set: boolean;
  /** Bumped by every `set()`: a waiter that sees it change was woken, even if a `clear()` followed. */
  sets: number;
}

/**
 * The DynamoDB side of an aws `Event`: one item per event (`obj#event#<id>`, sort key `state`)
 * with the flag `f` and the number of `set()` calls `n`. No item means a cleared event that was
 * never set, so creating an event costs no request. Loaded on first use (it imports the SDK).
 *
 * @example
 * ```ts
 * const store = new EventStore(session);
 * await store.set('k3T9');
 * await store.read('k3T9'); // { set: true, sets: 1 }
 * ```
 */
export class EventStore {
  constructor(private readonly session: AwsSession) {}

  /** Raises the flag and counts the call: one UpdateItem. */
  async set(id: string): Promise<void> {
    await this.session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.session.tableName,
        Key: objectKey('event', id, 'state'),
        UpdateExpression: 'SET f = :true, expiresAt = :expiresAt ADD n :one',
        ExpressionAttributeValues: {
          ':true': { BOOL: true },
          ':one': { N: '1' },
          ':expiresAt': { N: String(this.session.expiresAt()) },
        },
      }),
    );
  }

  /** Lowers the flag: one UpdateItem (the count of sets stays, so that waiters can tell). */
  async clear(id: string): Promise<void> {
    await this.session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.session.tableName,
        Key: objectKey('event', id, 'state'),
        UpdateExpression: 'SET f = :false, expiresAt = :expiresAt',
        ExpressionAttributeValues: { ':false': { BOOL: false }, ':expiresAt': { N: String(this.session.expiresAt()) } },
      }),
    );
  }

  /** The flag and the count of sets: one strongly consistent GetItem. */
  async read(id: string): Promise<EventState> {
    const { Item: item } = await this.session.clients.dynamodb.send(
      new GetItemCommand({
        TableName: this.session.tableName,
        Key: objectKey('event', id, 'state'),
        ConsistentRead: true,
        ProjectionExpression: 'f, n',
      }),
    );
    return { set: item?.f?.BOOL === true, sets: Number(item?.n?.N ?? 0) };
  }
}
