/**
 * imap memory with TypeScript tasks under tsx (`node --import tsx imapMemory.ts`) on the
 * compiled package: the workers inherit the loader. Prints one JSON object.
 */
import { Pool } from 'fanout';
import { addOne } from './tasks.js';
import { imapArguments, measureImap } from './measureImap.mjs';

const { items, processes } = imapArguments(process.argv);
console.log(JSON.stringify(await measureImap(() => new Pool(processes), addOne, items)));
