import { awsTarget } from './awsTarget.js';
import { definePoolConformance } from './poolConformance.js';

// The same suite as on the local backend, on the emulated aws backend: chunks travel over SQS
// (fauxqs) to an in-process worker fleet, results come back through DynamoDB (dynalite).
definePoolConformance('aws, emulated', awsTarget('conformance'));
