/**
 * Installs the aws backend in this thread: registers it under 'aws' (it loads the AWS SDK only
 * on first use), and teaches the decoder to re-bind its shared objects when they arrive, on a
 * Lambda worker's thread as in the program that made them.
 */
import { registerBackend } from '../../backend/backends.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import './awsHandles.js';

registerBackend(
  'aws',
  () => new AwsBackend(),
  (config) => AwsBackend.forConfig(config as AwsConfig),
);
