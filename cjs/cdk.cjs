'use strict';
// `require('fanout/cdk')`: fanout is an ES module. Node 20.19+ and 22.12+ load it with require(); on
// older versions, say how to import it instead of failing inside the package.
try {
  module.exports = require('../dist/infra/index.js');
} catch (error) {
  if (error && (error.code === 'ERR_REQUIRE_ESM' || error.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(
      "'fanout/cdk' is an ES module, and this Node.js version cannot require() it (Node 20.19+ and 22.12+ can). " +
        'Use `import { Fanout } from \'fanout/cdk\'` in an ES module (.mjs, or "type": "module"), ' +
        "or `const fanout = await import('fanout/cdk')` from CommonJS.",
      { cause: error },
    );
  }
  throw error;
}
