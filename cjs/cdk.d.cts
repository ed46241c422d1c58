// Types of `require('fanout/cdk')`: the ES module's own (Node 20.19+ and 22.12+ require() it).
export * from '../dist/infra/index.js';
