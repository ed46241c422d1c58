import { describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { RequestCounter } from '../../../lib/backends/aws/RequestCounter.js';
import { provisionForTest } from '../../integration/awsHarness.js';

describe('RequestCounter', () => {
  it('counts requests by kind, SQS billing units by 64 KB, and DynamoDB capacity units', async () => {
    const config = await provisionForTest('counter');
    const endpoints = inject('awsEmulators');
    const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
    const sqs = new SQSClient({ region: config.region, endpoint: endpoints.sqs, credentials });
    const dynamodb = new DynamoDBClient({ region: config.region, endpoint: endpoints.dynamodb, credentials });
    const counter = new RequestCounter();
    counter.watch(sqs, 'SQS');
    counter.watch(dynamodb, 'DynamoDB');
    try {
      // Two messages of 100 KB: four billing units for the send, four for the receive.
      const body = 'x'.repeat(100 * 1024);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: config.queueUrl,
          Entries: [
            { Id: 'a', MessageBody: body },
            { Id: 'b', MessageBody: body },
          ],
        }),
      );
      let received = 0;
      while (received < 2) {
        const response = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: config.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        received += response.Messages?.length ?? 0;
      }
      const put = () =>
        dynamodb.send(
          new PutItemCommand({
            TableName: config.table,
            Item: { pk: { S: 'p' }, sk: { S: 's' } },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
      await put();
      await expect(put()).rejects.toThrow(); // refused by its condition: still a request and a write unit
      const counts = counter.snapshot();
      expect(counts.requests['SQS.SendMessageBatch']).toBe(1);
      expect(counts.requests['DynamoDB.PutItem']).toBe(2);
      expect(counts.total).toBe(counts.requests['SQS.ReceiveMessage']! + 3);
      expect(counts.sqsBilledRequests).toBeGreaterThanOrEqual(8);
      expect(counts.dynamoWriteUnits).toBe(2);
    } finally {
      sqs.destroy();
      dynamodb.destroy();
    }
  });
});
