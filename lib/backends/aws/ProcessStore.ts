import { GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { encodeProcessBody, type ProcessMessage } from './chunkMessages.js';
import type { TaskQueue } from './TaskQueue.js';
import { isConditionalCheckFailed, objectKey, type ItemKey } from './tableKeys.js';

/** Why a process ended, as its record says. */
export type ProcessEnd = 'returned' | 'error' | 'stopped' | 'died' | 'tooLong';

/** A process's record in the table (one item, `objectKey('process', id, 'state')`). */
export interface ProcessRecord {
  /** `started` once a worker has claimed it, `exited` once it has ended; undefined before. */
  status: 'started' | 'exited' | undefined;
  /** The delivery that claimed it. */
  holder: string | undefined;
  /** Bumped by every lease renewal: unchanged for a whole lease, the holder has died. */
  version: number;
  /** The signal a client asked for with terminate (15) or kill (9). */
  stop: number | undefined;
  code: number | undefined;
  end: ProcessEnd | undefined;
  /** The error text: what the target printed under `Process <name>:`, or why fanout ended it. */
  error: string | undefined;
  /** The lease its holder renews it within (ms). */
  leaseMs: number | undefined;
  /** How long the target ran (ms), when it ended on a worker. */
  ranMs: number | undefined;
}

/** How a process ended, as its holder writes it. */
export interface ProcessExit {
  code: number;
  end: ProcessEnd;
  error?: string | undefined;
  ranMs?: number | undefined;
}

/** What the worker learns when it claims a process. */
export type Claim = { claimed: true } | { claimed: false; record: ProcessRecord };

/** Attribute names (all aliased: some are DynamoDB reserved words). */
const NAMES = {
  '#st': 'st',
  '#h': 'holder',
  '#v': 'v',
  '#stop': 'stop',
  '#code': 'code',
  '#end': 'end',
  '#err': 'err',
  '#lease': 'lease',
  '#exp': 'expiresAt',
  '#ran': 'ran',
};

/**
 * The DynamoDB and SQS requests of `Process` on the aws backend, both sides: the client sends the
 * process's message, reads its record and writes stop requests; the worker claims the record
 * (a conditional write: one claim per process, however often its message is delivered), renews
 * its lease (a version bump that also reads the stop request) and writes the exit. Every write
 * is conditional on the record's state, so a client, a holder and a redelivery racing to end
 * it leave exactly one end. No transactions.
 *
 * @example
 * ```ts
 * const store = new ProcessStore(session.clients.dynamodb, session.tableName);
 * const record = await store.read(id);
 * ```
 */
export class ProcessStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Sends a process's message to the task queue (SendMessageBatch of one: TaskQueue's one send). */
  async send(queue: TaskQueue, message: ProcessMessage): Promise<void> {
    const refused = await queue.sendBatch([{ Id: '0', MessageBody: encodeProcessBody(message) }]);
    if (refused.length > 0) throw new Error(`SQS refused the message of process '${message.name}': ${refused[0]!.reason}`);
  }

  /** The process's record (a strongly consistent GetItem). */
  async read(id: string): Promise<ProcessRecord> {
    const response = await this.dynamodb.send(new GetItemCommand({ TableName: this.table, Key: key(id), ConsistentRead: true }));
    return toRecord(response.Item);
  }

  /** The signal of the stop request written for the process, if any (an eventually consistent GetItem of that one attribute: half a read unit). */
  async stopRequest(id: string): Promise<number | undefined> {
    const response = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.table,
        Key: key(id),
        ProjectionExpression: '#stop',
        ExpressionAttributeNames: pick('#stop'),
      }),
    );
    return toRecord(response.Item).stop;
  }

  /**
   * Claims the process for the delivery `holder` (an UpdateItem creating the `started` record,
   * unless it has one; a stop request before any claim ends the record, so a claim never finds one):
   * true, or false with the record.
   */
  async claim(id: string, holder: string, leaseMs: number, expiresAt: number): Promise<Claim> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(id),
          UpdateExpression: 'SET #st = :started, #h = :h, #v = :one, #lease = :lease, #exp = :exp',
          ConditionExpression: 'attribute_not_exists(#st)',
          ExpressionAttributeNames: pick('#st', '#h', '#v', '#lease', '#exp'),
          ExpressionAttributeValues: {
            ':started': { S: 'started' },
            ':h': { S: holder },
            ':one': { N: '1' },
            ':lease': { N: String(leaseMs) },
            ':exp': { N: String(expiresAt) },
          },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return { claimed: false, record: await this.read(id) };
    }
  }

  /**
   * Renews the holder's lease (bumps the version) and reads the stop request in the same
   * UpdateItem. Resolves to `lost` when the record is no longer the holder's running one (it was
   * judged dead, or ended otherwise): the holder must stop without writing.
   */
  async renew(id: string, holder: string): Promise<{ lost: false; stop: number | undefined } | { lost: true }> {
    try {
      const response = await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(id),
          UpdateExpression: 'SET #v = #v + :one',
          ConditionExpression: '#st = :started AND #h = :h',
          ExpressionAttributeNames: pick('#v', '#st', '#h'),
          ExpressionAttributeValues: { ':one': { N: '1' }, ':started': { S: 'started' }, ':h': { S: holder } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { lost: false, stop: toRecord(response.Attributes).stop };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return { lost: true };
    }
  }

  /** The holder writes the process's end; false if the record was no longer its running one. */
  finish(id: string, holder: string, end: ProcessExit): Promise<boolean> {
    return this.end(id, end, '#st = :started AND #h = :h', { ':h': { S: holder } }, ['#h']);
  }

  /**
   * Ends a process whose holder let a whole lease pass at `version` without renewing it; false
   * if the record changed meanwhile (the holder lives, or someone else ended it).
   */
  markDied(id: string, version: number, error: string, code: number): Promise<boolean> {
    return this.end(id, { code, end: 'died', error }, '#st = :started AND #v = :v', { ':v': { N: String(version) } }, ['#v']);
  }

  /**
   * Asks the process to stop with `signal`: a process no worker has claimed yet ends at once
   * (a claim then finds it ended); a running one gets the request its holder reads at its next
   * renewal. Resolves to whether it ended here.
   */
  async requestStop(id: string, signal: number, expiresAt: number): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(id),
          UpdateExpression: 'SET #st = :exited, #code = :code, #end = :stopped, #stop = :sig, #exp = :exp',
          ConditionExpression: 'attribute_not_exists(#st)',
          ExpressionAttributeNames: pick('#st', '#code', '#end', '#stop', '#exp'),
          ExpressionAttributeValues: {
            ':exited': { S: 'exited' },
            ':code': { N: String(-signal) },
            ':stopped': { S: 'stopped' },
            ':sig': { N: String(signal) },
            ':exp': { N: String(expiresAt) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(id),
          // The first request wins (Python: a second signal to a dying process changes nothing).
          UpdateExpression: 'SET #stop = if_not_exists(#stop, :sig)',
          ConditionExpression: '#st = :started',
          ExpressionAttributeNames: pick('#stop', '#st'),
          ExpressionAttributeValues: { ':sig': { N: String(signal) }, ':started': { S: 'started' } },
        }),
      );
    } catch (error) {
      // Already ended: nothing to stop.
      if (!isConditionalCheckFailed(error)) throw error;
    }
    return false;
  }

  private async end(
    id: string,
    end: ProcessExit,
    condition: string,
    values: Record<string, AttributeValue>,
    names: Array<keyof typeof NAMES>,
  ): Promise<boolean> {
    const error = end.error ?? '';
    const ran = end.ranMs !== undefined;
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key(id),
          UpdateExpression: `SET #st = :exited, #code = :code, #end = :end${error ? ', #err = :err' : ''}${ran ? ', #ran = :ran' : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: pick(
            '#st',
            '#code',
            '#end',
            ...(error ? (['#err'] as const) : []),
            ...(ran ? (['#ran'] as const) : []),
            ...names,
          ),
          ExpressionAttributeValues: {
            ':exited': { S: 'exited' },
            ':started': { S: 'started' },
            ':code': { N: String(end.code) },
            ':end': { S: end.end },
            // An item holds at most 400 KB: keep the end of a long error text.
            ...(error ? { ':err': { S: error.length > MAX_ERROR_CHARS ? error.slice(-MAX_ERROR_CHARS) : error } } : {}),
            ...(ran ? { ':ran': { N: String(Math.round(end.ranMs!)) } } : {}),
            ...values,
          },
        }),
      );
      return true;
    } catch (thrown) {
      if (!isConditionalCheckFailed(thrown)) throw thrown;
      return false;
    }
  }
}

/** Characters of error text kept in a record. */
const MAX_ERROR_CHARS = 64 * 1024;

function key(id: string): ItemKey {
  return objectKey('process', id, 'state');
}

function pick(...names: Array<keyof typeof NAMES>): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, NAMES[name]]));
}

function toRecord(item: Record<string, AttributeValue> | undefined): ProcessRecord {
  const number = (name: string) => (item?.[name]?.N !== undefined ? Number(item[name].N) : undefined);
  const status = item?.st?.S;
  return {
    status: status === 'started' || status === 'exited' ? status : undefined,
    holder: item?.holder?.S,
    version: number('v') ?? 0,
    stop: number('stop'),
    code: number('code'),
    end: item?.end?.S as ProcessEnd | undefined,
    error: item?.err?.S,
    leaseMs: number('lease'),
    ranMs: number('ran'),
  };
}
