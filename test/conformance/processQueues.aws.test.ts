import { awsTarget } from './awsTarget.js';
import { defineProcessConformance } from './processQueues.js';

// The same suite as on the local backend: Process targets run on the fleet's workers, queues and
// pipes live in DynamoDB (dynalite).
defineProcessConformance('aws, emulated', awsTarget('processes'));
