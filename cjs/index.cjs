// require('pgconform') from CommonJS. The kit is an ES module: Node 20.19+ and 22.12+ load it with require();
// older versions cannot, and are told how to load it instead.
'use strict';
if (!process.features.require_module) {
  throw Object.assign(new Error(`pgconform is an ES module and Node ${process.version} cannot require() it: use \`const kit = await import('pgconform')\`, or Node 20.19+ / 22.12+`), { code: 'ERR_REQUIRE_ESM' });
}
module.exports = require('../dist/index.js');
