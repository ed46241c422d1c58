import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { performance } from 'node:perf_hooks';
import type { AwsSession } from './AwsSession.js';
import { isConditionalCheckFailed, objectKey, objectPartition, type ItemKey } from './tableKeys.js';

/** Items larger than this go to S3 (a DynamoDB item holds at most 400 KB, keys and attributes included). */
export const INLINE_ITEM_BYTES = 350 * 1024;
/** The sort-key prefix of a queued item; the meta item (`m`) sorts after every item. */
const ITEM_PREFIX = 'i#';
const META_PART = 'm';
/**
 * How many keys one head query reads: enough for several gets without another query, and more
 * than the claimed items a consumer leaves for its next batched delete, so that those rarely
 * push the unclaimed ones onto a second page.
 */
const HEAD_LIMIT = 32;
/** A cached head query serves later gets for this long (its keys may be taken meanwhile: a claim tells). */
const CACHE_MS = 1_000;
/** A consumer deletes its claimed items at most this long after the first claim of a batch. */
const FLUSH_MS = 2_000;
/** A consumer that lost no race for this long takes the oldest item again. */
const CONTENDED_MS = 1_000;
/** After this many lost races in a row the cached keys are likely all taken: query afresh. */
const LOST_RACES = 2;
/** Deletes of claimed items go in batches of at most this (BatchWriteItem's limit). */
const DELETE_BATCH = 25;

/** The token standing for an end's first copy (the `Pipe()` one), which is never registered. */
export const FIRST_COPY = 'first';

/**
 * Whether a channel end is closed by its copies (see `AwsChannelEngine.copyEnd`): its first copy
 * was released, and every copy registered (`o<end>`) was released too (`x<end>`). Both are sets
 * that only grow, so the order the updates land in does not matter.
 */
function endReleased(meta: Record<string, AttributeValue>, end: 0 | 1): boolean {
  const released = new Set(meta[`x${end}`]?.SS ?? []);
  if (!released.has(FIRST_COPY)) return false;
  return (meta[`o${end}`]?.SS ?? []).every((token) => released.has(token));
}

/** The producer named in an item's sort key (`i#<ms>#<producer>#<seq>`). */
function producerOf(sk: string): string {
  return sk.split('#')[2]!;
}

/**
 * The index in `keys` (sorted item keys, oldest first) of the item to claim: the oldest while there
 * is no favorite (no race lost lately), else `favorite`'s first key if it has one, else a random
 * producer's first key.
 */
function pickHead(keys: string[], favorite: string | undefined): number {
  if (favorite === undefined) return 0;
  const firsts: number[] = [];
  const producers = new Set<string>();
  for (let index = 0; index < keys.length; index++) {
    const producer = producerOf(keys[index]!);
    if (producers.has(producer)) continue;
    if (producer === favorite) return index;
    producers.add(producer);
    firsts.push(index);
  }
  return firsts[Math.floor(Math.random() * firsts.length)]!;
}

/** What a head query found: the keys of unclaimed items, oldest first, and the meta item's flags. */
export interface Heads {
  keys: string[];
  /** The sending end of a channel was closed. */
  senderClosed: boolean;
  /** The receiving end of a channel was closed. */
  readerClosed: boolean;
}

/** The counters and flags of a queue's or channel's meta item. */
export interface Meta {
  /** Items reserved by puts and not yet taken (bounded queues only). */
  size: number;
  /** Unfinished tasks (joinable queues only). */
  unfinished: number;
  senderClosed: boolean;
  readerClosed: boolean;
  /** The last operation number this table saw from an actor attribute (idempotent retries). */
  seen(attribute: string): number;
}

/**
 * The DynamoDB (and S3) requests of one aws queue or channel; loaded on first use so that a
 * program that never uses aws never loads the SDK.
 *
 * Layout, in the partition `obj#<kind>#<id>` of the run table:
 * - `i#<ms, 13 digits>#<producer>#<seq, 10 digits>`: one item; `b` its bytes, or `k` the S3 key of
 *   a big one; `c` the claim token of the consumer that took it (set once, then the item is deleted).
 * - `m`: the meta item: `n` (reserved size), `u` (unfinished tasks), `sc`/`rc` (channel ends
 *   closed), and per actor the number of its last counter update (`p_<actor>`, `g_<actor>`,
 *   `d_<actor>`), which makes an update that the SDK retried after it took effect count once.
 *
 * @example
 * ```ts
 * const store = new QueueStore(session, 'queue', id);
 * await store.putItem('0000000000001#ab12#0000000001', bytes);
 * ```
 */
export class QueueStore {
  private readonly partition: string;
  private pendingDeletes: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private cached: string[] = [];
  private cachedAt = 0;
  private claims = 0;
  /** Set while this consumer races others (see {@link take}): '' for a random producer next. */
  private favorite: string | undefined;
  private lostAt = 0;

  constructor(
    private readonly session: AwsSession,
    private readonly kind: string,
    private readonly id: string,
  ) {
    this.partition = objectPartition(kind, id);
  }

  private key(part: string): ItemKey {
    return objectKey(this.kind, this.id, part);
  }

  /** Writes an item at `part` (unique to its producer); a retried write that already landed counts as done. */
  async putItem(part: string, bytes: Uint8Array): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...this.key(ITEM_PREFIX + part),
      expiresAt: { N: String(this.session.expiresAt()) },
    };
    if (bytes.length > INLINE_ITEM_BYTES) {
      const s3Key = `objects/${this.kind}/${this.id}/${part.replaceAll('#', '-')}`;
      await this.session.payloads.put(s3Key, bytes);
      item.k = { S: s3Key };
    } else {
      item.b = { B: bytes };
    }
    try {
      await this.session.clients.dynamodb.send(
        new PutItemCommand({ TableName: this.session.tableName, Item: item, ConditionExpression: 'attribute_not_exists(sk)' }),
      );
    } catch (error) {
      // Keys are unique per producer and call: only this call's own retried write can be there.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /** The oldest unclaimed items' keys, and the meta item's flags when it is within the page. */
  private async heads(): Promise<Heads> {
    const found: Heads = { keys: [], senderClosed: false, readerClosed: false };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.session.clients.dynamodb.send(
        new QueryCommand({
          TableName: this.session.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'attribute_not_exists(c)',
          ProjectionExpression: 'sk, sc, rc, o0, x0, o1, x1',
          ExpressionAttributeValues: { ':pk': { S: this.partition } },
          ConsistentRead: true,
          Limit: HEAD_LIMIT,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = item.sk?.S ?? '';
        if (sk.startsWith(ITEM_PREFIX)) found.keys.push(sk);
        else if (sk === META_PART) {
          found.senderClosed = item.sc?.BOOL === true || endReleased(item, 1);
          found.readerClosed = item.rc?.BOOL === true || endReleased(item, 0);
        }
      }
      start = page.LastEvaluatedKey;
      // Claimed items not yet deleted are filtered out after the limit: page on past them.
    } while (found.keys.length === 0 && start);
    return found;
  }

  /**
   * Takes an item it can claim for `consumer`: its bytes, or `undefined` when a fresh head query
   * found none (with the channel's flags of that query). The keys of a head query are kept for
   * the next calls, so a get from a backlog costs one claim and a share of a query.
   * Per-producer order holds for each consumer: only a producer's first key in the list is ever
   * tried (its earlier items were claimed when the query ran, and a claimed item never comes back).
   * A consumer that has not lost a race for a while takes the oldest item, so that one consumer
   * gets items in the order they were put, across producers too (a child's item before the one
   * its parent put after joining it). Once it loses a race it spreads out: it keeps to the
   * producer whose item it last won and picks another at random when it loses again, so that
   * racing consumers do not all try the same oldest item.
   */
  async take(consumer: string): Promise<{ item: Uint8Array | undefined; senderClosed: boolean }> {
    for (;;) {
      let heads: Heads | undefined;
      if (this.cached.length === 0 || performance.now() - this.cachedAt > CACHE_MS) {
        heads = await this.heads();
        this.cached = heads.keys;
        this.cachedAt = performance.now();
        if (heads.keys.length === 0) return { item: undefined, senderClosed: heads.senderClosed };
      }
      let lost = 0;
      while (this.cached.length > 0 && lost < LOST_RACES) {
        const sk = this.cached.splice(pickHead(this.cached, this.favorite), 1)[0]!;
        const item = await this.claim(sk, `${consumer}#${++this.claims}`);
        if (item) {
          // Under contention, stay with a producer while this consumer wins its items.
          if (this.favorite !== undefined) {
            this.favorite = performance.now() - this.lostAt > CONTENDED_MS ? undefined : producerOf(sk);
          }
          return { item, senderClosed: false };
        }
        // Lost a race: spread out (a random producer next), and keep spreading for a while.
        this.lostAt = performance.now();
        this.favorite = '';
        lost++;
      }
      this.cached = [];
      // Every key was taken by others: look again at once, other items are likely there.
    }
  }

  /** True once an unclaimed item or the sender's close is there (and keeps the keys for `take`). */
  async ready(): Promise<boolean> {
    if (this.cached.length > 0 && performance.now() - this.cachedAt <= CACHE_MS) return true;
    const heads = await this.heads();
    this.cached = heads.keys;
    this.cachedAt = performance.now();
    return heads.keys.length > 0 || heads.senderClosed;
  }

  /**
   * Claims the item at `sk` for `token` (unique per claim): its bytes, or undefined if another
   * consumer took it first. Retrying with the same token after a claim that landed succeeds again,
   * so a retried request never loses an item.
   */
  private async claim(sk: string, token: string): Promise<Uint8Array | undefined> {
    let attributes: Record<string, AttributeValue> | undefined;
    try {
      const result = await this.session.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.session.tableName,
          Key: { pk: { S: this.partition }, sk: { S: sk } },
          UpdateExpression: 'SET c = :token',
          ConditionExpression: 'attribute_exists(sk) AND (attribute_not_exists(c) OR c = :token)',
          ExpressionAttributeValues: { ':token': { S: token } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      attributes = result.Attributes;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
    this.deleteLater(sk);
    if (attributes?.b?.B) return attributes.b.B;
    if (attributes?.k?.S) return this.session.payloads.get(attributes.k.S);
    return new Uint8Array(0);
  }

  /** Claimed items are deleted in batches (TTL removes those of a consumer that died first). */
  private deleteLater(sk: string): void {
    this.pendingDeletes.push(sk);
    if (this.pendingDeletes.length >= DELETE_BATCH) {
      void this.flushDeletes();
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flushDeletes(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /** Deletes every claimed item whose delete is pending (tests, shutdown). */
  async flushAll(): Promise<void> {
    while (this.pendingDeletes.length > 0) await this.flushDeletes();
  }

  /** Deletes a batch of claimed items not deleted yet (best effort: TTL is the backstop). */
  private async flushDeletes(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pendingDeletes.splice(0, DELETE_BATCH);
    if (batch.length === 0) return;
    try {
      await this.session.clients.dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [this.session.tableName]: batch.map((sk) => ({
              DeleteRequest: { Key: { pk: { S: this.partition }, sk: { S: sk } } },
            })),
          },
        }),
      );
    } catch {
      // Claimed items are invisible to consumers either way; TTL removes what is left.
    }
    // Claims made meanwhile wait for a full batch or the timer, not for this flush's end.
    if (this.pendingDeletes.length >= DELETE_BATCH) void this.flushDeletes();
    else if (this.pendingDeletes.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flushDeletes(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /**
   * Updates the meta item's counters as operation `seq` of `actor` (an attribute name such as
   * `p_<id>`), under an optional extra condition. True once applied (now, or by an earlier retry of
   * the same request); false when the condition refused it.
   */
  async updateCounters(
    actor: string,
    seq: number,
    add: { n?: number; u?: number },
    condition?: { attribute: 'n' | 'u'; below?: number; above?: number },
  ): Promise<boolean> {
    const names: Record<string, string> = { '#a': actor };
    const values: Record<string, AttributeValue> = {
      ':seq': { N: String(seq) },
      ':exp': { N: String(this.session.expiresAt()) },
    };
    const adds: string[] = [];
    for (const [attribute, delta] of Object.entries(add)) {
      if (delta === undefined) continue;
      adds.push(`${attribute} :d${attribute}`);
      values[`:d${attribute}`] = { N: String(delta) };
    }
    let conditionExpression = '(attribute_not_exists(#a) OR #a < :seq)';
    if (condition?.below !== undefined) {
      conditionExpression += ` AND (attribute_not_exists(${condition.attribute}) OR ${condition.attribute} < :limit)`;
      values[':limit'] = { N: String(condition.below) };
    }
    if (condition?.above !== undefined) {
      conditionExpression += ` AND ${condition.attribute} > :limit`;
      values[':limit'] = { N: String(condition.above) };
    }
    try {
      await this.session.clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.session.tableName,
          Key: this.key(META_PART),
          UpdateExpression: `SET #a = :seq, expiresAt = :exp${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Refused: by the limit, or because a retry of this very update had already landed.
    return (await this.meta()).seen(actor) >= seq;
  }

  /** Sets a channel end's flag (`sc`: sender closed, `rc`: reader closed). */
  async setFlag(flag: 'sc' | 'rc'): Promise<void> {
    await this.session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.session.tableName,
        Key: this.key(META_PART),
        UpdateExpression: `SET ${flag} = :true, expiresAt = :exp`,
        ExpressionAttributeValues: { ':true': { BOOL: true }, ':exp': { N: String(this.session.expiresAt()) } },
      }),
    );
  }

  /** Adds `token` to the meta item's string set `attribute` (a channel end's copies: `o0`, `x1`...). */
  async addToSet(attribute: `${'o' | 'x'}${0 | 1}`, token: string): Promise<void> {
    await this.session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.session.tableName,
        Key: this.key(META_PART),
        UpdateExpression: `ADD ${attribute} :token SET expiresAt = :exp`,
        ExpressionAttributeValues: { ':token': { SS: [token] }, ':exp': { N: String(this.session.expiresAt()) } },
      }),
    );
  }

  /** The meta item, read consistently. */
  async meta(): Promise<Meta> {
    const result = await this.session.clients.dynamodb.send(
      new GetItemCommand({ TableName: this.session.tableName, Key: this.key(META_PART), ConsistentRead: true }),
    );
    const item = result.Item ?? {};
    return {
      size: Number(item.n?.N ?? 0),
      unfinished: Number(item.u?.N ?? 0),
      senderClosed: item.sc?.BOOL === true || endReleased(item, 1),
      readerClosed: item.rc?.BOOL === true || endReleased(item, 0),
      seen: (attribute) => Number(item[attribute]?.N ?? -1),
    };
  }

  /** Unclaimed items now (a count query: approximate while others put and get). */
  async count(): Promise<number> {
    let total = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.session.clients.dynamodb.send(
        new QueryCommand({
          TableName: this.session.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :items)',
          FilterExpression: 'attribute_not_exists(c)',
          ExpressionAttributeValues: { ':pk': { S: this.partition }, ':items': { S: ITEM_PREFIX } },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      total += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return total;
  }
}
