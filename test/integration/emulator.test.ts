import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { configEnvironment, loadEmulatorModules, provisionResources, startEmulators } from '../../lib/backends/aws/emulator.js';
import { InvalidArgumentError, MissingDependencyError } from '../../lib/errors.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A listening TCP socket as /proc/net/tcp and tcp6 show it. */
interface Listener {
  family: 4 | 6;
  address: string;
}

/** The listening sockets on `port`, from the text of /proc/net/tcp (family 4) or tcp6 (family 6). */
function listenersIn(text: string, family: 4 | 6, port: number): Listener[] {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${portHex}`))
    .map((fields) => ({ family, address: fields[1]!.split(':')[0]! }));
}

function listeners(port: number): Listener[] {
  return [
    ...listenersIn(readFileSync('/proc/net/tcp', 'utf8'), 4, port),
    ...(existsSync('/proc/net/tcp6') ? listenersIn(readFileSync('/proc/net/tcp6', 'utf8'), 6, port) : []),
  ];
}

/**
 * Loopback as the kernel writes it: 127.x.y.z (a little-endian word, so it ends in 7F), ::1, or
 * ::ffff:127.x.y.z. Not 0.0.0.0 (00000000) or :: (all zeros).
 */
function isLoopback({ family, address }: Listener): boolean {
  if (family === 4) return address.endsWith('7F');
  return address === '00000000000000000000000001000000' || /^0000000000000000FFFF0000[0-9A-F]{6}7F$/.test(address);
}

describe('the emulators listen on loopback only', () => {
  it('the check reads /proc as the kernel writes it, and would see a socket on every address', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1',
      '   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1',
    ].join('\n');
    const found = listenersIn(tcp, 4, 8080);
    expect(found).toEqual([
      { family: 4, address: '0100007F' },
      { family: 4, address: '00000000' },
    ]);
    expect(found.map(isLoopback)).toEqual([true, false]);
    expect(isLoopback({ family: 6, address: '00000000000000000000000000000000' })).toBe(false);
    expect(isLoopback({ family: 6, address: '00000000000000000000000001000000' })).toBe(true);
  });

  it('after startEmulators(), no socket of either emulator or of the gateway listens on 0.0.0.0 or ::', async () => {
    const emulators = await startEmulators({ gatewayPort: 0 });
    try {
      expect(Object.keys(emulators.addresses).sort()).toEqual(['dynamodb', 'gateway', 'sqs']);
      for (const address of Object.values(emulators.addresses)) {
        expect(address.address).toBe('127.0.0.1');
        if (existsSync('/proc/net/tcp')) {
          const found = listeners(address.port);
          expect(found.length).toBeGreaterThan(0);
          expect(found.filter((listener) => !isLoopback(listener))).toEqual([]);
        }
      }
    } finally {
      await emulators.stop();
    }
  });

  it('listens on ::1 when asked, with endpoints in brackets', async () => {
    const emulators = await startEmulators({ host: '::1' });
    try {
      expect(emulators.addresses.sqs.address).toBe('::1');
      expect(emulators.endpoints.sqs).toMatch(/^http:\/\/\[::1\]:\d+$/);
      for (const address of Object.values(emulators.addresses)) {
        expect(listeners(address.port).filter((listener) => !isLoopback(listener))).toEqual([]);
      }
      const config = await provisionResources(emulators.endpoints, { name: 'emulator-ipv6' });
      expect(config.queueUrl).toBe(`${emulators.endpoints.sqs}/000000000000/emulator-ipv6-tasks`);
    } finally {
      await emulators.stop();
    }
  });

  it('refuses a host that is not loopback, before starting anything', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      const error = await startEmulators({ host }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(
        /host must be a loopback address \(127\.0\.0\.1, another 127\.x\.y\.z, ::1 or localhost\)/,
      );
    }
  });

  it('says a port is in use, naming it', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(startEmulators({ sqsPort: port })).rejects.toThrow(
        new RegExp(`sqsPort must be a port that is free and allowed; got ${port} \\(number\\)\\. It is in use`),
      );
      await expect(startEmulators({ dynamodbPort: port })).rejects.toThrow(/dynamodbPort must be a port that is free/);
    } finally {
      busy.close();
    }
  });
});

describe('the emulated queue', () => {
  it('has a URL that resolves: the real SDK reaches it with no endpoint configured', async () => {
    const emulators = await startEmulators();
    try {
      const config = await provisionResources(emulators.endpoints, { name: 'emulator-url' });
      expect(config.queueUrl).toBe(`${emulators.endpoints.sqs}/000000000000/emulator-url-tasks`);
      expect(configEnvironment(config)).toMatchObject({
        FANOUT_QUEUE_URL: config.queueUrl,
        AWS_ENDPOINT_URL_SQS: emulators.endpoints.sqs,
      });
      // No endpoint: the SDK sends each request to the queue URL's own host, as with real SQS.
      const sqs = new SQSClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: 'found' }));
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: config.queueUrl, WaitTimeSeconds: 1 }));
        expect(received.Messages?.map((message) => message.Body)).toEqual(['found']);
      } finally {
        sqs.destroy();
      }
    } finally {
      await emulators.stop();
    }
  });
});

describe('the emulator packages', () => {
  it('are named with the command that installs them when missing (a loader that finds nothing: they cannot be uninstalled here)', async () => {
    const notFound = async (specifier: string) => {
      throw Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/x.js`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    const error = await loadEmulatorModules(notFound).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error).toMatchObject({ code: 'ERR_MISSING_DEPENDENCY', packages: ['fauxqs', 'dynalite'] });
    expect((error as Error).message).toBe(
      'The fanout emulator needs fauxqs and dynalite, which are not installed. ' +
        'Install in your project: npm install --save-dev fauxqs@1.9.2 dynalite@4.0.0',
    );
  });

  it('passes on an error that is not about the packages themselves', async () => {
    const broken = async () => {
      throw Object.assign(new Error("Cannot find package 'left-pad' imported from fauxqs"), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    await expect(loadEmulatorModules(broken)).rejects.toThrow(/left-pad/);
  });
});
