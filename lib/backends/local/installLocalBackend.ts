/**
 * Installs the local backend in this thread: registers it under 'local', and teaches the
 * decoder to re-bind its shared objects (locks, values, queues, pipes) when they arrive.
 */
import { registerBackend } from '../../backend/backends.js';
import { LocalBackend } from './LocalBackend.js';
import './localHandles.js';
import './handleKinds.js';

registerBackend('local', () => new LocalBackend());
