/** Where and how to send the items of a job too big for a request body: what `POST /uploads` answers. */
export interface UploadTicket {
  /** Pass as `itemsUpload` to `POST /jobs` once the items are uploaded. */
  uploadId: string;
  /** A presigned URL: send the items there, as one JSON array, with `method`. */
  url: string;
  method: 'PUT';
  /** ISO 8601: the URL works until then. */
  expiresAt: string;
  /** The largest upload `POST /jobs` reads, in bytes. */
  maxBytes: number;
}

/**
 * Uploads of item lists too big for a request body (a Function URL takes 6 MB): `create` hands out
 * a presigned PUT URL, `read` gets the items back as `POST /jobs` submits them, `remove` drops
 * them once their job is made. `read` refuses with an `ApiRefusal` (400) an upload that is missing,
 * too big, not UTF-8, not JSON or not an array.
 *
 * @example
 * ```ts
 * const ticket = await uploads.create();
 * await fetch(ticket.url, { method: 'PUT', body: JSON.stringify(items) });
 * const back = await uploads.read(ticket.uploadId);
 * ```
 */
export interface ItemUploads {
  create(): Promise<UploadTicket>;
  read(uploadId: string): Promise<unknown[]>;
  remove(uploadId: string): Promise<void>;
}
