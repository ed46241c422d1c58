import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * Objects above this size go up in parts: S3 takes up to 5 GB in one PUT, but emulators cap a
 * request body (fauxqs at 11 MiB), and parts of 8 MiB keep memory per request bounded.
 */
const PART_BYTES = 8 * 1024 * 1024;

/**
 * The claim-check store: payloads too big for an SQS message or a DynamoDB item are kept in the
 * payload bucket, and the message or item carries their key instead.
 *
 * @example
 * ```ts
 * const store = new PayloadStore(clients.s3, config.bucket);
 * await store.put('run-1/args/7', bytes);
 * const back = await store.get('run-1/args/7');
 * ```
 */
export class PayloadStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Stores `bytes` under `key`, in parts when they are large. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length <= PART_BYTES) {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
      return;
    }
    const upload = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    const uploadId = upload.UploadId;
    if (!uploadId) throw new Error(`S3 did not start a multipart upload for s3://${this.bucket}/${key}.`);
    try {
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (let offset = 0, number = 1; offset < bytes.length; offset += PART_BYTES, number++) {
        const body = bytes.subarray(offset, Math.min(offset + PART_BYTES, bytes.length));
        const part = await this.s3.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: number,
            Body: body,
            ContentLength: body.length,
          }),
        );
        parts.push({ ETag: part.ETag ?? '', PartNumber: number });
      }
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
      throw error;
    }
  }

  /** The bytes stored under `key`. */
  async get(key: string): Promise<Uint8Array> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!object.Body) throw new Error(`s3://${this.bucket}/${key} has no body.`);
    return object.Body.transformToByteArray();
  }
}
