import { awsTarget } from './awsTarget.js';
import { defineSyncConformance } from './sync.js';

// The same suite as on the local backend: locks, semaphores, events, conditions, barriers and
// shared values in DynamoDB (dynalite), used here and from the fleet's pool workers.
defineSyncConformance('aws, emulated', awsTarget('sync'));
