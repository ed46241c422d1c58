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
