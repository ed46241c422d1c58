// The floor for a round trip: a bare worker_threads worker that echoes every message back.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (value) => parentPort.postMessage(value + 1));
