/**
 * The key schema of fanout's DynamoDB table, in one place: every aws store (run results, crash
 * counts, locks, counters, queues, processes) keys its items here, so that no two stores can
 * collide and a TTL sweep finds them all. The table has a string partition key `pk`, a string
 * sort key `sk` and the TTL attribute `expiresAt` (epoch seconds), as the stack declares.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The table's attribute names. */
export const TABLE_ATTRIBUTES = { partition: 'pk', sort: 'sk', expiresAt: 'expiresAt' } as const;

/** A full primary key. */
export interface ItemKey extends Record<string, AttributeValue> {
  pk: { S: string };
  sk: { S: string };
}

/** The partition of a pool run's records. */
export const RUN_PREFIX = 'run#';
/** A chunk's record inside its run. */
export const CHUNK_PREFIX = 'c#';
/** Crash counters sort after every chunk record (`x` > `c`), outside the clients' queries. */
export const CRASHES_PREFIX = 'x#';
/** The marker of a cancelled run. */
export const CANCEL_SORT_KEY = 'cancel';
/**
 * The partition of a shared object (a lock, a counter, a queue, a process): `obj#<kind>#<id>`,
 * so that a handle's id can never name a run's records.
 */
export const OBJECT_PREFIX = 'obj#';

/**
 * The partition of every job's item (`sk` = the job id, time-sortable): one Query lists jobs
 * newest first. A job's chunk records stay in its run's partition.
 */
export const JOBS_PARTITION = 'jobs';

/** The key of a job's item. */
export function jobKey(jobId: string): ItemKey {
  return { pk: { S: JOBS_PARTITION }, sk: { S: jobId } };
}

/** The partition key of a run. */
export function runKey(run: string): string {
  return `${RUN_PREFIX}${run}`;
}

/** Zero-padded so that the sort key orders chunks by number. */
export function chunkSortKey(chunk: number): string {
  return `${CHUNK_PREFIX}${String(chunk).padStart(10, '0')}`;
}

/** The key of a chunk's record. */
export function chunkKey(run: string, chunk: number): ItemKey {
  return { pk: { S: runKey(run) }, sk: { S: chunkSortKey(chunk) } };
}

/** Losing runs of a chunk (see `ResultTable.putDuplicate`) sort between chunk records and crash counters. */
export const DUPLICATE_PREFIX = 'd#';

/** The sort key prefix of chunk `chunk`'s losing runs. */
export function duplicateSortKey(chunk: number): string {
  return `${DUPLICATE_PREFIX}${String(chunk).padStart(10, '0')}`;
}

/** The key of one losing run of a chunk. */
export function duplicateKey(run: string, chunk: number, id: string): ItemKey {
  return { pk: { S: runKey(run) }, sk: { S: `${duplicateSortKey(chunk)}#${id}` } };
}

/** The chunk number of a losing run's sort key; -1 for any other item. */
export function parseDuplicate(sortKey: string | undefined): number {
  return sortKey?.startsWith(DUPLICATE_PREFIX)
    ? Number(sortKey.slice(DUPLICATE_PREFIX.length, DUPLICATE_PREFIX.length + 10))
    : -1;
}

/** The key of a chunk's crash counter. */
export function crashesKey(run: string, chunk: number): ItemKey {
  return { pk: { S: runKey(run) }, sk: { S: `${CRASHES_PREFIX}${String(chunk).padStart(10, '0')}` } };
}

/** The key of a run's cancel marker. */
export function cancelKey(run: string): ItemKey {
  return { pk: { S: runKey(run) }, sk: { S: CANCEL_SORT_KEY } };
}

/** The chunk number of a chunk record's sort key; -1 for any other item. */
export function parseChunk(sortKey: string | undefined): number {
  return sortKey?.startsWith(CHUNK_PREFIX) ? Number(sortKey.slice(CHUNK_PREFIX.length)) : -1;
}

/**
 * The key of one item of a shared object: `kind` names the primitive (`lock`, `value`...), `id`
 * the object (random, from its handle), `part` the item inside it (`state`, an index, a holder).
 *
 * @example
 * ```ts
 * objectKey('lock', 'k3T9', 'state'); // { pk: { S: 'obj#lock#k3T9' }, sk: { S: 'state' } }
 * ```
 */
export function objectKey(kind: string, id: string, part: string): ItemKey {
  return { pk: { S: objectPartition(kind, id) }, sk: { S: part } };
}

/** The partition of a shared object, for queries over all its items. */
export function objectPartition(kind: string, id: string): string {
  return `${OBJECT_PREFIX}${kind}#${id}`;
}

/**
 * Whether a DynamoDB error is a refused condition: the idiom of every conditional write here
 * (put-if-absent, compare-and-set), which turns a refusal into an answer rather than a failure.
 *
 * @example
 * ```ts
 * try { await dynamodb.send(put); } catch (error) { if (!isConditionalCheckFailed(error)) throw error; }
 * ```
 */
export function isConditionalCheckFailed(error: unknown): boolean {
  // By name, not instanceof: this module stays free of the SDK at run time (engines import the
  // key schema), and the SDK names every error it throws.
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** The TTL value of an item written now that must outlive `retentionSeconds`. */
export function expiresAtAfter(retentionSeconds: number, now: number = Date.now()): number {
  return Math.floor(now / 1000) + retentionSeconds;
}
