/**
 * The DynamoDB calls of the aws locks (see {@link AwsLock}), in a module of their own, loaded on
 * first use, so that creating a lock never loads the AWS SDK.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AwsSession } from './AwsSession.js';
import { isConditionalCheckFailed, type ItemKey } from './tableKeys.js';

/**
 * A lock's item as read: `tok` the fencing token (bumped by every acquisition, never reset),
 * `h` the holder's owner id (absent while free), `rv` the record version (a random id that every
 * write rewrites: a waiter that sees it unchanged for a whole lease may take the lock over), `ls`
 * the holder's lease in milliseconds.
 */
export interface LeaseState {
  token: number;
  holder: string | undefined;
  version: string | undefined;
  leaseMs: number;
}

/** What an acquisition wrote, or why it did not. */
export type AcquireOutcome =
  | { acquired: true; token: number }
  /** `state` is the item that refused, when DynamoDB returned it (not the emulator). */
  | { acquired: false; state: LeaseState | undefined };

/**
 * Conditional writes on a lock's item, one request each, no transactions: acquire (free, or
 * stale at a version the caller watched for a lease) with the token bumped by `ADD`; renew (the
 * holder rewrites the version); release (by the holder, or for a `Lock` by anyone).
 *
 * @example
 * ```ts
 * const store = LeaseStore.forSession(await backend.session());
 * const key = objectKey('lock', lockId, 'state');
 * const outcome = await store.acquire(key, { owner: 'me', version: 'v1', leaseMs: 10_000 });
 * if (outcome.acquired) await store.release(key, 'me', outcome.token, 'v2');
 * ```
 */
export class LeaseStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly expiresAt: () => number,
  ) {}

  static forSession(session: AwsSession): LeaseStore {
    return new LeaseStore(session.clients.dynamodb, session.tableName, () => session.expiresAt());
  }

  /**
   * Takes the lock if nobody holds it, or if its version is still `staleVersion` (the holder's
   * heartbeats stopped for a whole lease, as the caller watched on its own clock).
   */
  async acquire(
    key: ItemKey,
    claim: { owner: string; version: string; leaseMs: number; staleVersion?: string | undefined },
  ): Promise<AcquireOutcome> {
    const values: Record<string, AttributeValue> = {
      ':h': { S: claim.owner },
      ':rv': { S: claim.version },
      ':ls': { N: String(claim.leaseMs) },
      ':e': { N: String(this.expiresAt()) },
      ':one': { N: '1' },
    };
    if (claim.staleVersion !== undefined) values[':seen'] = { S: claim.staleVersion };
    try {
      const output = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET h = :h, rv = :rv, ls = :ls, expiresAt = :e ADD tok :one',
          ConditionExpression:
            claim.staleVersion === undefined ? 'attribute_not_exists(h)' : 'attribute_not_exists(h) OR rv = :seen',
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return { acquired: true, token: Number(output.Attributes?.tok?.N) };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { acquired: false, state: refusedState(error) };
      throw error;
    }
  }

  /** The lock's item, read consistently; `undefined` if it was never acquired. */
  async read(key: ItemKey): Promise<LeaseState | undefined> {
    const output = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'tok, h, rv, ls',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return output.Item ? leaseState(output.Item) : undefined;
  }

  /**
   * The holder's heartbeat: a new version, if it still holds the acquisition `token`. Resolves
   * false when it does not (taken over, or released by another party).
   */
  async renew(
    key: ItemKey,
    owner: string,
    token: number,
    version: string,
  ): Promise<{ renewed: true } | { renewed: false; state: LeaseState | undefined }> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET rv = :rv, expiresAt = :e',
          ConditionExpression: 'h = :h AND tok = :tok',
          ExpressionAttributeValues: {
            ':rv': { S: version },
            ':e': { N: String(this.expiresAt()) },
            ':h': { S: owner },
            ':tok': { N: String(token) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return { renewed: true };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { renewed: false, state: refusedState(error) };
      throw error;
    }
  }

  /**
   * Frees the lock if `owner` still holds the acquisition `token`; resolves false if not. Not
   * conditioned on the version, so that a heartbeat in flight cannot make it fail.
   */
  async release(key: ItemKey, owner: string, token: number, version: string): Promise<boolean> {
    return this.free(key, 'h = :h AND tok = :tok', { ':h': { S: owner }, ':tok': { N: String(token) } }, version);
  }

  /** Frees the lock whoever holds it (a `Lock` may be released by anyone); false if it was free. */
  async releaseAny(key: ItemKey, version: string): Promise<boolean> {
    return this.free(key, 'attribute_exists(h)', {}, version);
  }

  private async free(key: ItemKey, condition: string, values: Record<string, AttributeValue>, version: string): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          // The item stays (with its token): the token must never restart.
          UpdateExpression: 'REMOVE h SET rv = :rv, expiresAt = :e',
          ConditionExpression: condition,
          ExpressionAttributeValues: { ...values, ':rv': { S: version }, ':e': { N: String(this.expiresAt()) } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

function leaseState(item: Record<string, AttributeValue>): LeaseState {
  return {
    token: Number(item.tok?.N ?? 0),
    holder: item.h?.S,
    version: item.rv?.S,
    leaseMs: Number(item.ls?.N ?? 0),
  };
}

/** The item a refused condition returned (real DynamoDB does, with `ReturnValuesOnConditionCheckFailure`). */
function refusedState(error: unknown): LeaseState | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? leaseState(item) : undefined;
}
