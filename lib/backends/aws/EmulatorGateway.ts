import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '../../errors.js';
import { listenOnPort, portOption } from '../../util/listenOnPort.js';
import { isLoopbackHost } from './emulatorRules.js';

/** Where the gateway forwards: the emulators' own base URLs. */
export interface GatewayTargets {
  /** fauxqs: SQS and S3. */
  sqsAndS3: string;
  /** dynalite: DynamoDB. */
  dynamodb: string;
}

/**
 * One endpoint for every emulated service, as LocalStack offers on port 4566, for tools and SDKs
 * configured with a single `AWS_ENDPOINT_URL`. Requests go to dynalite when they are DynamoDB's
 * (its JSON protocol names `DynamoDB_20120810.<Operation>` in `X-Amz-Target`), and to fauxqs
 * otherwise (SQS's JSON and query protocols, and S3's REST API). Bodies stream through; the
 * `Host` header is kept, so the queue URLs fauxqs returns name the gateway. Loopback only.
 *
 * @example
 * ```ts
 * const gateway = await EmulatorGateway.start(targets, { port: 4566 });
 * process.env.AWS_ENDPOINT_URL = gateway.url; // http://127.0.0.1:4566
 * await gateway.stop();
 * ```
 */
export class EmulatorGateway {
  private constructor(
    private readonly server: Server,
    /** The gateway's base URL, e.g. `http://127.0.0.1:4566`. */
    readonly url: string,
  ) {}

  /** Starts the gateway on a loopback `host` (default 127.0.0.1); port 0 picks a free one. */
  static async start(targets: GatewayTargets, options: { host?: string; port?: number } = {}): Promise<EmulatorGateway> {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackHost(host)) {
      throw new InvalidArgumentError(
        'EmulatorGateway.start(options): host',
        host,
        'a loopback address (127.x.y.z, ::1 or localhost)',
      );
    }
    const port = portOption('EmulatorGateway.start(options): port', options.port);
    const server = createServer((incoming, outgoing) => forward(targets, incoming, outgoing));
    const address = await listenOnPort(server, port, host, 'EmulatorGateway.start(options): port');
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return new EmulatorGateway(server, `http://${urlHost}:${address.port}`);
  }

  /** The address the gateway listens on. */
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The emulator a request is for. */
function targetOf(targets: GatewayTargets, incoming: IncomingMessage): string {
  const operation = incoming.headers['x-amz-target'];
  return typeof operation === 'string' && operation.startsWith('DynamoDB_') ? targets.dynamodb : targets.sqsAndS3;
}

function forward(targets: GatewayTargets, incoming: IncomingMessage, outgoing: ServerResponse): void {
  const target = new URL(incoming.url ?? '/', targetOf(targets, incoming));
  const upstream = request(target, { method: incoming.method, headers: incoming.headers }, (response) => {
    outgoing.writeHead(response.statusCode ?? 502, response.statusMessage, response.headers);
    response.pipe(outgoing);
  });
  upstream.on('error', (error) => {
    if (outgoing.headersSent) {
      outgoing.destroy(error);
      return;
    }
    outgoing.writeHead(502, { 'content-type': 'text/plain' });
    outgoing.end(`fanout emulator gateway: ${target.origin} did not answer (${error.message})`);
  });
  incoming.pipe(upstream);
}
