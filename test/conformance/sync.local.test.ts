import { defineSyncConformance } from './sync.js';

defineSyncConformance('local');
