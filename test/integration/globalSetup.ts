/**
 * Vitest global setup: starts the AWS emulators (fauxqs, dynalite) on free ports of 127.0.0.1
 * once per run, and provides their endpoints to the test files (`inject('awsEmulators')`).
 */
import type { TestProject } from 'vitest/node';
import { startEmulators, type EmulatorEndpoints } from '../../lib/backends/aws/emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEmulators: EmulatorEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulators = await startEmulators();
  project.provide('awsEmulators', emulators.endpoints);
  return () => emulators.stop();
}
