/** `--items` and `--processes` from the command line (10M items and 2 workers by default). */
export declare function imapArguments(argv: readonly string[]): { items: number; processes: number };

/** What one imap memory run measured (MB are 10^6 bytes). */
export interface ImapMemory {
  items: number;
  ms: number;
  startRssMB: number;
  peakRssMB: number;
  maxRssMB: number;
}

/** Runs `pool.imap(addOne, 0 .. items - 1)`, summing and checking the results, sampling RSS. */
export declare function measureImap(
  newPool: () => {
    imap(task: unknown, items: Iterable<number>): AsyncIterable<number>;
    terminate(): Promise<void>;
  },
  addOne: unknown,
  items: number,
): Promise<ImapMemory>;
