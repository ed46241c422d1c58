import { InvalidArgumentError, JobNotFoundError, UnknownTaskError, ValueError } from '../../errors.js';

/**
 * A refusal of the jobs API: the HTTP status, a stable code and a message that names what was
 * wrong, the value and what is allowed. It never leaves the API: {@link JobApi} answers it as
 * `{"error": {"code", "message"}}` with its status (and headers, such as `Allow` on a 405).
 *
 * @example
 * ```ts
 * throw new ApiRefusal(404, 'ERR_ROUTE_NOT_FOUND', "No route 'GET /nope'.");
 * ```
 */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiRefusal';
  }
}

/**
 * Runs a `JobService` call and turns the errors its contract names into refusals: an unknown job
 * is a 404; a bad page token, a bad submission (`InvalidArgumentError`), a task not registered
 * (`UnknownTaskError`) and a starmap item that is not an array (`ValueError`) are 400s. Any other
 * error is left as it is (the API answers it with a 500 and logs it): it is not the caller's fault.
 *
 * @example
 * ```ts
 * const status = await serviceCall(() => jobs.status(jobId));
 * ```
 */
export async function serviceCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof JobNotFoundError) throw new ApiRefusal(404, error.code, error.message);
    if (error instanceof UnknownTaskError || error instanceof InvalidArgumentError || error instanceof ValueError) {
      throw new ApiRefusal(400, error.code, error.message);
    }
    throw error;
  }
}
