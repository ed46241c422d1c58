/**
 * The HTTP API Lambda (a Function URL with AWS_IAM auth): jobs over signed HTTP requests.
 * Being built (issue 10): until its routes land, every request is answered 503.
 *
 * @example
 * ```ts
 * // The Fanout construct's generated entry:
 * import './tasks.js';
 * export { handler } from './functions/api/handler.js';
 * ```
 */
export const handler = async (): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> => ({
  statusCode: 503,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: { code: 'API_NOT_READY', message: 'The jobs API is not built yet.' } }),
});
