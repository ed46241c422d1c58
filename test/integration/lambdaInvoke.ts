/**
 * Drives the worker Lambda's exported handler in this process as Lambda's SQS event source
 * does: real messages received from the emulated queue become the event's records, the context
 * counts its remaining time down in real time from the function's timeout, and after the
 * invocation the records not reported as failures are deleted (the failures are left as the
 * handler set their visibility).
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { handler } from '../../functions/worker/handler.js';
import type { AwsClients } from '../../lib/backends/aws/AwsClients.js';

/** A Lambda context whose remaining time counts down from `timeoutMs`, starting now. */
export function countdownContext(timeoutMs: number): Context {
  const started = performance.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'fanout-worker-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fanout-worker-test',
    memoryLimitInMB: '1769',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/fanout-worker-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, Math.round(timeoutMs - (performance.now() - started))),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Receives up to `max` messages (one request) as the event source's records. */
export async function receiveRecords(
  clients: AwsClients,
  options: { max?: number; visibilityTimeout?: number; waitSeconds?: number } = {},
): Promise<SQSRecord[]> {
  const { config } = clients;
  const received = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: config.queueUrl,
      MaxNumberOfMessages: options.max ?? 10,
      WaitTimeSeconds: options.waitSeconds ?? 1,
      ...(options.visibilityTimeout !== undefined ? { VisibilityTimeout: options.visibilityTimeout } : {}),
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
    }),
  );
  return (received.Messages ?? []).map((message) => {
    const messageAttributes: SQSRecord['messageAttributes'] = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        stringListValues: [],
        binaryListValues: [],
      };
    }
    return {
      messageId: message.MessageId!,
      receiptHandle: message.ReceiptHandle!,
      body: message.Body!,
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: message.Attributes?.SentTimestamp ?? '',
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? '',
      },
      messageAttributes,
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${config.region}:000000000000:test`,
      awsRegion: config.region,
    };
  });
}

/**
 * Invokes the exported handler with these records and a context of `timeoutMs`, then deletes
 * the records it did not report as failures, as the event source does.
 */
export async function invokeHandler(clients: AwsClients, records: SQSRecord[], timeoutMs: number): Promise<SQSBatchResponse> {
  const event: SQSEvent = { Records: records };
  const response = (await handler(event, countdownContext(timeoutMs))) as SQSBatchResponse;
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const done = records.filter((record) => !failed.has(record.messageId));
  for (let start = 0; start < done.length; start += 10) {
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: clients.config.queueUrl,
        Entries: done
          .slice(start, start + 10)
          .map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
  }
  return response;
}
