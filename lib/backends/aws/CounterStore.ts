/**
 * The DynamoDB requests of the aws backend's shared memory (`Value`, `SharedArray`): one item per
 * element (or per shard of a sharded counter), its number in attribute `v`. Loaded on first use
 * by {@link AwsSharedMemory}, so that a program that never uses aws never loads the SDK.
 */
import { batchWriteAll } from './batchWrite.js';
import {
  BatchGetItemCommand,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { AwsSession } from './AwsSession.js';
import { isConditionalCheckFailed, objectKey, objectPartition, type ItemKey } from './tableKeys.js';

/** The attribute of an element's number. */
const VALUE = 'v';
/** The holder attribute of a lock whose lease lives on the item (a Value's own lock, see LeaseStore). */
const HOLDER = 'h';
/** The condition that the item's own lock is free. */
const UNLOCKED = `attribute_not_exists(${HOLDER})`;
/** An element's sort key: `e<index>`. */
const ELEMENT_PREFIX = 'e';
const BATCH_GET_KEYS = 100;

/** The bounds an `add` must keep, as DynamoDB numbers: the old value must be ≤ `atMost` / ≥ `atLeast`. */
export interface AddGuard {
  atMost?: string | undefined;
  atLeast?: string | undefined;
  /** Whether an absent element (still at its initial value) may take the add. */
  absentOk: boolean;
  /** Only while the lock whose lease lives on the item is free (a Value's own lock). */
  unlocked?: boolean;
}

/**
 * What an `add` did: the new value, or the refusal and the value that caused it (if known), or
 * (with `unlocked`) that the item's lock is held.
 */
export type AddOutcome =
  { added: true; value: string } | { added: false; current: string | undefined; locked?: false } | { added: false; locked: true };

/**
 * Reads and writes of one shared-memory object's items: element `i` is the item
 * `obj#<kind>#<id>` / `e<i>`; shard `s` ≥ 1 of a sharded counter lives in a partition of its own
 * (`obj#<kind>#<id>~<s>`), so that the shards can spread over DynamoDB partitions. Every write
 * carries the session's `expiresAt`.
 *
 * @example
 * ```ts
 * const store = new CounterStore(session, 'value', 'k3T9');
 * await store.add(store.key(0), '0', '1', { absentOk: true }); // { added: true, value: '1' }
 * ```
 */
export class CounterStore {
  constructor(
    private readonly session: AwsSession,
    private readonly kind: string,
    private readonly id: string,
  ) {}

  /** The item of element `index` (of shard `shard` of a sharded counter). */
  key(index: number, shard = 0): ItemKey {
    return objectKey(this.kind, shard === 0 ? this.id : `${this.id}~${shard}`, `${ELEMENT_PREFIX}${index}`);
  }

  /** Every written element of the object (shard 0), by index: Query pages, strongly consistent. */
  async elements(): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    for (const [sortKey, value] of await this.query(objectPartition(this.kind, this.id))) {
      if (sortKey.startsWith(ELEMENT_PREFIX)) found.set(Number(sortKey.slice(ELEMENT_PREFIX.length)), value);
    }
    return found;
  }

  /** The element's number, `undefined` if it was never written (strongly consistent). */
  async get(key: ItemKey): Promise<string | undefined> {
    return (await this.getWithLock(key)).value;
  }

  /**
   * The element's number and whether the lock whose lease lives on the item is held, in one
   * strongly consistent GetItem.
   */
  async getWithLock(key: ItemKey): Promise<{ value: string | undefined; locked: boolean }> {
    const read = await this.session.clients.dynamodb.send(
      new GetItemCommand({
        TableName: this.session.tableName,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: '#v, #h',
        ExpressionAttributeNames: { '#v': VALUE, '#h': HOLDER },
      }),
    );
    return { value: read.Item?.[VALUE]?.N, locked: read.Item?.[HOLDER] !== undefined };
  }

  /** Sets the element's number: one UpdateItem; with `unlocked`, false (nothing set) while the item's lock is held. */
  async set(key: ItemKey, value: string, unlocked = false): Promise<boolean> {
    try {
      await this.session.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.session.tableName,
          Key: key,
          UpdateExpression: 'SET #v = :v, #e = :e',
          ...(unlocked ? { ConditionExpression: UNLOCKED } : {}),
          ExpressionAttributeNames: { '#v': VALUE, '#e': 'expiresAt' },
          ExpressionAttributeValues: { ':v': { N: value }, ':e': { N: String(this.session.expiresAt()) } },
        }),
      );
      return true;
    } catch (error) {
      if (unlocked && isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Adds `delta` in one UpdateItem (`SET v = if_not_exists(v, :init) + :delta`, so an element
   * never written starts at its initial value), refused by a condition when the old value is
   * out of the guard's bounds; resolves with the new value (`UPDATED_NEW`).
   */
  async add(key: ItemKey, init: string, delta: string, guard: AddGuard): Promise<AddOutcome> {
    const values: Record<string, AttributeValue> = {
      ':init': { N: init },
      ':d': { N: delta },
      ':e': { N: String(this.session.expiresAt()) },
    };
    const bounds: string[] = [];
    if (guard.atMost !== undefined) {
      bounds.push('#v <= :hi');
      values[':hi'] = { N: guard.atMost };
    }
    if (guard.atLeast !== undefined) {
      bounds.push('#v >= :lo');
      values[':lo'] = { N: guard.atLeast };
    }
    let condition: string | undefined;
    if (bounds.length > 0) {
      const present = `(attribute_exists(#v) AND ${bounds.join(' AND ')})`;
      condition = guard.absentOk ? `attribute_not_exists(#v) OR ${present}` : present;
    } else if (!guard.absentOk) {
      condition = 'attribute_exists(#v)';
    }
    if (guard.unlocked) {
      // DynamoDB refuses redundant parentheses: only an OR needs them here.
      condition =
        condition === undefined ? UNLOCKED : `${UNLOCKED} AND ${condition.includes(' OR ') ? `(${condition})` : condition}`;
    }
    try {
      const updated = await this.session.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.session.tableName,
          Key: key,
          UpdateExpression: 'SET #v = if_not_exists(#v, :init) + :d, #e = :e',
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#v': VALUE, '#e': 'expiresAt' },
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          // AWS returns the refusing item with the error (no second request); dynalite does not.
          ...(condition ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      );
      return { added: true, value: updated.Attributes?.[VALUE]?.N ?? init };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const item = (error as { Item?: Record<string, AttributeValue> }).Item;
      // The emulator returns no item: read it, to tell a held lock from a range refusal.
      if (!item && guard.unlocked) {
        const read = await this.getWithLock(key);
        if (read.locked) return { added: false, locked: true };
        return { added: false, current: read.value ?? init };
      }
      if (item && guard.unlocked && item[HOLDER] !== undefined) return { added: false, locked: true };
      return { added: false, current: item ? (item[VALUE]?.N ?? init) : undefined };
    }
  }

  /** Every item of a partition, by sort key: Query pages, strongly consistent. */
  private async query(partition: string): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.session.clients.dynamodb.send(
        new QueryCommand({
          TableName: this.session.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: partition } },
          ProjectionExpression: 'sk, #v',
          ExpressionAttributeNames: { '#v': VALUE },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const value = item[VALUE]?.N;
        if (item.sk?.S !== undefined && value !== undefined) found.set(item.sk.S, value);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /** The numbers of `keys` (`undefined` where never written): BatchGetItem, strongly consistent. */
  async getMany(keys: ItemKey[]): Promise<Array<string | undefined>> {
    const byKey = new Map<string, string>();
    const id = (key: Record<string, AttributeValue>) => `${key.pk?.S}\u0000${key.sk?.S}`;
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [this.session.tableName]: {
          Keys: keys.slice(i, i + BATCH_GET_KEYS),
          ConsistentRead: true,
          ProjectionExpression: 'pk, sk, #v',
          ExpressionAttributeNames: { '#v': VALUE },
        },
      };
      while (request && Object.keys(request).length > 0) {
        const read: BatchGetItemCommandOutput = await this.session.clients.dynamodb.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        for (const item of read.Responses?.[this.session.tableName] ?? []) {
          const value = item[VALUE]?.N;
          if (value !== undefined) byKey.set(id(item), value);
        }
        request = read.UnprocessedKeys;
      }
    }
    return keys.map((key) => byKey.get(id(key)));
  }

  /** Sets several elements (not atomically): BatchWriteItem puts, 25 a request. */
  async setMany(entries: Array<{ key: ItemKey; value: string }>): Promise<void> {
    const expiresAt = String(this.session.expiresAt());
    const puts: WriteRequest[] = entries.map(({ key, value }) => ({
      PutRequest: { Item: { ...key, [VALUE]: { N: value }, expiresAt: { N: expiresAt } } },
    }));
    await batchWriteAll(this.session.clients.dynamodb, this.session.tableName, puts);
  }
}

/** Whether DynamoDB refused a number (out of its range of magnitudes or beyond 38 digits). */
export function isNumberRefused(error: unknown): boolean {
  return (
    (error as { name?: string } | null)?.name === 'ValidationException' && /number|digit/i.test(String((error as Error).message))
  );
}
