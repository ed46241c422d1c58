// The JavaScript task module of the package benchmarks, as a user of the npm package writes it:
// plain ESM importing fanout by its name (the compiled package: dist/, no TypeScript loader).
import { task } from 'fanout';

/** The tiny task: as cheap as a task can be, so that only the pool's overhead is measured. */
export const addOne = task('bench.package.addOne', (x) => x + 1);
