import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsConfigError } from 'fanout';
import { resolveAwsConfig } from '../../../lib/backends/aws/AwsConfig.js';

/** DescribeStacks's XML answer with the given outputs (the CloudFormation query protocol). */
function describeStacksXml(outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`)
    .join('');
  return (
    '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks>' +
    `<member><StackName>Fanout</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member>` +
    '</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>'
  );
}

/** A stand-in CloudFormation endpoint on 127.0.0.1: no emulator here has CloudFormation. */
async function fakeCloudFormation(
  respond: (body: string) => { status: number; xml: string },
): Promise<{ url: string; server: Server; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (part: Buffer) => (body += part.toString()));
    request.on('end', () => {
      bodies.push(body);
      const { status, xml } = respond(body);
      response.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, bodies };
}

describe('resolveAwsConfig with FANOUT_STACK (fake CloudFormation endpoint: no emulator has it)', () => {
  const saved = { ...process.env };
  let server: Server | undefined;
  afterEach(() => {
    process.env = { ...saved };
    server?.close();
  });

  it('reads the queue, dead-letter queue, table, bucket and region from the stack outputs', async () => {
    const fake = await fakeCloudFormation(() => ({
      status: 200,
      xml: describeStacksXml({
        QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123/tasks',
        DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123/dlq',
        TableName: 'Fanout-State',
        BucketName: 'fanout-payloads-123',
        WorkerFunctionName: 'Fanout-Worker',
        Region: 'eu-west-1',
      }),
    }));
    server = fake.server;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_CLOUDFORMATION: fake.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const config = await resolveAwsConfig({ FANOUT_STACK: 'Fanout', AWS_REGION: 'eu-west-1', FANOUT_TABLE: 'Override' });
    expect(fake.bodies[0]).toContain('Action=DescribeStacks');
    expect(fake.bodies[0]).toContain('StackName=Fanout');
    expect(config).toEqual({
      region: 'eu-west-1',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123/tasks',
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123/dlq',
      table: 'Override',
      bucket: 'fanout-payloads-123',
      retentionSeconds: 86_400,
    });
  });

  it('a stack that cannot be read is an AwsConfigError naming the stack', async () => {
    const fake = await fakeCloudFormation(() => ({
      status: 400,
      xml: '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id Nope does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>',
    }));
    server = fake.server;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_CLOUDFORMATION: fake.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    const error = await resolveAwsConfig({ FANOUT_STACK: 'Nope', AWS_REGION: 'eu-west-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsConfigError);
    expect((error as Error).message).toContain("'Nope'");
    expect((error as Error).message).toContain('does not exist');
  });
});
