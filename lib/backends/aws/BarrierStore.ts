import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AwsSession } from './AwsSession.js';
import { isConditionalCheckFailed, objectKey } from './tableKeys.js';

/**
 * How many generations back a barrier's item remembers which ended by `reset()`, so that a
 * waiter that polls after its generation ended can tell a release from a reset. A waiter polls
 * at least once a second; 64 more rounds within that second are not a case to design for.
 */
export const RESET_MEMORY = 64;

/** A barrier's item, as read. */
export interface BarrierState {
  /** The current generation (round): bumped when the round is released or reset. */
  generation: number;
  /** Parties that have arrived in the current generation. */
  count: number;
  /** Whether the current generation is broken (aborted, timed out, failed action). */
  broken: boolean;
  /** Generations (of the last {@link RESET_MEMORY}) that ended by `reset()` instead of a release. */
  resets: Set<number>;
}

/** An arrival: the generation it joined and its count (its arrival index + 1); `undefined` when refused. */
export interface Arrival {
  generation: number;
  count: number;
}

/**
 * The DynamoDB side of an aws `Barrier`: one item per barrier (`obj#barrier#<id>`, sort key
 * `state`) with the generation `gen`, the arrivals `cnt` of that generation, the broken flag `brk`,
 * and a marker `r<g>` for each recent generation `g` that ended by a reset. Every change is one
 * UpdateItem with a condition on the state it expects; no transactions. No item means a fresh
 * barrier. Loaded on first use (it imports the SDK).
 *
 * @example
 * ```ts
 * const store = new BarrierStore(session);
 * await store.arrive('k3T9', 2); // { generation: 0, count: 1 }
 * ```
 */
export class BarrierStore {
  constructor(private readonly session: AwsSession) {}

  /**
   * Counts one arrival in the current generation, unless the barrier is broken or already full
   * (its last party is releasing it): one conditional UpdateItem, which returns the new count.
   */
  async arrive(id: string, parties: number): Promise<Arrival | undefined> {
    try {
      const { Attributes: item } = await this.update(id, {
        UpdateExpression:
          'SET #gen = if_not_exists(#gen, :zero), #brk = if_not_exists(#brk, :false), expiresAt = :expiresAt ADD #cnt :one',
        ConditionExpression: '(attribute_not_exists(#cnt) OR #cnt < :parties) AND (attribute_not_exists(#brk) OR #brk = :false)',
        ExpressionAttributeNames: { '#gen': 'gen', '#cnt': 'cnt', '#brk': 'brk' },
        ExpressionAttributeValues: {
          ':zero': { N: '0' },
          ':one': { N: '1' },
          ':false': { BOOL: false },
          ':parties': { N: String(parties) },
        },
        ReturnValues: 'ALL_NEW',
      });
      return { generation: Number(item?.gen?.N ?? 0), count: Number(item?.cnt?.N ?? 0) };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Releases a full generation (the last party, after its action): bumps the generation and
   * empties the count, unless the generation was broken or reset meanwhile. Resolves whether it did.
   */
  async release(id: string, generation: number, parties: number): Promise<boolean> {
    const forget = this.forget(generation);
    return this.conditional(id, {
      UpdateExpression: `SET #gen = :next, #cnt = :zero, expiresAt = :expiresAt${forget.expression}`,
      ConditionExpression: '#gen = :generation AND #brk = :false AND #cnt = :parties',
      ExpressionAttributeNames: { '#gen': 'gen', '#cnt': 'cnt', '#brk': 'brk', ...forget.names },
      ExpressionAttributeValues: {
        ':next': { N: String(generation + 1) },
        ':generation': { N: String(generation) },
        ':zero': { N: '0' },
        ':false': { BOOL: false },
        ':parties': { N: String(parties) },
      },
    });
  }

  /** Breaks `generation` if it is still current and whole (a timeout, a failed action). Resolves whether it did. */
  async breakGeneration(id: string, generation: number): Promise<boolean> {
    return this.conditional(id, {
      UpdateExpression: 'SET #brk = :true, expiresAt = :expiresAt',
      ConditionExpression: '#gen = :generation AND #brk = :false',
      ExpressionAttributeNames: { '#gen': 'gen', '#brk': 'brk' },
      ExpressionAttributeValues: { ':generation': { N: String(generation) }, ':true': { BOOL: true }, ':false': { BOOL: false } },
    });
  }

  /** Breaks the barrier, whatever its state (`abort()`): one UpdateItem. */
  async abort(id: string): Promise<void> {
    await this.update(id, {
      UpdateExpression:
        'SET #brk = :true, #gen = if_not_exists(#gen, :zero), #cnt = if_not_exists(#cnt, :zero), expiresAt = :expiresAt',
      ExpressionAttributeNames: { '#gen': 'gen', '#cnt': 'cnt', '#brk': 'brk' },
      ExpressionAttributeValues: { ':true': { BOOL: true }, ':zero': { N: '0' } },
    });
  }

  /**
   * Ends `generation` by a reset, if it is still current: the next generation starts empty and
   * unbroken, and the marker tells that generation's waiters they were broken, not released.
   */
  async reset(id: string, generation: number): Promise<boolean> {
    const forget = this.forget(generation);
    return this.conditional(id, {
      UpdateExpression: `SET #gen = :next, #cnt = :zero, #brk = :false, #mark = :true, expiresAt = :expiresAt${forget.expression}`,
      ConditionExpression: '#gen = :generation',
      ExpressionAttributeNames: { '#gen': 'gen', '#cnt': 'cnt', '#brk': 'brk', '#mark': `r${generation}`, ...forget.names },
      ExpressionAttributeValues: {
        ':next': { N: String(generation + 1) },
        ':generation': { N: String(generation) },
        ':zero': { N: '0' },
        ':true': { BOOL: true },
        ':false': { BOOL: false },
      },
    });
  }

  /** The barrier's item: one strongly consistent GetItem. `undefined` for a barrier never used. */
  async read(id: string): Promise<BarrierState | undefined> {
    const { Item: item } = await this.session.clients.dynamodb.send(
      new GetItemCommand({ TableName: this.session.tableName, Key: objectKey('barrier', id, 'state'), ConsistentRead: true }),
    );
    if (!item) return undefined;
    const resets = new Set<number>();
    for (const name of Object.keys(item)) if (/^r\d+$/.test(name)) resets.add(Number(name.slice(1)));
    return {
      generation: Number(item.gen?.N ?? 0),
      count: Number(item.cnt?.N ?? 0),
      broken: item.brk?.BOOL === true,
      resets,
    };
  }

  /** The clause that drops the reset marker of the generation {@link RESET_MEMORY} before `generation`. */
  private forget(generation: number): { expression: string; names: Record<string, string> } {
    const old = generation - RESET_MEMORY;
    return old < 0 ? { expression: '', names: {} } : { expression: ' REMOVE #old', names: { '#old': `r${old}` } };
  }

  private async conditional(id: string, input: UpdateInput): Promise<boolean> {
    try {
      await this.update(id, input);
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private update(id: string, input: UpdateInput) {
    return this.session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.session.tableName,
        Key: objectKey('barrier', id, 'state'),
        ...input,
        ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':expiresAt': { N: String(this.session.expiresAt()) } },
      }),
    );
  }
}

/** The parts of an UpdateItem that differ between the barrier's writes. */
interface UpdateInput {
  UpdateExpression: string;
  ConditionExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttributeValue>;
  ReturnValues?: 'ALL_NEW';
}
