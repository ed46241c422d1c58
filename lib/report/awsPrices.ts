/**
 * The AWS prices a job's cost is reckoned at: us-east-1, on-demand, late 2026 (DESIGN.md), with
 * the worker Lambda on arm64 (the Fanout construct's architecture).
 */
export interface AwsPrices {
  /** Lambda compute, per GB-second (arm64). */
  lambdaGbSecond: number;
  /** Lambda, per invocation. */
  lambdaRequest: number;
  /** SQS, per request (each 64 KB of a request's or response's messages is one request). */
  sqsRequest: number;
  /** DynamoDB on demand, per write request unit (1 KB of an item written). */
  dynamoWriteUnit: number;
  /** DynamoDB on demand, per read request unit (4 KB of an item read consistently). */
  dynamoReadUnit: number;
  /** S3 Standard, per PUT (PutObject, and each part of a multipart upload). */
  s3Put: number;
  /** S3 Standard, per GET. */
  s3Get: number;
}

/**
 * The prices of DESIGN.md: Lambda $0.0000133334 per GB-s (arm64) and $0.20 per million
 * invocations; SQS $0.40 per million requests; DynamoDB $0.625 per million writes and $0.125 per
 * million reads; S3 $0.005 per 1,000 PUTs and $0.0004 per 1,000 GETs.
 *
 * @example
 * ```ts
 * const dollars = 1_000_000 * AWS_PRICES.sqsRequest; // 0.4
 * ```
 */
export const AWS_PRICES: Readonly<AwsPrices> = Object.freeze({
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
});
