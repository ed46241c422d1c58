/*
 * Its own module, free of the SDK's types, so that what reports counts (the cost report, the
 * estimate) can be typed in the published declarations without the SDK's packages.
 */

/** What a `RequestCounter` has seen, by kind and in billing units. */
export interface RequestCounts {
  /** Requests by `Service.Command` (for example `SQS.SendMessageBatch`). */
  requests: Record<string, number>;
  /** All requests. */
  total: number;
  /** SQS requests as billed: each 64 KB of a request's or response's messages counts as one. */
  sqsBilledRequests: number;
  /** DynamoDB read and write capacity units consumed (as reported with `ReturnConsumedCapacity`). */
  dynamoReadUnits: number;
  dynamoWriteUnits: number;
}

/**
 * The requests counted in `after` that were not yet in `before`, kind by kind.
 *
 * @example
 * ```ts
 * const before = counter.snapshot();
 * await work();
 * const spent = countsSince(counter.snapshot(), before);
 * ```
 */
export function countsSince(after: RequestCounts, before: RequestCounts): RequestCounts {
  const requests: Record<string, number> = {};
  for (const [key, count] of Object.entries(after.requests)) {
    const since = count - (before.requests[key] ?? 0);
    if (since > 0) requests[key] = since;
  }
  return {
    requests,
    total: after.total - before.total,
    sqsBilledRequests: after.sqsBilledRequests - before.sqsBilledRequests,
    dynamoReadUnits: after.dynamoReadUnits - before.dynamoReadUnits,
    dynamoWriteUnits: after.dynamoWriteUnits - before.dynamoWriteUnits,
  };
}
