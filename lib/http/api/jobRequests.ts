import { z } from 'zod';

/** Job ids, as `JobService` makes them: 26 lower-case letters and digits (time-sortable). */
export const JOB_ID_PATTERN = /^[0-9a-z]{26}$/;
/** Upload ids, as `POST /uploads` makes them: 26 lower-case letters and digits (random). */
export const UPLOAD_ID_PATTERN = /^[0-9a-z]{26}$/;
/** The longest task name the API takes. */
export const MAX_TASK_NAME_LENGTH = 256;
/** The longest page token the API takes (a token the service makes is far shorter). */
export const MAX_TOKEN_LENGTH = 4096;
/** Results per page at most (`GET /jobs/{id}/results?limit=`). */
export const MAX_RESULTS_LIMIT = 10_000;
/** Jobs per page at most (`GET /jobs?limit=`). */
export const MAX_LIST_LIMIT = 100;

const required =
  (allowed: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `is required (${allowed})` : `must be ${allowed}`;

/**
 * The body of `POST /jobs`: `{"task", "items"?, "itemsUpload"?, "chunksize"?, "starmap"?}`, exactly
 * one of `items` (the items inline) and `itemsUpload` (the id of an upload holding them as a JSON
 * array), no other field.
 *
 * @example
 * ```ts
 * SubmitJobBody.parse({ task: 'square', items: [1, 2, 3], chunksize: 2 });
 * SubmitJobBody.safeParse({ task: 'square', items: [1], chunksize: '2' }).success; // false
 * ```
 */
export const SubmitJobBody = z
  .strictObject(
    {
      task: z
        .string({ error: required('a task name, a non-empty string') })
        .min(1, { error: 'must be a task name, a non-empty string' })
        .max(MAX_TASK_NAME_LENGTH, { error: `must be a task name of at most ${MAX_TASK_NAME_LENGTH} characters` }),
      items: z.array(z.unknown(), { error: 'must be an array of items' }).optional(),
      itemsUpload: z
        .string({ error: 'must be an upload id (a string) from POST /uploads' })
        .regex(UPLOAD_ID_PATTERN, { error: 'must be an upload id from POST /uploads (26 lower-case letters and digits)' })
        .optional(),
      chunksize: z
        .int({ error: 'must be a whole number, 1 or more' })
        .min(1, { error: 'must be a whole number, 1 or more' })
        .optional(),
      starmap: z.boolean({ error: 'must be true or false' }).optional(),
    },
    { error: 'must be a JSON object: {"task": "<name>", "items": [...]}' },
  )
  .refine((body) => (body.items === undefined) !== (body.itemsUpload === undefined), {
    error: "needs exactly one of 'items' (the items inline) and 'itemsUpload' (an upload id from POST /uploads)",
  });

/** A valid `POST /jobs` body. */
export type SubmitJobRequest = z.infer<typeof SubmitJobBody>;

/**
 * The body of `POST /uploads`: none, or an empty object (no options yet).
 *
 * @example
 * ```ts
 * CreateUploadBody.parse({});
 * ```
 */
export const CreateUploadBody = z.strictObject({}, { error: 'must be empty or {}' });

const pageLimit = (max: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, { error: `must be a whole number from 1 to ${max}` })
    .transform(Number)
    .pipe(z.number().max(max, { error: `must be a whole number from 1 to ${max}` }));

const pageToken = z
  .string()
  .min(1, { error: 'must be a page token from a previous page (not empty)' })
  .max(MAX_TOKEN_LENGTH, { error: `must be a page token from a previous page (at most ${MAX_TOKEN_LENGTH} characters)` });

/**
 * The query of `GET /jobs/{jobId}/results`: `next` (a page token from the previous page) and
 * `limit` (results per page, 1 to {@link MAX_RESULTS_LIMIT}), both optional.
 *
 * @example
 * ```ts
 * ResultsQuery.parse({ limit: '100' }); // { limit: 100 }
 * ```
 */
export const ResultsQuery = z.strictObject({ next: pageToken.optional(), limit: pageLimit(MAX_RESULTS_LIMIT).optional() });

/**
 * The query of `GET /jobs`: `next` (a page token from the previous page) and `limit` (jobs per
 * page, 1 to {@link MAX_LIST_LIMIT}), both optional.
 *
 * @example
 * ```ts
 * ListQuery.parse({ limit: '20', next: 'abc' }); // { limit: 20, next: 'abc' }
 * ```
 */
export const ListQuery = z.strictObject({ next: pageToken.optional(), limit: pageLimit(MAX_LIST_LIMIT).optional() });

/** The query of a route that takes none. */
export const NoQuery = z.strictObject({});

/** The fields of an object schema, for messages about unknown ones. */
export function fieldsOf(schema: z.ZodObject): string[] {
  return Object.keys(schema.shape);
}

/**
 * The issues of a failed parse as one sentence per issue, each naming where (`body.chunksize`,
 * `query.limit`), what is allowed and what was given, e.g.
 * `body.chunksize must be a whole number, 1 or more; got '2' (string)`.
 *
 * @example
 * ```ts
 * const parsed = SubmitJobBody.safeParse(body, { reportInput: true });
 * if (!parsed.success) console.log(describeIssues('body', parsed.error, ['task', 'items']));
 * ```
 */
export function describeIssues(where: 'body' | 'query', error: z.ZodError, fields: readonly string[]): string {
  const sentences = error.issues.slice(0, 10).map((issue) => {
    const at = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      const noun = where === 'body' ? 'field' : 'parameter';
      const allowed = fields.length > 0 ? `the ${noun}s are ${fields.join(', ')}` : `it takes no ${noun}s`;
      const keys = issue.keys.slice(0, 10).map((key) => `'${clip(key)}'`);
      return `${at} has unknown ${noun}${keys.length > 1 ? 's' : ''} ${keys.join(', ')} (${allowed})`;
    }
    const given =
      issue.code !== 'custom' && 'input' in issue && issue.input !== undefined ? `; got ${describeJson(issue.input)}` : '';
    return `${at} ${issue.message}${given}`;
  });
  const more = error.issues.length > 10 ? ` (and ${error.issues.length - 10} more)` : '';
  return `${sentences.join('. ')}${more}.`;
}

/** A short description of a JSON value, for messages: `'2' (string)`, `1.5 (number)`, `an array`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `'${clip(value)}' (string)`;
    case 'number':
    case 'boolean':
      return `${String(value)} (${typeof value})`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Caps an echoed value, so that a refusal never repeats a huge input in full. */
export function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
