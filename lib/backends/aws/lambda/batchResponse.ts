import type { InvocationOutcome } from './invocation.js';

/** Which messages of a batch go back to the queue, and why. */
export interface BatchVerdict {
  /** Message IDs not to delete: they come back after the queue's visibility timeout. */
  failedIds: Set<string>;
  /** Every message of the batch failed, and why (an invocation error, a malformed response). */
  wholeBatchReason: string | undefined;
}

/**
 * Reads an invocation's outcome as Lambda's SQS event source does. A failed invocation (the
 * handler threw, timed out, or its runtime exited) fails the whole batch. With
 * `ReportBatchItemFailures`, the response names the failures: `batchItemFailures` empty, null or
 * absent (or a null or empty response) is a complete success; a response that is not such an
 * object, or an entry whose `itemIdentifier` is missing, empty, or not a message of the batch,
 * fails the whole batch. Without it, the response is ignored and a returned invocation is a
 * complete success.
 *
 * @example
 * ```ts
 * const { failedIds } = batchVerdict({ status: 'success', response: { batchItemFailures: [{ itemIdentifier: 'm2' }] } }, ['m1', 'm2'], true);
 * // failedIds: Set { 'm2' }
 * ```
 */
export function batchVerdict(
  outcome: InvocationOutcome,
  messageIds: readonly string[],
  reportBatchItemFailures: boolean,
): BatchVerdict {
  const whole = (reason: string): BatchVerdict => ({ failedIds: new Set(messageIds), wholeBatchReason: reason });
  switch (outcome.status) {
    case 'error':
      return whole(`the handler failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    case 'timeout':
      return whole(`the invocation timed out after ${outcome.timeoutSeconds} s`);
    case 'crashed':
      return whole(`the runtime exited: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
  }
  const none: BatchVerdict = { failedIds: new Set(), wholeBatchReason: undefined };
  const response = outcome.response;
  if (!reportBatchItemFailures || response === null || response === undefined) return none;
  if (typeof response !== 'object' || Array.isArray(response)) {
    return whole(`the response ${JSON.stringify(response).slice(0, 80)} is not a batch response ({ batchItemFailures: [...] })`);
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return none;
  if (!Array.isArray(failures)) return whole('batchItemFailures is not a list');
  const known = new Set(messageIds);
  const failedIds = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '')
      return whole(`a batch item failure has no itemIdentifier: ${JSON.stringify(failure)}`);
    if (!known.has(id)) return whole(`the batch item failure '${id}' is not a message of the batch`);
    failedIds.add(id);
  }
  return { failedIds, wholeBatchReason: undefined };
}
