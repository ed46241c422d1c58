// imap memory with JavaScript tasks, run by plain node on the compiled package (no TypeScript
// loader anywhere): prints one JSON object. node imapMemory.mjs --items 10000000 --processes 2
import { Pool } from 'fanout';
import { addOne } from './tasks.mjs';
import { imapArguments, measureImap } from './measureImap.mjs';

const { items, processes } = imapArguments(process.argv);
console.log(JSON.stringify(await measureImap(() => new Pool(processes), addOne, items)));
