/**
 * Environment variables as `export NAME='value'` lines, which a POSIX shell runs (`eval`, or
 * `. ./file`) and `node --env-file` reads. Values are single-quoted, so the shell takes them
 * literally (Node's reader knows no `'\''` escape, so values with a quote are for shells only).
 *
 * @example
 * ```ts
 * shellEnvironment({ FANOUT_TABLE: 'fanout-state' }); // "export FANOUT_TABLE='fanout-state'\n"
 * ```
 */
export function shellEnvironment(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}='${value.replaceAll("'", "'\\''")}'\n`)
    .join('');
}

/**
 * One word for a POSIX shell: as it is when it holds only safe characters, else in single quotes
 * (a quote inside written as `'\''`).
 *
 * @example
 * ```ts
 * shellQuote('/a b/app.js'); // "'/a b/app.js'"
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_+=:,.@/%-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}
