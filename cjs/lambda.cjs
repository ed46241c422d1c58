'use strict';
// `require('fanout/lambda')`: fanout is an ES module. Node 20.19+ and 22.12+ load it with require(); on
// older versions, say how to import it instead of failing inside the package.
try {
  module.exports = require('../dist/functions/worker/handler.js');
} catch (error) {
  if (error && (error.code === 'ERR_REQUIRE_ESM' || error.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    throw new Error(
      "'fanout/lambda' is an ES module, and this Node.js version cannot require() it (Node 20.19+ and 22.12+ can). " +
        'Use `import { handler } from \'fanout/lambda\'` in an ES module (.mjs, or "type": "module"), ' +
        "or `const fanout = await import('fanout/lambda')` from CommonJS.",
      { cause: error },
    );
  }
  throw error;
}
