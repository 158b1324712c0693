// require('pgconform/vitest') from CommonJS: see index.cjs.
'use strict';
if (!process.features.require_module) {
  throw Object.assign(new Error(`pgconform/vitest is an ES module and Node ${process.version} cannot require() it: use \`await import('pgconform/vitest')\`, or Node 20.19+ / 22.12+`), { code: 'ERR_REQUIRE_ESM' });
}
module.exports = require('../dist/vitest/conformance.js');
