import { getContext } from 'fanout';
import { defineProcessConformance } from './processQueues.js';

defineProcessConformance('local', { context: () => getContext('local') });
