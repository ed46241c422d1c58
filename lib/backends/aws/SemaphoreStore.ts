/**
 * The DynamoDB requests of the aws backend's Semaphore: one item per semaphore with the free
 * count `v` and, per holder generation `<id>`, its permit count `n_<id>` and its lease
 * `r_<id>` (`<record version>:<lease ms>`, rewritten by every heartbeat). Loaded on first use by
 * {@link AwsSemaphore}, so that a program that never uses aws never loads the SDK.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AwsSession } from './AwsSession.js';
import { isConditionalCheckFailed, objectKey, type ItemKey } from './tableKeys.js';

const VALUE = 'v';
const COUNT_PREFIX = 'n_';
const LEASE_PREFIX = 'r_';

/** A holder generation's record, as read. */
export interface HolderRecord {
  count: number;
  /** `<record version>:<lease ms>`. */
  lease: string;
}

/** The semaphore's item, as read: `value` undefined while it was never written. */
export interface SemaphoreSnapshot {
  value: number | undefined;
  holders: Map<string, HolderRecord>;
}

/** A conditional write's answer: done, or refused with the item that refused it when AWS returns it. */
export type WriteOutcome = { done: true } | { done: false; snapshot: SemaphoreSnapshot | undefined };

/**
 * The semaphore item's conditional updates, one request each.
 *
 * @example
 * ```ts
 * const store = new SemaphoreStore(session, 'k3T9');
 * await store.acquire({ holder: 'h1', lease: 'v1:10000', init: 3, leaseMustExist: false });
 * ```
 */
export class SemaphoreStore {
  private readonly key: ItemKey;

  constructor(
    private readonly session: AwsSession,
    id: string,
  ) {
    this.key = objectKey('semaphore', id, 'state');
  }

  /**
   * Takes one permit for `holder`: `v - 1` if `v > 0`, the holder's count + 1 and its lease
   * renewed; with `leaseMustExist`, only while the holder's lease was not taken over.
   */
  acquire(request: { holder: string; lease: string; init: number; leaseMustExist: boolean }): Promise<WriteOutcome> {
    const free = request.init > 0 ? '(attribute_not_exists(#v) OR #v > :zero)' : '#v > :zero';
    return this.update({
      UpdateExpression: 'SET #v = if_not_exists(#v, :init) - :one, #r = :lease, #e = :e ADD #n :one',
      ConditionExpression: request.leaseMustExist ? `${free} AND attribute_exists(#r)` : free,
      ExpressionAttributeNames: { '#v': VALUE, '#r': LEASE_PREFIX + request.holder, '#n': COUNT_PREFIX + request.holder },
      ExpressionAttributeValues: {
        ':init': { N: String(request.init) },
        ':one': { N: '1' },
        ':zero': { N: '0' },
        ':lease': { S: request.lease },
      },
    });
  }

  /**
   * Adds `n` permits while `v + n ≤ limit`; `own` of them are `holder`'s (its count drops by
   * `own`, or its record goes when `removeHolder`, and only while its lease was not taken over).
   */
  release(request: {
    n: number;
    limit: number;
    init: number;
    holder: string | undefined;
    own: number;
    removeHolder: boolean;
  }): Promise<WriteOutcome> {
    const names: Record<string, string> = { '#v': VALUE };
    const values: Record<string, AttributeValue> = { ':init': { N: String(request.init) }, ':n': { N: String(request.n) } };
    values[':lim'] = { N: String(request.limit - request.n) };
    const fits = request.init + request.n <= request.limit ? '(attribute_not_exists(#v) OR #v <= :lim)' : '#v <= :lim';
    let update = 'SET #v = if_not_exists(#v, :init) + :n, #e = :e';
    let condition = fits;
    if (request.holder !== undefined && request.own > 0) {
      names['#hn'] = COUNT_PREFIX + request.holder;
      values[':own'] = { N: String(request.own) };
      if (request.removeHolder) {
        names['#hr'] = LEASE_PREFIX + request.holder;
        update += ' REMOVE #hn, #hr';
        condition += ' AND #hn = :own';
      } else {
        values[':less'] = { N: String(-request.own) };
        update += ' ADD #hn :less';
        condition += ' AND #hn >= :own';
      }
    }
    return this.update({
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /** The heartbeat: rewrites `holder`'s lease while its record exists. False: it was taken over. */
  async renew(holder: string, lease: string): Promise<boolean> {
    const outcome = await this.update({
      UpdateExpression: 'SET #r = :lease, #e = :e',
      ConditionExpression: 'attribute_exists(#n)',
      ExpressionAttributeNames: { '#r': LEASE_PREFIX + holder, '#n': COUNT_PREFIX + holder },
      ExpressionAttributeValues: { ':lease': { S: lease } },
      returnItem: false,
    });
    return outcome.done;
  }

  /**
   * Takes back the permits of a holder whose lease was seen unrenewed for a whole lease: adds
   * `add` to `v` and deletes the holder's record, only if its lease and count are still those
   * seen (and, when `valueSeen` is given, `v` too).
   */
  async reclaim(holder: string, seen: HolderRecord, add: number, valueSeen: number | undefined): Promise<boolean> {
    const values: Record<string, AttributeValue> = {
      ':lease': { S: seen.lease },
      ':count': { N: String(seen.count) },
      ':add': { N: String(add) },
    };
    let condition = '#hr = :lease AND #hn = :count';
    if (valueSeen !== undefined) {
      condition += ' AND #v = :seen';
      values[':seen'] = { N: String(valueSeen) };
    }
    const outcome = await this.update({
      UpdateExpression: 'SET #e = :e ADD #v :add REMOVE #hn, #hr',
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#v': VALUE, '#hn': COUNT_PREFIX + holder, '#hr': LEASE_PREFIX + holder },
      ExpressionAttributeValues: values,
      returnItem: false,
    });
    return outcome.done;
  }

  /** The item, strongly consistent. */
  async read(): Promise<SemaphoreSnapshot> {
    const read = await this.session.clients.dynamodb.send(
      new GetItemCommand({ TableName: this.session.tableName, Key: this.key, ConsistentRead: true }),
    );
    return snapshotOf(read.Item);
  }

  private async update(request: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, AttributeValue>;
    returnItem?: boolean;
  }): Promise<WriteOutcome> {
    const { returnItem = true, ...expressions } = request;
    try {
      await this.session.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.session.tableName,
          Key: this.key,
          ...expressions,
          ExpressionAttributeNames: { ...expressions.ExpressionAttributeNames, '#e': 'expiresAt' },
          ExpressionAttributeValues: { ...expressions.ExpressionAttributeValues, ':e': { N: String(this.session.expiresAt()) } },
          // AWS returns the refusing item with the error (no second read); dynalite does not.
          ...(returnItem ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
      return { done: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const item = (error as { Item?: Record<string, AttributeValue> }).Item;
      return { done: false, snapshot: item ? snapshotOf(item) : undefined };
    }
  }
}

function snapshotOf(item: Record<string, AttributeValue> | undefined): SemaphoreSnapshot {
  const holders = new Map<string, HolderRecord>();
  if (!item) return { value: undefined, holders };
  for (const [name, attribute] of Object.entries(item)) {
    if (!name.startsWith(COUNT_PREFIX)) continue;
    const holder = name.slice(COUNT_PREFIX.length);
    holders.set(holder, { count: Number(attribute.N ?? 0), lease: item[LEASE_PREFIX + holder]?.S ?? '' });
  }
  const value = item[VALUE]?.N;
  return { value: value === undefined ? undefined : Number(value), holders };
}
