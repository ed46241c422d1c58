import { getContext } from 'fanout';
import { definePoolConformance } from './poolConformance.js';

definePoolConformance('local', { context: () => getContext('local') });
