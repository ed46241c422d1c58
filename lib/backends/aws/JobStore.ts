import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { JOBS_PARTITION, isConditionalCheckFailed, jobKey } from './tableKeys.js';

/** A job's item: what it is, and where its chunk records are (chunks `first ..< first + chunks` of `run`). */
export interface JobRecord {
  jobId: string;
  task: string;
  /** The task's module, when the submitter named one (a Pool's task); API jobs run tasks by name. */
  module?: string | undefined;
  total: number;
  chunksize: number;
  starmap: boolean;
  source: 'pool' | 'api';
  run: string;
  first: number;
  chunks: number;
  /** Epoch ms. */
  createdMs: number;
  cancelledMs?: number | undefined;
  /** The submitter's requests to send the job, by `Service.Operation` (for its cost report). */
  requests?: Record<string, number> | undefined;
  expiresAt: number;
}

/**
 * Jobs' items in the DynamoDB table, all in one partition (`jobs`) sorted by id, which is
 * time-sortable: one item per job, written once when its chunks have all been made, then only
 * marked when it is cancelled. Workers read the mark (`cx`) with the chunk keys they check.
 *
 * @example
 * ```ts
 * const jobs = new JobStore(clients.dynamodb, config.table);
 * await jobs.put(record);
 * (await jobs.get(record.jobId))?.chunks;
 * ```
 */
export class JobStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** Writes a job's item (once: a job id is never reused). */
  async put(record: JobRecord): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...jobKey(record.jobId),
      task: { S: record.task },
      total: { N: String(record.total) },
      csz: { N: String(record.chunksize) },
      star: { BOOL: record.starmap },
      src: { S: record.source },
      run: { S: record.run },
      first: { N: String(record.first) },
      chunks: { N: String(record.chunks) },
      created: { N: String(record.createdMs) },
      expiresAt: { N: String(record.expiresAt) },
    };
    if (record.module !== undefined) item.mod = { S: record.module };
    if (record.requests && Object.keys(record.requests).length > 0) {
      item.rq = { M: Object.fromEntries(Object.entries(record.requests).map(([kind, n]) => [kind, { N: String(n) }])) };
    }
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
  }

  /** A job's item, read consistently; undefined when there is none. */
  async get(jobId: string): Promise<JobRecord | undefined> {
    const response = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: jobKey(jobId),
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return response.Item ? decodeJob(response.Item) : undefined;
  }

  /**
   * Marks a job cancelled (the first cancellation's time is kept). Resolves to the job's item
   * as it now is, or undefined when there is no such job.
   */
  async cancel(jobId: string, now: number = Date.now()): Promise<JobRecord | undefined> {
    try {
      const response = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: jobKey(jobId),
          UpdateExpression: 'SET cx = if_not_exists(cx, :now)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': { N: String(now) } },
          ReturnValues: 'ALL_NEW',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return response.Attributes ? decodeJob(response.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /** Jobs newest first, `limit` at a time; pass `after` (the last id of a page) to read on. */
  async list(limit: number, after?: string): Promise<{ jobs: JobRecord[]; last: string | undefined }> {
    const response = await this.dynamodb.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: JOBS_PARTITION } },
        ScanIndexForward: false,
        Limit: limit,
        ReturnConsumedCapacity: 'TOTAL',
        ...(after ? { ExclusiveStartKey: jobKey(after) } : {}),
      }),
    );
    const jobs = (response.Items ?? []).map(decodeJob);
    return { jobs, last: response.LastEvaluatedKey ? jobs.at(-1)?.jobId : undefined };
  }
}

function decodeJob(item: Record<string, AttributeValue>): JobRecord {
  const requests = item.rq?.M
    ? Object.fromEntries(Object.entries(item.rq.M).map(([kind, value]) => [kind, Number(value.N ?? 0)]))
    : undefined;
  return {
    jobId: item.sk?.S ?? '',
    task: item.task?.S ?? '',
    module: item.mod?.S,
    total: Number(item.total?.N ?? 0),
    chunksize: Number(item.csz?.N ?? 1),
    starmap: item.star?.BOOL === true,
    source: item.src?.S === 'api' ? 'api' : 'pool',
    run: item.run?.S ?? '',
    first: Number(item.first?.N ?? 0),
    chunks: Number(item.chunks?.N ?? 0),
    createdMs: Number(item.created?.N ?? 0),
    cancelledMs: item.cx?.N === undefined ? undefined : Number(item.cx.N),
    requests,
    expiresAt: Number(item.expiresAt?.N ?? 0),
  };
}
