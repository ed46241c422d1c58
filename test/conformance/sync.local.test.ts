import { getContext } from 'fanout';
import { defineSyncConformance } from './sync.js';

defineSyncConformance('local', { context: () => getContext('local') });
