import {
  BatchGetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  CANCEL_SORT_KEY,
  RUN_PREFIX,
  CHUNK_PREFIX,
  cancelKey,
  chunkKey,
  chunkSortKey,
  crashesKey,
  isConditionalCheckFailed,
  JOBS_PARTITION,
  jobKey,
  duplicateKey,
  duplicateSortKey,
  parseDuplicate,
  parseChunk,
  runKey,
} from './tableKeys.js';
import { batchWriteAll } from './batchWrite.js';
import { randomBytes } from 'node:crypto';
import type { ChunkRunRecord, ChunkStatus } from '../../report/ChunkTimeline.js';

// How a chunk ended (`dead`: it crashed its worker on every delivery the queue allows; `tooLong`:
// it cannot finish within one invocation), and how it ran: the shapes the job timeline draws.
export type { ChunkRunRecord, ChunkStatus };

/** A chunk's record: its status and its result frame (inline, or the key of an S3 object). */
export interface ChunkRecord {
  chunk: number;
  status: ChunkStatus;
  frame?: Uint8Array | undefined;
  frameKey?: string | undefined;
  /** Why a chunk is `dead` or `tooLong`. */
  reason?: string | undefined;
  /** A `tooLong` chunk: how long it ran unfinished, and the time an invocation gives a chunk. */
  ranMs?: number | undefined;
  timeoutMs?: number | undefined;
  /** How the chunk ran, for the job's timeline and cost (a chunk that ran on a worker). */
  run?: ChunkRun | undefined;
  /** A job's chunk: its first item's position in the job's input, its items, and how many of them failed. */
  item?: number | undefined;
  items?: number | undefined;
  itemErrors?: number | undefined;
}

/** A chunk record without its result: what a job's status is counted from. */
export interface ChunkOutline {
  chunk: number;
  status: ChunkStatus;
  item: number | undefined;
  items: number | undefined;
  itemErrors: number | undefined;
  /** When the chunk ended on its worker (epoch ms), if a worker ran it. */
  endMs: number | undefined;
}

/** Where and when a chunk ran (a {@link ChunkRunRecord} without its number and status). */
export type ChunkRun = Omit<ChunkRunRecord, 'chunk' | 'status'>;

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/**
 * The run records in the DynamoDB table: one item per finished chunk (`pk` = the run,
 * `sk` = the chunk number), written at most once with a conditional put, so that a redelivered
 * or duplicated message changes nothing; and one marker per cancelled run. No transactions.
 *
 * @example
 * ```ts
 * const table = new ResultTable(clients.dynamodb, config.table);
 * await table.putResult('run-1', { chunk: 0, status: 'ok', frame }, expiresAt); // true: first write
 * await table.putResult('run-1', { chunk: 0, status: 'ok', frame }, expiresAt); // false: already there
 * ```
 */
export class ResultTable {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /**
   * Records a chunk's end unless it is recorded already. Resolves to whether this call wrote it.
   */
  async putResult(run: string, record: ChunkRecord, expiresAt: number): Promise<boolean> {
    const item: Record<string, AttributeValue> = {
      ...chunkKey(run, record.chunk),
      st: { S: record.status },
      expiresAt: { N: String(expiresAt) },
    };
    if (record.frame) item.f = { B: record.frame };
    if (record.frameKey) item.k = { S: record.frameKey };
    if (record.reason) item.why = { S: record.reason };
    if (record.ranMs !== undefined) item.ran = { N: String(Math.round(record.ranMs)) };
    if (record.timeoutMs !== undefined) item.lim = { N: String(Math.round(record.timeoutMs)) };
    if (record.run) item.t = { M: encodeRun(record.run) };
    if (record.item !== undefined) item.i = { N: String(record.item) };
    if (record.items !== undefined) item.ni = { N: String(record.items) };
    if (record.itemErrors !== undefined) item.ne = { N: String(record.itemErrors) };
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * Which of these chunks are recorded already (finished by an earlier delivery, or cancelled),
   * and which of their runs are cancelled. Reads keys only, never result payloads.
   */
  async findSettled(
    chunks: ReadonlyArray<{ run: string; chunk: number; jobId?: string | undefined }>,
  ): Promise<{ settled: Set<string>; cancelledRuns: Set<string>; cancelledJobs: Set<string> }> {
    const keys: Array<Record<string, AttributeValue>> = [];
    const seen = new Set<string>();
    for (const { run, chunk, jobId } of chunks) {
      for (const key of [chunkKey(run, chunk), cancelKey(run), ...(jobId ? [jobKey(jobId)] : [])]) {
        const id = `${key.pk.S}|${key.sk.S}`;
        if (!seen.has(id)) {
          seen.add(id);
          keys.push(key);
        }
      }
    }
    const settled = new Set<string>();
    const cancelledRuns = new Set<string>();
    const cancelledJobs = new Set<string>();
    for (let start = 0; start < keys.length; start += BATCH_GET_KEYS) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [this.tableName]: {
          Keys: keys.slice(start, start + BATCH_GET_KEYS),
          ConsistentRead: true,
          // A job's item is cancelled when it has `cx`; no other item read here has it.
          ProjectionExpression: 'pk, sk, cx',
        },
      };
      while (request && Object.keys(request).length > 0) {
        const response: BatchGetItemCommandOutput = await this.dynamodb.send(
          new BatchGetItemCommand({ RequestItems: request, ReturnConsumedCapacity: 'TOTAL' }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) {
          if (item.pk?.S === JOBS_PARTITION) {
            if (item.cx) cancelledJobs.add(item.sk?.S ?? '');
            continue;
          }
          const run = item.pk?.S?.slice(RUN_PREFIX.length) ?? '';
          if (item.sk?.S === CANCEL_SORT_KEY) cancelledRuns.add(run);
          else settled.add(`${run}|${parseChunk(item.sk?.S)}`);
        }
        request = response.UnprocessedKeys;
      }
    }
    return { settled, cancelledRuns, cancelledJobs };
  }

  /**
   * Records a run of a chunk that lost the race to record it (a speculative copy, or the original
   * it was a copy of): what it cost, beside the chunk's record, for the job's cost report.
   */
  async putDuplicate(run: string, chunk: number, ran: ChunkRun, expiresAt: number): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...duplicateKey(run, chunk, randomBytes(6).toString('base64url')),
          t: { M: encodeRun(ran) },
          expiresAt: { N: String(expiresAt) },
        },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
  }

  /** The losing runs of a run's chunks `from ..= to` (see {@link putDuplicate}), in chunk order. */
  async duplicateRuns(run: string, from: number, to: number): Promise<Array<ChunkRun & { chunk: number }>> {
    const runs: Array<ChunkRun & { chunk: number }> = [];
    // Every duplicate of chunk `to` sorts after its bare prefix and before the next chunk's.
    await this.queryAll(run, { from: duplicateSortKey(from), to: `${duplicateSortKey(to)}#~` }, undefined, (item) => {
      const ran = decodeRun(item.t?.M);
      if (ran) runs.push({ chunk: parseDuplicate(item.sk?.S), ...ran });
    });
    return runs;
  }

  /**
   * Counts a crash of a chunk's worker, in an item beside the chunk's record (not read by
   * clients); resolves to the crashes counted so far, by every worker. Counted here rather than
   * read from SQS's receive count, which also counts deliveries handed back unharmed.
   */
  async countCrash(run: string, chunk: number, expiresAt: number): Promise<number> {
    const response = await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: crashesKey(run, chunk),
        UpdateExpression: 'ADD n :one SET expiresAt = :expiresAt',
        ExpressionAttributeValues: { ':one': { N: '1' }, ':expiresAt': { N: String(expiresAt) } },
        ReturnValues: 'UPDATED_NEW',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return Number(response.Attributes?.n?.N ?? 1);
  }

  /** Marks chunks as cancelled, so that workers skip them (their results are no longer wanted). */
  async cancelChunks(
    run: string,
    chunks: ReadonlyArray<number | { chunk: number; item: number; items: number }>,
    expiresAt: number,
  ): Promise<void> {
    const writes: WriteRequest[] = chunks.map((entry) => {
      const item: Record<string, AttributeValue> = {
        ...chunkKey(run, typeof entry === 'number' ? entry : entry.chunk),
        st: { S: 'cancelled' },
        expiresAt: { N: String(expiresAt) },
      };
      if (typeof entry !== 'number') {
        item.i = { N: String(entry.item) };
        item.ni = { N: String(entry.items) };
        item.ne = { N: '0' };
      }
      return { PutRequest: { Item: item } };
    });
    await batchWriteAll(this.dynamodb, this.tableName, writes);
  }

  /** Marks a whole run as cancelled (a terminated pool): workers skip all of its chunks. */
  async cancelRun(run: string, expiresAt: number): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...cancelKey(run), expiresAt: { N: String(expiresAt) } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
  }

  /**
   * One page of the records of chunks `from ..= to` of a run, in chunk order, read consistently.
   * Pass the returned `next` back to read the following page of the same range.
   */
  async queryResults(
    run: string,
    from: number,
    to: number,
    next?: Record<string, AttributeValue>,
  ): Promise<{ records: ChunkRecord[]; next: Record<string, AttributeValue> | undefined }> {
    const response = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': { S: runKey(run) },
          ':from': { S: chunkSortKey(from) },
          ':to': { S: chunkSortKey(to) },
        },
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
        ...(next ? { ExclusiveStartKey: next } : {}),
      }),
    );
    const records = (response.Items ?? []).map((item): ChunkRecord => ({
      chunk: parseChunk(item.sk?.S),
      status: (item.st?.S ?? 'failed') as ChunkStatus,
      frame: item.f?.B,
      frameKey: item.k?.S,
      reason: item.why?.S,
      ranMs: item.ran?.N === undefined ? undefined : Number(item.ran.N),
      timeoutMs: item.lim?.N === undefined ? undefined : Number(item.lim.N),
      run: decodeRun(item.t?.M),
      item: optionalNumber(item.i),
      items: optionalNumber(item.ni),
      itemErrors: optionalNumber(item.ne),
    }));
    return { records, next: response.LastEvaluatedKey };
  }

  /**
   * The outlines of the records of chunks `from ..= to` of a run (status, items, failures, end),
   * without results: every page, in chunk order. What a job's status is counted from.
   */
  async outlines(run: string, from: number, to: number): Promise<ChunkOutline[]> {
    const outlines: ChunkOutline[] = [];
    await this.queryAll(run, { from: chunkSortKey(from), to: chunkSortKey(to) }, 'sk, st, i, ni, ne, t.e', (item) =>
      outlines.push({
        chunk: parseChunk(item.sk?.S),
        status: (item.st?.S ?? 'failed') as ChunkStatus,
        item: optionalNumber(item.i),
        items: optionalNumber(item.ni),
        itemErrors: optionalNumber(item.ne),
        endMs: optionalNumber(item.t?.M?.e),
      }),
    );
    return outlines;
  }

  /**
   * How each recorded chunk of a run ran (worker, thread, times, attempts), in chunk order: the
   * records without their results (Query pages projecting the run map), for a job's timeline.
   * Chunks that no worker ran (cancelled, failed by the client) are left out.
   */
  async chunkRuns(run: string, range?: { from: number; to: number }): Promise<ChunkRunRecord[]> {
    const runs: ChunkRunRecord[] = [];
    const keys = range ? { from: chunkSortKey(range.from), to: chunkSortKey(range.to) } : { prefix: CHUNK_PREFIX };
    await this.queryAll(run, keys, 'sk, st, t', (item) => {
      const ran = decodeRun(item.t?.M);
      if (ran) runs.push({ chunk: parseChunk(item.sk?.S), status: (item.st?.S ?? 'failed') as ChunkStatus, ...ran });
    });
    return runs;
  }

  /** Every page of a consistent query of a run's partition: sort keys in `from ..= to`, or starting with `prefix`. */
  private async queryAll(
    run: string,
    keys: { from: string; to: string } | { prefix: string },
    projection: string | undefined,
    each: (item: Record<string, AttributeValue>) => void,
  ): Promise<void> {
    const condition: { KeyConditionExpression: string; values: Record<string, AttributeValue> } =
      'prefix' in keys
        ? { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', values: { ':prefix': { S: keys.prefix } } }
        : {
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            values: { ':from': { S: keys.from }, ':to': { S: keys.to } },
          };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamodb.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition.KeyConditionExpression,
          ExpressionAttributeValues: { ':pk': { S: runKey(run) }, ...condition.values },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) each(item);
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

function encodeRun(run: ChunkRun): Record<string, AttributeValue> {
  return {
    w: { S: run.worker },
    th: { N: String(run.thread) },
    s: { N: String(Math.round(run.startMs)) },
    e: { N: String(Math.round(run.endMs)) },
    a: { N: String(run.attempts) },
    c: { BOOL: run.coldStart },
    tm: { N: String(Math.round(run.taskMs * 1000) / 1000) },
    n: { N: String(run.items) },
    ...(run.copy ? { cp: { BOOL: true } } : {}),
  };
}

/** A chunk record's run map, or undefined when it has none (a chunk failed by the client, or cancelled). */
function decodeRun(map: Record<string, AttributeValue> | undefined): ChunkRun | undefined {
  if (!map) return undefined;
  return {
    worker: map.w?.S ?? '',
    thread: Number(map.th?.N ?? 0),
    startMs: Number(map.s?.N ?? 0),
    endMs: Number(map.e?.N ?? 0),
    attempts: Number(map.a?.N ?? 1),
    coldStart: map.c?.BOOL === true,
    taskMs: Number(map.tm?.N ?? 0),
    items: Number(map.n?.N ?? 0),
    ...(map.cp?.BOOL === true ? { copy: true } : {}),
  };
}

function optionalNumber(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}
