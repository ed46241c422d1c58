// Types of `require('fanout')`: the ES module's own (Node 20.19+ and 22.12+ require() it).
export * from '../dist/lib/index.js';
