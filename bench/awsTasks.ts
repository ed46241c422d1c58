import { task } from 'fanout';

/** A tiny task: the bench measures fanout's overhead, not the work. */
export const benchSquare = task('bench.aws.square', (x: number) => x * x);

/** Reads a big argument and returns something small. */
export const benchTextLength = task('bench.aws.textLength', (text: string) => text.length);
