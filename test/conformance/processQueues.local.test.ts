import { defineProcessConformance } from './processQueues.js';

defineProcessConformance('local');
